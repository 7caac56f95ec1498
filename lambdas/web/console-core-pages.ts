import { compileHtml } from './render';
import type { ConsolePage } from './console-layout';

/** The core pages' templates: inbox, screening alert, reader, audit trail, delivery counters. */
export const CORE_PAGES = {
  inbox: {
    title: '受信箱',
    body: compileHtml(`<h1>受信箱</h1>
{{#if view.inquiries}}
<section id="waiting-inquiries">
<h2>お問い合わせ</h2>
{{#if view.inquiries.waiting}}
<p class="open">対応待ちのお問い合わせ：{{view.inquiries.waiting}}件{{#if view.inquiries.more}}以上{{/if}}（最も長い待ち時間：{{age view.inquiries.longestWaitHours}}）</p>
{{else}}
<p>対応待ちのお問い合わせはありません。</p>
{{/if}}
<p><a href="/console/inquiries">お問い合わせ一覧へ</a></p>
</section>
<h2>スクリーニングアラート</h2>
{{/if}}
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
  },
  alert: {
    title: 'スクリーニングアラート',
    body: compileHtml(`<h1>スクリーニングアラート</h1>
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
  },
  reader: {
    title: '利用者情報',
    body: compileHtml(`<h1>利用者情報</h1>
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
{{/if}}
<h2>お問い合わせ履歴</h2>
{{#if view.inquiries.length}}
<table>
<thead><tr><th>受付</th><th>最後のメッセージ</th><th>件数</th><th>状態</th><th></th></tr></thead>
<tbody>
{{#each view.inquiries}}<tr><td>{{when createdAt}}</td><td>{{when lastMessageAt}}</td><td>{{messageCount}}</td><td>{{inquiryStatusLabel status}}</td><td><a href="/console/inquiries/{{inquiryId}}">開く</a></td></tr>{{/each}}
</tbody>
</table>
{{else}}
<p>お問い合わせはありません。</p>
{{/if}}`),
  },
  audit: {
    title: '監査ログ',
    body: compileHtml(`<h1>監査ログ</h1>
<p>利用者の個人情報の閲覧・変更の記録です（新しい順）。</p>
<table>
<thead><tr><th>日時</th><th>職員</th><th>操作</th><th>利用者の参照番号</th><th>対象</th></tr></thead>
<tbody>
{{#each view.entries}}<tr><td>{{when at}}</td><td>{{staffName}}</td><td>{{actionLabel action}}{{#if detail}}（{{detailLabel detail}}）{{/if}}</td><td>{{readerRef}}</td><td>{{target}}</td></tr>{{/each}}
</tbody>
</table>`),
  },
  deliveries: {
    title: '配信状況',
    body: compileHtml(`<h1>配信状況</h1>
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
  },
} satisfies Record<string, ConsolePage>;
