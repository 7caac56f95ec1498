import type { IsoDate } from '../../schemas/common';
import type { ShardTask } from '../../schemas/delivery';

/**
 * Every key layout lives here so that repositories, the local seeder and tests agree.
 * README.md ("Table design") documents the access patterns they serve.
 */
const pad = (n: number, width: number) => String(n).padStart(width, '0');

export const dataKeys = {
  readerPk: (tenantId: string, readerKey: string) => `T#${tenantId}#R#${readerKey}`,
  subscriptionSk: (subscriptionId: string) => `SUB#${subscriptionId}`,
  subscriptionPrefix: 'SUB#',
  dialogSk: 'DIALOG',
  /** The reader's suppression record (SES bounces and complaints): transient feedback ids, suppression, sign-up. */
  suppressionSk: 'SUPPRESSION',
  eventPk: (tenantId: string, webhookEventId: string) => `T#${tenantId}#EVT#${webhookEventId}`,
  eventSk: 'EVT',
  invitePk: (tenantId: string, code: string) => `T#${tenantId}#INV#${code}`,
  inviteSk: 'INV',
  familyPk: (tenantId: string, familyId: string) => `T#${tenantId}#FAM#${familyId}`,
  familySk: (readerKey: string, subscriptionId: string) => `${readerKey}#${subscriptionId}`,
  /** One index partition per tenant, sorted by bucket: a shard's contiguous buckets are one range of it. */
  bucketPk: (tenantId: string) => `T#${tenantId}#SUBS`,
  bucketSk: (bucket: number, readerKey: string, subscriptionId: string) =>
    `B#${pad(bucket, 3)}#${readerKey}#${subscriptionId}`,
  /** Bounds of the sort keys of buckets `from` to `to - 1` ('$' sorts right after '#'). */
  bucketRange: (from: number, to: number) => ({ lo: `B#${pad(from, 3)}#`, hi: `B#${pad(to - 1, 3)}$` }),
};

export const deliveryKeys = {
  pk: (tenantId: string, date: IsoDate) => `T#${tenantId}#D#${date}`,
  planSk: (t: ShardTask) => `SH#${pad(t.shard, 3)}#PLAN`,
  batchPrefix: (t: ShardTask, planId: string) => `SH#${pad(t.shard, 3)}#P#${planId}#B#`,
  batchSk: (t: ShardTask, planId: string, batchNo: number) => `SH#${pad(t.shard, 3)}#P#${planId}#B#${pad(batchNo, 5)}`,
  /** Per reader and date, not per shard: erasure deletes it by key. */
  emailSk: (readerKey: string) => `EMAIL#${readerKey}`,
  /** The content version a library is delivered in on this date, fixed by the first shard that plans it. */
  contentPinSk: (libraryId: string) => `CONTENT#${libraryId}`,
  /** The shard layout of the day, fixed by the first fan-out (`attribute_not_exists`). */
  layoutSk: 'LAYOUT',
  /**
   * A reader's subscriptions changed on this (tenant-local) date: written in the same transaction as the
   * change. The shard worker re-reads those readers (strongly consistent) right before each send, so a stop,
   * loss or deletion made after planning is honoured at send time and a change the eventually consistent
   * shard index has not seen yet is not missed.
   */
  changePrefix: 'CHG#',
  changeSk: (readerKey: string) => `CHG#${readerKey}`,
  staleSk: (shard: number) => `STALE#SH#${pad(shard, 3)}`,
  countersPrefix: 'SUMMARY#SH#',
  countersSk: (shard: number) => `SUMMARY#SH#${pad(shard, 3)}`,
};

/**
 * Surveys: one partition per tenant and survey holds every reader's invitations, answers, completions and
 * declines, so results are one query. Reader keys are keyed hashes; no date, address or answer is in a key.
 */
export const surveyKeys = {
  pk: (tenantId: string, surveyId: string) => `T#${tenantId}#SV#${surveyId}`,
  readerPrefix: (readerKey: string) => `R#${readerKey}#`,
  invitationSk: (readerKey: string, runId: string) => `R#${readerKey}#INV#${runId}`,
  answerSk: (readerKey: string, runId: string, questionId: string) => `R#${readerKey}#A#${runId}#${questionId}`,
  completedSk: (readerKey: string, runId: string) => `R#${readerKey}#DONE#${runId}`,
  declinedSk: (readerKey: string) => `R#${readerKey}#DECLINED`,
  /** In the reader's own partition (erased with the reader): the survey in progress. */
  runSk: 'SURVEY',
  /** In the reader's own partition: consent to share screening results with the health staff. */
  consentSk: 'CONSENT#screening',
  /** Screening alerts of a tenant, for the staff console (issue 10); keyed by reference so each is stored once. */
  alertPk: (tenantId: string) => `T#${tenantId}#ALERTS`,
  alertSk: (reference: string) => `ALERT#${reference}`,
  /** Alerts whose staff mail is owed, all tenants in one small partition (entries leave once mailed). */
  outboxPk: 'OUTBOX#alerts',
  outboxSk: (tenantId: string, reference: string) => `${tenantId}#${reference}`,
};

/**
 * Inquiries (issue 10). A thread's partition holds its header and messages; the tenant's index partition holds
 * one entry per thread sorted by status and last message time (the console's inbox); the reader's own partition
 * holds a reference per thread (and the LINE draft), so erasure finds them. Inquiry ids are opaque; a source
 * marker (a LINE webhookEventId or a form's submission id) makes a retried submission a no-op.
 */
export const inquiryKeys = {
  threadPk: (tenantId: string, inquiryId: string) => `T#${tenantId}#INQ#${inquiryId}`,
  headSk: 'HEAD',
  messagePrefix: 'MSG#',
  messageSk: (seq: number) => `MSG#${pad(seq, 4)}`,
  indexPk: (tenantId: string) => `T#${tenantId}#INQS`,
  indexPrefix: (status: string) => `${status}#`,
  indexSk: (h: { status: string; lastMessageAt: number; inquiryId: string }) =>
    `${h.status}#${pad(h.lastMessageAt, 15)}#${h.inquiryId}`,
  /** In the reader's partition. */
  readerRefPrefix: 'INQ#',
  readerRefSk: (inquiryId: string) => `INQ#${inquiryId}`,
  draftSk: 'INQDRAFT',
  sourcePk: (tenantId: string, sourceId: string) => `T#${tenantId}#INQSRC#${sourceId}`,
  sourceSk: 'SRC',
};

export const contentKeys = {
  tenantPk: 'TENANT',
  libraryPk: (libraryId: string) => `LIB#${libraryId}`,
  libraryMetaSk: 'META',
  itemPrefix: 'ITEM#',
  itemSk: (track: string, day: number, audience: string) => `ITEM#${track}#${pad(day, 4)}#${audience}`,
  /** An imported version's items (and its META) under a partition of their own: written once, never changed. */
  libraryVersionPk: (libraryId: string, version: string) => `LIB#${libraryId}#V#${version}`,
  /** Under `libraryPk`: one per complete imported version (written after its items), for listing and activation. */
  versionSk: (version: string) => `VERSION#${version}`,
  versionPrefix: 'VERSION#',
  /** Under `libraryPk`: the live version; switched by one conditional write. */
  liveSk: 'LIVE',
  /** A tenant's segment broadcasts, one partition; ids begin with the date (`2026-12-10-<random>`), so sorted by it. */
  broadcastPk: (tenantId: string) => `T#${tenantId}#BCAST`,
  broadcastSk: (id: string) => `B#${id}`,
  broadcastPrefix: 'B#',
};

/**
 * The audit trail (its own table): one partition per tenant, sorted by time, so an admin's page is one query.
 * The random suffix keeps two entries of the same millisecond apart.
 */
export const auditKeys = {
  pk: (tenantId: string) => `T#${tenantId}#AUDIT`,
  sk: (at: number, id: string) => `${pad(at, 15)}#${id}`,
};

/** Epoch seconds `days` after a date, for DynamoDB TTL. */
export const expiresAfter = (date: IsoDate, days: number): number =>
  Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000) + days * 86_400;

/**
 * The TTL of a delivery date's working state (plans, batches, claims, layouts, pins, change markers): `days`
 * after the date, and never less than a day after the write, longer than any task of the date runs (one is
 * refused as stale after 20 hours). A date run after it has passed (a simulated month, a replay) would otherwise
 * write items already expired, and TTL may delete them while the day still runs: DynamoDB Local does so within
 * seconds, and a shard redelivered to a second worker then finds no plan and plans again. On the date's own day
 * (every retention here is 2 days or more) the first term is the later one, so live delivery is unchanged.
 * Personal-data erasure dates keep `expiresAfter`: they must not move.
 */
export const retainedAfter = (date: IsoDate, days: number, nowMs: number = Date.now()): number =>
  Math.max(expiresAfter(date, days), Math.floor(nowMs / 1000) + 86_400);
