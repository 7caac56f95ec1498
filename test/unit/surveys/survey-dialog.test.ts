import { applyAnswer, questionMessage, surveyCommand } from '../../../lambdas/domain/survey-dialog';
import { askedSurveys } from '../../../lambdas/domain/surveys';
import type { SurveyRun } from '../../../schemas/survey';
import { TenantConfigSchema } from '../../../schemas/tenant';

const choices = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, label: `選択肢${i}` }));
const tenant = TenantConfigSchema.parse({
  tenantId: 'town',
  name: 'テスト町',
  deliveryTime: '09:00',
  shardCount: 1,
  library: 'lib',
  line: { enabled: true, secretName: 'hagukumi/town/line' },
  birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
  surveys: [
    {
      id: 'big',
      title: 't',
      trigger: { kind: 'request' },
      questions: [
        { kind: 'single', id: 'one', text: '13択', choices: choices(13) },
        { kind: 'multiple', id: 'many', text: '12択', choices: choices(12) },
        { kind: 'text', id: 'free', text: '自由に', maxLength: 10 },
      ],
    },
  ],
  screening: { enabled: true, alertTo: ['a@b.jp'], alertFrom: 'n@b.jp' },
});
const [big, , phq9] = askedSurveys(tenant);
const run = (next: number, over: Partial<SurveyRun> = {}): SurveyRun => ({
  surveyId: 'big',
  runId: 'q',
  next,
  picked: [],
  startedAt: 0,
  ...over,
});
const tap = (q: number, c: string, s = 'big', r = 'q') =>
  ({ kind: 'answer', surveyId: s, runId: r, question: q, choice: c }) as const;

describe('questions as LINE messages', () => {
  it.each([0, 1, 2])('question %i has at most 13 quick reply items, each label at most 20 characters', (next) => {
    const items = questionMessage(tenant, big!, run(next)).quickReply?.items ?? [];
    expect(items.length).toBeLessThanOrEqual(13);
    for (const i of items) expect([...i.action.label].length).toBeLessThanOrEqual(20);
  });
  it('13 choices keep all 13 buttons (skip is then typed away with the text question rule)', () => {
    expect(questionMessage(tenant, big!, run(0)).quickReply?.items.map((i) => i.action.label)).toEqual(
      choices(13).map((c) => c.label),
    );
  });
});

describe('applyAnswer', () => {
  it('stores the chosen option of an instrument item by its score', () => {
    const r = { ...run(0), surveyId: 'phq9', runId: 'r1' };
    expect(applyAnswer(phq9!, r, tap(0, '2', 'phq9', 'r1'))).toMatchObject({
      kind: 'step',
      answer: { questionId: 'i1', value: 2, score: 2 },
    });
  });
  it.each([
    { label: 'an earlier question', cmd: tap(1, 'c0') },
    { label: 'another run', cmd: tap(0, 'c0', 'big', 'c') },
    { label: 'another survey', cmd: tap(0, 'c0', 'other') },
    { label: 'an unknown choice', cmd: tap(0, 'c99') },
  ])('a tap for $label is stale and changes nothing', ({ cmd }) => {
    expect(applyAnswer(big!, run(0), cmd)).toEqual({ kind: 'stale' });
  });
  it('multiple choice: taps toggle, 選び終わった stores them in the definition order', () => {
    const a = applyAnswer(big!, run(1), tap(1, 'c5'));
    expect(a).toEqual({ kind: 'pick', run: run(1, { picked: ['c5'] }) });
    const b = applyAnswer(big!, run(1, { picked: ['c5', 'c2', 'c7'] }), tap(1, 'c7'));
    expect(b).toEqual({ kind: 'pick', run: run(1, { picked: ['c5', 'c2'] }) });
    expect(applyAnswer(big!, run(1, { picked: ['c5', 'c2'] }), tap(1, '_done'))).toEqual({
      kind: 'step',
      answer: { questionId: 'many', value: ['c2', 'c5'] },
      run: run(2),
    });
  });
  it('free text over the limit is refused with the count; the last answer finishes the run', () => {
    expect(applyAnswer(big!, run(2), { kind: 'text', text: 'あ'.repeat(11) })).toEqual({
      kind: 'invalid',
      reason: '10文字以内でお願いします（いまは11文字です）。',
    });
    expect(applyAnswer(big!, run(2), { kind: 'text', text: ' ありがとう ' })).toEqual({
      kind: 'step',
      answer: { questionId: 'free', value: 'ありがとう' },
      run: null,
    });
  });
  it('skip goes on without an answer', () => {
    expect(applyAnswer(big!, run(0), tap(0, '_skip'))).toEqual({ kind: 'step', run: run(1) });
  });
});

describe('surveyCommand', () => {
  it('text is an answer only while a free-text question waits; the commands always win', () => {
    expect(surveyCommand({ kind: 'text', text: 'こんにちは' }, undefined, undefined)).toBeUndefined();
    expect(surveyCommand({ kind: 'text', text: 'こんにちは' }, run(0), big)).toBeUndefined();
    expect(surveyCommand({ kind: 'text', text: 'こんにちは' }, run(2), big)).toEqual({
      kind: 'text',
      text: 'こんにちは',
    });
    expect(surveyCommand({ kind: 'text', text: ' アンケート ' }, run(2), big)).toEqual({ kind: 'start' });
    expect(surveyCommand({ kind: 'text', text: 'こころの健康チェック' }, undefined, undefined)).toEqual({
      kind: 'screen',
    });
  });
  it('malformed postbacks are not survey commands', () => {
    for (const data of ['a=sv&s=big&r=q&q=-1&c=x', 'a=sv&s=big&q=0&c=x', 'a=sv-decline', 'a=other'])
      expect(surveyCommand({ kind: 'postback', data }, run(0), big)).toBeUndefined();
  });
});
