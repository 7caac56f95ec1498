import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import { WEBHOOK_DEDUPE_WINDOW_SECONDS } from '../../schemas/line-webhook';
import { DialogSchema, InviteSchema, type Invite } from '../../schemas/dialog';
import { PendingSignupSchema } from '../../schemas/email';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import { bucketOf, bucketsOfReader } from '../domain/shard';
import { addDays } from '../domain/dates';
import { ConcurrentChangeError, type ReaderState, type ReaderStore, type ReaderWrite } from '../services/ports';
import { mapLimit } from '../services/concurrency';
import { dataKeys, deliveryKeys, expiresAfter, retainedAfter, surveyKeys } from './keys';
import { eraseReaderInquiries } from './inquiry-repository';
import { queryAll } from './query-all';
import { subscriptionItem, toSubscription } from './subscription-repository';

/** An abandoned dialog is forgotten after a day; the reader can start again any time. */
const DIALOG_TTL_SECONDS = 24 * 3600;
/** The shard worker reads a date's change markers on that date; three days cover a late retry. */
const CHANGE_MARKER_DAYS = 3;
/** Email claims of these many days back (today included) hold the reader key; erasure deletes them. */
const EMAIL_CLAIM_DAYS = 3;
/** The reader's meta item outlives the dedupe window by a day, then goes (it holds no more than a timestamp). */
const META_TTL_SECONDS = WEBHOOK_DEDUPE_WINDOW_SECONDS + 24 * 3600;
/** DynamoDB's limit for one transaction. */
const TRANSACTION_MAX_ITEMS = 100;

/** Items of the reader's own partition besides subscriptions. */
export const readerItemKeys = {
  metaSk: 'META',
  /** A reference to an invite the reader made, so that erasure finds the invite by its code. */
  inviteRefSk: (code: string) => `INVREF#${code}`,
  inviteRefPrefix: 'INVREF#',
  /** An email sign-up waiting for its confirmation; TTL removes it after 48 h. */
  pendingSignupSk: 'EMAIL#PENDING',
};

export class TransactionTooLargeError extends Error {
  constructor(items: number) {
    super(`an event changes ${items} items, more than one transaction holds`);
    this.name = 'TransactionTooLargeError';
  }
}

export interface ReaderRepositoryOptions {
  now?: () => number;
  /** A stored dialog or invite failed its schema and was treated as absent: counted by kind, never logged with content. */
  onCorruptItem?: (kind: 'dialog' | 'invite' | 'pending-signup') => void;
}

type TransactItem = Record<string, unknown>;

export class ReaderRepository implements ReaderStore {
  private readonly now: () => number;
  private readonly onCorruptItem: (kind: 'dialog' | 'invite' | 'pending-signup') => void;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly deliveryTableName: string,
    options: ReaderRepositoryOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.onCorruptItem = options.onCorruptItem ?? (() => undefined);
  }

  async load(tenantId: string, readerKey: string): Promise<ReaderState> {
    const items = await this.query(dataKeys.readerPk(tenantId, readerKey));
    const nowSeconds = Math.floor(this.now() / 1000);
    const dialogItem = items.find((i) => i.sk === dataKeys.dialogSk && Number(i.expiresAt) > nowSeconds);
    const meta = items.find((i) => i.sk === readerItemKeys.metaSk);
    const pendingItem = items.find((i) => i.sk === readerItemKeys.pendingSignupSk && Number(i.expiresAt) > nowSeconds);
    const pendingSignup = pendingItem
      ? this.parseStored(PendingSignupSchema, pendingItem.signup, 'pending-signup')
      : undefined;
    return {
      ...(pendingSignup ? { pendingSignup } : {}),
      subscriptions: items.filter((i) => String(i.sk).startsWith('SUB#')).map(toSubscription),
      dialog: dialogItem ? this.parseStored(DialogSchema, dialogItem.dialog, 'dialog') : undefined,
      lastEventAt: meta && typeof meta.lastEventAt === 'number' ? meta.lastEventAt : undefined,
    };
  }

  private parseStored<T>(
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
    raw: unknown,
    kind: 'dialog' | 'invite' | 'pending-signup',
  ): T | undefined {
    let json: unknown;
    try {
      json = JSON.parse(String(raw));
    } catch {
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    this.onCorruptItem(kind);
    return undefined;
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

  async findInvite(tenantId: string, code: string, today: IsoDate): Promise<Invite | null> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: dataKeys.invitePk(tenantId, code), sk: dataKeys.inviteSk },
        ConsistentRead: true,
      }),
    );
    if (!res.Item) return null;
    const invite = this.parseStored(InviteSchema, res.Item.invite, 'invite');
    // TTL deletes an expired invite within days, not at once: expiry is checked here.
    return invite && invite.expiresOn >= today ? invite : null;
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
          // Their versions are the conditions of the write that follows.
          ConsistentRead: true,
        }),
      );
      if (res.Item) subs.push(toSubscription(res.Item));
    }
    return subs;
  }

  /**
   * Stores an event's effects and its webhookEventId in one transaction: either the event is recorded and
   * all of its changes are stored, or nothing is. Every subscription write is conditional on the version read
   * (or on being new), the reader's meta item on the last event applied, an invite on its code being free and a
   * redeemed invite on still existing; a change marker for every reader whose subscriptions change goes to the
   * Delivery table in the same transaction. Returns false when the event had been recorded before; throws
   * ConcurrentChangeError when anything else changed since it was read.
   */
  async commit(w: ReaderWrite): Promise<boolean> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const T = this.tableName;
    const readerPk = dataKeys.readerPk(w.tenantId, w.readerKey);
    const items: TransactItem[] = [
      {
        Put: {
          TableName: T,
          Item: {
            pk: dataKeys.eventPk(w.tenantId, w.webhookEventId),
            sk: dataKeys.eventSk,
            expiresAt: nowSeconds + WEBHOOK_DEDUPE_WINDOW_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    const metaCondition =
      w.lastEventAt === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'lastEventAt = :last', ExpressionAttributeValues: { ':last': w.lastEventAt } };
    // Per changed reader, the buckets their subscriptions sit in: the shards whose send-time check must see it.
    const changedReaders = new Map<string, Set<number>>();
    const changed = (readerKey: string, buckets: Iterable<number>) => {
      const set = changedReaders.get(readerKey) ?? new Set<number>();
      for (const b of buckets) set.add(b);
      changedReaders.set(readerKey, set);
    };

    let inviteErasures: TransactItem[] = [];
    if (w.deleteReader) {
      await this.eraseSurveyRecords(w);
      await eraseReaderInquiries(this.db, T, w.tenantId, w.readerKey);
      const erasure = await this.erasure(w, readerPk, metaCondition);
      items.push(...erasure.items);
      inviteErasures = erasure.invites;
      changed(w.readerKey, erasure.buckets);
    } else if (w.eventAt !== undefined) {
      items.push({
        Put: {
          TableName: T,
          Item: {
            pk: readerPk,
            sk: readerItemKeys.metaSk,
            lastEventAt: Math.max(w.eventAt, w.lastEventAt ?? 0),
            // Needed only while an older event could still be applied: past the dedupe window none can.
            expiresAt: Math.floor(Math.max(w.eventAt, w.lastEventAt ?? 0) / 1000) + META_TTL_SECONDS,
          },
          ...metaCondition,
        },
      });
    }

    for (const { subscription, isNew } of w.deleteReader ? [] : w.puts) {
      const s = SubscriptionSchema.parse({ ...subscription, version: isNew ? 0 : subscription.version + 1 });
      changed(s.readerKey, bucketsOfReader([s]));
      const item = subscriptionItem(s);
      items.push({
        Put: {
          TableName: T,
          Item: item,
          ...(isNew
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :readVersion',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':readVersion': subscription.version },
              }),
        },
      });
      items.push({
        Put: {
          TableName: T,
          Item: {
            pk: dataKeys.familyPk(s.tenantId, s.familyId),
            sk: dataKeys.familySk(s.readerKey, s.subscriptionId),
            readerKey: s.readerKey,
            subscriptionId: s.subscriptionId,
            // The link lives exactly as long as its subscription.
            ...(item.expiresAt !== undefined ? { expiresAt: item.expiresAt } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR (readerKey = :rk AND subscriptionId = :sid)',
          ExpressionAttributeValues: { ':rk': s.readerKey, ':sid': s.subscriptionId },
        },
      });
    }

    for (const invite of w.deleteReader ? [] : w.invites) {
      const expiresAt = expiresAfter(invite.expiresOn, 1);
      items.push({
        Put: {
          TableName: T,
          Item: {
            pk: dataKeys.invitePk(w.tenantId, invite.code),
            sk: dataKeys.inviteSk,
            invite: JSON.stringify(InviteSchema.parse(invite)),
            expiresAt,
          },
          // A code in use is never overwritten (an expired one waiting for TTL may be).
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
        },
      });
      items.push({
        Put: {
          TableName: T,
          Item: { pk: readerPk, sk: readerItemKeys.inviteRefSk(invite.code), expiresAt },
        },
      });
    }
    if (w.redeemedInvite && !w.deleteReader) {
      items.push({
        Delete: {
          TableName: T,
          Key: { pk: dataKeys.invitePk(w.tenantId, w.redeemedInvite), sk: dataKeys.inviteSk },
          // Single use: of two partners redeeming one code at once, one transaction finds it gone.
          ConditionExpression: 'attribute_exists(pk)',
        },
      });
    }

    if (!w.deleteReader) {
      if (w.dialog === null) {
        items.push({ Delete: { TableName: T, Key: { pk: readerPk, sk: dataKeys.dialogSk } } });
      } else if (w.dialog) {
        items.push({
          Put: {
            TableName: T,
            Item: {
              pk: readerPk,
              sk: dataKeys.dialogSk,
              dialog: JSON.stringify(DialogSchema.parse(w.dialog)),
              expiresAt: nowSeconds + DIALOG_TTL_SECONDS,
            },
          },
        });
      }
    }

    if (w.pendingSignup && !w.deleteReader) {
      const key = { pk: readerPk, sk: readerItemKeys.pendingSignupSk };
      if ('put' in w.pendingSignup) {
        const signup = PendingSignupSchema.parse(w.pendingSignup.put);
        items.push({
          Put: {
            TableName: T,
            Item: { ...key, jti: signup.jti, signup: JSON.stringify(signup), expiresAt: signup.expiresAt },
          },
        });
      } else
        items.push({
          Delete: {
            TableName: T,
            Key: key,
            // Single use: a second confirmation (a reload, a scanner, a race of two clicks) finds it gone.
            ConditionExpression: 'jti = :jti',
            ExpressionAttributeValues: { ':jti': w.pendingSignup.consume },
          },
        });
    }

    for (const [readerKey, buckets] of changedReaders) {
      items.push({
        Put: {
          TableName: this.deliveryTableName,
          Item: {
            pk: deliveryKeys.pk(w.tenantId, w.changedOn),
            sk: deliveryKeys.changeSk(readerKey),
            // A reader erased without any subscription left is in no shard; the key's hash keeps the item whole.
            buckets: buckets.size ? [...buckets] : [bucketOf(readerKey)],
            at: this.now(),
            expiresAt: retainedAfter(w.changedOn, CHANGE_MARKER_DAYS),
          },
        },
      });
    }

    // A reader who made many invites: those are deleted first, in transactions of their own (idempotent: a
    // failure later leaves fewer invites and the next attempt deletes the rest). Everything else stays in one.
    if (items.length + inviteErasures.length > TRANSACTION_MAX_ITEMS) {
      for (let i = 0; i < inviteErasures.length; i += TRANSACTION_MAX_ITEMS)
        await this.db.send(
          new TransactWriteCommand({ TransactItems: inviteErasures.slice(i, i + TRANSACTION_MAX_ITEMS) }),
        );
    } else items.push(...inviteErasures);
    if (items.length > TRANSACTION_MAX_ITEMS) throw new TransactionTooLargeError(items.length);
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = err.CancellationReasons ?? [];
      // The first item is the event marker: its condition failing means LINE sent this event before.
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict'))
        throw new ConcurrentChangeError({ cause: err });
      throw err;
    }
  }

  /**
   * The reader's survey records (invitations, answers, completions, declines) sit in the survey's partition and
   * their screening alerts in the tenant's: deleted before the reader's own transaction, one by one (a reader
   * has tens of them, more than a transaction holds). Idempotent: a retry after a conflict deletes nothing twice,
   * and the erasure's own transaction runs only after all of these are gone.
   */
  private async eraseSurveyRecords(w: ReaderWrite): Promise<void> {
    const T = this.tableName;
    const keys: { pk: unknown; sk: unknown }[] = [];
    for (const surveyId of w.surveyIds ?? [])
      for (const item of await queryAll(this.db, {
        TableName: T,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: {
          ':pk': surveyKeys.pk(w.tenantId, surveyId),
          ':r': surveyKeys.readerPrefix(w.readerKey),
        },
        ProjectionExpression: 'pk, sk',
      }))
        keys.push({ pk: item.pk, sk: item.sk });
    for (const item of await queryAll(this.db, {
      TableName: T,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'readerKey = :k',
      ExpressionAttributeValues: { ':pk': surveyKeys.alertPk(w.tenantId), ':k': w.readerKey },
      ProjectionExpression: 'pk, sk',
    }))
      keys.push({ pk: item.pk, sk: item.sk });
    await mapLimit(keys, 8, (Key) => this.db.send(new DeleteCommand({ TableName: T, Key })));
  }

  /**
   * Deletes of everything about the reader: their partition (subscriptions, dialog, meta, invite references),
   * the family links of their subscriptions, the invites they made, and their email claims of the last days
   * (Delivery table). The meta item's delete carries the reader's condition, like any other change.
   */
  private async erasure(
    w: ReaderWrite,
    readerPk: string,
    metaCondition: Record<string, unknown>,
  ): Promise<{ items: TransactItem[]; invites: TransactItem[]; buckets: number[] }> {
    const T = this.tableName;
    const buckets: number[] = [];
    const items: TransactItem[] = [
      { Delete: { TableName: T, Key: { pk: readerPk, sk: readerItemKeys.metaSk }, ...metaCondition } },
    ];
    const invites: TransactItem[] = [];
    for (const item of await this.query(readerPk)) {
      const sk = String(item.sk);
      if (sk === readerItemKeys.metaSk) continue;
      const remove = { Delete: { TableName: T, Key: { pk: item.pk, sk: item.sk } } };
      if (sk.startsWith(readerItemKeys.inviteRefPrefix)) {
        const code = sk.slice(readerItemKeys.inviteRefPrefix.length);
        invites.push(remove, {
          Delete: { TableName: T, Key: { pk: dataKeys.invitePk(w.tenantId, code), sk: dataKeys.inviteSk } },
        });
        continue;
      }
      items.push(remove);
      if (sk.startsWith('SUB#') && typeof item.bucket === 'number') buckets.push(item.bucket);
      // A reader moved today is still delivered from the old bucket's shard: it must see the erasure too.
      if (sk.startsWith('SUB#') && typeof item.previousBucket === 'number') buckets.push(item.previousBucket);
      // Not parsed: erasure must also remove a subscription that no longer fits its schema.
      if (sk.startsWith('SUB#') && typeof item.familyId === 'string' && typeof item.subscriptionId === 'string') {
        items.push({
          Delete: {
            TableName: T,
            Key: {
              pk: dataKeys.familyPk(w.tenantId, item.familyId),
              sk: dataKeys.familySk(w.readerKey, item.subscriptionId),
            },
          },
        });
      }
    }
    for (let d = 0; d < EMAIL_CLAIM_DAYS; d++)
      items.push({
        Delete: {
          TableName: this.deliveryTableName,
          Key: {
            pk: deliveryKeys.pk(w.tenantId, addDays(w.changedOn, -d)),
            sk: deliveryKeys.emailSk(w.readerKey),
          },
        },
      });
    return { items, invites, buckets };
  }
}
