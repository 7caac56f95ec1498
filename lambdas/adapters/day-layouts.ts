import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import type { DayLayouts } from '../services/ports';
import { deliveryKeys, retainedAfter } from './keys';

/** Outlives every task of its date (a task is refused as stale after 20 hours). */
const LAYOUT_RETENTION_DAYS = 3;

export class DayLayoutRepository implements DayLayouts {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async fix(tenantId: string, date: IsoDate, shardCount: number): Promise<number> {
    const Key = { pk: deliveryKeys.pk(tenantId, date), sk: deliveryKeys.layoutSk };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...Key, shardCount, expiresAt: retainedAfter(date, LAYOUT_RETENTION_DAYS) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return shardCount;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const res = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    return Number(res.Item?.shardCount);
  }
}
