import { loadResultItems, SurveyRepository } from '../../lambdas/adapters/survey-repository';
import { askedSurveys } from '../../lambdas/domain/surveys';
import { formatResults, resultsCsv, surveyResults } from '../../lambdas/domain/survey-results';
import { TenantConfigSchema } from '../../schemas/tenant';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(120_000);

describe('survey results from the stored answers (DynamoDB Local)', () => {
  let stack: TestStack;
  const trigger = { kind: 'campaign', from: '2026-11-01', to: '2027-03-31' } as const;

  beforeAll(async () => {
    stack = await startTestStack('survey-res', {
      tenants: (px) =>
        testTenants(px).map((t) =>
          TenantConfigSchema.parse({ ...t, sharedSurveys: [{ shared: 'reader-survey-2027', trigger }] }),
        ),
    });
    const store = new SurveyRepository(stack.db, stack.tables.data);
    // The first tenant: 4 respondents; the second: 5. Each invited, each answering satisfaction 4 and a comment.
    for (const [i, tenant] of stack.tenants.entries()) {
      const respondents = i === 0 ? 4 : 5;
      for (let r = 0; r < respondents; r++) {
        const readerKey = `line:r${i}-${r}`;
        const facts = { track: 'childcare', stageBand: 'childcare-0-100d', audience: 'parent', channel: 'line' };
        await store.recordInvitation(tenant.tenantId, readerKey, 'reader-survey-2027', 'c', '2026-12-01', facts);
        const ctx = { ...facts, answeredAt: 1 };
        await store.putAnswer(
          tenant.tenantId,
          'reader-survey-2027',
          readerKey,
          'c',
          { questionId: 'satisfaction', value: 4 },
          ctx,
        );
        // Stored once, whatever is written again.
        await store.putAnswer(
          tenant.tenantId,
          'reader-survey-2027',
          readerKey,
          'c',
          { questionId: 'satisfaction', value: 1 },
          ctx,
        );
        await store.putAnswer(
          tenant.tenantId,
          'reader-survey-2027',
          readerKey,
          'c',
          { questionId: 'comment', value: `声${i}-${r}` },
          ctx,
        );
      }
    }
  });

  const results = async (tenantIndexes: number[], pooled: boolean) => {
    const tenants = tenantIndexes.map((i) => stack.tenants[i]!);
    const items = (
      await Promise.all(
        tenants.map((t) => loadResultItems(stack.db, stack.tables.data, t.tenantId, 'reader-survey-2027')),
      )
    ).flat();
    return surveyResults(
      askedSurveys(tenants[0]!).find((s) => s.id === 'reader-survey-2027')!,
      items,
      {
        scope: pooled ? 'all' : tenants[0]!.tenantId,
        pooled,
        tenantNames: new Map(stack.tenants.map((t) => [t.tenantId, t.name])),
      },
    );
  };

  it('4 respondents: every figure is <5, in the table, the CSV and the JSON', async () => {
    const r = await results([0], false);
    expect(r).toMatchObject({ invited: '<5', respondents: '<5', rate: '<5' });
    expect(r.questions.find((q) => q.id === 'satisfaction')).toMatchObject({ n: '<5', mean: '<5' });
    expect(r.questions.find((q) => q.id === 'comment')!.texts).toBeUndefined();
    expect(formatResults(r)).toContain('invited <5 · respondents <5 · response rate <5');
    expect(resultsCsv(r)).toContain('total,,respondents,<5');
    expect(JSON.stringify(r)).not.toMatch(/"(invited|respondents|n)":4/);
  });

  it('5 respondents: shown, the first answer kept, free text per tenant', async () => {
    const r = await results([1], false);
    expect(r).toMatchObject({ invited: 5, respondents: 5, rate: 100 });
    expect(r.questions.find((q) => q.id === 'satisfaction')).toMatchObject({ n: 5, mean: 4 });
    expect(r.questions.find((q) => q.id === 'comment')!.texts).toHaveLength(5);
  });

  it('pooled: 9 respondents, the small municipality not named, no free text', async () => {
    const r = await results([0, 1], true);
    expect(r).toMatchObject({ invited: 9, respondents: 9 });
    expect(r.tenants).toEqual({ named: [stack.tenants[1]!.name], others: 1 });
    expect(JSON.stringify(r)).not.toContain(stack.tenants[0]!.name);
    expect(JSON.stringify(r)).not.toContain('声');
  });
});
