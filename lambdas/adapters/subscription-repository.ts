import { PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-all';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { IsoDate } from '../../schemas/common';
import { CorruptItemError } from '../services/delivery-errors';
import type { ShardListing, SubscriptionReader, SubscriptionWriter } from '../services/ports';
import { bucketRangeOfShard } from '../domain/shard';
import { dataKeys, expiresAfter } from './keys';

export const SHARD_INDEX = 'byShard';

/** Statuses that keep a subscription in the sparse shard index (a dated pause is filtered by the domain). */
const inShardIndex = (s: Subscription) => s.status === 'active';

export function subscriptionItem(s: Subscription): Record<string, unknown> {
  return {
    pk: dataKeys.readerPk(s.tenantId, s.readerKey),
    sk: dataKeys.subscriptionSk(s.subscriptionId),
    ...(inShardIndex(s)
      ? {
          gsi1pk: dataKeys.bucketPk(s.tenantId),
          gsi1sk: dataKeys.bucketSk(s.bucket, s.readerKey, s.subscriptionId),
        }
      : {}),
    ...(s.eraseOn ? { expiresAt: expiresAfter(s.eraseOn, 0) } : {}),
    ...s,
  };
}

export function toSubscription(item: Record<string, unknown>): Subscription {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _ttl, ...rest } = item;
  return SubscriptionSchema.parse(rest);
}

/** The reader key of an index item, from its sort key (`B#<bucket>#<readerKey>#<subscriptionId>`) when corrupt. */
const readerKeyOfIndexItem = (item: Record<string, unknown>) =>
  typeof item.readerKey === 'string'
    ? item.readerKey
    : String(item.gsi1sk)
        .replace(/^B#\d+#/, '')
        .replace(/#[^#]*$/, '');

export class SubscriptionRepository implements SubscriptionReader, SubscriptionWriter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listShard(tenantId: string, shard: number, shardCount: number): Promise<ShardListing> {
    // One range query over the shard's buckets; a reader's subscriptions share a bucket, so they stay together.
    const { from, to } = bucketRangeOfShard(shard, shardCount);
    const { lo, hi } = dataKeys.bucketRange(from, to);
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: SHARD_INDEX,
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': dataKeys.bucketPk(tenantId), ':lo': lo, ':hi': hi },
    });
    const subscriptions: Subscription[] = [];
    const corrupt = new Set<string>();
    for (const item of items) {
      const { gsi1pk: _g1, gsi1sk: _g2, pk: _pk, sk: _sk, expiresAt: _ttl, ...rest } = item;
      const parsed = SubscriptionSchema.safeParse(rest);
      if (parsed.success) subscriptions.push(parsed.data);
      else corrupt.add(readerKeyOfIndexItem(item));
    }
    // A reader with one unreadable subscription is left out whole: half of their day would be a wrong day.
    return { subscriptions: subscriptions.filter((s) => !corrupt.has(s.readerKey)), corruptReaders: [...corrupt] };
  }

  async listReader(tenantId: string, readerKey: string): Promise<Subscription[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': dataKeys.readerPk(tenantId, readerKey), ':s': dataKeys.subscriptionPrefix },
      ConsistentRead: true,
    });
    try {
      return items.map(toSubscription);
    } catch (err) {
      throw new CorruptItemError('subscription', { cause: err });
    }
  }

  async markEnded(s: Subscription, eraseOn: IsoDate): Promise<void> {
    const ended: Subscription = { ...s, status: 'ended', eraseOn, version: s.version + 1 };
    await this.db
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: subscriptionItem(ended),
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': s.version },
        }),
      )
      .catch((err: unknown) => {
        // Changed since it was read (a birth report, a stop): the next day's run looks again.
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      });
  }

  async moveReader(subs: readonly Subscription[], bucket: number, through: IsoDate): Promise<boolean> {
    // DynamoDB takes at most 100 items in one transaction; a reader holds a handful of subscriptions.
    if (subs.length === 0 || subs.length > 100) return false;
    const previousBucket = subs[0]!.bucket;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: subs.map((s) => ({
            Put: {
              TableName: this.tableName,
              Item: subscriptionItem(
                SubscriptionSchema.parse({
                  ...s,
                  bucket,
                  previousBucket,
                  movedThrough: through,
                  version: s.version + 1,
                }),
              ),
              ConditionExpression: '#v = :v',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':v': s.version },
            },
          })),
        }),
      );
      return true;
    } catch (err) {
      // Changed since it was read (a new child, a stop): a later day looks again.
      if (err instanceof TransactionCanceledException) return false;
      throw err;
    }
  }

  async put(s: Subscription): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: subscriptionItem(SubscriptionSchema.parse(s)) }),
    );
  }
}
