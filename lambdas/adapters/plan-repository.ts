import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { IsoDate } from '../../schemas/common';
import {
  PlannedSendSchema,
  ShardCountersSchema,
  type PlannedSend,
  type ShardCounters,
  type ShardTask,
} from '../../schemas/delivery';
import type { BatchOutcome, PlanStore, StoredBatch, StoredPlan } from '../services/ports';
import { batchPut } from './batch-write';
import { queryAll } from './query-all';
import { deliveryKeys, expiresAfter } from './keys';

/** Plans and the ledger are only needed while SQS may still retry and for a few weeks of support questions. */
const PLAN_RETENTION_DAYS = 35;
/** Counters feed yearly KPI reports. */
const COUNTERS_RETENTION_DAYS = 400;

const SendsSchema = PlannedSendSchema.array();

export class PlanRepository implements PlanStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async load(task: ShardTask): Promise<StoredPlan | undefined> {
    const header = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: deliveryKeys.pk(task.tenantId, task.date), sk: deliveryKeys.planSk(task) },
        ConsistentRead: true,
      }),
    );
    if (!header.Item) return undefined;
    const planId = String(header.Item.planId);
    const batches = await this.loadBatches(task, planId);
    if (batches.length !== Number(header.Item.batchCount)) {
      throw new IncompletePlanError(`plan ${planId} has ${batches.length} of ${header.Item.batchCount} batches`);
    }
    return {
      planId,
      subscriptionsDue: Number(header.Item.subscriptionsDue),
      unsendable: Number(header.Item.unsendable ?? 0),
      batches,
    };
  }

  async commit(
    task: ShardTask,
    planId: string,
    batches: PlannedSend[][],
    meta: { subscriptionsDue: number; unsendable: number },
  ): Promise<StoredPlan> {
    const pk = deliveryKeys.pk(task.tenantId, task.date);
    const expiresAt = expiresAfter(task.date, PLAN_RETENTION_DAYS);
    // Batches first, header last: the header is the commit point, so a plan is never seen half-written.
    await batchPut(
      this.db,
      this.tableName,
      batches.map((sends, batchNo) => ({
        pk,
        sk: deliveryKeys.batchSk(task, planId, batchNo),
        sends: JSON.stringify(sends),
        expiresAt,
      })),
    );
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk,
            sk: deliveryKeys.planSk(task),
            planId,
            batchCount: batches.length,
            subscriptionsDue: meta.subscriptionsDue,
            unsendable: meta.unsendable,
            expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // Another invocation of the same task committed first: its plan wins, ours is left to expire.
    }
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
      .catch((err) => {
        // A concurrent duplicate finished the same batch first; its outcome stands.
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      });
  }

  async claimEmail(task: ShardTask, readerKey: string): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: deliveryKeys.pk(task.tenantId, task.date),
            sk: deliveryKeys.emailSk(readerKey),
            expiresAt: expiresAfter(task.date, PLAN_RETENTION_DAYS),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async releaseEmail(task: ShardTask, readerKey: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: deliveryKeys.pk(task.tenantId, task.date), sk: deliveryKeys.emailSk(readerKey) },
      }),
    );
  }

  async saveCounters(task: ShardTask, counters: ShardCounters): Promise<void> {
    // A put, not an ADD: a retried shard overwrites its own figures instead of counting twice.
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

  async listCounters(tenantId: string, date: IsoDate): Promise<(ShardCounters & { shard: number })[]> {
    const items = await this.queryPrefix(deliveryKeys.pk(tenantId, date), deliveryKeys.countersPrefix);
    return items.map((i) => ({ shard: Number(i.shard), ...ShardCountersSchema.parse(i) }));
  }

  private queryPrefix(pk: string, prefix: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
      ConsistentRead: true,
    });
  }

  private async loadBatches(task: ShardTask, planId: string): Promise<StoredBatch[]> {
    const items = await this.queryPrefix(
      deliveryKeys.pk(task.tenantId, task.date),
      deliveryKeys.batchPrefix(task, planId),
    );
    return items.map((i, batchNo) => ({
      batchNo,
      sends: SendsSchema.parse(JSON.parse(String(i.sends))),
      outcome: i.outcome as BatchOutcome | undefined,
    }));
  }
}

export class IncompletePlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompletePlanError';
  }
}
