import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { bucketsOfReader } from '../domain/shard';
import { clearSuppression } from '../domain/suppression';
import type { SuppressionStore } from '../services/ports';
import { dataKeys, deliveryKeys, retainedAfter } from './keys';
import { SubscriptionRepository, subscriptionItem } from './subscription-repository';

/** Transient bounces are forgotten this long after the last one: a mailbox full for a week is not a dead one. */
const TRANSIENT_MEMORY_DAYS = 30;
const CHANGE_MARKER_DAYS = 3;
/** A reader holds a few subscriptions; a lost race (a webhook or page change) is retried from a fresh read. */
const ATTEMPTS = 5;

type Result = 'suppressed' | 'already' | 'older-than-signup';

/**
 * The reader's `SUPPRESSION` item (Data table, in the reader's own partition, so no address in any key) and
 * the `suppressed` mark on each of their email subscriptions, written together in one transaction.
 */
export class SuppressionRepository implements SuppressionStore {
  private readonly subscriptions: SubscriptionRepository;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly dataTable: string,
    private readonly deliveryTable: string,
  ) {
    this.subscriptions = new SubscriptionRepository(db, dataTable);
  }

  private key(tenantId: string, readerKey: string) {
    return { pk: dataKeys.readerPk(tenantId, readerKey), sk: dataKeys.suppressionSk };
  }

  async suppress(
    tenantId: string,
    readerKey: string,
    s: { reason: 'bounce' | 'complaint'; at: number; mailSentAt: number; changedOn: IsoDate },
  ): Promise<Result> {
    for (let attempt = 1; ; attempt++) {
      const subs = await this.subscriptions.listReader(tenantId, readerKey);
      const mark = { reason: s.reason, at: s.at };
      const changed = subs.filter((sub) => sub.channel === 'email' && !sub.suppressed);
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.dataTable,
                  Key: this.key(tenantId, readerKey),
                  // The first suppression stays (its reason and time); the record then lives as long as the reader.
                  UpdateExpression: 'SET suppressed = if_not_exists(suppressed, :s) REMOVE expiresAt',
                  ConditionExpression: 'attribute_not_exists(clearedAt) OR clearedAt <= :sent',
                  ExpressionAttributeValues: { ':s': mark, ':sent': s.mailSentAt },
                },
              },
              ...changed.map((sub) => ({
                Put: {
                  TableName: this.dataTable,
                  Item: subscriptionItem({ ...sub, suppressed: mark, version: sub.version + 1 }),
                  ConditionExpression: '#v = :v',
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':v': sub.version },
                },
              })),
              ...(changed.length > 0
                ? [this.changeMarker(tenantId, readerKey, bucketsOfReader(subs), s.changedOn, s.at)]
                : []),
            ],
          }),
        );
        return changed.length > 0 ? 'suppressed' : 'already';
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        if (err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return 'older-than-signup';
        if (attempt >= ATTEMPTS) throw err;
      }
    }
  }

  async countTransient(
    tenantId: string,
    readerKey: string,
    b: { feedbackId: string; mailSentAt: number },
  ): Promise<number | 'older-than-signup'> {
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.dataTable,
          Key: this.key(tenantId, readerKey),
          // A string set: adding a feedback id seen before changes nothing, so a redelivery counts once.
          UpdateExpression: 'ADD transientIds :id SET expiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(clearedAt) OR clearedAt <= :sent',
          ExpressionAttributeValues: {
            ':id': new Set([b.feedbackId]),
            ':sent': b.mailSentAt,
            ':ttl': Math.floor(b.mailSentAt / 1000) + TRANSIENT_MEMORY_DAYS * 86_400,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const ids = res.Attributes?.transientIds as Set<string> | undefined;
      return ids?.size ?? 0;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'older-than-signup';
      throw err;
    }
  }

  async clear(tenantId: string, readerKey: string, at: number): Promise<void> {
    // The record first: from here on, late events about older mail are ignored even if a step below fails.
    await this.db.send(
      new PutCommand({ TableName: this.dataTable, Item: { ...this.key(tenantId, readerKey), clearedAt: at } }),
    );
    for (let attempt = 1; ; attempt++) {
      const subs = (await this.subscriptions.listReader(tenantId, readerKey)).filter((sub) => sub.suppressed);
      if (subs.length === 0) return;
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: subs.map((sub) => ({
              Put: {
                TableName: this.dataTable,
                Item: subscriptionItem({ ...clearSuppression(sub), version: sub.version + 1 } satisfies Subscription),
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': sub.version },
              },
            })),
          }),
        );
        return;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException) || attempt >= ATTEMPTS) throw err;
      }
    }
  }

  private changeMarker(tenantId: string, readerKey: string, buckets: number[], changedOn: IsoDate, at: number) {
    return {
      Put: {
        TableName: this.deliveryTable,
        Item: {
          pk: deliveryKeys.pk(tenantId, changedOn),
          sk: deliveryKeys.changeSk(readerKey),
          // The buckets of the reader's subscriptions: the shards holding them re-read the reader before sending.
          buckets,
          at,
          expiresAt: retainedAfter(changedOn, CHANGE_MARKER_DAYS),
        },
      },
    };
  }
}
