import { compileHtml, hbs, PAGE_HEADERS } from './render';

/**
 * The staff console's frame, shared by every console page: the label helpers, the layout with its menu, the
 * headers and the problem page. Server-rendered Handlebars (escaped by default), Japanese, for a municipal
 * desktop browser, no JavaScript at all (plain links and forms; every form carries the session's CSRF token).
 * A page's own template lives in its own file (console-core-pages.ts, ...) and is listed in console-pages.ts.
 */

/** A page's template and its title (the `<title>` and the browser tab). */
export interface ConsolePage {
  title: string;
  body: (context: Record<string, unknown>) => string;
}

/** The menu in the header; a page for admins only has `admin: true`. Add a line for a new top-level page. */
export const CONSOLE_MENU: { href: string; label: string; admin?: boolean }[] = [
  { href: '/console/inbox', label: '受信箱' },
  { href: '/console/inquiries', label: 'お問い合わせ' },
  { href: '/console/surveys', label: 'アンケート結果' },
  { href: '/console/deliveries', label: '配信状況' },
  { href: '/console/broadcasts', label: '一斉配信', admin: true },
  { href: '/console/report', label: '事業報告' },
  { href: '/console/audit', label: '監査ログ', admin: true },
];

const FOLLOW_UP_LABELS: Record<string, string> = {
  contacted: '連絡済み',
  'visit-planned': '訪問予定',
  referred: '関係機関へ紹介済み',
  closed: '対応終了',
};
const ACTION_LABELS: Record<string, string> = {
  'view-alert': 'アラートを閲覧',
  'acknowledge-alert': 'アラートを確認・対応記録',
  'view-reader': '利用者情報を閲覧',
  'view-inquiry': 'お問い合わせを閲覧',
  'reply-inquiry': 'お問い合わせに返信',
  'close-inquiry': 'お問い合わせを完了',
  'reopen-inquiry': 'お問い合わせを再開',
};
/** An inquiry's status (the list, the thread, the reader page). */
const INQUIRY_STATUS_LABELS: Record<string, string> = {
  new: '未回答',
  open: '追加の質問あり',
  answered: '回答済み',
  closed: '完了',
};
/** An audit entry's detail: an alert's follow-up, or whether a reply reached the reader. */
const DETAIL_LABELS: Record<string, string> = {
  sent: '送信済み',
  failed: '送信できませんでした',
};
const CHANNEL_LABELS: Record<string, string> = { line: 'LINE', email: 'メール' };
const TRACK_LABELS: Record<string, string> = { maternity: '妊娠期', childcare: '子育て期', support: 'サポート' };
const STATUS_LABELS: Record<string, string> = {
  active: '配信中',
  paused: '一時停止中',
  stopped: '停止',
  lost: '配信終了（ご本人の申し出）',
  ended: '終了',
};
export const PROBLEMS: Record<string, { title: string; text: string }> = {
  'not-found': { title: '見つかりません', text: 'お探しのページは見つかりませんでした。' },
  forbidden: { title: '権限がありません', text: 'このページを表示する権限がありません。' },
  csrf: {
    title: '送信できませんでした',
    text: 'フォームの有効期限が切れたか、不正な送信です。ページを開き直してください。',
  },
  session: { title: 'サインインしてください', text: 'セッションの有効期限が切れました。' },
  'sign-in-failed': { title: 'サインインできませんでした', text: 'もう一度サインインしてください。' },
  'bad-request': { title: '入力内容をご確認ください', text: '対応状況を選んでください。' },
  'bad-month': {
    title: '入力内容をご確認ください',
    text: '月は 2026-11 のように、今月までの年と月で指定してください。',
  },
};

/** The screening side's staff-facing bands (lambdas/domain/screening.ts), in Japanese; unknown ones as stored. */
const BAND_LABELS: [RegExp, string][] = [
  [/^at or over cut-off \((\d+)\)$/, 'カットオフ値（$1点）以上'],
  [/^below cut-off \((\d+)\)$/, 'カットオフ値（$1点）未満'],
  [/^minimal$/, 'ごく軽度'],
  [/^mild$/, '軽度'],
  [/^moderate$/, '中等度'],
  [/^moderately severe$/, '中等度〜重度'],
  [/^severe$/, '重度'],
  [/^incomplete$/, '未回答の項目あり'],
];
hbs.registerHelper('bandLabel', (s: unknown) => {
  if (typeof s !== 'string') return '';
  const hit = BAND_LABELS.find(([re]) => re.test(s));
  return hit ? s.replace(hit[0], hit[1]) : s;
});
hbs.registerHelper('followUpLabel', (s: unknown) => (typeof s === 'string' ? (FOLLOW_UP_LABELS[s] ?? s) : '未対応'));
hbs.registerHelper('inquiryStatusLabel', (s: unknown) =>
  typeof s === 'string' ? (INQUIRY_STATUS_LABELS[s] ?? s) : '',
);
hbs.registerHelper('detailLabel', (s: unknown) =>
  typeof s === 'string' ? (DETAIL_LABELS[s] ?? FOLLOW_UP_LABELS[s] ?? s) : '',
);
hbs.registerHelper('actionLabel', (s: unknown) => (typeof s === 'string' ? (ACTION_LABELS[s] ?? s) : ''));
hbs.registerHelper('channelLabel', (s: unknown) => (typeof s === 'string' ? (CHANNEL_LABELS[s] ?? s) : ''));
hbs.registerHelper('trackLabel', (s: unknown) => (typeof s === 'string' ? (TRACK_LABELS[s] ?? s) : ''));
hbs.registerHelper('statusLabel', (s: unknown) => (typeof s === 'string' ? (STATUS_LABELS[s] ?? s) : ''));
hbs.registerHelper('age', (hours: unknown) =>
  typeof hours !== 'number'
    ? ''
    : hours < 1
      ? '1時間以内'
      : hours < 48
        ? `${hours}時間前`
        : `${Math.floor(hours / 24)}日前`,
);
/** Date and time in Japan: staff work in the tenant's office. */
hbs.registerHelper('when', (ms: unknown) =>
  typeof ms === 'number'
    ? new Date(ms).toLocaleString('ja-JP', { timeZone: 'Asia/Tokyo', dateStyle: 'medium', timeStyle: 'short' })
    : '',
);
hbs.registerHelper('uri', (s: unknown) => (typeof s === 'string' ? encodeURIComponent(s) : ''));

const LAYOUT_SOURCE = `<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{title}}｜はぐくみ 職員コンソール</title>
<style>
body{margin:0;background:#f4f5f7;color:#222;font-family:"Hiragino Sans","Noto Sans JP","IPAGothic","Yu Gothic",sans-serif;font-size:15px;line-height:1.6}
header{background:#1f4e79;color:#fff;padding:8px 24px;display:flex;align-items:center;gap:24px}
header .brand{font-weight:bold}
header nav a{color:#fff;margin-right:16px}
header form{margin-left:auto}
header button{background:#fff;color:#1f4e79}
main{max-width:1040px;margin:0 auto;padding:16px 24px}
h1{font-size:20px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ccd;padding:6px 10px;text-align:left;vertical-align:top}
th{background:#e8ecf2}
.urgent{color:#fff;background:#b00020;padding:1px 8px;border-radius:4px;font-weight:bold}
.open{font-weight:bold}
button{font-size:15px;padding:6px 16px;border:none;border-radius:4px;background:#1f4e79;color:#fff;cursor:pointer}
section{background:#fff;border:1px solid #ccd;padding:12px 16px;margin:0 0 16px}
.who{font-size:13px}
.message{white-space:pre-wrap;overflow-wrap:anywhere}
.reader-message{border-left:4px solid #1f4e79}
.staff-message{border-left:4px solid #2e7d32;margin-left:48px}
.error{color:#b00020;font-weight:bold}
nav.filters a{margin-right:16px}
nav.filters .current{font-weight:bold;text-decoration:none}
textarea{width:100%;font-size:15px;font-family:inherit}
</style>
</head>
<body>
<header>
<span class="brand">はぐくみ 職員コンソール</span>
{{#if staff}}
<nav>{{#each menu}}<a href="{{href}}">{{label}}</a>{{/each}}</nav>
<span class="who">{{staff.tenantId}}／{{staff.username}}（{{#if (eq staff.role "admin")}}管理者{{else}}職員{{/if}}）</span>
<form method="post" action="/console/signout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">サインアウト</button></form>
{{/if}}
</header>
<main>
{{{body}}}
</main>
</body>
</html>`;
// Split at the body, so each half is an escaped template and the page body (itself escaped) is joined in between:
// no raw `{{{...}}}` output anywhere.
export const [LAYOUT_START, LAYOUT_END] = LAYOUT_SOURCE.split('{{{body}}}').map((part) => compileHtml(part)) as [
  (c: Record<string, unknown>) => string,
  (c: Record<string, unknown>) => string,
];

/**
 * The pages' headers, but with `same-origin` referrers: with `no-referrer` the browser sends `Origin: null` on form
 * posts, and the console checks the Origin. Console URLs hold opaque references, never a token, and the referrer
 * never leaves the console's own origin.
 */
export const CONSOLE_HEADERS: Record<string, string> = { ...PAGE_HEADERS, 'referrer-policy': 'same-origin' };

/** The page of every problem (not found, forbidden, CSRF, session, ...). */
export const PROBLEM_PAGE: ConsolePage = {
  title: 'お知らせ',
  body: compileHtml(
    `<h1>{{problem.title}}</h1><p>{{problem.text}}</p><p><a href="/console/inbox">受信箱へ</a> <a href="/console/signin">サインイン</a></p>`,
  ),
};
