import type { ReaderAction } from '../../schemas/line-webhook';
import type { SurveyRun } from '../../schemas/survey';
import type { TenantConfig } from '../../schemas/tenant';
import {
  LABEL_MAX,
  Phrases,
  postbackData,
  textMessage,
  truncate,
  type BotMessage,
  type QuickReplyItem,
} from './replies';
import type { ScreeningResult } from './screening';
import { SCREENING_TITLE, SURVEY_COMMAND, type AskedQuestion, type AskedSurvey } from './surveys';

/**
 * The survey part of the LINE chat, pure: which reader actions belong to surveys, how a question is shown
 * (quick reply postbacks; free text as the next message), and what an answer does to the run.
 */

export const REVOKE_CONSENT_COMMAND = '同意の取り消し';
const SKIP = '_skip';
const DONE = '_done';

export type SurveyCommand =
  | { kind: 'start' }
  | { kind: 'screen' }
  | { kind: 'consent'; yes: boolean }
  | { kind: 'revoke-consent' }
  | { kind: 'answer'; surveyId: string; runId: string; question: number; choice: string }
  | { kind: 'text'; text: string }
  | { kind: 'pause' }
  | { kind: 'later' }
  | { kind: 'decline'; surveyId: string };

const normalise = (text: string) => text.normalize('NFKC').replace(/\s+/g, '');

/**
 * The survey command an action is, or undefined when it belongs to the rest of the chat. A text is an answer
 * only while the run waits for a free-text answer (and is not one of the survey commands).
 */
export function surveyCommand(
  action: ReaderAction,
  run: SurveyRun | undefined,
  survey: AskedSurvey | undefined,
): SurveyCommand | undefined {
  if (action.kind === 'text') {
    const t = normalise(action.text);
    if (t === SURVEY_COMMAND) return { kind: 'start' };
    if (t === SCREENING_TITLE) return { kind: 'screen' };
    if (t === REVOKE_CONSENT_COMMAND) return { kind: 'revoke-consent' };
    if (run && survey?.questions[run.next]?.kind === 'text') return { kind: 'text', text: action.text };
    return undefined;
  }
  if (action.kind !== 'postback') return undefined;
  const p = new URLSearchParams(action.data);
  switch (p.get('a')) {
    case 'sv-start':
      return { kind: 'start' };
    case 'sv-screen':
      return { kind: 'screen' };
    case 'sv-consent':
      return p.get('c') === 'revoke' ? { kind: 'revoke-consent' } : { kind: 'consent', yes: p.get('c') === 'yes' };
    case 'sv-pause':
      return { kind: 'pause' };
    case 'sv-later':
      return { kind: 'later' };
    case 'sv-decline': {
      const surveyId = p.get('s');
      return surveyId ? { kind: 'decline', surveyId } : undefined;
    }
    case 'sv': {
      const surveyId = p.get('s');
      const runId = p.get('r');
      const question = Number(p.get('q'));
      const choice = p.get('c');
      if (!surveyId || !runId || !Number.isInteger(question) || question < 0 || !choice) return undefined;
      return { kind: 'answer', surveyId, runId, question, choice };
    }
    default:
      return undefined;
  }
}

const item = (p: Phrases, label: string, data: string): QuickReplyItem =>
  p.postbackItem(truncate(label, LABEL_MAX), data);

/** The question the run is at, with its buttons. */
export function questionMessage(tenant: TenantConfig, survey: AskedSurvey, run: SurveyRun): BotMessage {
  const p = new Phrases(tenant);
  const q = survey.questions[run.next]!;
  const n = survey.questions.length;
  const answer = (choice: string) => postbackData('sv', { s: survey.id, r: run.runId, q: String(run.next), c: choice });
  const skip = item(p, 'スキップ', answer(SKIP));
  const pause = item(p, '中断する', postbackData('sv-pause'));
  const head = `（${run.next + 1}/${n}）`;
  const withRoom = (items: QuickReplyItem[], extra: QuickReplyItem[]) => [...items, ...extra].slice(0, 13);
  switch (q.kind) {
    case 'single':
      return textMessage(
        `${head}${q.text}`,
        withRoom(
          q.choices.map((c) => item(p, c.label, answer(c.id))),
          [skip, pause],
        ),
      );
    case 'multiple':
      return textMessage(
        `${head}${q.text}\n選んだら「選び終わった」を押してください。${
          run.picked.length
            ? `\n（選択中: ${q.choices
                .filter((c) => run.picked.includes(c.id))
                .map((c) => c.label)
                .join('、')}）`
            : ''
        }`,
        withRoom(
          [
            ...q.choices.map((c) => item(p, `${run.picked.includes(c.id) ? '✓' : ''}${c.label}`, answer(c.id))),
            item(p, '選び終わった', answer(DONE)),
          ],
          [pause],
        ),
      );
    case 'scale':
      return textMessage(
        `${head}${q.text}\n1（${q.low}）〜 5（${q.high}）でお答えください。`,
        withRoom(
          [1, 2, 3, 4, 5].map((v) => item(p, String(v), answer(String(v)))),
          [skip, pause],
        ),
      );
    case 'text':
      return textMessage(`${head}${q.text}\n次のメッセージでお書きください（${q.maxLength}文字まで）。`, [skip, pause]);
    case 'item':
      return textMessage(
        `${head}${q.text}`,
        withRoom(
          q.options.map((o, i) => item(p, o.label, answer(String(i)))),
          [skip, pause],
        ),
      );
  }
}

/** An answer to store: a choice id, choice ids, a 1-5 value, a text, or an instrument option's score. */
export interface AnswerValue {
  questionId: string;
  value: string | string[] | number;
  /** Instrument items: the score of the chosen option (never its position). */
  score?: number;
}

export type AnswerOutcome =
  /** Store `answer` (if any) and go on with `run` (the next question), or finish the survey when `run` is null. */
  | { kind: 'step'; answer?: AnswerValue; run: SurveyRun | null }
  /** A multiple-choice pick: only the run changes. */
  | { kind: 'pick'; run: SurveyRun }
  /** Not an answer to the current question (an old button, a forged postback): re-ask, change nothing. */
  | { kind: 'stale' }
  /** Bad input (too long a text): say why, change nothing. */
  | { kind: 'invalid'; reason: string };

const advance = (survey: AskedSurvey, run: SurveyRun): SurveyRun | null =>
  run.next + 1 >= survey.questions.length ? null : { ...run, next: run.next + 1, picked: [] };

/** What a tap or a typed text does to the run at its current question. */
export function applyAnswer(
  survey: AskedSurvey,
  run: SurveyRun,
  cmd: Extract<SurveyCommand, { kind: 'answer' } | { kind: 'text' }>,
): AnswerOutcome {
  const q: AskedQuestion | undefined = survey.questions[run.next];
  if (!q) return { kind: 'stale' };
  if (cmd.kind === 'text') {
    if (q.kind !== 'text') return { kind: 'stale' };
    const text = cmd.text.trim();
    if (text.length === 0) return { kind: 'invalid', reason: '空のメッセージは回答にできません。' };
    if ([...text].length > q.maxLength)
      return { kind: 'invalid', reason: `${q.maxLength}文字以内でお願いします（いまは${[...text].length}文字です）。` };
    return { kind: 'step', answer: { questionId: q.id, value: text }, run: advance(survey, run) };
  }
  if (cmd.surveyId !== survey.id || cmd.runId !== run.runId || cmd.question !== run.next) return { kind: 'stale' };
  if (cmd.choice === SKIP) return { kind: 'step', run: advance(survey, run) };
  switch (q.kind) {
    case 'single':
      return q.choices.some((c) => c.id === cmd.choice)
        ? { kind: 'step', answer: { questionId: q.id, value: cmd.choice }, run: advance(survey, run) }
        : { kind: 'stale' };
    case 'multiple': {
      if (cmd.choice === DONE)
        return run.picked.length === 0
          ? { kind: 'step', run: advance(survey, run) }
          : {
              kind: 'step',
              answer: { questionId: q.id, value: q.choices.map((c) => c.id).filter((id) => run.picked.includes(id)) },
              run: advance(survey, run),
            };
      if (!q.choices.some((c) => c.id === cmd.choice)) return { kind: 'stale' };
      const picked = run.picked.includes(cmd.choice)
        ? run.picked.filter((c) => c !== cmd.choice)
        : [...run.picked, cmd.choice];
      return { kind: 'pick', run: { ...run, picked } };
    }
    case 'scale': {
      const v = Number(cmd.choice);
      return Number.isInteger(v) && v >= 1 && v <= 5
        ? { kind: 'step', answer: { questionId: q.id, value: v }, run: advance(survey, run) }
        : { kind: 'stale' };
    }
    case 'text':
      return { kind: 'stale' };
    case 'item': {
      const i = Number(cmd.choice);
      const option = Number.isInteger(i) ? q.options[i] : undefined;
      return option
        ? { kind: 'step', answer: { questionId: q.id, value: i, score: option.score }, run: advance(survey, run) }
        : { kind: 'stale' };
    }
  }
}

/** The first message of a run: the title, what it is for, then the first question. */
export function introMessages(tenant: TenantConfig, survey: AskedSurvey, run: SurveyRun): BotMessage[] {
  const lines = [`【${survey.title}】`, ...(survey.intro ? [survey.intro] : [])];
  if (survey.placeholder) lines.push('※この設問文は仮のものです（自治体が許諾を得た文言に置き換えて使います）。');
  lines.push(
    '答えたくない質問は「スキップ」で飛ばせます。「中断する」で途中でやめても、メニューから続きを再開できます。',
  );
  return [textMessage(lines.join('\n')), questionMessage(tenant, survey, run)];
}

export function pauseMessage(tenant: TenantConfig, survey: AskedSurvey): BotMessage {
  const p = new Phrases(tenant);
  return textMessage('中断します。どうしますか？', [
    item(p, 'あとで続ける', postbackData('sv-later')),
    item(p, 'このアンケートは答えない', postbackData('sv-decline', { s: survey.id })),
  ]);
}

export const laterText = `わかりました。続きは「${SURVEY_COMMAND}」と送るか、メニューの「その他」から再開できます。`;
export const declinedText = 'わかりました。このアンケートのご案内は今後お送りしません。';
export const thanksText = 'ご回答ありがとうございました。いただいた声は、これからの子育て支援に生かします。';
export const nothingToAnswerText = 'いまお答えいただけるアンケートはありません。ご案内が届いたら、またお願いします。';
export const screeningOffText = 'この自治体では、こころの健康チェックを行っていません。';

export function consentMessage(tenant: TenantConfig): BotMessage {
  const p = new Phrases(tenant);
  return textMessage(
    [
      `【${SCREENING_TITLE}】`,
      `このチェックの結果は、${tenant.name}の保健師など健康支援の担当者と共有され、必要なときにご連絡やご案内をします。`,
      '共有に同意いただける場合のみ、チェックを始めます。同意はいつでも「同意の取り消し」と送れば取り消せます。',
    ].join('\n'),
    [
      item(p, '同意して始める', postbackData('sv-consent', { c: 'yes' })),
      item(p, '同意しない', postbackData('sv-consent', { c: 'no' })),
    ],
  );
}
export const noConsentText = 'わかりました。チェックは行いません。気になることがあれば、いつでもご相談ください。';
export const consentRevokedText =
  '同意を取り消しました。これからはチェックの結果を共有しません（チェックを受けるには、あらためて同意が必要です）。';
export const noConsentToRevokeText = '取り消す同意はありません。';

/** The first words after the last item of a screening, whatever its result. */
export const screeningThanksText = 'チェックにご協力いただき、ありがとうございました。';

/** After the last item of a screening. At or over the cut-off (or urgent): warm words and where to turn, now. */
export function screeningDoneText(tenant: TenantConfig, result: ScreeningResult, showScore: boolean): string {
  const p = new Phrases(tenant);
  const score = showScore ? `\n（合計 ${result.total} 点）` : '';
  if (!result.positive && !result.urgent)
    return `${screeningThanksText}${score}\n気になることがあれば、いつでもご相談ください。`;
  return [
    `${screeningThanksText}${score}`,
    'いま、とてもがんばっていらっしゃるのだと思います。つらい気持ちは、ひとりで抱えなくて大丈夫です。',
    `${tenant.name}の保健師からご連絡することがあります。待たずに話したいときは、こちらにご相談ください。`,
    p.contacts(),
  ]
    .filter(Boolean)
    .join('\n');
}
