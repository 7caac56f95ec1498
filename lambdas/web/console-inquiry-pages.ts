import type { ConsolePage } from './console-layout';
import { compileHtml, hbs } from './render';

/**
 * The inquiry pages' templates: the list by filter and one thread with its reply, close and reopen forms. Plain
 * forms, no JavaScript; every form carries the session's CSRF token. A message keeps its line breaks by CSS
 * (`white-space: pre-wrap`), its text escaped like everything else.
 */

const FILTER_LABELS: Record<string, string> = { waiting: '対応待ち', answered: '回答済み', closed: '完了' };
const DELIVERY_LABELS: Record<string, string> = {
  pending: '送信中',
  sent: '送信済み',
  failed: '送信できませんでした',
};
const REPLY_ERRORS: Record<string, string> = {
  empty: 'お返事の内容を入力してください。',
  'too-long': 'お返事は2,000文字までです。',
  full: 'このやりとりはメッセージの上限に達しました。',
  closed: 'このお問い合わせは完了しています。再開してからお返事してください。',
};
hbs.registerHelper('filterLabel', (s: unknown) => (typeof s === 'string' ? (FILTER_LABELS[s] ?? s) : ''));
hbs.registerHelper('deliveryLabel', (s: unknown) => (typeof s === 'string' ? (DELIVERY_LABELS[s] ?? s) : ''));
hbs.registerHelper('replyError', (s: unknown) => (typeof s === 'string' ? (REPLY_ERRORS[s] ?? s) : ''));
hbs.registerHelper('minutes', (m: unknown) =>
  typeof m !== 'number' ? '' : m < 60 ? `${m}分` : m < 2880 ? `${Math.floor(m / 60)}時間` : `${Math.floor(m / 1440)}日`,
);

export const INQUIRY_PAGES = {
  inquiries: {
    title: 'お問い合わせ',
    body: compileHtml(`<h1>お問い合わせ</h1>
<nav class="filters">{{#each view.filters}}{{#if (eq this ../view.filter)}}<a class="current" href="/console/inquiries?status={{this}}" aria-current="page">{{filterLabel this}}</a>{{else}}<a href="/console/inquiries?status={{this}}">{{filterLabel this}}</a>{{/if}}{{/each}}</nav>
<p>{{#if (eq view.filter "waiting")}}まだお返事していないもの、住民の方が続けて書いたものを、待ち時間の長い順に並べます。{{else}}新しい順に並べます。{{/if}}</p>
{{#if view.inquiries.length}}
<table>
<thead><tr><th>状態</th><th>チャネル</th><th>受付</th><th>最後のメッセージ</th><th>待ち時間</th><th>件数</th><th></th></tr></thead>
<tbody>
{{#each view.inquiries}}
<tr{{#if (eq status "new")}} class="open"{{/if}}>
<td>{{inquiryStatusLabel status}}</td><td>{{channelLabel channel}}</td><td>{{when createdAt}}</td><td>{{when lastMessageAt}}</td>
<td>{{#if waitingHours includeZero=true}}{{age waitingHours}}{{else}}―{{/if}}</td><td>{{messageCount}}</td>
<td><a href="/console/inquiries/{{inquiryId}}">開く</a></td>
</tr>
{{/each}}
</tbody>
</table>
{{else}}
<p>該当するお問い合わせはありません。</p>
{{/if}}`),
  },
  inquiry: {
    title: 'お問い合わせ',
    body: compileHtml(`<h1>お問い合わせ</h1>
<section>
<p>状態：{{inquiryStatusLabel view.inquiry.status}}&#x3000;チャネル：{{channelLabel view.inquiry.channel}}&#x3000;受付：{{when view.inquiry.createdAt}}{{#if view.inquiry.waitingHours includeZero=true}}&#x3000;待ち時間：{{age view.inquiry.waitingHours}}{{/if}}</p>
<p>{{#if view.inquiry.firstAnsweredAt}}最初のお返事まで：{{minutes view.inquiry.firstAnswerMinutes}}{{else}}まだお返事していません。{{/if}}{{#if view.inquiry.closedAt}}&#x3000;完了：{{when view.inquiry.closedAt}}（{{view.inquiry.closedBy}}）{{/if}}</p>
<p><a href="/console/readers/{{view.inquiry.readerKey}}">利用者の情報を見る</a></p>
</section>
{{#each view.inquiry.messages}}
<section class="{{#if (eq author "staff")}}staff-message{{else}}reader-message{{/if}}">
<p class="who">{{#if (eq author "staff")}}職員（{{staffRef}}）{{else}}住民の方{{/if}}&#x3000;{{when at}}{{#if delivery}}&#x3000;{{deliveryLabel delivery}}{{/if}}</p>
<div class="message">{{text}}</div>
</section>
{{/each}}
{{#if (eq view.inquiry.status "closed")}}
<section>
<p>このお問い合わせは完了しています。住民の方の次のご質問は新しいお問い合わせになります。</p>
<form method="post" action="/console/inquiries/{{view.inquiry.inquiryId}}/reopen">
<input type="hidden" name="csrf" value="{{csrf}}">
<button type="submit">再開する</button>
</form>
{{#if view.error}}<p class="error" role="alert">{{replyError view.error}}</p>{{/if}}
</section>
{{else}}
<section>
<h2>お返事を書く</h2>
<p class="who">{{#if (eq view.inquiry.channel "line")}}LINE のトークに届きます。{{else}}メールで届きます。{{/if}}個人の連絡先や緊急の内容は、お電話でお伝えください。</p>
<form method="post" action="/console/inquiries/{{view.inquiry.inquiryId}}/reply">
<input type="hidden" name="csrf" value="{{csrf}}">
<label for="reply-text">お返事（2,000文字まで）</label>
{{#if view.error}}<p class="error" id="reply-error" role="alert">{{replyError view.error}}</p>{{/if}}
<textarea id="reply-text" name="text" rows="8" maxlength="{{view.maxLength}}"{{#if view.error}} aria-invalid="true" aria-describedby="reply-error"{{/if}}>{{view.draft}}</textarea>
<p><button type="submit">返信する</button></p>
</form>
<form method="post" action="/console/inquiries/{{view.inquiry.inquiryId}}/close">
<input type="hidden" name="csrf" value="{{csrf}}">
<button type="submit">完了にする</button>
</form>
</section>
{{/if}}
<p><a href="/console/inquiries">お問い合わせ一覧へ戻る</a></p>`),
  },
} satisfies Record<string, ConsolePage>;
