import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { BroadcastSchema, type Broadcast } from '../../schemas/broadcast';
import type { IsoDate } from '../../schemas/common';
import { CorruptItemError } from '../services/delivery-errors';
import type { BroadcastStore } from '../services/ports';
import { contentKeys } from './keys';
import { queryAll } from './query-all';

/** A new broadcast's id: its date first (the sort key orders by it), then 64 random bits. */
export const newBroadcastId = (date: IsoDate): string => `${date}-${randomBytes(8).toString('hex')}`;

/** Broadcasts in the Content table (`T#<tenant>#BCAST`, `B#<id>`): staff-written texts and a segment, no reader data. */
export class BroadcastRepository implements BroadcastStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async query(tenantId: string, condition: string, values: Record<string, string>): Promise<Broadcast[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: `pk = :pk AND ${condition}`,
      ExpressionAttributeValues: { ':pk': contentKeys.broadcastPk(tenantId), ...values },
      ConsistentRead: true,
    });
    return items.map((item) => {
      const parsed = BroadcastSchema.safeParse(item);
      if (!parsed.success) throw new CorruptItemError('broadcast', { cause: parsed.error });
      return parsed.data;
    });
  }

  onDate(tenantId: string, date: IsoDate): Promise<Broadcast[]> {
    return this.query(tenantId, 'begins_with(sk, :prefix)', {
      ':prefix': `${contentKeys.broadcastPrefix}${date}-`,
    });
  }

  list(tenantId: string, from?: IsoDate): Promise<Broadcast[]> {
    return from === undefined
      ? this.query(tenantId, 'begins_with(sk, :prefix)', { ':prefix': contentKeys.broadcastPrefix })
      : this.query(tenantId, 'sk >= :from', { ':from': `${contentKeys.broadcastPrefix}${from}` });
  }

  async create(broadcast: Broadcast): Promise<boolean> {
    const item = BroadcastSchema.parse(broadcast);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: contentKeys.broadcastPk(item.tenantId), sk: contentKeys.broadcastSk(item.id), ...item },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async cancel(tenantId: string, id: string, by: string, at: number): Promise<'cancelled' | 'already' | 'not-found'> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: contentKeys.broadcastPk(tenantId), sk: contentKeys.broadcastSk(id) },
          UpdateExpression: 'SET #status = :cancelled, cancelledAt = :at, cancelledBy = :by',
          ConditionExpression: 'attribute_exists(pk) AND #status = :scheduled',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':cancelled': 'cancelled', ':scheduled': 'scheduled', ':at': at, ':by': by },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'cancelled';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return err.Item ? 'already' : 'not-found';
      throw err;
    }
  }
}
