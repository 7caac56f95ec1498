import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-all';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import type { SubscriptionReader } from '../services/ports';
import { dataKeys } from './keys';

export const SHARD_INDEX = 'byShard';

/** Statuses that keep a subscription in the sparse shard index (a dated pause is filtered by the domain). */
const inShardIndex = (s: Subscription) => s.status === 'active';

export function subscriptionItem(s: Subscription): Record<string, unknown> {
  return {
    pk: dataKeys.readerPk(s.tenantId, s.readerKey),
    sk: dataKeys.subscriptionSk(s.subscriptionId),
    ...(inShardIndex(s)
      ? { gsi1pk: dataKeys.shardPk(s.tenantId, s.shard), gsi1sk: dataKeys.shardSk(s.readerKey, s.subscriptionId) }
      : {}),
    ...s,
  };
}

export function toSubscription(item: Record<string, unknown>): Subscription {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return SubscriptionSchema.parse(rest);
}

export class SubscriptionRepository implements SubscriptionReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listShard(tenantId: string, shard: number): Promise<Subscription[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: SHARD_INDEX,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': dataKeys.shardPk(tenantId, shard) },
    });
    return items.map(toSubscription);
  }

  async put(s: Subscription): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: subscriptionItem(SubscriptionSchema.parse(s)) }),
    );
  }
}
