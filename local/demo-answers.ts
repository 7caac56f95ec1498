import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadResultItems, SurveyRepository } from '../lambdas/adapters/survey-repository';
import { INSTRUMENTS, scoreScreening } from '../lambdas/domain/screening';
import { tenantSurveys } from '../lambdas/services/survey-invitations';
import type { IsoDate } from '../schemas/common';
import type { TenantConfig } from '../schemas/tenant';
import { prng } from './seed';

/**
 * The demo population answers: about half of the readers invited on `date` answer each survey (some skip a
 * question, a few write a comment), and some readers of the screening tenant take the PHQ-9 twice, so the
 * results and the KPI have something to show. Written straight to the survey store with the same items the
 * chat writes (the chat itself is exercised by the integration tests, one reader at a time). Seeded by tenant
 * and date: a second run of the same day finds the answers stored and changes nothing.
 */
export async function answerDemoSurveys(
  db: DynamoDBDocumentClient,
  dataTable: string,
  tenant: TenantConfig,
  date: IsoDate,
  nowMs: number,
): Promise<number> {
  const store = new SurveyRepository(db, dataTable);
  const rand = prng([...`${tenant.tenantId}|${date}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7));
  let answered = 0;
  for (const survey of tenantSurveys(tenant)) {
    if (survey.instrument) continue;
    const items = await loadResultItems(db, dataTable, tenant.tenantId, survey.id);
    // Only invitations that reached the reader (an email invitation once SES accepted its mail).
    for (const inv of items.filter(
      (i) => i.kind === 'invitation' && (i.channel !== 'email' || i.sentAt !== undefined),
    )) {
      if (rand() > 0.5) continue;
      const context = {
        track: inv.track ?? 'none',
        stageBand: inv.stageBand ?? 'none',
        audience: inv.audience ?? 'none',
        channel: inv.channel ?? 'line',
        answeredAt: nowMs,
      };
      for (const q of survey.questions) {
        if (rand() < 0.1) continue;
        const value =
          q.kind === 'scale'
            ? 1 + Math.min(4, Math.floor(rand() * rand() * 5 + rand() * 2.5))
            : q.kind === 'single'
              ? q.choices[Math.floor(rand() * q.choices.length)]!.id
              : q.kind === 'multiple'
                ? q.choices.filter(() => rand() < 0.4).map((c) => c.id)
                : q.kind === 'text' && rand() < 0.3
                  ? 'デモの感想です（サンプル）'
                  : undefined;
        if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
        await store.putAnswer(
          tenant.tenantId,
          survey.id,
          inv.readerKey,
          inv.runId ?? 'c',
          { questionId: q.id, value },
          context,
        );
      }
      await store.complete(tenant.tenantId, survey.id, inv.readerKey, inv.runId ?? 'c', context);
      answered++;
    }
  }
  if (tenant.screening?.enabled) answered += await demoScreenings(store, tenant, rand, nowMs);
  return answered;
}

/** Twelve readers take the PHQ-9 twice, a month apart; most of those at or over 10 the first time are below later. */
async function demoScreenings(store: SurveyRepository, tenant: TenantConfig, rand: () => number, nowMs: number) {
  const phq9 = INSTRUMENTS.phq9;
  const context = { track: 'childcare', stageBand: 'childcare-0-100d', audience: 'parent', channel: 'line' };
  for (let r = 0; r < 12; r++) {
    const readerKey = `line:demo-screening-${String(r).padStart(2, '0')}`;
    for (const [run, high] of [
      ['r1', r < 8],
      ['r2', r < 2],
    ] as const) {
      const scores = new Map(
        phq9.items.map((item) => [item.number, item.number === 9 ? 0 : high ? 2 : Math.floor(rand() * 2)]),
      );
      const at = nowMs - (run === 'r1' ? 30 : 0) * 86_400_000;
      for (const [n, score] of scores)
        await store.putAnswer(
          tenant.tenantId,
          'phq9',
          readerKey,
          run,
          { questionId: `i${n}`, value: score, score },
          { ...context, answeredAt: at },
        );
      const result = scoreScreening(phq9, scores, tenant.screening!.cutoffs.phq9);
      await store.complete(tenant.tenantId, 'phq9', readerKey, run, { ...context, answeredAt: at, screening: result });
    }
  }
  return 12;
}
