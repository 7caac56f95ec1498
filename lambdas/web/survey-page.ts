/**
 * The email survey page's body (services/survey-page.ts), one question per page as a plain form: every form
 * posts to the same URL and carries the token in a hidden field too, so it works with JavaScript off and after
 * a proxy drops the query. Radio buttons and checkboxes sit in a fieldset with a legend (screen readers read the
 * question with each choice); the error is tied to the field and announced.
 */
const HIDDEN = `<input type="hidden" name="t" value="{{view.token}}">`;

const REVOKE = `{{#if view.canRevoke}}<section><h2>結果の共有への同意</h2><form method="post">${HIDDEN}<input type="hidden" name="action" value="revoke"><p class="hint">同意を取り消すと、このチェックは中断され、結果は共有されません。</p><button type="submit" class="secondary">同意を取り消す</button></form></section>{{/if}}`;

export const SURVEY_PAGE = `<h1>{{view.title}}</h1>
{{#if view.notice}}<div class="notice" role="status"><p>{{view.notice}}</p></div>{{/if}}
{{#if (eq view.step "consent")}}
<section><p>{{#each (lines view.consentText)}}{{this}}<br>{{/each}}</p></section>
<form method="post">${HIDDEN}<input type="hidden" name="action" value="consent"><button type="submit">同意して始める</button></form>
<form method="post">${HIDDEN}<input type="hidden" name="action" value="no-consent"><button type="submit" class="secondary">同意しない</button></form>
{{/if}}
{{#if (eq view.step "question")}}
{{#if (eq view.question.number 1)}}{{#if view.intro}}<p>{{view.intro}}</p>{{/if}}{{/if}}
{{#if view.placeholder}}<p class="hint">{{placeholderText}}</p>{{/if}}
<p class="hint">答えたくない質問は「この質問をとばす」で飛ばせます。途中でページを閉じても、メールのリンクから続きを再開できます。</p>
{{#if view.error}}<div class="alert" role="alert"><p><strong>{{view.error}}</strong></p></div>{{/if}}
<form method="post">${HIDDEN}
<input type="hidden" name="r" value="{{view.question.runId}}">
<input type="hidden" name="q" value="{{view.question.index}}">
<section>
<p class="hint">質問 {{view.question.number}} / {{view.question.of}}</p>
{{#if (eq view.question.input "textarea")}}
<label for="v">{{view.question.text}}</label>
<textarea id="v" name="v" rows="6" maxlength="{{view.question.maxLength}}"{{#if view.error}} aria-invalid="true" aria-describedby="v-error"{{/if}}>{{view.question.value}}</textarea>
<p class="hint">{{view.question.maxLength}}文字まで</p>
{{else}}
<fieldset id="v"{{#if view.error}} aria-invalid="true" aria-describedby="v-error"{{/if}}>
<legend>{{view.question.text}}</legend>
{{#if view.question.scale}}<p class="hint">1（{{view.question.scale.low}}）〜 5（{{view.question.scale.high}}）</p>{{/if}}
{{#each view.question.choices}}<label class="choice"><input type="{{../view.question.input}}" name="v" value="{{value}}"> {{label}}</label>
{{/each}}
</fieldset>
{{/if}}
{{#if view.error}}<p class="error" id="v-error">{{view.error}}</p>{{/if}}
</section>
<button type="submit" name="action" value="answer">回答して次へ</button>
<button type="submit" name="action" value="skip" class="secondary">この質問をとばす</button>
</form>
<section><form method="post">${HIDDEN}<input type="hidden" name="action" value="decline"><p class="hint">このアンケートに答えない場合は、こちらを押してください。今後このアンケートのご案内はお送りしません。</p><button type="submit" class="secondary">このアンケートには答えない</button></form></section>
{{/if}}
{{#if view.message}}<div class="notice" role="status"><p>{{#each (lines view.message)}}{{this}}<br>{{/each}}</p></div>{{/if}}
${REVOKE}`;
