import type { IsoDate } from '../../schemas/common';
import type { TenantConfig } from '../../schemas/tenant';
import {
  kpiReport,
  monthDates,
  type KpiDeliveryCounters,
  type KpiInquiry,
  type KpiReport,
  type KpiSubscription,
} from '../domain/kpi-report';
import type { ResultItem } from '../domain/survey-results';
import { askedSurveys } from '../domain/surveys';
import { mapLimit } from './concurrency';

/** What the KPI report reads for one tenant (adapters/kpi-repository.ts against DynamoDB). */
export interface KpiStore {
  subscriptions(tenantId: string): Promise<KpiSubscription[]>;
  deliveryCounters(tenantId: string, dates: readonly IsoDate[]): Promise<KpiDeliveryCounters[]>;
  surveyItems(tenantId: string, surveyId: string): Promise<ResultItem[]>;
  inquiries(tenantId: string): Promise<KpiInquiry[]>;
}

/**
 * One tenant's KPI report for a month (`hagukumi report --month`, the console's 事業報告 page): reads the stored
 * facts through the store and computes them with the pure domain (domain/kpi-report.ts), suppression included.
 * The tenant's configuration says which surveys it asks (own, shared, screening) and its time zone.
 */
export async function buildKpiReport(
  tenant: TenantConfig,
  month: string,
  store: KpiStore,
  /** Today in the tenant's time zone (a month not over yet counts its active readers today). */
  today?: IsoDate,
): Promise<KpiReport> {
  const { days } = monthDates(month);
  const surveys = askedSurveys(tenant);
  const [subscriptions, deliveries, inquiries, surveyItems] = await Promise.all([
    store.subscriptions(tenant.tenantId),
    store.deliveryCounters(tenant.tenantId, days),
    store.inquiries(tenant.tenantId),
    mapLimit(surveys, 4, (s) => store.surveyItems(tenant.tenantId, s.id)),
  ]);
  return kpiReport({
    tenantId: tenant.tenantId,
    tenantName: tenant.name,
    month,
    timeZone: tenant.timeZone,
    ...(today !== undefined && { asOf: today }),
    subscriptions,
    deliveries,
    inquiries,
    surveys: surveys.map((s, i) => ({
      id: s.id,
      title: s.title,
      ...(s.instrument && { instrument: s.instrument }),
      scales: s.questions.flatMap((q) => (q.kind === 'scale' ? [{ id: q.id, text: q.text }] : [])),
      items: surveyItems[i]!,
    })),
  });
}
