import type { ResultItem } from '../../../lambdas/domain/survey-results';
import { surveyResultsPage, surveysPage, type ResultsDeps } from '../../../lambdas/services/console-results';
import type { TenantDirectory } from '../../../lambdas/services/ports';
import { renderConsole } from '../../../lambdas/web/console-pages';
import { TenantConfigSchema, type TenantConfig } from '../../../schemas/tenant';
import { accessDeps, req, sessionFor, staffA, staffB } from './console-fixtures';

/**
 * The survey results page: the tenant's own figures, computed by the CLI's domain code, every cell under 5
 * shown as `<5`. Expected figures are worked out below from the test's own population, by the rules.
 */
const tenant = (tenantId: string, shared: boolean): TenantConfig =>
  TenantConfigSchema.parse({
    tenantId,
    name: `${tenantId} 町`,
    deliveryTime: '09:00',
    shardCount: 1,
    library: 'lib',
    line: { enabled: true, secretName: `hagukumi/${tenantId}/line` },
    birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
    sharedSurveys: shared
      ? [{ shared: 'reader-survey-2027', trigger: { kind: 'campaign', from: '2027-06-01', to: '2027-06-30' } }]
      : [],
  });

/** `n` readers of a track invited; the first `answered` of them answer satisfaction and reading. */
function readers(tenantId: string, track: string, n: number, answered: number, satisfaction: number, reading: string) {
  return Array.from({ length: n }, (_, i): ResultItem[] => {
    const ctx = { tenantId, readerKey: `line:${track}-${i}`, track, stageBand: `${track}-x`, audience: 'parent' };
    const invitation: ResultItem = { ...ctx, kind: 'invitation', runId: 'c' };
    if (i >= answered) return [invitation];
    return [
      invitation,
      { ...ctx, kind: 'answer', runId: 'c', questionId: 'satisfaction', value: satisfaction, answeredAt: i },
      { ...ctx, kind: 'answer', runId: 'c', questionId: 'reading', value: reading, answeredAt: i },
    ];
  }).flat();
}

function world() {
  const { deps: access, audit } = accessDeps();
  const tenants = new Map([
    ['town-a', tenant('town-a', true)],
    ['town-b', tenant('town-b', false)],
  ]);
  const directory: TenantDirectory = {
    listTenants: async () => [...tenants.values()],
    getTenant: async (t) => tenants.get(t),
  };
  // town-a: 8 maternity readers all answer (satisfaction 5, every day); 7 childcare readers, 3 answer (2, rarely).
  const items = [
    ...readers('town-a', 'maternity', 8, 8, 5, 'every-day'),
    ...readers('town-a', 'childcare', 7, 3, 2, 'rarely'),
  ];
  const asked: string[] = [];
  const deps: ResultsDeps = {
    ...access,
    tenants: directory,
    resultItems: async (t, s) => {
      asked.push(`${t}/${s}`);
      return items.filter((i) => i.tenantId === t);
    },
  };
  return { deps, audit, asked };
}

describe('console: survey results', () => {
  it("lists the tenant's surveys", async () => {
    const w = world();
    const page = await surveysPage(req({ path: '/console/surveys', ...(await sessionFor(staffA)) }), w.deps);
    if (page.view?.page !== 'surveys') throw new Error('not the survey list');
    expect(page.view.surveys.map((s) => s.id)).toEqual(['reader-survey-2027']);
  });

  it('shows totals, breakdowns and questions with every cell under 5 suppressed, as the rules say', async () => {
    const w = world();
    const page = await surveyResultsPage(
      req({ path: '/console/surveys/reader-survey-2027', ...(await sessionFor(staffA)) }),
      w.deps,
    );
    expect(page.status).toBe(200);
    if (page.view?.page !== 'survey-results') throw new Error('not the results page');
    const { results, questions } = page.view;
    // 15 invited, 11 answered: 73.3 %.
    expect([results.invited, results.respondents, results.rate]).toEqual([15, 11, 73.3]);
    // By track: childcare 3 respondents (<5) is the only small cell of its set, so maternity's 8 goes too.
    expect(results.breakdowns.track).toEqual([
      { group: 'childcare', invited: 7, respondents: '<5', rate: '<5' },
      { group: 'maternity', invited: 8, respondents: '<5', rate: '<5' },
    ]);
    const satisfaction = questions.find((q) => q.id === 'satisfaction')!;
    // (3 × 2 + 8 × 5) / 11 = 4.18.
    expect(satisfaction).toMatchObject({ n: 11, mean: '4.2' });
    expect(satisfaction.rows.map((r) => r.count)).toEqual(['<5', '<5', '<5', '<5', 8]);
    const reading = questions.find((q) => q.id === 'reading')!;
    expect(reading.rows).toEqual([
      { label: 'ほぼ毎日', count: 8 },
      { label: 'ときどき', count: '<5' },
      { label: 'ほとんど読まない', count: '<5' },
    ]);
    const html = renderConsole(page).body!;
    expect(html).toContain('依頼した人数：15、回答者数：11、回答率：73.3%');
    expect(html).toContain('<td>5（とても満足している）</td><td>8</td>');
    expect(html).toContain('<td>ほとんど読まない</td><td>&lt;5</td>');
    // Aggregates name no reader: nothing audited.
    expect(w.audit).toEqual([]);
  });

  it.each([
    ['a survey the tenant does not ask', staffB, '/console/surveys/reader-survey-2027'],
    ['an unknown survey id', staffA, '/console/surveys/no-such-survey'],
    ['a malformed survey id', staffA, '/console/surveys/..%2F'],
  ])('%s is 404 and reads no survey data', async (_label, who, path) => {
    const w = world();
    const page = await surveyResultsPage(req({ path, ...(await sessionFor(who)) }), w.deps);
    expect(page.status).toBe(404);
    expect(w.asked).toEqual([]);
  });

  it('without a session: off to sign in, nothing read', async () => {
    const w = world();
    const page = await surveyResultsPage(req({ path: '/console/surveys/reader-survey-2027' }), w.deps);
    expect(page.status).toBe(302);
    expect(page.location).toBe('https://console.test/console/signin');
    expect(w.asked).toEqual([]);
  });
});
