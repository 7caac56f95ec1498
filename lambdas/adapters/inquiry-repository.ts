import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  InquiryDraftSchema,
  InquiryHeaderSchema,
  InquiryMessageSchema,
  InquiryStatusSchema,
  type Inquiry,
  type InquiryDraft,
  type InquiryHeader,
  type InquiryStatus,
} from '../../schemas/inquiry';
import type { InquirySave, InquiryStore, InquirySummary, ReaderInquiryRef } from '../services/inquiries';
import { ConcurrentChangeError } from '../services/ports';
import { mapLimit } from '../services/concurrency';
import { dataKeys, inquiryKeys } from './keys';
import { queryAll } from './query-all';

/** A draft waiting for "send it?" is forgotten after a day. */
const DRAFT_TTL_SECONDS = 24 * 3600;
/** Source markers only need to outlive LINE's redeliveries and a double-posted form. */
const SOURCE_TTL_SECONDS = 7 * 24 * 3600;

export class CorruptInquiryError extends Error {
  constructor(what: string, options: { cause: unknown }) {
    super(`a stored inquiry ${what} does not match its schema`, options);
    this.name = 'CorruptInquiryError';
  }
}

type Item = Record<string, unknown>;

/**
 * Inquiries in the Data table (layout in keys.ts `inquiryKeys`): a partition per thread (header and messages),
 * one index partition per tenant sorted by status and last message time (the inbox: one strongly consistent
 * query), and a reference in the reader's own partition (their threads; erasure finds them there). Keys hold
 * tenant ids, opaque inquiry ids, statuses, times and reader keys (keyed hashes) only: no text, address or date
 * of birth. Every change is one transaction, conditional on the header's version.
 */
export class InquiryRepository implements InquiryStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(tenantId: string, inquiryId: string): Promise<Inquiry | undefined> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': inquiryKeys.threadPk(tenantId, inquiryId) },
      ConsistentRead: true,
    });
    const head = items.find((i) => i.sk === inquiryKeys.headSk);
    if (!head) return undefined;
    const header = parse(InquiryHeaderSchema, head, 'header');
    // The partition key names the tenant; the header's own field is checked too (a copied item must not leak).
    if (header.tenantId !== tenantId) return undefined;
    const messages = items
      .filter((i) => String(i.sk).startsWith(inquiryKeys.messagePrefix))
      .map((i) => parse(InquiryMessageSchema, i, 'message'))
      .sort((a, b) => a.seq - b.seq);
    return { ...header, messages };
  }

  async list(
    tenantId: string,
    q: { statuses: readonly InquiryStatus[]; order: 'newest' | 'oldest'; limit: number },
  ): Promise<InquirySummary[]> {
    const perStatus = await Promise.all(
      [...new Set(q.statuses)].map(async (status) => {
        // One page per status is enough: at most `limit` of them are shown.
        const res = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
            ExpressionAttributeValues: { ':pk': inquiryKeys.indexPk(tenantId), ':s': inquiryKeys.indexPrefix(status) },
            ScanIndexForward: q.order === 'oldest',
            ConsistentRead: true,
            Limit: q.limit,
          }),
        );
        return res.Items ?? [];
      }),
    );
    const sign = q.order === 'oldest' ? 1 : -1;
    return perStatus
      .flat()
      .map((i) => summary(parse(InquiryHeaderSchema, { ...i, address: '-' }, 'index entry')))
      .sort((a, b) => sign * (a.lastMessageAt - b.lastMessageAt) || a.inquiryId.localeCompare(b.inquiryId))
      .slice(0, q.limit);
  }

  async byReader(tenantId: string, readerKey: string): Promise<ReaderInquiryRef[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': dataKeys.readerPk(tenantId, readerKey), ':p': inquiryKeys.readerRefPrefix },
      ConsistentRead: true,
    });
    return items
      .map((i) => ({
        inquiryId: String(i.inquiryId),
        status: InquiryStatusSchema.parse(i.status),
        createdAt: Number(i.createdAt),
        lastMessageAt: Number(i.lastMessageAt),
        messageCount: Number(i.messageCount),
      }))
      .sort((a, b) => b.lastMessageAt - a.lastMessageAt);
  }

  async save(s: InquirySave): Promise<'saved' | 'duplicate'> {
    const T = this.tableName;
    const h = InquiryHeaderSchema.parse({ ...s.header, version: s.readVersion === undefined ? 0 : s.readVersion + 1 });
    const threadPk = inquiryKeys.threadPk(h.tenantId, h.inquiryId);
    const nowSeconds = Math.floor(this.now() / 1000);
    const items: Item[] = [];
    // First, so that its failure alone reads as "saved before".
    if (s.sourceId)
      items.push({
        Put: {
          TableName: T,
          Item: {
            pk: inquiryKeys.sourcePk(h.tenantId, s.sourceId),
            sk: inquiryKeys.sourceSk,
            expiresAt: nowSeconds + SOURCE_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    items.push({
      Put: {
        TableName: T,
        Item: { pk: threadPk, sk: inquiryKeys.headSk, ...h, indexSk: inquiryKeys.indexSk(h) },
        ...(s.readVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#version = :readVersion',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':readVersion': s.readVersion },
            }),
      },
    });
    if (s.message)
      items.push({
        Put: {
          TableName: T,
          Item: { pk: threadPk, sk: inquiryKeys.messageSk(s.message.seq), ...InquiryMessageSchema.parse(s.message) },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    const indexSk = inquiryKeys.indexSk(h);
    const previousSk = s.previous && inquiryKeys.indexSk(s.previous);
    if (previousSk && previousSk !== indexSk)
      items.push({ Delete: { TableName: T, Key: { pk: inquiryKeys.indexPk(h.tenantId), sk: previousSk } } });
    const { address: _address, ...listed } = h;
    items.push({ Put: { TableName: T, Item: { pk: inquiryKeys.indexPk(h.tenantId), sk: indexSk, ...listed } } });
    items.push({
      Put: {
        TableName: T,
        Item: {
          pk: dataKeys.readerPk(h.tenantId, h.readerKey),
          sk: inquiryKeys.readerRefSk(h.inquiryId),
          inquiryId: h.inquiryId,
          status: h.status,
          createdAt: h.createdAt,
          lastMessageAt: h.lastMessageAt,
          messageCount: h.messageCount,
        },
      },
    });
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return 'saved';
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = err.CancellationReasons ?? [];
      if (s.sourceId && reasons[0]?.Code === 'ConditionalCheckFailed') return 'duplicate';
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict'))
        throw new ConcurrentChangeError({ cause: err });
      throw err;
    }
  }

  async markDelivery(tenantId: string, inquiryId: string, seq: number, delivery: 'sent' | 'failed'): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: inquiryKeys.threadPk(tenantId, inquiryId), sk: inquiryKeys.messageSk(seq) },
          UpdateExpression: 'SET delivery = :d',
          // Never recreates a message erased in the meantime.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':d': delivery },
        }),
      )
      .catch((err: unknown) => {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      });
  }

  async draft(tenantId: string, readerKey: string): Promise<InquiryDraft | undefined> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: dataKeys.readerPk(tenantId, readerKey), sk: inquiryKeys.draftSk },
        ConsistentRead: true,
      }),
    );
    // TTL deletes within days, not at once.
    if (!res.Item || Number(res.Item.expiresAt) <= Math.floor(this.now() / 1000)) return undefined;
    const parsed = InquiryDraftSchema.safeParse(res.Item.draft);
    return parsed.success ? parsed.data : undefined;
  }

  async putDraft(tenantId: string, readerKey: string, draft: InquiryDraft): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: dataKeys.readerPk(tenantId, readerKey),
          sk: inquiryKeys.draftSk,
          draft: InquiryDraftSchema.parse(draft),
          expiresAt: Math.floor(this.now() / 1000) + DRAFT_TTL_SECONDS,
        },
      }),
    );
  }

  async deleteDraft(tenantId: string, readerKey: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: dataKeys.readerPk(tenantId, readerKey), sk: inquiryKeys.draftSk },
      }),
    );
  }
}

/**
 * Erasure ("delete my data"): every thread the reader's partition refers to (header, messages) and its inbox
 * entry, deleted one by one before the reader's own transaction (which removes the references themselves with
 * the rest of the partition). Idempotent: a retry finds less to delete.
 */
export async function eraseReaderInquiries(
  db: DynamoDBDocumentClient,
  tableName: string,
  tenantId: string,
  readerKey: string,
): Promise<number> {
  const refs = await queryAll(db, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': dataKeys.readerPk(tenantId, readerKey), ':p': inquiryKeys.readerRefPrefix },
    ProjectionExpression: 'pk, sk, inquiryId',
    ConsistentRead: true,
  });
  const keys: { pk: unknown; sk: unknown }[] = [];
  for (const ref of refs) {
    const items = await queryAll(db, {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': inquiryKeys.threadPk(tenantId, String(ref.inquiryId)) },
      ProjectionExpression: 'pk, sk, indexSk',
      ConsistentRead: true,
    });
    for (const i of items) {
      if (i.sk === inquiryKeys.headSk && typeof i.indexSk === 'string')
        keys.push({ pk: inquiryKeys.indexPk(tenantId), sk: i.indexSk });
      keys.push({ pk: i.pk, sk: i.sk });
    }
  }
  await mapLimit(keys, 8, (Key) => db.send(new DeleteCommand({ TableName: tableName, Key })));
  return refs.length;
}

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: unknown } },
  item: Item,
  what: string,
): T {
  const r = schema.safeParse(item);
  if (!r.success) throw new CorruptInquiryError(what, { cause: r.error });
  return r.data;
}

function summary(h: InquiryHeader): InquirySummary {
  const { address: _address, ...rest } = h;
  return rest;
}
