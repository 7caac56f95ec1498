import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateWindows } from '../services/send-rate';

/** One item per second in the Delivery table (`RATE#<name>` / `S#<epoch second>`), gone after a day by TTL. */
export class DynamoRateWindows implements RateWindows {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly name = 'ses',
  ) {}

  async tryLease(windowSecond: number, count: number, limit: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `RATE#${this.name}`, sk: `S#${windowSecond}` },
          UpdateExpression: 'ADD taken :n SET expiresAt = if_not_exists(expiresAt, :ttl)',
          ConditionExpression: 'attribute_not_exists(taken) OR taken <= :room',
          ExpressionAttributeValues: { ':n': count, ':room': limit - count, ':ttl': windowSecond + 86_400 },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException')
        return false;
      throw err;
    }
  }
}
