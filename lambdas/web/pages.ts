import type { PageResult, View } from '../services/email-pages';
import { SURVEY_PAGE_WORDS } from '../services/survey-page';
import { compileHtml, PAGE_HEADERS } from './render';
import { SURVEY_PAGE } from './survey-page';

/**
 * The email pages as server-rendered HTML: Japanese, mobile first (one column, large touch targets), usable
 * without JavaScript (plain forms) and with a screen reader (every field labelled, errors tied to their field
 * with aria-describedby and listed in an alert at the top).
 */

const LAYOUT_START = `<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{title}}｜{{tenantName}}</title>
<style>
body{margin:0;background:#f6f4ef;color:#222;font-family:"Hiragino Sans","Noto Sans JP","IPAGothic","Yu Gothic",sans-serif;font-size:16px;line-height:1.7}
header{background:#2f6f4f;color:#fff;padding:12px 16px}
header p{margin:0;font-size:14px}
main{max-width:560px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:8px 0 16px}
h2{font-size:18px;margin:24px 0 8px}
section{background:#fff;border-radius:8px;padding:12px 16px;margin:0 0 16px}
label,legend{display:block;font-weight:bold;margin:12px 0 4px}
fieldset{border:none;padding:0;margin:0}
.choice{display:flex;align-items:center;gap:8px;font-weight:normal;margin:6px 0;min-height:44px}
input[type=email],input[type=text],input[type=date],textarea{box-sizing:border-box;width:100%;font-size:16px;padding:10px;border:1px solid #888;border-radius:6px}
input[type=radio],input[type=checkbox]{width:22px;height:22px}
button{font-size:16px;padding:12px 20px;min-height:44px;border:none;border-radius:6px;background:#2f6f4f;color:#fff;margin:12px 8px 0 0}
button.secondary{background:#ddd;color:#222}
button.danger{background:#a33}
.hint{font-size:14px;color:#555;margin:2px 0}
.error{color:#a00;font-weight:bold;margin:4px 0}
[aria-invalid=true]{border-color:#a00;border-width:2px}
.alert{border:2px solid #a00;background:#fff5f5;padding:8px 12px;border-radius:6px}
.notice{border-left:4px solid #2f6f4f;background:#fff;padding:8px 12px}
.code{font-size:28px;letter-spacing:4px;font-weight:bold}
.msg-staff{border-left:4px solid #2f6f4f;padding-left:8px}
.msg-reader{border-left:4px solid #bbb;padding-left:8px}
blockquote{margin:8px 0;padding:8px 12px;background:#f6f4ef;border-radius:6px}
</style>
</head>
<body>
<header><p>{{tenantName}}</p></header>
<main>
`;
const LAYOUT_END = `
</main>
</body>
</html>
`;

/** `{{> fieldError field="email"}}`-like, written out: the error paragraph a field points at. */
const fieldError = (field: string) =>
  `{{#if (err errors "${field}")}}<p class="error" id="${field}-error">{{err errors "${field}"}}</p>{{/if}}`;
const invalidAttrs = (field: string) =>
  `{{#if (err errors "${field}")}} aria-invalid="true" aria-describedby="${field}-error"{{/if}}`;

const ERROR_SUMMARY = `{{#if hasErrors}}<div class="alert" role="alert"><p><strong>入力内容をご確認ください。</strong></p><ul>{{#each errorList}}<li><a href="#{{field}}">{{message}}</a></li>{{/each}}</ul></div>{{/if}}`;

const SIGNUP = `<h1>メール登録</h1>
<p>妊娠中の方・子育て中の方に、毎朝ひとことメッセージをメールでお届けします。</p>
${ERROR_SUMMARY}
<form method="post" novalidate>
<section>
<label for="email">メールアドレス</label>
<input type="email" id="email" name="email" autocomplete="email" inputmode="email" value="{{form.email}}"${invalidAttrs('email')}>
${fieldError('email')}
</section>
<section>
<fieldset${invalidAttrs('track')}>
<legend id="track">あてはまるもの</legend>
<label class="choice"><input type="radio" name="track" value="maternity"{{#if (eq form.track "maternity")}} checked{{/if}}> 妊娠中</label>
<label class="choice"><input type="radio" name="track" value="childcare"{{#if (eq form.track "childcare")}} checked{{/if}}> 子育て中</label>
<label class="choice"><input type="radio" name="track" value="partner"{{#if (eq form.track "partner")}} checked{{/if}}> パートナー・家族として登録</label>
</fieldset>
${fieldError('track')}
</section>
<section>
<label for="date">出産予定日（妊娠中の方）またはお子さんの誕生日（子育て中の方）</label>
<p class="hint" id="date-hint">パートナー・家族として登録する方は入力不要です。</p>
<input type="date" id="date" name="date" value="{{form.date}}"{{#if (err errors "date")}} aria-invalid="true" aria-describedby="date-error date-hint"{{else}} aria-describedby="date-hint"{{/if}}>
${fieldError('date')}
<label for="inviteCode">招待コード（パートナー・家族として登録する方）</label>
<p class="hint" id="inviteCode-hint">登録した方から届いた6文字のコードです。</p>
<input type="text" id="inviteCode" name="inviteCode" autocomplete="off" value="{{form.inviteCode}}"{{#if (err errors "inviteCode")}} aria-invalid="true" aria-describedby="inviteCode-error inviteCode-hint"{{else}} aria-describedby="inviteCode-hint"{{/if}}>
${fieldError('inviteCode')}
</section>
<section>
<label for="nickname">赤ちゃん（お子さん）の呼び名（なくても大丈夫です）</label>
<input type="text" id="nickname" name="nickname" autocomplete="off" value="{{form.nickname}}"${invalidAttrs('nickname')}>
${fieldError('nickname')}
</section>
<section>
<label class="choice"><input type="checkbox" id="consent" name="consent" value="yes"{{#if (eq form.consent "yes")}} checked{{/if}}${invalidAttrs('consent')}> {{#if privacyUrl}}<span><a href="{{privacyUrl}}">個人情報の取り扱い</a>に同意します</span>{{else}}個人情報の取り扱いに同意します{{/if}}</label>
${fieldError('consent')}
</section>
<button type="submit">確認メールを送る</button>
</form>`;

const CHECK_INBOX = `<h1>確認メールをお送りしました</h1>
<div class="notice" role="status"><p>入力されたメールアドレスに確認のメールをお送りしました。メールのリンクを開いて、登録を確定してください（48時間有効）。</p></div>
<p class="hint">メールが届かないときは、迷惑メールのフォルダもご確認ください。</p>`;

const CONFIRM = `<h1>登録の確定</h1>
<p>下のボタンを押すと、メールでのお届けを始めます。</p>
<form method="post"><input type="hidden" name="token" value="{{view.token}}"><button type="submit">登録を確定する</button></form>`;

const CONFIRMED = `<h1>登録が完了しました</h1>
<div class="notice" role="status"><p>{{view.label}}</p><p>明日から毎朝メッセージをお届けします。{{#if view.todaysTexts.length}}今日のメッセージもメールでお送りしました。{{/if}}</p></div>
{{#each view.todaysTexts}}<section><p>{{#each (lines this)}}{{this}}<br>{{/each}}</p></section>{{/each}}
<p><a href="{{view.preferencesUrl}}">登録内容の確認・変更</a></p>`;

const PROBLEM_TEXT: Record<Extract<View, { page: 'problem' }>['reason'], { title: string; text: string }> = {
  tampered: {
    title: 'リンクを確認できませんでした',
    text: 'リンクが途中で切れているか、正しくないようです。メールのリンクをもう一度開いてください。',
  },
  expired: {
    title: 'リンクの有効期限が切れています',
    text: 'お手数ですが、もう一度登録ページからお申し込みください。',
  },
  'wrong-tenant': { title: 'リンクを確認できませんでした', text: 'このリンクは別の自治体のものです。' },
  'wrong-purpose': {
    title: 'リンクを確認できませんでした',
    text: 'このページ用のリンクではありません。メールのリンクをもう一度開いてください。',
  },
  revoked: {
    title: 'このリンクは使えなくなりました',
    text: '配信停止やリンクの無効化のあとは、古いメールのリンクは使えません。最新のメールのリンクをお使いください。',
  },
  reused: {
    title: 'このリンクは使用済みです',
    text: '登録はすでに確定しているか、新しい確認メールが送られています。最新のメールをご確認ください。',
  },
  'not-found': { title: 'ページが見つかりません', text: 'アドレスをご確認ください。' },
  'bad-request': { title: '送信内容を確認できませんでした', text: 'ページを開き直して、もう一度お試しください。' },
  'too-large': { title: '送信内容が大きすぎます', text: 'ページを開き直して、もう一度お試しください。' },
  'invite-gone': {
    title: '招待コードが使えなくなりました',
    text: '招待の有効期限が切れたか、すでに使われています。登録した方に新しいコードをお願いしてください。',
  },
};

const PROBLEM = `<h1>{{problem.title}}</h1><div class="notice" role="alert"><p>{{problem.text}}</p></div>`;

const DONE = `<h1>{{#if view.title}}{{view.title}}{{else}}承りました{{/if}}</h1>
<div class="notice" role="status"><p>{{#each (lines view.message)}}{{this}}<br>{{/each}}</p></div>
{{#if view.contacts}}<section><p>{{#each (lines view.contacts)}}{{this}}<br>{{/each}}</p></section>{{/if}}
{{#if view.supportOffer}}<section><p>{{supportOfferText}}</p>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="loss-support"><input type="hidden" name="confirm" value="yes"><button type="submit">{{words.lossSupportYes}}</button></form>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="loss-support"><input type="hidden" name="confirm" value="no"><button type="submit" class="secondary">{{words.lossSupportNo}}</button></form></section>{{/if}}
{{#if view.token}}<p><a href="?token={{view.token}}">登録内容の確認・変更に戻る</a></p>{{/if}}`;

const ASK = `<h1>ご確認ください</h1>
<section><p>{{#each (lines view.question)}}{{this}}<br>{{/each}}</p>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="{{view.action}}">{{#each view.fields}}<input type="hidden" name="{{@key}}" value="{{this}}">{{/each}}<button type="submit" class="{{#if (eq view.action "delete")}}danger{{/if}}">{{view.yes}}</button></form>
<form method="get"><input type="hidden" name="token" value="{{view.token}}"><button type="submit" class="secondary">{{view.no}}</button></form></section>`;

const PREFERENCES = `<h1>登録内容の確認・変更</h1>
${ERROR_SUMMARY}
{{#if view.notice}}<div class="notice" role="status"><p>{{view.notice}}</p></div>{{/if}}
{{#if view.invite}}<section aria-labelledby="invite-title"><h2 id="invite-title">パートナー・ご家族への招待コード</h2>
<p class="code">{{view.invite.code}}</p><p>有効期限：{{view.invite.expiresOn}}まで</p>
<p>メールで受け取る方は、登録ページで「パートナー・家族として登録」を選び、このコードを入力します：<br><a href="{{view.invite.signupUrl}}">{{view.invite.signupUrl}}</a></p>
{{#if view.friendUrl}}<p>LINEで受け取る方は、<a href="{{view.friendUrl}}">公式アカウントを友だち追加</a>して「パートナー・家族として登録」を選び、コードを送ります。</p>{{/if}}</section>{{/if}}
{{#unless view.subscriptions.length}}<section><p>{{#if view.lostLine}}{{words.nothingLiveAfterLoss}}{{else}}いまお届けしているご登録はありません。{{/if}}</p>{{#if view.contacts}}<p>{{#each (lines view.contacts)}}{{this}}<br>{{/each}}</p>{{/if}}</section>{{/unless}}
{{#if view.supportOffer}}<section><p>{{supportOfferText}}</p><form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="loss-support"><input type="hidden" name="confirm" value="yes"><button type="submit">{{words.lossSupportStart}}</button></form></section>{{/if}}
{{#each view.subscriptions}}
<section aria-labelledby="sub-{{subscriptionId}}">
<h2 id="sub-{{subscriptionId}}">{{label}}{{#if onPause}}（お休み中）{{/if}}</h2>
{{#unless (eq track "support")}}
<form method="post" action="?token={{../view.token}}">
<input type="hidden" name="action" value="change-date"><input type="hidden" name="subscriptionId" value="{{subscriptionId}}">
<label for="date-{{subscriptionId}}">{{#if (eq track "maternity")}}出産予定日{{else}}お子さんの誕生日{{/if}}</label>
<input type="date" id="date-{{subscriptionId}}" name="date" value="{{anchorDate}}"{{#if (err ../errors (concat "date-" subscriptionId))}} aria-invalid="true" aria-describedby="date-{{subscriptionId}}-error"{{/if}}>
{{#if (err ../errors (concat "date-" subscriptionId))}}<p class="error" id="date-{{subscriptionId}}-error">{{err ../errors (concat "date-" subscriptionId)}}</p>{{/if}}
<button type="submit">日付を変更</button>
</form>
<form method="post" action="?token={{../view.token}}">
<input type="hidden" name="action" value="change-nickname"><input type="hidden" name="subscriptionId" value="{{subscriptionId}}">
<label for="nickname-{{subscriptionId}}">呼び名（空にすると呼び名なし）</label>
<input type="text" id="nickname-{{subscriptionId}}" name="nickname" value="{{nickname}}"{{#if (err ../errors (concat "nickname-" subscriptionId))}} aria-invalid="true" aria-describedby="nickname-{{subscriptionId}}-error"{{/if}}>
{{#if (err ../errors (concat "nickname-" subscriptionId))}}<p class="error" id="nickname-{{subscriptionId}}-error">{{err ../errors (concat "nickname-" subscriptionId)}}</p>{{/if}}
<button type="submit">呼び名を変更</button>
</form>
{{#if (eq track "maternity")}}
<form method="post" action="?token={{../view.token}}">
<input type="hidden" name="action" value="birth"><input type="hidden" name="subscriptionId" value="{{subscriptionId}}">
<label for="birth-{{subscriptionId}}">出産のご報告：お子さんの誕生日</label>
<input type="date" id="birth-{{subscriptionId}}" name="date" max="{{../view.ranges.birthDate.max}}" min="{{../view.ranges.birthDate.min}}"{{#if (err ../errors (concat "birth-" subscriptionId))}} aria-invalid="true" aria-describedby="birth-{{subscriptionId}}-error"{{/if}}>
{{#if (err ../errors (concat "birth-" subscriptionId))}}<p class="error" id="birth-{{subscriptionId}}-error">{{err ../errors (concat "birth-" subscriptionId)}}</p>{{/if}}
<button type="submit">出産を報告する</button>
</form>
{{/if}}
<form method="post" action="?token={{../view.token}}"><input type="hidden" name="action" value="invite"><input type="hidden" name="subscriptionId" value="{{subscriptionId}}"><button type="submit" class="secondary">パートナー・家族を招待する</button></form>
<form method="post" action="?token={{../view.token}}"><input type="hidden" name="action" value="loss"><input type="hidden" name="subscriptionId" value="{{subscriptionId}}"><button type="submit" class="secondary">{{../words.lossMenuLabel}}</button></form>
{{/unless}}
</section>
{{/each}}
<section aria-labelledby="add-title"><h2 id="add-title">子どもを追加</h2>
<p class="hint">ふたごのお子さんや、上のお子さんがいる場合など。</p>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="add">
<fieldset${invalidAttrs('add-track')}><legend id="add-track">あてはまるもの</legend>
<label class="choice"><input type="radio" name="track" value="maternity"{{#if (eq view.form.track "maternity")}} checked{{/if}}> 妊娠中</label>
<label class="choice"><input type="radio" name="track" value="childcare"{{#if (eq view.form.track "childcare")}} checked{{/if}}> 子育て中</label></fieldset>
${fieldError('add-track')}
<label for="add-date">出産予定日またはお子さんの誕生日</label>
<input type="date" id="add-date" name="date" value="{{#if (eq view.form.action "add")}}{{view.form.date}}{{/if}}"${invalidAttrs('add-date')}>
${fieldError('add-date')}
<label for="add-nickname">呼び名（なくても大丈夫です）</label>
<input type="text" id="add-nickname" name="nickname" value="{{#if (eq view.form.action "add")}}{{view.form.nickname}}{{/if}}"${invalidAttrs('add-nickname')}>
${fieldError('add-nickname')}
<button type="submit">追加する</button></form></section>
{{#if view.canPause}}<section aria-labelledby="pause-title"><h2 id="pause-title">お休み</h2>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="pause">
<fieldset${invalidAttrs('period')}><legend id="period">お休みする期間</legend>
<label class="choice"><input type="radio" name="period" value="week"> {{words.pauseWeek}}</label>
<label class="choice"><input type="radio" name="period" value="month"> {{words.pauseMonth}}</label>
<label class="choice"><input type="radio" name="period" value="resumed"> {{words.pauseUntilResumed}}</label></fieldset>
${fieldError('period')}
<button type="submit">お休みする</button></form></section>{{/if}}
{{#if view.canResume}}<section><h2>再開</h2><form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="resume"><button type="submit">再開する</button></form></section>{{/if}}
{{#if view.inquiries}}<section aria-labelledby="inquiry-title"><h2 id="inquiry-title">お問い合わせ</h2>
{{#each view.inquiries.threads}}<div class="thread"><p class="hint">{{#if (eq status "answered")}}お返事しました{{else}}{{#if (eq status "closed")}}終了しました{{else}}お返事をお待ちください{{/if}}{{/if}}</p>
{{#each messages}}<div class="{{#if fromStaff}}msg-staff{{else}}msg-reader{{/if}}"><p class="hint">{{#if fromStaff}}{{@root.tenantName}}から{{else}}あなた{{/if}}・{{at}}</p><p>{{#each (lines text)}}{{this}}<br>{{/each}}</p></div>{{/each}}</div>{{/each}}
<p class="hint">ご質問を送る前に、よくあるご質問の答えをお見せします。急ぎのご相談には向いていません。</p>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="inquiry-faq">
<label for="inquiry-text">ご質問（2,000文字まで）</label>
<textarea id="inquiry-text" name="text" rows="6" maxlength="2000"${invalidAttrs('inquiry-text')}>{{#if (eq view.form.action "inquiry-faq")}}{{view.form.text}}{{/if}}</textarea>
${fieldError('inquiry-text')}
<button type="submit">よくあるご質問を見る</button></form></section>{{/if}}
<section aria-labelledby="stop-title"><h2 id="stop-title">配信停止・データ削除</h2>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="stop"><button type="submit" class="secondary">配信を停止する</button></form>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="delete"><button type="submit" class="danger">データをすべて削除する</button></form>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="revoke"><button type="submit" class="secondary">これまでのメールのリンクを無効にする</button></form>
</section>
${fieldError('subscriptionId')}`;

const INQUIRY_FAQ = `<h1>よくあるご質問</h1>
{{#if view.answers.length}}<p>お書きの内容に近い、よくあるご質問の答えです。</p>
{{#each view.answers}}<section><h2>{{question}}</h2><p>{{#each (lines answer)}}{{this}}<br>{{/each}}</p></section>{{/each}}
{{else}}<p>よくあるご質問には、お答えが見つかりませんでした。</p>{{/if}}
<section aria-labelledby="send-title"><h2 id="send-title">解決しないときは</h2>
<p>次の内容を{{tenantName}}の職員に送りますか？</p>
<blockquote><p>{{#each (lines view.text)}}{{this}}<br>{{/each}}</p></blockquote>
<form method="post" action="?token={{view.token}}"><input type="hidden" name="action" value="inquiry-send"><input type="hidden" name="text" value="{{view.text}}"><input type="hidden" name="submissionId" value="{{view.submissionId}}"><button type="submit">職員に送る</button></form>
<form method="get"><input type="hidden" name="token" value="{{view.token}}"><button type="submit" class="secondary">解決しました（送らない）</button></form></section>`;

const UNSUBSCRIBE = `<h1>配信停止</h1>
<p>下のボタンを押すと、メールでのお届けをすべて停止します。</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">配信を停止する</button></form>`;

const UNSUBSCRIBED = `<h1>配信を停止しました</h1>
<div class="notice" role="status"><p>メールでのお届けを停止しました。これまでご利用いただき、ありがとうございました。またご利用になるときは、登録ページからお申し込みください。</p></div>`;

const TITLES: Record<View['page'], string> = {
  signup: 'メール登録',
  'check-inbox': '確認メールをお送りしました',
  confirm: '登録の確定',
  confirmed: '登録が完了しました',
  problem: 'お知らせ',
  preferences: '登録内容の確認・変更',
  ask: 'ご確認ください',
  done: '承りました',
  unsubscribe: '配信停止',
  unsubscribed: '配信を停止しました',
  'inquiry-faq': 'よくあるご質問',
  survey: 'アンケート',
};

const page = (body: string) => compileHtml(LAYOUT_START + body + LAYOUT_END);
const TEMPLATES: Record<View['page'], (c: Record<string, unknown>) => string> = {
  signup: page(SIGNUP),
  'check-inbox': page(CHECK_INBOX),
  confirm: page(CONFIRM),
  confirmed: page(CONFIRMED),
  problem: page(PROBLEM),
  preferences: page(PREFERENCES),
  ask: page(ASK),
  done: page(DONE),
  unsubscribe: page(UNSUBSCRIBE),
  unsubscribed: page(UNSUBSCRIBED),
  'inquiry-faq': page(INQUIRY_FAQ),
  survey: page(SURVEY_PAGE),
};

export interface HtmlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Field ids in the order the form shows them, for the error summary's links. */
const FIELD_ORDER = ['email', 'track', 'date', 'inviteCode', 'nickname', 'consent'];

export function renderPage(result: PageResult): HtmlResponse {
  const v = result.view;
  const words = result.words ?? {};
  const errors = 'errors' in v ? v.errors : {};
  const errorList = Object.entries(errors)
    .filter(([, m]) => m)
    .sort(([a], [b]) => (FIELD_ORDER.indexOf(a) + 1 || 99) - (FIELD_ORDER.indexOf(b) + 1 || 99))
    .map(([field, message]) => ({ field, message }));
  const body = TEMPLATES[v.page]({
    title: v.page === 'problem' ? PROBLEM_TEXT[v.reason].title : v.page === 'survey' ? v.title : TITLES[v.page],
    tenantName: result.tenantName ?? 'hagukumi',
    view: v,
    form: 'form' in v ? v.form : undefined,
    privacyUrl: v.page === 'signup' ? v.privacyUrl : undefined,
    errors,
    errorList,
    hasErrors: errorList.length > 0,
    problem: v.page === 'problem' ? PROBLEM_TEXT[v.reason] : undefined,
    words,
    supportOfferText: words.lossSupportOffer,
    placeholderText: SURVEY_PAGE_WORDS.placeholder,
  });
  return { statusCode: result.status, headers: PAGE_HEADERS, body };
}
