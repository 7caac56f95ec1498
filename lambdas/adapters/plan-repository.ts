import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import type { IsoDate } from '../../schemas/common';
import {
  PlannedSendSchema,
  ShardCountersSchema,
  type PlannedSend,
  type ShardCounters,
  type ShardTask,
} from '../../schemas/delivery';
import { mapLimit } from '../services/concurrency';
import { CorruptItemError } from '../services/delivery-errors';
import type { BatchOutcome, PlanStore, StoredBatch, StoredPlan } from '../services/ports';
import { batchPut } from './batch-write';
import { queryAll } from './query-all';
import { deliveryKeys, expiresAfter } from './keys';

/**
 * Plans hold addresses only while the shard may still be retried (a stale task is refused after 20 hours and
 * a completed shard deletes its batches); this TTL catches whatever a dead-lettered shard leaves behind.
 */
const PLAN_RETENTION_DAYS = 3;
/** Counters feed yearly KPI reports; they hold no personal data. */
const COUNTERS_RETENTION_DAYS = 400;

const SendsSchema = PlannedSendSchema.array();
const OutcomeSchema = ShardCountersSchema.omit({ subscriptionsDue: true });
const HeaderSchema = z.object({
  planId: z.string(),
  batchCount: z.number().int().min(0),
  committedAt: z.number(),
  planned: ShardCountersSchema,
  contentVersion: z.string().optional(),
  lateOutcome: OutcomeSchema.optional(),
  completedAt: z.number().optional(),
  counters: ShardCountersSchema.optional(),
});

const ignoreConditionFailure = (err: unknown) => {
  if (!(err instanceof ConditionalCheckFailedException)) throw err;
};

export class PlanRepository implements PlanStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private headerKey(task: ShardTask) {
    return { pk: deliveryKeys.pk(task.tenantId, task.date), sk: deliveryKeys.planSk(task) };
  }

  async load(task: ShardTask): Promise<StoredPlan | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.headerKey(task), ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const parsed = HeaderSchema.safeParse(res.Item);
    if (!parsed.success) throw new CorruptItemError('plan header', { cause: parsed.error });
    const header = parsed.data;
    const plan: StoredPlan = {
      planId: header.planId,
      committedAt: header.committedAt,
      planned: header.planned,
      ...(header.contentVersion !== undefined && { contentVersion: header.contentVersion }),
      batches: [],
      ...(header.lateOutcome && { lateOutcome: header.lateOutcome }),
      ...(header.completedAt !== undefined && { completedAt: header.completedAt, counters: header.counters }),
    };
    if (plan.completedAt !== undefined) return plan;
    plan.batches = await this.loadBatches(task, header.planId);
    if (plan.batches.length !== header.batchCount) {
      throw new IncompletePlanError(`plan ${header.planId} has ${plan.batches.length} of ${header.batchCount} batches`);
    }
    return plan;
  }

  async commit(
    task: ShardTask,
    meta: { planId: string; committedAt: number; planned: ShardCounters; contentVersion?: string },
    batches: PlannedSend[][],
  ): Promise<StoredPlan> {
    const pk = deliveryKeys.pk(task.tenantId, task.date);
    const expiresAt = expiresAfter(task.date, PLAN_RETENTION_DAYS);
    // Batches first, header last: the header is the commit point, so a plan is never seen half-written.
    await batchPut(
      this.db,
      this.tableName,
      batches.map((sends, batchNo) => ({
        pk,
        sk: deliveryKeys.batchSk(task, meta.planId, batchNo),
        sends: JSON.stringify(sends),
        expiresAt,
      })),
    );
    await this.db
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.headerKey(task), ...meta, batchCount: batches.length, expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      // Another invocation of the same task committed first: its plan wins, ours is left to expire.
      .catch(ignoreConditionFailure);
    const committed = await this.load(task);
    if (!committed) throw new IncompletePlanError('plan header vanished after commit');
    return committed;
  }

  async markBatchDone(task: ShardTask, planId: string, batchNo: number, outcome: BatchOutcome): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: deliveryKeys.pk(task.tenantId, task.date), sk: deliveryKeys.batchSk(task, planId, batchNo) },
          UpdateExpression: 'SET outcome = :o',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(outcome)',
          ExpressionAttributeValues: { ':o': outcome },
        }),
      )
      // A concurrent duplicate finished the same batch first; its outcome stands.
      .catch(ignoreConditionFailure);
  }

  async markLateDone(task: ShardTask, planId: string, outcome: BatchOutcome): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.headerKey(task),
          UpdateExpression: 'SET lateOutcome = :o',
          ConditionExpression: 'planId = :p AND attribute_not_exists(lateOutcome)',
          ExpressionAttributeValues: { ':o': outcome, ':p': planId },
        }),
      )
      .catch(ignoreConditionFailure);
  }

  async complete(task: ShardTask, plan: StoredPlan, counters: ShardCounters): Promise<void> {
    await this.putCounters(task, counters);
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.headerKey(task),
          UpdateExpression: 'SET completedAt = :t, counters = :c',
          ConditionExpression: 'planId = :p AND attribute_not_exists(completedAt)',
          ExpressionAttributeValues: { ':t': Date.now(), ':c': counters, ':p': plan.planId },
        }),
      )
      .catch(ignoreConditionFailure);
    await this.deleteBatches(task, plan);
  }

  async refuseStale(task: ShardTask, plan: StoredPlan | undefined, reason: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: deliveryKeys.pk(task.tenantId, task.date),
          sk: deliveryKeys.staleSk(task.shard),
          shard: task.shard,
          issuedAt: task.issuedAt,
          reason,
          refusedAt: Date.now(),
          expiresAt: expiresAfter(task.date, COUNTERS_RETENTION_DAYS),
        },
      }),
    );
    if (plan) await this.deleteBatches(task, plan);
  }

  async claimEmail(task: ShardTask, readerKey: string): Promise<'claimed' | 'sent' | 'unknown'> {
    const Key = { pk: deliveryKeys.pk(task.tenantId, task.date), sk: deliveryKeys.emailSk(readerKey) };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...Key, claimedAt: Date.now(), expiresAt: expiresAfter(task.date, PLAN_RETENTION_DAYS) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'claimed';
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const res = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    return res.Item?.messageId ? 'sent' : 'unknown';
  }

  async confirmEmail(task: ShardTask, readerKey: string, messageId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: deliveryKeys.pk(task.tenantId, task.date), sk: deliveryKeys.emailSk(readerKey) },
        UpdateExpression: 'SET messageId = :m',
        ExpressionAttributeValues: { ':m': messageId },
      }),
    );
  }

  async releaseEmail(task: ShardTask, readerKey: string): Promise<void> {
    await this.db
      .send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: deliveryKeys.pk(task.tenantId, task.date), sk: deliveryKeys.emailSk(readerKey) },
          // Only an unconfirmed claim: a mail SES accepted is never given back.
          ConditionExpression: 'attribute_not_exists(messageId)',
        }),
      )
      .catch(ignoreConditionFailure);
  }

  async listCounters(tenantId: string, date: IsoDate): Promise<(ShardCounters & { shard: number })[]> {
    const items = await this.queryPrefix(deliveryKeys.pk(tenantId, date), deliveryKeys.countersPrefix);
    return items.map((i) => ({ shard: Number(i.shard), ...ShardCountersSchema.parse(i) }));
  }

  /** A put, not an ADD: a retried shard overwrites its own figures instead of counting twice. */
  private async putCounters(task: ShardTask, counters: ShardCounters): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: deliveryKeys.pk(task.tenantId, task.date),
          sk: deliveryKeys.countersSk(task.shard),
          shard: task.shard,
          ...counters,
          expiresAt: expiresAfter(task.date, COUNTERS_RETENTION_DAYS),
        },
      }),
    );
  }

  private async deleteBatches(task: ShardTask, plan: StoredPlan): Promise<void> {
    const pk = deliveryKeys.pk(task.tenantId, task.date);
    const items = await this.queryPrefix(pk, deliveryKeys.batchPrefix(task, plan.planId), ['sk']);
    await mapLimit(items, 8, (i) =>
      this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { pk, sk: String(i.sk) } })),
    );
  }

  private queryPrefix(pk: string, prefix: string, attributes?: string[]): Promise<Record<string, unknown>[]> {
    return queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
      ...(attributes && { ProjectionExpression: attributes.join(', ') }),
      ConsistentRead: true,
    });
  }

  private async loadBatches(task: ShardTask, planId: string): Promise<StoredBatch[]> {
    const items = await this.queryPrefix(
      deliveryKeys.pk(task.tenantId, task.date),
      deliveryKeys.batchPrefix(task, planId),
    );
    return items.map((i, batchNo) => {
      const sends = SendsSchema.safeParse(JSON.parse(String(i.sends)));
      if (!sends.success) throw new CorruptItemError('plan batch', { cause: sends.error });
      const outcome = i.outcome === undefined ? undefined : OutcomeSchema.parse(i.outcome);
      return { batchNo, sends: sends.data, ...(outcome && { outcome }) };
    });
  }
}

export class IncompletePlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompletePlanError';
  }
}
