/**
 * Handlebars templates of every mail hagukumi sends (the daily mail, and any other mail built with
 * `renderMail`, such as the sign-up confirmation). Kept as strings rather than files so both the CDK bundle
 * and the local esbuild bundle carry them without a loader. The HTML is table-free and inline-styled: mail
 * clients drop <style> blocks and external CSS, and a single column reads well on a phone.
 */

/** HTML part: `{{...}}` is escaped by Handlebars; nothing here uses the unescaped `{{{...}}}` form. */
export const HTML_TEMPLATE = `<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f6f4ef;">
<div style="max-width:600px;margin:0 auto;padding:24px 16px;font-family:'Hiragino Sans','Noto Sans JP','Yu Gothic',sans-serif;font-size:16px;line-height:1.8;color:#222;">
<p style="margin:0 0 16px;font-size:14px;color:#666;">{{tenantName}}</p>
{{#each paragraphs}}
<p style="margin:0 0 16px;">{{#each this}}{{#unless @first}}<br>{{/unless}}{{this}}{{/each}}</p>
{{/each}}
{{#each actions}}
<p style="margin:24px 0;"><a href="{{url}}" style="display:inline-block;padding:12px 20px;background:#2f6f4f;color:#fff;text-decoration:none;border-radius:6px;">{{label}}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#666;word-break:break-all;">{{url}}</p>
{{/each}}
{{#if links}}
<hr style="border:none;border-top:1px solid #ddd;margin:24px 0 16px;">
<p style="margin:0 0 8px;font-size:13px;color:#666;">{{footer}}</p>
<p style="margin:0;font-size:13px;"><a href="{{links.preferences}}" style="color:#2f6f4f;">{{preferencesLabel}}</a> ・ <a href="{{links.unsubscribe}}" style="color:#2f6f4f;">{{unsubscribeLabel}}</a></p>
{{/if}}
</div>
</body>
</html>
`;

/** Text part: compiled with `noEscape`, since a plain-text reader would see `&amp;` literally. */
export const TEXT_TEMPLATE = `{{tenantName}}

{{#each paragraphs}}
{{#each this}}
{{this}}
{{/each}}

{{/each}}
{{#each actions}}
{{label}}:
{{url}}

{{/each}}
{{#if links}}
--
{{footer}}
{{preferencesLabel}}: {{links.preferences}}
{{unsubscribeLabel}}: {{links.unsubscribe}}
{{/if}}
`;

/** The fixed Japanese wording around the content. */
export const MAIL_WORDING = {
  footer: 'このメールは、配信をお申し込みいただいた方にお送りしています。',
  preferencesLabel: '配信の設定・お休み',
  unsubscribeLabel: '配信を停止する',
} as const;
