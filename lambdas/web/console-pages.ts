import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ConsoleResult, ConsoleView } from '../services/console';
import { compileHtml, hbs, PAGE_HEADERS } from './render';

/**
 * The staff console's pages: server-rendered Handlebars (escaped by default), Japanese, for a municipal desktop
 * browser, no JavaScript at all (plain links and forms; every form carries the session's CSRF token).
 */

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
const PROBLEMS: Record<string, { title: string; text: string }> = {
  'not-found': { title: '見つかりません', text: 'お探しのページは見つかりませんでした。' },
  forbidden: { title: '権限がありません', text: 'このページを表示する権限がありません。' },
  csrf: {
    title: '送信できませんでした',
    text: 'フォームの有効期限が切れたか、不正な送信です。ページを開き直してください。',
  },
  session: { title: 'サインインしてください', text: 'セッションの有効期限が切れました。' },
  'sign-in-failed': { title: 'サインインできませんでした', text: 'もう一度サインインしてください。' },
  'bad-request': { title: '入力内容をご確認ください', text: '対応状況を選んでください。' },
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
</style>
</head>
<body>
<header>
<span class="brand">はぐくみ 職員コンソール</span>
{{#if staff}}
<nav><a href="/console/inbox">受信箱</a><a href="/console/deliveries">配信状況</a>{{#if (eq staff.role "admin")}}<a href="/console/audit">監査ログ</a>{{/if}}</nav>
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
const [LAYOUT_START, LAYOUT_END] = LAYOUT_SOURCE.split('{{{body}}}').map((part) => compileHtml(part)) as [
  (c: Record<string, unknown>) => string,
  (c: Record<string, unknown>) => string,
];

const PAGES: Record<ConsoleView['page'], (context: Record<string, unknown>) => string> = {
  inbox: compileHtml(`<h1>受信箱</h1>
<p>未対応の至急アラートが先頭に、待ち時間の長い順に並びます。</p>
{{#if view.alerts.length}}
<table>
<thead><tr><th>区分</th><th>質問票</th><th>結果</th><th>受信</th><th>対応状況</th><th></th></tr></thead>
<tbody>
{{#each view.alerts}}
<tr{{#unless acknowledgedAt}} class="open"{{/unless}}>
<td>{{#if urgent}}<span class="urgent">至急</span>{{else}}スクリーニング{{/if}}</td>
<td>{{instrument}}</td><td>{{bandLabel band}}</td><td>{{age ageHours}}</td>
<td>{{#if acknowledgedAt}}{{followUpLabel followUp}}{{else}}未確認{{/if}}</td>
<td><a href="/console/alerts/{{reference}}">開く</a></td>
</tr>
{{/each}}
</tbody>
</table>
{{else}}
<p>対応待ちはありません。</p>
{{/if}}`),
  alert: compileHtml(`<h1>スクリーニングアラート</h1>
<section>
<p>{{#if view.alert.urgent}}<span class="urgent">至急</span> {{/if}}質問票：{{view.alert.instrument}} 結果：{{bandLabel view.alert.band}}</p>
<p>受信：{{when view.alert.at}}（{{age view.alert.ageHours}}）</p>
<p>対応状況：{{#if view.alert.acknowledgedAt}}{{followUpLabel view.alert.followUp}}（確認：{{view.alert.acknowledgedBy}}、{{when view.alert.acknowledgedAt}}）{{else}}未確認{{/if}}</p>
<p><a href="/console/readers/{{view.alert.readerKey}}">利用者の情報を見る</a></p>
</section>
<section>
<h2>確認して対応を記録する</h2>
<form method="post">
<input type="hidden" name="csrf" value="{{csrf}}">
<label for="followUp">対応状況</label>
<select id="followUp" name="followUp">
{{#each view.statuses}}<option value="{{this}}"{{#if (eq this ../view.alert.followUp)}} selected{{/if}}>{{followUpLabel this}}</option>{{/each}}
</select>
<button type="submit">確認して記録</button>
</form>
</section>
<p><a href="/console/inbox">受信箱へ戻る</a></p>`),
  reader: compileHtml(`<h1>利用者情報</h1>
<p>参照番号：{{view.readerRef}}（氏名・連絡先は表示しません）</p>
<table>
<thead><tr><th>チャネル</th><th>コース</th><th>現在の段階</th><th>立場</th><th>状態</th></tr></thead>
<tbody>
{{#each view.subscriptions}}<tr><td>{{channelLabel channel}}</td><td>{{trackLabel track}}</td><td>{{stage}}</td><td>{{#if (eq audience "partner")}}パートナー{{else}}ご本人{{/if}}</td><td>{{statusLabel status}}</td></tr>{{/each}}
</tbody>
</table>
<h2>スクリーニング履歴</h2>
{{#if view.screening}}
<ul>{{#each view.screening}}<li>{{when at}} {{instrument}} {{bandLabel band}} {{#if urgent}}<span class="urgent">至急</span>{{/if}} <a href="/console/alerts/{{reference}}">開く</a></li>{{/each}}</ul>
{{else}}
<p>ご本人の同意がないため表示しません。</p>
{{/if}}`),
  audit: compileHtml(`<h1>監査ログ</h1>
<p>利用者の個人情報の閲覧・変更の記録です（新しい順）。</p>
<table>
<thead><tr><th>日時</th><th>職員</th><th>操作</th><th>利用者の参照番号</th><th>対象</th></tr></thead>
<tbody>
{{#each view.entries}}<tr><td>{{when at}}</td><td>{{staffName}}</td><td>{{actionLabel action}}{{#if detail}}（{{followUpLabel detail}}）{{/if}}</td><td>{{readerRef}}</td><td>{{target}}</td></tr>{{/each}}
</tbody>
</table>`),
  deliveries: compileHtml(`<h1>配信状況</h1>
{{#if view.days.length}}
<table>
<thead><tr><th>日付</th><th>配信対象</th><th>届いた人数</th><th>LINE 一斉送信</th><th>LINE 個別送信</th><th>メール</th><th>失敗</th><th>送信直前の取りやめ</th></tr></thead>
<tbody>
{{#each view.days}}<tr><td>{{date}}</td><td>{{counters.subscriptionsDue}}</td><td>{{counters.recipients}}</td><td>{{counters.multicastRequests}}</td><td>{{counters.pushRequests}}</td><td>{{counters.emails}}</td><td>{{counters.failures}}</td><td>{{counters.withheld}}</td></tr>{{/each}}
</tbody>
</table>
{{else}}
<p>直近2週間の配信記録はありません。</p>
{{/if}}`),
  problem: compileHtml(
    `<h1>{{problem.title}}</h1><p>{{problem.text}}</p><p><a href="/console/inbox">受信箱へ</a> <a href="/console/signin">サインイン</a></p>`,
  ),
};

/**
 * The pages' headers, but with `same-origin` referrers: with `no-referrer` the browser sends `Origin: null` on form
 * posts, and the console checks the Origin. Console URLs hold opaque references, never a token, and the referrer
 * never leaves the console's own origin.
 */
const CONSOLE_HEADERS: Record<string, string> = { ...PAGE_HEADERS, 'referrer-policy': 'same-origin' };

const TITLES: Record<ConsoleView['page'], string> = {
  inbox: '受信箱',
  alert: 'スクリーニングアラート',
  reader: '利用者情報',
  audit: '監査ログ',
  deliveries: '配信状況',
  problem: 'お知らせ',
};

/** The HTTP API answer for a console result: a redirect, or a page; cookies as HTTP API `cookies`. */
export function renderConsole(result: ConsoleResult): APIGatewayProxyStructuredResultV2 {
  const cookies = result.cookies?.length ? { cookies: result.cookies } : {};
  if (result.location)
    return {
      statusCode: result.status,
      headers: { location: result.location, 'cache-control': 'no-store' },
      ...cookies,
    };
  const view = result.view ?? { page: 'problem', problem: 'not-found' };
  const context = {
    view,
    staff: result.staff,
    csrf: result.csrf,
    problem: view.page === 'problem' ? PROBLEMS[view.problem] : undefined,
  };
  const layout = { ...context, title: TITLES[view.page] };
  const html = LAYOUT_START(layout) + PAGES[view.page](context) + LAYOUT_END(layout);
  return { statusCode: result.status, headers: CONSOLE_HEADERS, body: html, ...cookies };
}
