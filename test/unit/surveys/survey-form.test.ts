import { formAnswer } from '../../../lambdas/domain/survey-form';
import { askedSurveys } from '../../../lambdas/domain/surveys';
import type { SurveyRun } from '../../../schemas/survey';
import { TenantConfigSchema } from '../../../schemas/tenant';

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
      id: 'sv',
      title: 't',
      trigger: { kind: 'date', on: '2027-05-05' },
      questions: [
        {
          kind: 'single',
          id: 'one',
          text: 'q',
          choices: [
            { id: 'a', label: 'A' },
            { id: 'b', label: 'B' },
          ],
        },
        {
          kind: 'multiple',
          id: 'many',
          text: 'q',
          choices: [
            { id: 'x', label: 'X' },
            { id: 'y', label: 'Y' },
            { id: 'z', label: 'Z' },
          ],
        },
        { kind: 'scale', id: 'scale', text: 'q', low: 'l', high: 'h' },
        { kind: 'text', id: 'free', text: 'q' },
      ],
    },
  ],
  screening: { enabled: true, alertTo: ['h@town.example.jp'], alertFrom: 'n@town.example.jp' },
});
const [survey] = askedSurveys(tenant);
const epds = askedSurveys(tenant).find((s) => s.id === 'epds')!;
const at = (next: number): SurveyRun => ({ surveyId: 'sv', runId: 'c', next, picked: [], startedAt: 0 });
const input = (question: number, values: string[], over = {}) => ({
  runId: 'c',
  question,
  skip: false,
  values,
  ...over,
});

describe('formAnswer (the email survey page)', () => {
  it.each([
    { label: 'single: a choice', q: 0, values: ['b'], answer: { questionId: 'one', value: 'b' } },
    {
      label: 'multiple: in choice order, each once',
      q: 1,
      values: ['z', 'x', 'z'],
      answer: { questionId: 'many', value: ['x', 'z'] },
    },
    { label: 'scale: 1-5', q: 2, values: ['5'], answer: { questionId: 'scale', value: 5 } },
    {
      label: 'text: trimmed, line ends normalised',
      q: 3,
      values: [' a\r\nb '],
      answer: { questionId: 'free', value: 'a\nb' },
    },
    {
      label: 'text: exactly 1,000 characters',
      q: 3,
      values: ['あ'.repeat(1000)],
      answer: { questionId: 'free', value: 'あ'.repeat(1000) },
    },
  ])('$label', ({ q, values, answer }) => {
    expect(formAnswer(survey!, at(q), input(q, values))).toMatchObject({ kind: 'step', answer });
  });

  it.each([
    { label: 'single: not a choice', q: 0, values: ['c'] },
    { label: 'single: nothing', q: 0, values: [] },
    { label: 'multiple: only unknown values', q: 1, values: ['w'] },
    { label: 'scale: 0', q: 2, values: ['0'] },
    { label: 'scale: 6', q: 2, values: ['6'] },
    { label: 'scale: 2.5', q: 2, values: ['2.5'] },
    { label: 'text: blank', q: 3, values: ['  '] },
    { label: 'text: 1,001 characters', q: 3, values: ['あ'.repeat(1001)] },
  ])('invalid, nothing to store: $label', ({ q, values }) => {
    expect(formAnswer(survey!, at(q), input(q, values)).kind).toBe('invalid');
  });

  it('a skip stores nothing and moves on; the last question ends the run', () => {
    expect(formAnswer(survey!, at(0), input(0, [], { skip: true }))).toEqual({ kind: 'step', run: { ...at(1) } });
    expect(formAnswer(survey!, at(3), input(3, [], { skip: true }))).toEqual({ kind: 'step', run: null });
  });

  it('a form for another question or run is stale (a double POST stores once)', () => {
    expect(formAnswer(survey!, at(1), input(0, ['a'])).kind).toBe('stale');
    expect(formAnswer(survey!, at(0), input(0, ['a'], { runId: 't0' })).kind).toBe('stale');
  });

  it('an EPDS item stores the score of the chosen option, not its position (item 3 is reverse scored)', () => {
    const run = { ...at(2), surveyId: 'epds' };
    expect(formAnswer(epds, run, input(2, ['0']))).toMatchObject({ answer: { questionId: 'i3', value: 0, score: 3 } });
    expect(formAnswer(epds, { ...run, next: 0 }, input(0, ['0']))).toMatchObject({ answer: { score: 0 } });
    expect(formAnswer(epds, run, input(2, ['4'])).kind).toBe('invalid');
  });
});
