import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { z } from 'zod';
import type { IsoDate } from '../../schemas/common';
import {
  SavedSendSchema,
  ShardCountersSchema,
  type PlannedSend,
  type SavedSend,
  type ShardCounters,
  type ShardTask,
} from '../../schemas/delivery';
import { mapLimit } from '../services/concurrency';
import { CorruptItemError } from '../services/delivery-errors';
import type { BatchOutcome, PlanMeta, PlanStore, SavedBatch, SavedPlan } from '../services/ports';
import { batchPut } from './batch-write';
import { queryAll } from './query-all';
import { deliveryKeys, retainedAfter } from './keys';

/** Plan headers and email claims: a redelivered task of the date finds its shard done. */
const PLAN_RETENTION_DAYS = 3;
/**
 * Batches (the addresses of a plan) are removed by TTL at the end of the day after the date (UTC): nothing reads
 * them once the shard completed, a plan older than 23 hours is never resumed, and a TTL deletion costs no write
 * units where a delete costs the whole item's size again. Tied to the date, not a clock, like the other TTLs.
 */
const BATCH_RETENTION_DAYS = 2;
/**
 * Batches are stored brotli-compressed (node:zlib, no format of our own): reader keys are random base64, so the
 * JSON shrinks to about half, and DynamoDB bills writes per kilobyte. Quality 5 keeps the worker's CPU small next
 * to its waits. Without the readers' addresses (`to`): a batch names readers by reader key only, so an erasure
 * leaves nothing of the reader here, and the batch is a third smaller (a LINE id took 26 of a reader's 51
 * compressed bytes).
 */
const BROTLI = { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } };
const withoutAddress = ({ to: _to, ...saved }: PlannedSend): SavedSend => saved;
const packSends = (sends: PlannedSend[]) =>
  brotliCompressSync(Buffer.from(JSON.stringify(sends.map(withoutAddress))), BROTLI);
const unpackSends = (item: Record<string, unknown>): unknown =>
  item.packed instanceof Uint8Array
    ? JSON.parse(brotliDecompressSync(item.packed).toString('utf8'))
    : // Batches written before compression.
      JSON.parse(String(item.sends));
/** A batch's outcome is an item of its own: an update of the batch would be billed at the whole batch's size. */
const OUTCOME_SUFFIX = '#OUT';
/** Counters feed yearly KPI reports; they hold no personal data. */
const COUNTERS_RETENTION_DAYS = 400;

const SendsSchema = SavedSendSchema.array();
const OutcomeSchema = ShardCountersSchema.omit({ subscriptionsDue: true });
const HeaderSchema = z.object({
  planId: z.string(),
  batchCount: z.number().int().min(0),
  committedAt: z.number(),
  planned: ShardCountersSchema,
  contentVersion: z.string().optional(),
  broadcasts: z.record(z.string(), z.number().int()).optional(),
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

  async load(task: ShardTask): Promise<SavedPlan | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.headerKey(task), ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const parsed = HeaderSchema.safeParse(res.Item);
    if (!parsed.success) throw new CorruptItemError('plan header', { cause: parsed.error });
    const header = parsed.data;
    const plan: SavedPlan = {
      planId: header.planId,
      committedAt: header.committedAt,
      planned: header.planned,
      ...(header.contentVersion !== undefined && { contentVersion: header.contentVersion }),
      ...(header.broadcasts !== undefined && { broadcasts: header.broadcasts }),
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

  async commit(task: ShardTask, meta: PlanMeta, batches: PlannedSend[][]): Promise<'ours' | SavedPlan> {
    const pk = deliveryKeys.pk(task.tenantId, task.date);
    const expiresAt = retainedAfter(task.date, PLAN_RETENTION_DAYS);
    const batchExpiresAt = retainedAfter(task.date, BATCH_RETENTION_DAYS);
    // Batches first, header last: the header is the commit point, so a plan is never seen half-written.
    await batchPut(
      this.db,
      this.tableName,
      batches.map((sends, batchNo) => ({
        pk,
        sk: deliveryKeys.batchSk(task, meta.planId, batchNo),
        packed: packSends(sends),
        expiresAt: batchExpiresAt,
      })),
    );
    const ours = await this.db
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.headerKey(task), ...meta, batchCount: batches.length, expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .then(() => true)
      // Another invocation of the same task committed first: its plan wins, ours is left to expire.
      .catch((err: unknown) => {
        ignoreConditionFailure(err);
        return false;
      });
    // Ours is the plan just written: no need to read it back (reads are billed too).
    if (ours) return 'ours';
    const committed = await this.load(task);
    if (!committed) throw new IncompletePlanError('plan header vanished after commit');
    return committed;
  }

  async markBatchDone(task: ShardTask, planId: string, batchNo: number, outcome: BatchOutcome): Promise<void> {
    await this.db
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: deliveryKeys.pk(task.tenantId, task.date),
            sk: deliveryKeys.batchSk(task, planId, batchNo) + OUTCOME_SUFFIX,
            outcome,
            expiresAt: retainedAfter(task.date, PLAN_RETENTION_DAYS),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
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

  async complete(task: ShardTask, plan: { planId: string }, counters: ShardCounters): Promise<void> {
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
    // The batches go by their TTL (BATCH_RETENTION_DAYS): a completed plan is never read again.
  }

  async refuseStale(task: ShardTask, plan: { planId: string } | undefined, reason: string): Promise<void> {
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
          expiresAt: retainedAfter(task.date, COUNTERS_RETENTION_DAYS),
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
          Item: { ...Key, claimedAt: Date.now(), expiresAt: retainedAfter(task.date, PLAN_RETENTION_DAYS) },
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
          expiresAt: retainedAfter(task.date, COUNTERS_RETENTION_DAYS),
        },
      }),
    );
  }

  private async deleteBatches(task: ShardTask, plan: { planId: string }): Promise<void> {
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

  private async loadBatches(task: ShardTask, planId: string): Promise<SavedBatch[]> {
    const items = await this.queryPrefix(
      deliveryKeys.pk(task.tenantId, task.date),
      deliveryKeys.batchPrefix(task, planId),
    );
    // Sorted by key: each batch, then its outcome if it is done (`…#B#00003`, `…#B#00003#OUT`).
    const outcomes = new Map<string, unknown>();
    for (const i of items)
      if (String(i.sk).endsWith(OUTCOME_SUFFIX)) outcomes.set(String(i.sk).slice(0, -OUTCOME_SUFFIX.length), i.outcome);
    return items
      .filter((i) => !String(i.sk).endsWith(OUTCOME_SUFFIX))
      .map((i, batchNo) => {
        let unpacked: unknown;
        try {
          unpacked = unpackSends(i);
        } catch (err) {
          throw new CorruptItemError('plan batch', { cause: err });
        }
        const sends = SendsSchema.safeParse(unpacked);
        if (!sends.success) throw new CorruptItemError('plan batch', { cause: sends.error });
        // Batches written before outcome items carry their outcome themselves.
        const raw = outcomes.get(String(i.sk)) ?? i.outcome;
        const outcome = raw === undefined ? undefined : OutcomeSchema.parse(raw);
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
