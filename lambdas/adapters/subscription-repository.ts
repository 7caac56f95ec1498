import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-all';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import type { SubscriptionReader } from '../services/ports';
import { bucketsOfShard } from '../domain/shard';
import { mapLimit } from '../services/concurrency';
import { dataKeys, expiresAfter } from './keys';

export const SHARD_INDEX = 'byShard';

/** Statuses that keep a subscription in the sparse shard index (a dated pause is filtered by the domain). */
const inShardIndex = (s: Subscription) => s.status === 'active';

export function subscriptionItem(s: Subscription): Record<string, unknown> {
  return {
    pk: dataKeys.readerPk(s.tenantId, s.readerKey),
    sk: dataKeys.subscriptionSk(s.subscriptionId),
    ...(inShardIndex(s)
      ? { gsi1pk: dataKeys.bucketPk(s.tenantId, s.bucket), gsi1sk: dataKeys.bucketSk(s.readerKey, s.subscriptionId) }
      : {}),
    ...(s.eraseOn ? { expiresAt: expiresAfter(s.eraseOn, 0) } : {}),
    ...s,
  };
}

export function toSubscription(item: Record<string, unknown>): Subscription {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _ttl, ...rest } = item;
  return SubscriptionSchema.parse(rest);
}

export class SubscriptionRepository implements SubscriptionReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listShard(tenantId: string, shard: number, shardCount: number): Promise<Subscription[]> {
    // One query per bucket, a few at a time; a reader's subscriptions share a bucket, so they stay together.
    const perBucket = await mapLimit(bucketsOfShard(shard, shardCount), 8, (bucket) =>
      queryAll(this.db, {
        TableName: this.tableName,
        IndexName: SHARD_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': dataKeys.bucketPk(tenantId, bucket) },
      }),
    );
    return perBucket.flat().map(toSubscription);
  }

  async put(s: Subscription): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: subscriptionItem(SubscriptionSchema.parse(s)) }),
    );
  }
}
