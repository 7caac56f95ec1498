import { askedSurveys } from '../../../lambdas/domain/surveys';
import {
  resultsCsv,
  screeningKpi,
  suppressSet,
  surveyResults,
  SUPPRESSED,
  type ResultItem,
} from '../../../lambdas/domain/survey-results';
import { TenantConfigSchema } from '../../../schemas/tenant';

const tenant = TenantConfigSchema.parse({
  tenantId: 'town',
  name: 'テスト町',
  deliveryTime: '09:00',
  shardCount: 1,
  library: 'lib',
  line: { enabled: true, secretName: 'hagukumi/town/line' },
  birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
  sharedSurveys: [
    { shared: 'reader-survey-2027', trigger: { kind: 'campaign', from: '2027-06-01', to: '2027-06-30' } },
  ],
});
const survey = askedSurveys(tenant)[0]!;

/** `n` readers of a tenant who were invited and gave `satisfaction` and a comment. */
function respondents(tenantId: string, n: number, satisfaction: number, track = 'childcare'): ResultItem[] {
  return Array.from({ length: n }, (_, i) => {
    const ctx = {
      tenantId,
      readerKey: `line:${tenantId}-${satisfaction}-${i}`,
      track,
      stageBand: `${track}-x`,
      audience: 'parent',
    };
    return [
      { ...ctx, kind: 'invitation' as const, runId: 'c' },
      { ...ctx, kind: 'answer' as const, runId: 'c', questionId: 'satisfaction', value: satisfaction, answeredAt: i },
      { ...ctx, kind: 'answer' as const, runId: 'c', questionId: 'comment', value: `感想${i}`, answeredAt: i },
    ];
  }).flat();
}

describe('small cells', () => {
  it.each([
    { n: 4, shown: SUPPRESSED },
    { n: 5, shown: 5 },
  ])('$n respondents: respondents, n, mean and rate are $shown', ({ n, shown }) => {
    const r = surveyResults(survey, respondents('a', n, 4), { scope: 'a', pooled: false });
    expect(r.respondents).toBe(shown);
    expect(r.invited).toBe(shown);
    const q = r.questions.find((x) => x.id === 'satisfaction')!;
    expect(q.n).toBe(shown);
    expect(q.mean).toBe(n < 5 ? SUPPRESSED : 4);
    expect(r.rate).toBe(n < 5 ? SUPPRESSED : 100);
    // Free text only per tenant, and only once the cell is large enough.
    expect(r.questions.find((x) => x.id === 'comment')!.texts).toEqual(
      n < 5 ? undefined : ['感想0', '感想1', '感想2', '感想3', '感想4'],
    );
  });

  it('a lone small cell next to a shown total takes the next smallest with it (no difference reveals it)', () => {
    expect(suppressSet([3, 7, 10])).toEqual([SUPPRESSED, SUPPRESSED, 10]);
    expect(suppressSet([3, 2, 10])).toEqual([SUPPRESSED, SUPPRESSED, 10]);
    expect(suppressSet([5, 6])).toEqual([5, 6]);
    expect(suppressSet([0, 9])).toEqual([SUPPRESSED, SUPPRESSED]);
  });

  it('breakdowns and scale distributions follow the same rule', () => {
    const items = [
      ...respondents('a', 4, 2, 'maternity'),
      ...respondents('a', 6, 5, 'childcare'),
      ...respondents('a', 7, 4, 'childcare'),
    ];
    const r = surveyResults(survey, items, { scope: 'a', pooled: false });
    expect(r.respondents).toBe(17);
    expect(r.breakdowns.track).toEqual([
      { group: 'childcare', invited: SUPPRESSED, respondents: SUPPRESSED, rate: SUPPRESSED },
      { group: 'maternity', invited: SUPPRESSED, respondents: SUPPRESSED, rate: SUPPRESSED },
    ]);
    const q = r.questions.find((x) => x.id === 'satisfaction')!;
    // 2: 4 readers (hidden), so the smallest shown one (5: 6 readers) goes too; 4: 7 stays.
    expect(q.counts).toEqual({ '1': SUPPRESSED, '2': SUPPRESSED, '3': SUPPRESSED, '4': 7, '5': 6 });
    expect(q.mean).toBe(Math.round(((4 * 2 + 6 * 5 + 7 * 4) / 17) * 10) / 10);
  });

  it('CSV carries <5 for suppressed cells', () => {
    const csv = resultsCsv(surveyResults(survey, respondents('a', 4, 3), { scope: 'a', pooled: false }));
    expect(csv).toContain('total,,respondents,<5');
    expect(csv).not.toMatch(/,4\n/);
  });
});

describe('pooled results', () => {
  it('name only municipalities with 5 or more respondents and never carry free text', () => {
    const r = surveyResults(survey, [...respondents('big', 5, 4), ...respondents('tiny', 4, 1)], {
      scope: 'all',
      pooled: true,
      tenantNames: new Map([
        ['big', '大きな市'],
        ['tiny', '小さな村'],
      ]),
    });
    expect(r.tenants).toEqual({ named: ['大きな市'], others: 1 });
    expect(r.respondents).toBe(9);
    expect(JSON.stringify(r)).not.toContain('小さな村');
    expect(JSON.stringify(r)).not.toContain('感想');
  });
});

describe('screening KPI: of readers at or over the cut-off, the share who later scored below it', () => {
  const run = (reader: string, at: number, positive: boolean, complete = true): ResultItem => ({
    tenantId: 't',
    readerKey: reader,
    kind: 'completion',
    answeredAt: at,
    screening: { positive, complete },
  });
  it('counts a later complete result below the cut-off only', () => {
    const items = [
      ...['a', 'b', 'c', 'd', 'e', 'f'].map((r) => run(r, 1, true)),
      ...['a', 'b', 'c', 'd', 'e'].map((r) => run(r, 2, false)),
      run('f', 2, false, false), // incomplete: not "below"
      run('g', 1, false), // never positive
      run('h', 2, true),
      run('h', 1, false), // below first, positive later: not improved
    ];
    expect(screeningKpi(items)).toEqual({ atOrOverCutoff: 7, laterBelow: 5, share: 71.4 });
  });
  it('suppresses when fewer than 5 improved', () => {
    expect(screeningKpi(['a', 'b', 'c', 'd', 'e'].map((r) => run(r, 1, true)))).toEqual({
      atOrOverCutoff: 5,
      laterBelow: SUPPRESSED,
      share: SUPPRESSED,
    });
  });
});

describe('the response rate counts an email invitation once its mail was accepted', () => {
  const invitation = (readerKey: string, over: Partial<ResultItem>): ResultItem => ({
    tenantId: 'a',
    readerKey,
    kind: 'invitation',
    runId: 'c',
    track: 'childcare',
    stageBand: 'childcare-x',
    audience: 'parent',
    ...over,
  });
  it('6 LINE, 5 email accepted and 3 email planned but never accepted: 11 invited', () => {
    const items = [
      ...Array.from({ length: 6 }, (_, i) => invitation(`line:l${i}`, { channel: 'line' })),
      ...Array.from({ length: 5 }, (_, i) => invitation(`email:s${i}`, { channel: 'email', sentAt: 1 })),
      ...Array.from({ length: 3 }, (_, i) => invitation(`email:u${i}`, { channel: 'email' })),
    ];
    expect(surveyResults(survey, items, { scope: 'a', pooled: false }).invited).toBe(6 + 5);
  });
});
