import type { SurveyRun } from '../../schemas/survey';
import type { AnswerOutcome } from './survey-dialog';
import type { AskedSurvey } from './surveys';

/**
 * The email survey page's answer to the current question, pure: what a submitted form does to the run. The
 * same outcomes as the chat's (domain/survey-dialog.ts), so both channels store the same answers; the form
 * names the run and the question it was shown for, so a form sent twice (a double click, the back button) is
 * `stale` the second time and stores nothing.
 */
export interface SurveyFormInput {
  runId: string;
  /** The question index the form was shown for. */
  question: number;
  skip: boolean;
  /** The submitted values (several for a multiple choice). */
  values: readonly string[];
}

export const FORM_WORDS = {
  choose: '選択肢を選ぶか、「この質問をとばす」を押してください。',
  empty: '回答を入力するか、「この質問をとばす」を押してください。',
  tooLong: (max: number, n: number) => `${max}文字以内でお願いします（いまは${n}文字です）。`,
} as const;

export function formAnswer(survey: AskedSurvey, run: SurveyRun, input: SurveyFormInput): AnswerOutcome {
  const q = survey.questions[run.next];
  if (!q || input.runId !== run.runId || input.question !== run.next) return { kind: 'stale' };
  const next = run.next + 1 >= survey.questions.length ? null : { ...run, next: run.next + 1, picked: [] };
  if (input.skip) return { kind: 'step', run: next };
  const first = input.values[0] ?? '';
  const invalid = (reason: string): AnswerOutcome => ({ kind: 'invalid', reason });
  switch (q.kind) {
    case 'single':
      return q.choices.some((c) => c.id === first)
        ? { kind: 'step', answer: { questionId: q.id, value: first }, run: next }
        : invalid(FORM_WORDS.choose);
    case 'multiple': {
      // In the order of the choices, each once; values that are no choice of this question are not ours.
      const picked = q.choices.map((c) => c.id).filter((id) => input.values.includes(id));
      return picked.length > 0
        ? { kind: 'step', answer: { questionId: q.id, value: picked }, run: next }
        : invalid(FORM_WORDS.choose);
    }
    case 'scale': {
      const v = /^[1-5]$/.test(first) ? Number(first) : NaN;
      return Number.isInteger(v)
        ? { kind: 'step', answer: { questionId: q.id, value: v }, run: next }
        : invalid(FORM_WORDS.choose);
    }
    case 'text': {
      const text = first.replace(/\r\n?/g, '\n').trim();
      if (text.length === 0) return invalid(FORM_WORDS.empty);
      const n = [...text].length;
      if (n > q.maxLength) return invalid(FORM_WORDS.tooLong(q.maxLength, n));
      return { kind: 'step', answer: { questionId: q.id, value: text }, run: next };
    }
    case 'item': {
      const i = /^\d{1,2}$/.test(first) ? Number(first) : -1;
      const option = q.options[i];
      return option
        ? { kind: 'step', answer: { questionId: q.id, value: i, score: option.score }, run: next }
        : invalid(FORM_WORDS.choose);
    }
  }
}
