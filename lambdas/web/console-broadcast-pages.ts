import type { BroadcastSegment } from '../../schemas/broadcast';
import type { ConsolePage } from './console-layout';
import { compileHtml, hbs } from './render';

/**
 * The broadcasts page's template (admins): the tenant's broadcasts from today on, each scheduled one with a cancel
 * form, and the form that schedules one. Plain forms, no JavaScript; every form carries the session's CSRF token.
 */

const AUDIENCES: Record<string, string> = { both: 'ご本人とパートナー', parent: 'ご本人', partner: 'パートナー' };
const CHANNELS: Record<string, string> = { line: 'LINE', email: 'メール' };

/** `妊娠期 20w0d〜30w6d・子育て期 0〜11か月／LINE・メール／ご本人` */
function segmentLabel(s: BroadcastSegment): string {
  const tracks = s.tracks.map((t) => {
    if (t === 'maternity') return `妊娠期${s.maternity ? ` ${s.maternity.from}〜${s.maternity.to}` : ''}`;
    const c = s.childcare;
    return `子育て期${c ? ` ${c.from}〜${c.to}${c.unit === 'days' ? '日' : 'か月'}` : ''}`;
  });
  return `${tracks.join('・')}／${s.channels.map((c) => CHANNELS[c] ?? c).join('・')}／${AUDIENCES[s.audience] ?? s.audience}`;
}
hbs.registerHelper('segmentLabel', (s: unknown) =>
  s && typeof s === 'object' ? segmentLabel(s as BroadcastSegment) : '',
);
hbs.registerHelper('includes', (list: unknown, v: unknown) => Array.isArray(list) && list.includes(v));

export const BROADCAST_PAGES = {
  broadcasts: {
    title: '一斉配信',
    body: compileHtml(`<h1>一斉配信</h1>
<p>指定した日の配信に、対象の方へのお知らせを加えます（その日のメッセージと同じ1回の送信にまとめ、LINEは最大5通）。流産・死産などのご報告があった妊娠・お子さんには届きません。取り消しは配信日の前までに。配信日に取り消すと、まだ送っていない分から外します。</p>
{{#if view.created}}<p class="open" role="status">予約しました（{{view.created}}）。</p>{{/if}}
{{#if view.cancelled}}<p class="open" role="status">取り消しました（{{view.cancelled}}）。</p>{{/if}}
<h2>予定（{{view.today}}以降）</h2>
{{#if view.broadcasts.length}}
<table>
<thead><tr><th>配信日</th><th>対象</th><th>LINE</th><th>メール</th><th>状態</th><th></th></tr></thead>
<tbody>
{{#each view.broadcasts}}
<tr>
<td>{{date}}</td>
<td>{{segmentLabel segment}}</td>
<td class="text">{{line.text}}</td>
<td>{{#if email}}<strong>{{email.subject}}</strong><br><span class="text">{{email.body}}</span>{{/if}}</td>
<td>{{#if (eq status "scheduled")}}予約済み{{else}}取り消し済み{{/if}}</td>
<td>{{#if (eq status "scheduled")}}<form method="post" action="/console/broadcasts/{{id}}/cancel"><input type="hidden" name="csrf" value="{{../csrf}}"><button type="submit">取り消す</button></form>{{/if}}</td>
</tr>
{{/each}}
</tbody>
</table>
{{else}}
<p>予定された一斉配信はありません。</p>
{{/if}}
<h2>新しい一斉配信</h2>
{{#if view.problems}}<section role="alert"><p class="urgent">入力内容をご確認ください（保存していません）</p><ul>{{#each view.problems}}<li>{{this}}</li>{{/each}}</ul></section>{{/if}}
<form method="post" action="/console/broadcasts">
<input type="hidden" name="csrf" value="{{csrf}}">
<section>
<p><label>配信日 <input type="date" name="date" value="{{view.form.date}}" required></label>（明日以降）</p>
<fieldset><legend>対象のコース</legend>
<label><input type="checkbox" name="tracks" value="maternity"{{#if (includes view.form.tracks "maternity")}} checked{{/if}}> 妊娠期</label>
<label>妊娠週数 <input name="weeksFrom" value="{{view.form.weeksFrom}}" placeholder="20w0d" size="6"> 〜 <input name="weeksTo" value="{{view.form.weeksTo}}" placeholder="30w6d" size="6"></label>（空欄なら妊娠期全体）<br>
<label><input type="checkbox" name="tracks" value="childcare"{{#if (includes view.form.tracks "childcare")}} checked{{/if}}> 子育て期</label>
<label>お子さんの年齢 <input name="ageFrom" value="{{view.form.ageFrom}}" size="4"> 〜 <input name="ageTo" value="{{view.form.ageTo}}" size="4"></label>
<select name="ageUnit" aria-label="年齢の単位"><option value="months"{{#if (eq view.form.ageUnit "months")}} selected{{/if}}>か月（満）</option><option value="days"{{#if (eq view.form.ageUnit "days")}} selected{{/if}}>日</option></select>（空欄なら3歳まで全体）
</fieldset>
<fieldset><legend>チャネル</legend>
<label><input type="checkbox" name="channels" value="line"{{#if (includes view.form.channels "line")}} checked{{/if}}> LINE</label>
<label><input type="checkbox" name="channels" value="email"{{#if (includes view.form.channels "email")}} checked{{/if}}> メール</label>
</fieldset>
<p><label>対象の方 <select name="audience">
<option value="both"{{#if (eq view.form.audience "both")}} selected{{/if}}>ご本人とパートナー</option>
<option value="parent"{{#if (eq view.form.audience "parent")}} selected{{/if}}>ご本人</option>
<option value="partner"{{#if (eq view.form.audience "partner")}} selected{{/if}}>パートナー</option>
</select></label></p>
<p><label>LINEのメッセージ（5,000文字まで。{nickname}でニックネーム）<br><textarea name="lineText" rows="4" cols="70" maxlength="5000">{{view.form.lineText}}</textarea></label></p>
<p><label>メールの見出し<br><input name="emailSubject" value="{{view.form.emailSubject}}" size="60" maxlength="100"></label></p>
<p><label>メールの本文<br><textarea name="emailBody" rows="4" cols="70" maxlength="5000">{{view.form.emailBody}}</textarea></label></p>
<p><button type="submit">予約する</button></p>
</section>
</form>`),
  },
} satisfies Record<string, ConsolePage>;
