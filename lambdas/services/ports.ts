import type { ContentItem } from '../../schemas/content';
import type { IsoDate } from '../../schemas/common';
import type { PlannedSend, ShardCounters, ShardTask, LineTextMessage } from '../../schemas/delivery';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import type { Dialog, Invite } from '../../schemas/dialog';
import type { ReaderKeys } from './reader-keys';

/** The services talk to the outside only through these ports; adapters implement them. */

export interface TenantDirectory {
  listTenants(): Promise<TenantConfig[]>;
  getTenant(tenantId: string): Promise<TenantConfig | undefined>;
}

export interface ContentSource {
  /** Every item of a library; implementations cache per container. */
  getLibrary(libraryId: string): Promise<ContentItem[]>;
}

export interface SubscriptionReader {
  /** Subscriptions of one shard that may be delivered (the sparse bucket index), grouped by reader. */
  listShard(tenantId: string, shard: number, shardCount: number): Promise<Subscription[]>;
}

export interface ShardQueue {
  enqueue(tasks: ShardTask[]): Promise<void>;
}

/** A stored plan: the sends of one shard on one date, fixed once so that every retry executes the same sends. */
export interface StoredPlan {
  planId: string;
  subscriptionsDue: number;
  /** Readers whose messages could not be made to fit LINE's limits; counted as failures. */
  unsendable: number;
  batches: StoredBatch[];
}
export interface StoredBatch {
  batchNo: number;
  sends: PlannedSend[];
  /** Set once every send of the batch has an outcome; a retry skips it. */
  outcome?: BatchOutcome;
}

export interface PlanStore {
  /** The committed plan for this shard and date, if any (consistent read). */
  load(task: ShardTask): Promise<StoredPlan | undefined>;
  /**
   * Stores the batches, then commits the plan header only if no plan was committed before.
   * Returns the plan that is committed afterwards (ours, or the one another invocation committed first).
   */
  commit(
    task: ShardTask,
    planId: string,
    batches: PlannedSend[][],
    meta: { subscriptionsDue: number; unsendable: number },
  ): Promise<StoredPlan>;
  markBatchDone(task: ShardTask, planId: string, batchNo: number, outcome: BatchOutcome): Promise<void>;
  /** At-most-once guard for channels without an idempotency key (email). Returns false when already claimed. */
  claimEmail(task: ShardTask, readerKey: string): Promise<boolean>;
  /** Gives a claim back after a transient failure, so the retry sends it. */
  releaseEmail(task: ShardTask, readerKey: string): Promise<void>;
  saveCounters(task: ShardTask, counters: ShardCounters): Promise<void>;
  listCounters(tenantId: string, date: IsoDate): Promise<(ShardCounters & { shard: number })[]>;
}

export interface BatchOutcome {
  recipients: number;
  multicastRequests: number;
  pushRequests: number;
  emails: number;
  failures: number;
  monthlyLimitHits: number;
}

export interface LineCredentials {
  channelSecret: string;
  channelAccessToken: string;
}
export interface LineCredentialsSource {
  get(tenant: TenantConfig): Promise<LineCredentials>;
}

export type LineSendResult = { status: 'sent' } | { status: 'duplicate' } | { status: 'monthly-limit' };

/** One LINE channel; retries of transient failures happen inside (bounded), then it throws. */
export interface LineSender {
  multicast(to: string[], messages: LineTextMessage[], retryKey: string): Promise<LineSendResult>;
  push(to: string, messages: LineTextMessage[], retryKey: string): Promise<LineSendResult>;
}
export interface LineSenderFactory {
  forTenant(tenant: TenantConfig): Promise<LineSender>;
}

export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** RFC 8058 one-click unsubscribe URL. */
  unsubscribeUrl?: string;
}
export interface EmailSender {
  send(message: EmailMessage): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface ReaderState {
  subscriptions: Subscription[];
  dialog: Dialog | undefined;
  /** The `timestamp` of the last event applied for this reader (the reader's meta item); undefined before any. */
  lastEventAt: number | undefined;
}

/** A subscription to store: `version` is the version it was read at (0 for a new one). */
export interface SubscriptionPut {
  subscription: Subscription;
  /** Not stored before: written only if absent. Otherwise written only if still at the version read, as version + 1. */
  isNew: boolean;
}

export interface ReaderWrite {
  tenantId: string;
  readerKey: string;
  webhookEventId: string;
  /**
   * The event's `timestamp`, stored as the reader's last applied event, on condition that the stored one is still
   * `lastEventAt` as loaded. Undefined for an event recorded without any effect (older than what was applied).
   */
  eventAt: number | undefined;
  /** As loaded (ReaderState.lastEventAt). */
  lastEventAt: number | undefined;
  /** The tenant-local date of the change: the change markers of the Delivery table are kept under it. */
  changedOn: IsoDate;
  puts: SubscriptionPut[];
  /** New invites: each written only if its code is free. */
  invites: Invite[];
  /** The invite this event redeemed: deleted in the same transaction, only if it still exists (single use). */
  redeemedInvite?: string;
  dialog: Dialog | null | undefined;
  /**
   * Erase everything stored about the reader (subscriptions, dialog, meta, family links, invites they made, email
   * claims of the last days) instead of storing changes.
   */
  deleteReader: boolean;
}

/** What was read changed before the write (a version, an invite, a code): load again and re-apply the event. */
export class ConcurrentChangeError extends Error {
  constructor(options: { cause: unknown }) {
    super('the reader data changed while the event was applied', options);
    this.name = 'ConcurrentChangeError';
  }
}

export interface ReaderStore {
  /** Strongly consistent. */
  load(tenantId: string, readerKey: string): Promise<ReaderState>;
  isProcessed(tenantId: string, webhookEventId: string): Promise<boolean>;
  /** The invite while it is valid on `today`, else null. */
  findInvite(tenantId: string, code: string, today: IsoDate): Promise<Invite | null>;
  /** Subscriptions of every reader linked to the family (the parent's and the partner's), strongly consistent. */
  familyMembers(tenantId: string, familyId: string): Promise<Subscription[]>;
  /**
   * False when the event had been stored before (a redelivery or duplicate): nothing was changed.
   * Throws ConcurrentChangeError when a condition other than the event's failed: nothing was changed.
   */
  commit(write: ReaderWrite): Promise<boolean>;
}

/** The deployment's reader key hash (cached by the implementation). */
export interface ReaderKeySource {
  get(): Promise<ReaderKeys>;
}

export interface LineReplier {
  reply(replyToken: string, messages: unknown[]): Promise<void>;
  /** A message to another reader than the one who wrote (a family member told of a loss, a birth, a new date). */
  push(to: string, messages: unknown[], retryKey: string): Promise<void>;
}
export interface LineReplierFactory {
  forTenant(tenant: TenantConfig): Promise<LineReplier>;
}
