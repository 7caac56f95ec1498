import type { AuditEntry, FollowUpStatus, StaffAlert } from '../../schemas/console';
import type { ContentItem } from '../../schemas/content';
import type { Broadcast } from '../../schemas/broadcast';
import type { IsoDate } from '../../schemas/common';
import type { PlannedSend, SavedSend, ShardCounters, ShardTask, LineTextMessage } from '../../schemas/delivery';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import type { Dialog, Invite } from '../../schemas/dialog';
import type { PendingSignup } from '../../schemas/email';
import type { TokenKeyring } from './email-tokens';
import type { MailLinks } from './email-render';
import type { ReaderKeys } from './reader-keys';
import type { SurveyRun } from '../../schemas/survey';

/** The services talk to the outside only through these ports; adapters implement them. */

export interface TenantDirectory {
  listTenants(): Promise<TenantConfig[]>;
  getTenant(tenantId: string): Promise<TenantConfig | undefined>;
}

export interface ContentSource {
  /** Every item of a library's live version; implementations cache per container. */
  getLibrary(libraryId: string): Promise<ContentItem[]>;
  /**
   * The library as a tenant's delivery date uses it: one version for the whole date (every shard, every retry),
   * fixed when the date is first planned. Without it a delivery uses `getLibrary` and records no version.
   */
  getDayLibrary?(libraryId: string, tenantId: string, date: IsoDate): Promise<VersionedLibrary>;
}

/**
 * A tenant's segment broadcasts (the Content table). Ids begin with the broadcast's date, so a date's broadcasts
 * are one query and a cancel is one conditional write.
 */
export interface BroadcastStore {
  /** The broadcasts of a date, any status, strongly consistent (a cancel just before the send counts). */
  onDate(tenantId: string, date: IsoDate): Promise<Broadcast[]>;
  /** The tenant's broadcasts from `from` on (every one without it), by date. */
  list(tenantId: string, from?: IsoDate): Promise<Broadcast[]>;
  /** Stores a new broadcast; false when its id is taken (nothing written). */
  create(broadcast: Broadcast): Promise<boolean>;
  /** `not-found` for an id the tenant does not have (another tenant's included); nothing else changes. */
  cancel(tenantId: string, id: string, by: string, at: number): Promise<'cancelled' | 'already' | 'not-found'>;
}

export interface VersionedLibrary {
  version: string;
  items: ContentItem[];
}

export interface ShardListing {
  /** Subscriptions of the shard that may be delivered (the sparse bucket index), a reader's together. */
  subscriptions: Subscription[];
  /** Readers with an index item that does not parse: left out of the day and counted, never a failed shard. */
  corruptReaders: string[];
}

export interface SubscriptionReader {
  listShard(tenantId: string, shard: number, shardCount: number): Promise<ShardListing>;
  /** One reader's subscriptions, strongly consistent from the table itself. Throws CorruptItemError. */
  listReader(tenantId: string, readerKey: string): Promise<Subscription[]>;
}

export interface SubscriptionWriter {
  /**
   * Marks a subscription whose track is over as `ended` (out of the index; erased on `eraseOn` by TTL), on
   * condition that nobody changed it since it was read; a lost race is left to the next day.
   */
  markEnded(sub: Subscription, eraseOn: IsoDate): Promise<void>;
  /**
   * Moves a reader (all these subscriptions, read strongly consistent) to `bucket`, still delivered from their
   * present bucket through `through`; all or nothing, on condition that nobody changed them since they were read
   * (a lost race is left to a later day). Returns whether it moved them.
   */
  moveReader?(subs: readonly Subscription[], bucket: number, through: IsoDate): Promise<boolean>;
}

/** The change markers written with every reader change (see `deliveryKeys.changeSk`). */
export interface ChangeFeed {
  /** Reader keys of these buckets with a change at or after `sinceMs`, from the markers of these dates. */
  changedReaders(tenantId: string, dates: IsoDate[], buckets: ReadonlySet<number>, sinceMs: number): Promise<string[]>;
}

/** The shard layout of a delivery date, fixed by the first fan-out of that date. */
export interface DayLayouts {
  /** Stores `shardCount` for the date unless one is stored already; returns the stored one. */
  fix(tenantId: string, date: IsoDate, shardCount: number): Promise<number>;
}

export interface ShardQueue {
  enqueue(tasks: ShardTask[]): Promise<void>;
}

/** A stored plan: the sends of one shard on one date, fixed once so that every retry executes the same sends. */
export interface StoredPlan {
  planId: string;
  /** Epoch ms of the commit: changes from shortly before it on are checked at send time. */
  committedAt: number;
  /** What planning found besides the sends (subscriptions due, unsendable and corrupt readers, ended ones). */
  planned: ShardCounters;
  /** The content version the plan was resolved with (see ContentSource.getDayLibrary). */
  contentVersion?: string;
  /**
   * The broadcasts of the date the plan was resolved with, by id, each with the readers of this shard it went
   * into (0 when none was in its segment). The send-time check drops one cancelled since (deliver-shard.ts).
   */
  broadcasts?: Record<string, number>;
  batches: StoredBatch[];
  /** Outcome of the readers delivered after the plan (changes the index had not shown yet), once done. */
  lateOutcome?: BatchOutcome;
  /** Set when the shard is complete: its batches are no longer read, the counters stay. */
  completedAt?: number;
  counters?: ShardCounters;
}
/** A plan's header as committed. */
export type PlanMeta = Pick<StoredPlan, 'planId' | 'committedAt' | 'planned' | 'contentVersion' | 'broadcasts'>;

export interface StoredBatch {
  batchNo: number;
  sends: PlannedSend[];
  /**
   * Each send's position in the stored batch (its retry key), when a resumed plan left sends out (every reader of
   * them erased since planning); absent, send i is at position i.
   */
  sendNos?: number[];
  /** Readers left out of the batch on resume because no subscription of theirs is left (erased). */
  withheld?: number;
  /** Set once every send of the batch has an outcome; a retry skips it. */
  outcome?: BatchOutcome;
}

/** A plan as the plan store keeps it: its sends by reader key, without addresses (schemas/delivery.ts SavedSend). */
export interface SavedBatch {
  batchNo: number;
  sends: SavedSend[];
  outcome?: BatchOutcome;
}
export type SavedPlan = Omit<StoredPlan, 'batches'> & { batches: SavedBatch[] };

export interface PlanStore {
  /** The committed plan for this shard and date, if any (consistent read), without the readers' addresses. */
  load(task: ShardTask): Promise<SavedPlan | undefined>;
  /**
   * Stores the batches (without addresses), then commits the plan header only if no plan was committed before.
   * Returns `ours` when this call committed, else the plan another invocation committed first.
   */
  commit(task: ShardTask, plan: PlanMeta, batches: PlannedSend[][]): Promise<'ours' | SavedPlan>;
  markBatchDone(task: ShardTask, planId: string, batchNo: number, outcome: BatchOutcome): Promise<void>;
  markLateDone(task: ShardTask, planId: string, outcome: BatchOutcome): Promise<void>;
  /**
   * Stores the counters (for reports) and marks the plan complete; its batches expire by TTL (they hold reader
   * keys, no addresses).
   */
  complete(task: ShardTask, plan: { planId: string }, counters: ShardCounters): Promise<void>;
  /** Records a refused stale task (and deletes the batches of its plan, if any). */
  refuseStale(task: ShardTask, plan: { planId: string } | undefined, reason: string): Promise<void>;
  /**
   * At-most-once guard for email, which has no idempotency key: `claimed` when this call claimed the reader's
   * mail of the date; `sent` when an earlier attempt's mail was accepted by SES; `unknown` when an earlier
   * attempt claimed it and its fate is unknown (never resent).
   */
  claimEmail(task: ShardTask, readerKey: string): Promise<'claimed' | 'sent' | 'unknown'>;
  /** SES accepted the mail. */
  confirmEmail(task: ShardTask, readerKey: string, messageId: string): Promise<void>;
  /** Gives a claim back when SES's answer proves it did not accept the mail, so the retry sends it. */
  releaseEmail(task: ShardTask, readerKey: string): Promise<void>;
  listCounters(tenantId: string, date: IsoDate): Promise<(ShardCounters & { shard: number })[]>;
}

/** What a batch did: the counters without the planning figure. */
export type BatchOutcome = Omit<ShardCounters, 'subscriptionsDue'>;

export interface LineCredentials {
  channelSecret: string;
  channelAccessToken: string;
}
export interface LineCredentialsSource {
  get(tenant: TenantConfig): Promise<LineCredentials>;
}

export type LineSendResult =
  | { status: 'sent' }
  | { status: 'duplicate' }
  | { status: 'monthly-limit' }
  /** A 4xx other than 409/429: LINE refused this request for good; retrying cannot help. */
  | { status: 'rejected'; httpStatus: number };

/** One LINE channel; retries of transient failures happen inside (bounded), then it throws. */
export interface LineSender {
  multicast(to: string[], messages: LineTextMessage[], retryKey: string): Promise<LineSendResult>;
  push(to: string, messages: LineTextMessage[], retryKey: string): Promise<LineSendResult>;
}
export interface LineSenderFactory {
  /**
   * `shardCount`: the shards of the tenant's day (the task's layout). They may all run at once and share one
   * channel's rate limits, so the sender paces itself at its share of them.
   */
  forTenant(tenant: TenantConfig, shardCount: number): Promise<LineSender>;
}

export interface EmailMessage {
  from: string;
  /** Shown before the address (`みなと市 <kosodate@...>`); the tenant's `email.fromName`. */
  fromName?: string;
  replyTo?: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers (List-Unsubscribe, List-Unsubscribe-Post for subscribed mail). */
  headers?: { name: string; value: string }[];
  /**
   * SES message tags, published with every event of the mail: the bounce and complaint handler finds the
   * tenant by `tenant`. Values: letters, digits, `_ - . @`.
   */
  tags?: Record<string, string>;
}
export interface EmailSender {
  /**
   * Resolves with SES's message id once SES accepted the mail. Throws EmailRejectedError (refused for good),
   * EmailNotAcceptedError (SES answered and did not take it: safe to send again later), or anything else when
   * the outcome is unknown (no answer): the caller must then assume it may have been sent.
   */
  send(message: EmailMessage): Promise<{ messageId: string }>;
}

/** The reader's own links for a mail: signed per tenant, reader and purpose. */
export interface EmailLinkSource {
  linksFor(
    tenant: TenantConfig,
    reader: { readerKey: string; unsubscribeToken?: string; tokenVersion?: string },
    /** Survey pages to link to as well (the daily mail's invitations). */
    surveyIds?: readonly string[],
  ): Promise<MailLinks>;
}

/** Our own suppression list (SES bounces and complaints), per tenant and reader key: never the address. */
export interface SuppressionStore {
  /**
   * Suppresses every email subscription of the reader (and records it for the reader, who may have none yet),
   * with a change marker under `changedOn` so a send already planned today is withheld. `older-than-signup`
   * when the reader signed up anew after the mail was sent: nothing changes.
   */
  suppress(
    tenantId: string,
    readerKey: string,
    s: { reason: 'bounce' | 'complaint'; at: number; mailSentAt: number; changedOn: IsoDate },
  ): Promise<'suppressed' | 'already' | 'older-than-signup'>;
  /** Records one transient bounce (a repeated feedback id counts once); the reader's distinct count so far. */
  countTransient(
    tenantId: string,
    readerKey: string,
    b: { feedbackId: string; mailSentAt: number },
  ): Promise<number | 'older-than-signup'>;
  /**
   * A confirmed new sign-up: the reader is mailed again. Forgets their bounces and suppression, takes it off
   * their subscriptions, and ignores from now on any event about a mail sent before `at`.
   */
  clear(tenantId: string, readerKey: string, at: number): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface ReaderState {
  subscriptions: Subscription[];
  dialog: Dialog | undefined;
  /** The `timestamp` of the last event applied for this reader (the reader's meta item); undefined before any. */
  lastEventAt: number | undefined;
  /** An email sign-up waiting for its confirmation (not yet expired). */
  pendingSignup?: PendingSignup;
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
   * An email sign-up to keep until it is confirmed (replacing an older one), or the id of the one this write
   * confirms: deleted only if it is still there with that id, so a confirmation link works once.
   */
  pendingSignup?: { put: PendingSignup } | { consume: string };
  /**
   * Erase everything stored about the reader (subscriptions, dialog, meta, family links, invites they made, email
   * claims of the last days) instead of storing changes.
   */
  deleteReader: boolean;
  /** With `deleteReader`: the tenant's surveys, whose records of this reader (answers, invitations) go too. */
  surveyIds?: readonly string[];
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

/** The keys of the email links' signed tokens (cached by the implementation; rotated keys are picked up). */
export interface EmailTokenKeySource {
  get(): Promise<TokenKeyring>;
}

/** The staff console's identity provider (Cognito's hosted UI in AWS, a local OpenID Connect provider locally). */
export interface StaffIdentityProvider {
  /** Where the browser goes to sign in (authorization code flow with PKCE). */
  authorizeUrl(p: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): string;
  /** The ID token for an authorization code. */
  exchangeCode(p: { code: string; codeVerifier: string; redirectUri: string }): Promise<string>;
  logoutUrl(returnTo: string): string;
  /** The claims of an ID token whose signature, issuer, audience and expiry check out; throws otherwise. */
  verifyIdToken(idToken: string): Promise<Record<string, unknown>>;
}

/** What the console reads of a tenant's data. Every call names the tenant: nothing crosses tenants. */
export interface ConsoleStore {
  alerts(tenantId: string): Promise<StaffAlert[]>;
  alert(tenantId: string, reference: string): Promise<StaffAlert | undefined>;
  /** False when the alert does not exist (nothing written). */
  recordFollowUp(
    tenantId: string,
    reference: string,
    f: { by: string; at: number; followUp: FollowUpStatus },
  ): Promise<boolean>;
  /** The reader's subscriptions and whether they consented to share screening results; undefined when unknown. */
  reader(
    tenantId: string,
    readerKey: string,
  ): Promise<{ subscriptions: Subscription[]; screeningConsent: boolean } | undefined>;
  counters(tenantId: string, date: IsoDate): Promise<ShardCounters[]>;
}

/** Kept apart from logs and application data; only ever added to. */
export interface AuditTrail {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(tenantId: string, limit: number): Promise<AuditEntry[]>;
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

/** What is stored about one reader and one survey, as the daily pipeline needs it. */
export interface ReaderSurveyFacts {
  /** Invitations by run id, with the tenant-local date they were recorded for. */
  invitations: ReadonlyMap<string, IsoDate>;
  /** Run ids the reader completed. */
  completed: ReadonlySet<string>;
  declined: boolean;
}

/** What an invitation is counted under in results (no personal data: a track and a coarse band). */
export interface InvitationFacts {
  track: string;
  stageBand: string;
  audience: string;
  channel: string;
}

export interface SurveyInvitationStore {
  /** Strongly consistent. */
  readerSurveys(
    tenantId: string,
    readerKey: string,
    surveyIds: readonly string[],
  ): Promise<Map<string, ReaderSurveyFacts>>;
  /**
   * Records the invitation for `date` unless the run was recorded for another date. True when it is recorded for
   * `date` (now, or by an earlier attempt of the same day): only then may it be sent.
   */
  recordInvitation(
    tenantId: string,
    readerKey: string,
    surveyId: string,
    runId: string,
    date: IsoDate,
    facts: InvitationFacts,
  ): Promise<boolean>;
  /**
   * The mail carrying the invitation was accepted (email readers): only now does it count as sent in results.
   * Idempotent; the first acceptance time stays.
   */
  markInvitationSent?(tenantId: string, readerKey: string, surveyId: string, runId: string, at: number): Promise<void>;
}

/** One stored answer (the value is a choice id, choice ids, a 1-5 value, a text, or an option's index). */
export interface StoredAnswer {
  questionId: string;
  value: string | string[] | number;
  score?: number;
}

/** Where the reader stood when answering: what results are broken down by. */
export interface AnswerContext extends InvitationFacts {
  answeredAt: number;
}

/** A completed run; for a screening also its result (for staff and the KPI, never logged). */
export interface Completion extends AnswerContext {
  screening?: { total: number; complete: boolean; positive: boolean; urgent: boolean; band: string };
}

export interface ScreeningConsent {
  givenAt?: number;
  revokedAt?: number;
}

/** A screening alert for the health staff: a reference they can look up, nothing of the answers. */
export interface ScreeningAlert {
  reference: string;
  tenantId: string;
  readerKey: string;
  surveyId: string;
  runId: string;
  instrument: string;
  band: string;
  urgent: boolean;
  at: number;
}

export interface SurveyAnswerStore extends SurveyInvitationStore {
  run(tenantId: string, readerKey: string): Promise<SurveyRun | undefined>;
  putRun(tenantId: string, readerKey: string, run: SurveyRun): Promise<void>;
  deleteRun(tenantId: string, readerKey: string): Promise<void>;
  /** Stores the answer unless one is stored for this reader, survey, run and question: false when it was. */
  putAnswer(
    tenantId: string,
    surveyId: string,
    readerKey: string,
    runId: string,
    answer: StoredAnswer,
    context: AnswerContext,
  ): Promise<boolean>;
  answers(tenantId: string, surveyId: string, readerKey: string, runId: string): Promise<StoredAnswer[]>;
  /** Stores the completion unless stored before: false when it was. */
  complete(tenantId: string, surveyId: string, readerKey: string, runId: string, c: Completion): Promise<boolean>;
  decline(tenantId: string, surveyId: string, readerKey: string, at: number): Promise<void>;
  consent(tenantId: string, readerKey: string): Promise<ScreeningConsent | undefined>;
  putConsent(tenantId: string, readerKey: string, consent: ScreeningConsent): Promise<void>;
  /**
   * A screening at or over the cut-off: the completion, the alert and the alert's outbox entry in one write, so
   * an alert is never stored without its mail being owed. False (nothing written) when the completion was
   * stored before: exactly one caller raises the alert.
   */
  completeWithAlert(
    tenantId: string,
    surveyId: string,
    readerKey: string,
    runId: string,
    c: Completion,
    alert: ScreeningAlert,
  ): Promise<boolean>;
}

/** An alert whose staff mail is owed: the recipients SES accepted it for so far. */
export interface OutboxAlert {
  alert: ScreeningAlert;
  sentTo: string[];
  attempts: number;
}

/** The alert mail outbox: entries leave it only once SES accepted the mail for every recipient. */
export interface AlertOutbox {
  /** Every owed alert, all tenants. */
  pending(): Promise<OutboxAlert[]>;
  /** Takes the entry for `ms` (so the immediate send and the retry never mail at once); undefined when taken or gone. */
  lease(tenantId: string, reference: string, now: number, ms: number): Promise<OutboxAlert | undefined>;
  /** SES accepted the mail for this recipient: never sent to them again. */
  sentTo(tenantId: string, reference: string, to: string): Promise<void>;
  /** Every recipient has it: the entry goes, the alert is marked mailed. */
  done(tenantId: string, reference: string, at: number): Promise<void>;
  /** The attempt failed: the lease is given back for the next retry. */
  release(tenantId: string, reference: string): Promise<void>;
}
