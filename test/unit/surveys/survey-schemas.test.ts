import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidTenantFileError, loadTenants } from '../../../lib/tenants';
import { SHARED_SURVEYS } from '../../../schemas/shared-surveys';
import type { TenantConfigInput } from '../../../schemas/tenant';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const tenant = (overrides: Record<string, unknown>): TenantConfigInput => ({
  tenantId: 'town',
  name: 'town (test)',
  deliveryTime: '07:30',
  shardCount: 2,
  library: 'sample-ja',
  line: { enabled: true, secretName: 'hagukumi/town/line' },
  birthdayMessages: { '1': 'a', '2': 'b', '3': 'c' },
  ...overrides,
});

function load(config: unknown) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hagukumi-surveys-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'town.json'), JSON.stringify(config));
  return () => loadTenants(dir);
}

/** The problems as `field: reason`, so a case names exactly the field it breaks. */
function problems(config: unknown): string[] {
  try {
    load(config)();
  } catch (err) {
    if (err instanceof InvalidTenantFileError) return err.problems.map((p) => `${p.field}: ${p.reason}`);
    throw err;
  }
  return [];
}

const question = { kind: 'scale', id: 'q1', text: '満足ですか？', low: '低い', high: '高い' };
const survey = (over: Record<string, unknown> = {}) => ({
  id: 'visit-2027',
  title: '訪問アンケート',
  trigger: { kind: 'stage', stages: [{ track: 'childcare', day: 30 }] },
  questions: [question],
  ...over,
});
const choices = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, label: `選択肢${i}` }));
const screening = (over: Record<string, unknown> = {}) => ({
  enabled: true,
  alertTo: ['hoken@town.example.jp'],
  alertFrom: 'noreply@town.example.jp',
  ...over,
});
const pack = (items: number, options = 4) => ({
  source: 'licensed by X',
  items: Array.from({ length: items }, (_, i) => ({
    text: `item ${i}`,
    options: Array.from({ length: options }, (_, j) => `o${j}`),
  })),
});

describe('survey definitions in a tenant file', () => {
  it('accepts every question kind, every trigger, a shared survey and screening', () => {
    const config = tenant({
      surveys: [
        survey({
          questions: [
            { kind: 'single', id: 'a', text: 'どれ？', choices: choices(13) },
            { kind: 'multiple', id: 'b', text: 'どれ？（複数）', choices: choices(12) },
            question,
            { kind: 'text', id: 'd', text: '自由に', maxLength: 1000 },
          ],
        }),
        survey({ id: 'campaign', trigger: { kind: 'campaign', from: '2027-04-01', to: '2027-04-30' } }),
        survey({ id: 'once', audience: 'partner', trigger: { kind: 'date', on: '2027-05-05' } }),
      ],
      sharedSurveys: [
        { shared: 'reader-survey-2027', trigger: { kind: 'campaign', from: '2027-06-01', to: '2027-06-30' } },
      ],
      screening: screening({ wording: { epds: pack(10), phq9: pack(9) } }),
    });
    const [loaded] = load(config)();
    expect(loaded!.config.surveys).toHaveLength(3);
    expect(loaded!.config.surveys[0]!.audience).toBe('both');
    expect(loaded!.config.screening).toMatchObject({
      cutoffs: { epds: 9, phq9: 10 },
      epdsDays: [14, 30],
      showScore: false,
    });
  });

  it.each([
    {
      label: 'a single choice with 14 choices (LINE quick reply holds 13)',
      config: tenant({
        surveys: [survey({ questions: [{ kind: 'single', id: 'a', text: 't', choices: choices(14) }] })],
      }),
      expected: 'surveys.0.questions.0.choices: Too big: expected array to have <=13 items',
    },
    {
      label: 'a multiple choice with 13 choices (one button is 「選び終わった」)',
      config: tenant({
        surveys: [survey({ questions: [{ kind: 'multiple', id: 'a', text: 't', choices: choices(13) }] })],
      }),
      expected: 'surveys.0.questions.0.choices: Too big: expected array to have <=12 items',
    },
    {
      label: 'free text over 1,000 characters',
      config: tenant({ surveys: [survey({ questions: [{ kind: 'text', id: 'a', text: 't', maxLength: 1001 }] })] }),
      expected: 'surveys.0.questions.0.maxLength: Too big: expected number to be <=1000',
    },
    {
      label: 'a duplicate question id',
      config: tenant({ surveys: [survey({ questions: [question, question] })] }),
      expected: 'surveys.0.questions.1.id: duplicate question id q1',
    },
    {
      label: 'a duplicate choice id',
      config: tenant({
        surveys: [
          survey({
            questions: [
              {
                kind: 'single',
                id: 'a',
                text: 't',
                choices: [
                  { id: 'x', label: 'A' },
                  { id: 'x', label: 'B' },
                ],
              },
            ],
          }),
        ],
      }),
      expected: 'surveys.0.questions.0.choices.1.id: duplicate choice x',
    },
    {
      label: 'an unknown audience',
      config: tenant({ surveys: [survey({ audience: 'father' })] }),
      expected: 'surveys.0.audience: Invalid option: expected one of "parent"|"partner"|"both"',
    },
    {
      label: 'a campaign that ends before it starts',
      config: tenant({ surveys: [survey({ trigger: { kind: 'campaign', from: '2027-05-01', to: '2027-04-01' } })] }),
      expected: 'surveys.0.trigger.to: from must not be after to',
    },
    {
      label: 'a date that is not in the calendar',
      config: tenant({ surveys: [survey({ trigger: { kind: 'date', on: '2027-02-30' } })] }),
      expected: 'surveys.0.trigger.on: not a real calendar date',
    },
    {
      label: 'two surveys with one id',
      config: tenant({ surveys: [survey(), survey()] }),
      expected: 'surveys.1.id: survey id "visit-2027" is already used by surveys.0',
    },
    {
      label: 'a survey named like an instrument',
      config: tenant({ surveys: [survey({ id: 'epds' })] }),
      expected: 'surveys.0.id: survey id "epds" is already used by the EPDS screening',
    },
    {
      label: 'an unknown shared survey',
      config: tenant({ sharedSurveys: [{ shared: 'reader-survey-1999', trigger: { kind: 'request' } }] }),
      expected:
        'sharedSurveys.0.shared: no shared survey "reader-survey-1999" in the library (schemas/shared-surveys.ts)',
    },
    {
      label: 'a misspelt field inside a question',
      config: tenant({ surveys: [survey({ questions: [{ ...question, hihg: 'x' }] })] }),
      expected: 'surveys.0.questions.0.hihg: unknown field',
    },
    {
      label: 'an EPDS wording pack with 9 items',
      config: tenant({ screening: screening({ wording: { epds: pack(9) } }) }),
      expected: 'screening.wording.epds.items: epds has 10 items; the wording has 9',
    },
    {
      label: 'a PHQ-9 item with 3 options',
      config: tenant({
        screening: screening({ wording: { phq9: { ...pack(9), items: [...pack(8).items, pack(1, 3).items[0]] } } }),
      }),
      expected: 'screening.wording.phq9.items.8.options: phq9 items have 4 options; this one has 3',
    },
    {
      label: 'screening without staff to alert',
      config: tenant({ screening: screening({ alertTo: [] }) }),
      expected: 'screening.alertTo: Too small: expected array to have >=1 items',
    },
  ])('names the field: $label', ({ config, expected }) => {
    expect(problems(config)).toContain(expected);
  });

  it('the message names the file and the field', () => {
    expect(load(tenant({ surveys: [survey({ id: 'Bad Id' })] }))).toThrow(
      /town\.json: surveys\.0\.id: survey id: lower-case letters/,
    );
  });
});

describe('the shared survey library', () => {
  it('has unique ids and is offered to both parents and partners', () => {
    const ids = SHARED_SURVEYS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of SHARED_SURVEYS) expect(s.audience).toBe('both');
  });
});
