import { paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import { SubscriptionSchema } from '../../schemas/subscription';
import type { KpiDeliveryCounters, KpiInquiry, KpiSubscription } from '../domain/kpi-report';
import type { ResultItem } from '../domain/survey-results';
import type { KpiStore } from '../services/kpi-report';
import { mapLimit } from '../services/concurrency';
import { dataKeys, inquiryKeys } from './keys';
import { PlanRepository } from './plan-repository';
import { queryAll } from './query-all';
import { loadResultItems } from './survey-repository';

/** Only what the report counts: never the address, nickname or tokens. */
const SUBSCRIPTION_FIELDS = [
  'readerKey',
  'track',
  'channel',
  'audience',
  'status',
  'registeredOn',
  'firstRegisteredOn',
  'anchorDate',
  'pausedUntil',
];
const KpiSubscriptionSchema = SubscriptionSchema.pick({
  readerKey: true,
  track: true,
  channel: true,
  audience: true,
  status: true,
  registeredOn: true,
  firstRegisteredOn: true,
  anchorDate: true,
  pausedUntil: true,
});

/**
 * The stored facts of one tenant's month for the KPI report, read with Query wherever a key exists: the day's
 * counters (`SUMMARY#` of each date, one Query a day), each survey's partition, the tenant's inquiry index (the
 * headers' times, no address). Subscriptions are the exception: a tenant's subscriptions have no partition of
 * their own (they sit in their readers' partitions, and only the active ones are in the shard index), so they are
 * read by a Scan of the Data table filtered to the tenant's `SUB#` items, with only the counted attributes
 * projected. A report is run once a month by an operator or a staff member, so the Scan's cost (the whole table
 * read once) is acceptable; a tenant-wide registration index would make it a Query if reports get frequent.
 */
export class KpiRepository implements KpiStore {
  private readonly plans: PlanRepository;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { data: string; delivery: string },
  ) {
    this.plans = new PlanRepository(db, tables.delivery);
  }

  async subscriptions(tenantId: string): Promise<KpiSubscription[]> {
    const out: KpiSubscription[] = [];
    const names = Object.fromEntries(SUBSCRIPTION_FIELDS.map((f) => [`#${f}`, f]));
    for await (const page of paginateScan(
      { client: this.db },
      {
        TableName: this.tables.data,
        FilterExpression: 'begins_with(pk, :pk) AND begins_with(sk, :sk)',
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': dataKeys.readerPk(tenantId, ''), ':sk': dataKeys.subscriptionPrefix },
      },
    ))
      for (const item of page.Items ?? []) {
        // A corrupt item is left out, not trusted; the report says how many readers it counted.
        const parsed = KpiSubscriptionSchema.safeParse(item);
        if (!parsed.success) continue;
        // Registered when first registered: a birth, a resume or a follow after a block moves `registeredOn`.
        const { firstRegisteredOn, ...sub } = parsed.data;
        out.push({ ...sub, registeredOn: firstRegisteredOn ?? sub.registeredOn });
      }
    return out;
  }

  async deliveryCounters(tenantId: string, dates: readonly IsoDate[]): Promise<KpiDeliveryCounters[]> {
    const perDay = await mapLimit([...dates], 8, async (date) =>
      (await this.plans.listCounters(tenantId, date)).map((c) => ({
        date,
        recipients: c.recipients,
        failures: c.failures,
      })),
    );
    return perDay.flat();
  }

  surveyItems(tenantId: string, surveyId: string): Promise<ResultItem[]> {
    return loadResultItems(this.db, this.tables.data, tenantId, surveyId);
  }

  async inquiries(tenantId: string): Promise<KpiInquiry[]> {
    const items = await queryAll(this.db, {
      TableName: this.tables.data,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': inquiryKeys.indexPk(tenantId) },
      ProjectionExpression: 'createdAt, firstAnsweredAt',
    });
    return items.flatMap((i) =>
      typeof i.createdAt === 'number'
        ? [
            {
              createdAt: i.createdAt,
              ...(typeof i.firstAnsweredAt === 'number' && { firstAnsweredAt: i.firstAnsweredAt }),
            },
          ]
        : [],
    );
  }
}
