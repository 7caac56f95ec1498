import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-all';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import type { Dialog, Invite } from '../domain/conversation';
import type { ReaderState, ReaderStore, ReaderWrite } from '../services/ports';
import { dataKeys } from './keys';
import { subscriptionItem, toSubscription } from './subscription-repository';

/** An abandoned dialog is forgotten after a day; the reader can start again any time. */
const DIALOG_TTL_SECONDS = 24 * 3600;
/** LINE redelivers for a limited time; a week of event ids is plenty. */
const EVENT_TTL_SECONDS = 7 * 24 * 3600;
/** DynamoDB's limit for one transaction. */
const TRANSACTION_MAX_ITEMS = 100;

export class ReaderRepository implements ReaderStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async load(tenantId: string, readerKey: string): Promise<ReaderState> {
    const items = await this.query(dataKeys.readerPk(tenantId, readerKey));
    const nowSeconds = Math.floor(this.now() / 1000);
    const dialogItem = items.find((i) => i.sk === dataKeys.dialogSk && Number(i.expiresAt) > nowSeconds);
    return {
      subscriptions: items.filter((i) => String(i.sk).startsWith('SUB#')).map(toSubscription),
      dialog: dialogItem ? (JSON.parse(String(dialogItem.dialog)) as Dialog) : undefined,
    };
  }

  private query(pk: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    });
  }

  async isProcessed(tenantId: string, webhookEventId: string): Promise<boolean> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: dataKeys.eventPk(tenantId, webhookEventId), sk: dataKeys.eventSk },
        ConsistentRead: true,
      }),
    );
    return res.Item !== undefined;
  }

  async findInvite(tenantId: string, code: string): Promise<Invite | null> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: dataKeys.invitePk(tenantId, code), sk: dataKeys.inviteSk },
      }),
    );
    return res.Item ? (JSON.parse(String(res.Item.invite)) as Invite) : null;
  }

  async familyMembers(tenantId: string, familyId: string): Promise<Subscription[]> {
    const members = await this.query(dataKeys.familyPk(tenantId, familyId));
    const subs: Subscription[] = [];
    for (const m of members) {
      const res = await this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: {
            pk: dataKeys.readerPk(tenantId, String(m.readerKey)),
            sk: dataKeys.subscriptionSk(String(m.subscriptionId)),
          },
        }),
      );
      if (res.Item) subs.push(toSubscription(res.Item));
    }
    return subs;
  }

  /**
   * Stores an event's effects and its webhookEventId in one transaction: either the event is recorded and
   * all of its changes are stored, or nothing is. Returns false when the event had been recorded before.
   */
  async commit(w: ReaderWrite): Promise<boolean> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const T = this.tableName;
    const items: Record<string, unknown>[] = [
      {
        Put: {
          TableName: T,
          Item: {
            pk: dataKeys.eventPk(w.tenantId, w.webhookEventId),
            sk: dataKeys.eventSk,
            expiresAt: nowSeconds + EVENT_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    const readerPk = dataKeys.readerPk(w.tenantId, w.readerKey);
    if (w.deleteReader) {
      // Everything in the reader's partition, and the family links that point at their subscriptions.
      for (const item of await this.query(readerPk)) {
        items.push({ Delete: { TableName: T, Key: { pk: item.pk, sk: item.sk } } });
        if (String(item.sk).startsWith('SUB#')) {
          const s = toSubscription(item);
          items.push({
            Delete: {
              TableName: T,
              Key: {
                pk: dataKeys.familyPk(s.tenantId, s.familyId),
                sk: dataKeys.familySk(s.readerKey, s.subscriptionId),
              },
            },
          });
        }
      }
    }
    for (const s of w.puts) {
      items.push({ Put: { TableName: T, Item: subscriptionItem(SubscriptionSchema.parse(s)) } });
      items.push({
        Put: {
          TableName: T,
          Item: {
            pk: dataKeys.familyPk(s.tenantId, s.familyId),
            sk: dataKeys.familySk(s.readerKey, s.subscriptionId),
            readerKey: s.readerKey,
            subscriptionId: s.subscriptionId,
          },
        },
      });
    }
    for (const invite of w.invites) {
      items.push({
        Put: {
          TableName: T,
          Item: {
            pk: dataKeys.invitePk(w.tenantId, invite.code),
            sk: dataKeys.inviteSk,
            invite: JSON.stringify(invite),
            expiresAt: nowSeconds + 8 * 24 * 3600,
          },
        },
      });
    }
    if (w.dialog === null && !w.deleteReader) {
      items.push({ Delete: { TableName: T, Key: { pk: readerPk, sk: dataKeys.dialogSk } } });
    } else if (w.dialog) {
      items.push({
        Put: {
          TableName: T,
          Item: {
            pk: readerPk,
            sk: dataKeys.dialogSk,
            dialog: JSON.stringify(w.dialog),
            expiresAt: nowSeconds + DIALOG_TTL_SECONDS,
          },
        },
      });
    }
    if (items.length > TRANSACTION_MAX_ITEMS)
      throw new Error(`an event changes ${items.length} items, more than one transaction holds`);
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items as never }));
      return true;
    } catch (err) {
      // The first item is the event marker: its condition failing means LINE sent this event before.
      if (
        err instanceof TransactionCanceledException &&
        err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      )
        return false;
      throw err;
    }
  }
}
