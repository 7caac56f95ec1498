import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import { mapLimit } from '../services/concurrency';
import type { ChangeFeed } from '../services/ports';
import { queryAll } from './query-all';
import { deliveryKeys } from './keys';

/** Reads the change markers the webhook writes with each reader change (Delivery table, one partition a date). */
export class ChangeMarkerFeed implements ChangeFeed {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async changedReaders(
    tenantId: string,
    dates: IsoDate[],
    buckets: ReadonlySet<number>,
    sinceMs: number,
  ): Promise<string[]> {
    const perDate = await mapLimit(dates, 4, (date) =>
      queryAll(this.db, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        FilterExpression: '#at >= :since',
        ExpressionAttributeNames: { '#at': 'at', '#b': 'bucket', '#bs': 'buckets' },
        ExpressionAttributeValues: {
          ':pk': deliveryKeys.pk(tenantId, date),
          ':p': deliveryKeys.changePrefix,
          ':since': sinceMs,
        },
        ProjectionExpression: 'sk, #b, #bs',
        // The marker was written in the same transaction as the change: read it back strongly consistent.
        ConsistentRead: true,
      }),
    );
    const keys = new Set<string>();
    for (const item of perDate.flat()) {
      // `buckets`: the buckets of the reader's subscriptions; `bucket`: markers written before anchor-date buckets.
      const marked = Array.isArray(item.buckets) ? (item.buckets as unknown[]).map(Number) : [Number(item.bucket)];
      if (marked.some((b) => buckets.has(b))) keys.add(String(item.sk).slice(deliveryKeys.changePrefix.length));
    }
    return [...keys];
  }
}
