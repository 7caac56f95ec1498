import Handlebars from 'handlebars';

/**
 * The one templating library of hagukumi's web pages and mails: Handlebars, whose `{{...}}` escapes HTML by
 * default (a `{{{...}}}` raw output is never used in our templates), with templates kept as strings so that
 * the CDK bundle and the local esbuild bundle carry them without a loader. Chosen over Eta and Nunjucks because
 * the mail templates (services/email-render.ts) use it already, and one library means one escaping rule to know.
 * Its own instance: helpers registered here are not global.
 */
export const hbs = Handlebars.create();

hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
/** `{{#each (lines text)}}{{this}}<br>{{/each}}`: a text's line breaks, each line escaped. */
hbs.registerHelper('lines', (text: unknown) => (typeof text === 'string' ? text.split('\n') : []));
/** The error of a field, from a map of field -> message. */
hbs.registerHelper('err', (errors: Record<string, string> | undefined, field: string) => errors?.[field]);
/** Joins string parts into one id or name (`{{concat "date-" subscriptionId}}`). */
hbs.registerHelper('concat', (...parts: unknown[]) => parts.slice(0, -1).join(''));

/** A compiled HTML template: every value is escaped. */
export function compileHtml(source: string): (context: Record<string, unknown>) => string {
  return hbs.compile(source);
}

/** A compiled plain-text template (mail text parts): nothing is escaped, since `&amp;` would show literally. */
export function compileText(source: string): (context: Record<string, unknown>) => string {
  return hbs.compile(source, { noEscape: true });
}

export function registerPartial(name: string, source: string): void {
  hbs.registerPartial(name, source);
}

/**
 * Headers of every page: no caching (a page may show a reader's data), no referrer (the URL carries a token),
 * no scripts, no framing, forms only to ourselves.
 */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};
