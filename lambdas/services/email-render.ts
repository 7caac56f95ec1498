import Handlebars from 'handlebars';
import { HTML_TEMPLATE, MAIL_WORDING, TEXT_TEMPLATE } from './email-templates';

/** A mail ready for SES: both parts and the headers it must carry. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
  headers: { name: string; value: string }[];
}

/** The reader's own links, signed per reader and purpose (see services/email-tokens.ts). */
export interface MailLinks {
  /** RFC 8058 one-click target: a bare POST unsubscribes, a GET shows a page with a button. */
  unsubscribe: string;
  preferences: string;
  /** The daily mail's survey invitations: one signed page link per survey. */
  surveys?: { surveyId: string; url: string }[];
}

export interface MailInput {
  /** The municipality's name, shown above the content. */
  tenantName: string;
  subject: string;
  /** One entry per paragraph; a newline inside one is a line break. */
  paragraphs: readonly string[];
  /** Buttons (a confirmation link, survey links); each URL is also printed for clients that hide buttons. */
  actions?: readonly { label: string; url: string }[];
  /**
   * Subscribed mail (the daily mail) carries both links in the body and the List-Unsubscribe headers; a
   * transactional mail (the sign-up confirmation) carries neither.
   */
  links?: MailLinks;
}

export class EmailRenderError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'EmailRenderError';
  }
}

// Handlebars rather than string concatenation: it escapes every `{{value}}` of the HTML part, so content,
// nicknames and the tenant's own texts can never inject markup. The text part is compiled with noEscape.
const html = Handlebars.create().compile(HTML_TEMPLATE, { strict: true });
const text = Handlebars.create().compile(TEXT_TEMPLATE, { strict: true, noEscape: true });

/** Only http(s) links: a `javascript:` or `data:` URL in an href would survive escaping. */
function checkedUrl(what: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new EmailRenderError(`the ${what} link is not a URL`, { cause });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new EmailRenderError(`the ${what} link must be http(s)`);
  return parsed.href;
}

/** A header value must stay on one line: a CR or LF would start a header of the sender's choosing. */
function oneLine(what: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new EmailRenderError(`the ${what} must be one line`);
  return value;
}

/** Renders one mail: a text part and an HTML part from the same input, plus its headers. */
export function renderMail(input: MailInput): RenderedMail {
  const links = input.links && {
    unsubscribe: checkedUrl('unsubscribe', input.links.unsubscribe),
    preferences: checkedUrl('preferences', input.links.preferences),
  };
  const actions = (input.actions ?? []).map((a) => ({ label: a.label, url: checkedUrl('action', a.url) }));
  const context = {
    tenantName: input.tenantName,
    subject: oneLine('subject', input.subject),
    // Normalised line ends; empty lines inside a paragraph would read as a paragraph break in the text part.
    paragraphs: input.paragraphs
      .map((p) =>
        p
          .replace(/\r\n?/g, '\n')
          .split('\n')
          .filter((line) => line.trim().length > 0),
      )
      .filter((lines) => lines.length > 0),
    actions,
    links: links ?? false,
    ...MAIL_WORDING,
  };
  const headers = links
    ? [
        // RFC 8058: the https URI only (no mailto), and the one-click marker; SES signs both with DKIM.
        { name: 'List-Unsubscribe', value: `<${links.unsubscribe}>` },
        { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      ]
    : [];
  return { subject: context.subject, text: text(context), html: html(context), headers };
}

export const SURVEY_LINK_LABEL = 'アンケートに答える';
export const SCREENING_LINK_LABEL = 'チェックを始める';

/**
 * The daily mail: the day's messages, one per paragraph (survey invitations last), a button per invitation
 * right below them, and the reader's links.
 */
export function renderDailyMail(input: {
  tenantName: string;
  subject: string;
  texts: readonly string[];
  links: MailLinks;
  /** Survey ids that are screening instruments: their button says so. */
  screeningIds?: ReadonlySet<string>;
}): RenderedMail {
  return renderMail({
    tenantName: input.tenantName,
    subject: input.subject,
    paragraphs: input.texts,
    actions: (input.links.surveys ?? []).map((s) => ({
      label: input.screeningIds?.has(s.surveyId) ? SCREENING_LINK_LABEL : SURVEY_LINK_LABEL,
      url: s.url,
    })),
    links: input.links,
  });
}
