import { randomBytes } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { Channel } from '../../schemas/common';
import {
  inquiryConsolePath,
  type Inquiry,
  type InquiryDraft,
  type InquiryHeader,
  type InquiryMessage,
  type InquiryStatus,
} from '../../schemas/inquiry';
import type { TenantConfig } from '../../schemas/tenant';
import {
  addReaderMessage,
  addStaffReply,
  closeThread,
  InquiryStateError,
  InquiryTextError,
  inquiryText,
  openThreadOf,
  reopenThread,
  startInquiry,
  type Step,
} from '../domain/inquiries';
import { textMessage } from '../domain/replies';
import {
  ConcurrentChangeError,
  type Clock,
  type EmailLinkSource,
  type EmailSender,
  type LineReplierFactory,
  type SubscriptionReader,
} from './ports';

/**
 * Inquiries as use cases: a reader submits (a new thread, or a message in their open one), staff reply (delivered
 * on the reader's channel, the thread marked `answered` with its time to first answer) and close. The staff are
 * told of every new inquiry or message by a mail that holds only a link into the console, never the text.
 * The staff console (services/console.ts) calls list, get, reply and close; the LINE chat and the email
 * preferences page call submit.
 */

/** A thread as the inbox lists it: the header without the address. */
export type InquirySummary = Omit<InquiryHeader, 'address'>;

/** One reader's thread, as their own page (and erasure) finds it. */
export interface ReaderInquiryRef {
  inquiryId: string;
  status: InquiryStatus;
  createdAt: number;
  lastMessageAt: number;
  messageCount: number;
}

export interface InquirySave {
  /** The header to store; written as `readVersion + 1` on condition that the stored one is at `readVersion`. */
  header: InquiryHeader;
  /** Undefined for a new thread: written only if it does not exist. */
  readVersion: number | undefined;
  /** The header as read (its index entry moves to the new status and time). */
  previous?: InquiryHeader;
  message?: InquiryMessage;
  /** The event or form post this change comes from: a second save with the same id stores nothing. */
  sourceId?: string;
}

/** Every call names the tenant; an inquiry id of another tenant is simply not found. */
export interface InquiryStore {
  /** Header and messages, strongly consistent. */
  get(tenantId: string, inquiryId: string): Promise<Inquiry | undefined>;
  /** The tenant's threads in these statuses by last message time, newest or oldest first (strongly consistent). */
  list(
    tenantId: string,
    q: { statuses: readonly InquiryStatus[]; order: 'newest' | 'oldest'; limit: number },
  ): Promise<InquirySummary[]>;
  /** The reader's threads, newest first. */
  byReader(tenantId: string, readerKey: string): Promise<ReaderInquiryRef[]>;
  /**
   * One transaction: header, message, index entry, the reader's reference and the source marker. `duplicate`
   * when the source was saved before (nothing changed). Throws ConcurrentChangeError when the header is not
   * at `readVersion` any more (or exists already, for a new one): nothing changed.
   */
  save(s: InquirySave): Promise<'saved' | 'duplicate'>;
  /** Records whether a staff reply reached the reader. */
  markDelivery(tenantId: string, inquiryId: string, seq: number, delivery: 'sent' | 'failed'): Promise<void>;
  draft(tenantId: string, readerKey: string): Promise<InquiryDraft | undefined>;
  putDraft(tenantId: string, readerKey: string, draft: InquiryDraft): Promise<void>;
  deleteDraft(tenantId: string, readerKey: string): Promise<void>;
}

export interface InquiryDeps {
  store: InquiryStore;
  clock: Clock;
  newId?: () => string;
  /** The staff notification mail; without it inquiries wait in the console unannounced. */
  notifyMail?: EmailSender;
  /** The console's public base URL (`https://…`, without `/console`), for the notification's link. */
  consoleBaseUrl?: string;
  /** Staff replies to LINE readers go out as pushes. */
  line?: LineReplierFactory;
  /** Staff replies to email readers go out as mails, with the reader's signed preferences link. */
  mail?: EmailSender;
  links?: EmailLinkSource;
  /** The email reader's current token version (for their signed link). */
  subscriptions?: Pick<SubscriptionReader, 'listReader'>;
  /** Counts only, never content. */
  onNotifyFailed?: (err: unknown) => void;
  onDeliveryFailed?: (err: unknown) => void;
}

/** Random, URL-safe, 22 characters: an inquiry id that says nothing about the reader. */
export const newInquiryId = () => randomBytes(16).toString('base64url');

/** Fixed, so that ids and LINE retry keys derived from events are stable across deployments. */
const INQUIRY_NAMESPACE = '8d4f3f0e-2b7c-4f55-9d0a-6a1f3c2e9b14';

/** The push of a staff reply has one retry key per message: a retried reply is shown once (LINE's 409). */
export const replyRetryKey = (tenantId: string, inquiryId: string, seq: number) =>
  uuidv5(`${tenantId}|${inquiryId}|${seq}`, INQUIRY_NAMESPACE);

export type SubmitResult =
  | { outcome: 'created' | 'added'; inquiry: InquiryHeader; message: InquiryMessage }
  | { outcome: 'duplicate' }
  | { outcome: 'invalid'; reason: InquiryTextError['reason'] };

export interface Submission {
  readerKey: string;
  channel: Channel;
  address: string;
  text: string;
  /** The LINE event's webhookEventId or the form's submission id: stored once whatever the retries. */
  sourceId: string;
}

const ATTEMPTS = 4;

/** A store change from a fresh read, again when another change won the race (bounded; the last error is thrown). */
async function withRetry<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if (!(err instanceof ConcurrentChangeError) || attempt >= ATTEMPTS) throw err;
    }
  }
}

/** A reader's question: a message in their open thread, or a new thread. Staff are told by mail. */
export async function submitInquiry(tenant: TenantConfig, s: Submission, deps: InquiryDeps): Promise<SubmitResult> {
  let text: string;
  try {
    text = inquiryText(s.text);
  } catch (err) {
    if (err instanceof InquiryTextError) return { outcome: 'invalid', reason: err.reason };
    throw err;
  }
  const t = tenant.tenantId;
  const result = await withRetry(async (): Promise<SubmitResult> => {
    const at = deps.clock.now().getTime();
    const open = openThreadOf(await deps.store.byReader(t, s.readerKey));
    const thread = open && (await deps.store.get(t, open.inquiryId));
    if (thread) {
      try {
        const step = addReaderMessage(thread, text, at);
        const saved = await deps.store.save({
          ...step,
          readVersion: thread.version,
          previous: thread,
          sourceId: s.sourceId,
        });
        return saved === 'duplicate'
          ? { outcome: 'duplicate' }
          : { outcome: 'added', inquiry: step.header, message: step.message };
      } catch (err) {
        // Closed or full between the listing and the read: the question starts a thread of its own.
        if (!(err instanceof InquiryStateError)) throw err;
      }
    }
    const step = startInquiry({
      inquiryId: deps.newId?.() ?? newInquiryId(),
      tenantId: t,
      readerKey: s.readerKey,
      channel: s.channel,
      address: s.address,
      text,
      at,
    });
    const saved = await deps.store.save({ ...step, readVersion: undefined, sourceId: s.sourceId });
    return saved === 'duplicate'
      ? { outcome: 'duplicate' }
      : { outcome: 'created', inquiry: step.header, message: step.message };
  });
  if (result.outcome === 'created' || result.outcome === 'added')
    await notifyStaff(tenant, result.inquiry, result.outcome, deps);
  return result;
}

/** The staff mail: that something arrived and where to read it. Never the text, the reader or their channel. */
export function staffNotification(
  tenant: TenantConfig,
  inquiry: Pick<InquiryHeader, 'inquiryId' | 'lastMessageAt'>,
  kind: 'created' | 'added',
  consoleBaseUrl: string,
): { subject: string; text: string } {
  const time = new Intl.DateTimeFormat('sv-SE', {
    timeZone: tenant.timeZone,
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(new Date(inquiry.lastMessageAt));
  const subject =
    kind === 'created'
      ? `【${tenant.name}】新しいお問い合わせがあります`
      : `【${tenant.name}】お問い合わせに追加のメッセージがあります`;
  const text = [
    `${tenant.name} ご担当者様`,
    '',
    kind === 'created'
      ? '住民の方から新しいお問い合わせが届きました。'
      : 'お返事したお問い合わせに、住民の方から追加のメッセージが届きました。',
    'スタッフ画面にサインインして、内容の確認とお返事をお願いします。',
    '',
    `${consoleBaseUrl.replace(/\/+$/, '')}${inquiryConsolePath(inquiry.inquiryId)}`,
    '',
    `受付日時: ${time} (${tenant.timeZone})`,
    '',
    'このメールにはお問い合わせの内容や個人情報を含めていません。',
  ].join('\n');
  return { subject, text };
}

async function notifyStaff(
  tenant: TenantConfig,
  inquiry: InquiryHeader,
  kind: 'created' | 'added',
  deps: InquiryDeps,
): Promise<void> {
  const config = tenant.inquiries;
  if (!config?.enabled || !deps.notifyMail || !deps.consoleBaseUrl) return;
  const mail = staffNotification(tenant, inquiry, kind, deps.consoleBaseUrl);
  try {
    for (const to of config.notifyTo)
      await deps.notifyMail.send({ from: config.notifyFrom, to, ...mail, tags: { tenant: tenant.tenantId } });
  } catch (err) {
    // Stored is stored: the inquiry waits in the console's inbox even when the mail is lost.
    deps.onNotifyFailed?.(err);
  }
}

export type ReplyResult =
  | { outcome: 'answered'; inquiry: Inquiry; delivered: boolean }
  | { outcome: 'not-found' }
  | { outcome: 'closed' }
  | { outcome: 'invalid'; reason: InquiryTextError['reason'] | 'full' };

/** A staff answer: stored (`answered`, time to first answer), then delivered on the reader's channel. */
export async function replyToInquiry(
  tenant: TenantConfig,
  inquiryId: string,
  staffRef: string,
  text: string,
  deps: InquiryDeps,
): Promise<ReplyResult> {
  let body: string;
  try {
    body = inquiryText(text);
  } catch (err) {
    if (err instanceof InquiryTextError) return { outcome: 'invalid', reason: err.reason };
    throw err;
  }
  const saved = await withRetry(async (): Promise<ReplyResult | { step: Step; thread: Inquiry }> => {
    const thread = await deps.store.get(tenant.tenantId, inquiryId);
    if (!thread) return { outcome: 'not-found' };
    let step: Step;
    try {
      step = addStaffReply(thread, staffRef, body, deps.clock.now().getTime());
    } catch (err) {
      if (!(err instanceof InquiryStateError)) throw err;
      return err.reason === 'closed' ? { outcome: 'closed' } : { outcome: 'invalid', reason: 'full' };
    }
    await deps.store.save({ ...step, readVersion: thread.version, previous: thread });
    return { step, thread };
  });
  if ('outcome' in saved) return saved;
  const { step, thread } = saved;
  const delivered = await deliverReply(tenant, step.header, step.message, deps);
  await deps.store.markDelivery(tenant.tenantId, inquiryId, step.message.seq, delivered ? 'sent' : 'failed');
  return {
    outcome: 'answered',
    inquiry: {
      ...step.header,
      version: thread.version + 1,
      messages: [...thread.messages, { ...step.message, delivery: delivered ? 'sent' : 'failed' }],
    },
    delivered,
  };
}

/** The reply text as the reader reads it on LINE (a push) or in a mail. */
export function replyTexts(
  tenant: TenantConfig,
  text: string,
  preferencesUrl?: string,
): { line: string; mailSubject: string; mailText: string } {
  return {
    line: `【${tenant.name}からのお返事】\n${text}\n\n続けてご質問があるときは、このトークにメッセージを送ってください。`,
    mailSubject: `【${tenant.name}】お問い合わせへのお返事`,
    mailText: [
      `${tenant.name}からのお返事です。`,
      '',
      text,
      '',
      ...(preferencesUrl
        ? ['やりとりの確認や、続けてのご質問は、次のページからどうぞ（あなた専用のリンクです）:', preferencesUrl, '']
        : []),
      'このメールには返信できません。',
    ].join('\n'),
  };
}

async function deliverReply(
  tenant: TenantConfig,
  h: InquiryHeader,
  m: InquiryMessage,
  deps: InquiryDeps,
): Promise<boolean> {
  try {
    if (h.channel === 'line') {
      if (!deps.line || !tenant.line.enabled) return false;
      const line = await deps.line.forTenant(tenant);
      await line.push(
        h.address,
        [textMessage(replyTexts(tenant, m.text).line)],
        replyRetryKey(tenant.tenantId, h.inquiryId, m.seq),
      );
      return true;
    }
    if (!deps.mail || !tenant.email?.enabled) return false;
    const preferences = await preferencesLink(tenant, h.readerKey, deps);
    const texts = replyTexts(tenant, m.text, preferences);
    await deps.mail.send({
      from: tenant.email.from,
      ...(tenant.email.fromName ? { fromName: tenant.email.fromName } : {}),
      ...(tenant.email.replyTo ? { replyTo: tenant.email.replyTo } : {}),
      to: h.address,
      subject: texts.mailSubject,
      text: texts.mailText,
      tags: { tenant: tenant.tenantId },
    });
    return true;
  } catch (err) {
    deps.onDeliveryFailed?.(err);
    return false;
  }
}

/** The reader's signed preferences link (where the thread and the form are), while they still have a token version. */
async function preferencesLink(
  tenant: TenantConfig,
  readerKey: string,
  deps: InquiryDeps,
): Promise<string | undefined> {
  if (!deps.links || !deps.subscriptions) return undefined;
  const subs = await deps.subscriptions.listReader(tenant.tenantId, readerKey);
  const tokenVersion = subs.find((s) => s.tokenVersion)?.tokenVersion;
  if (!tokenVersion) return undefined;
  return (await deps.links.linksFor(tenant, { readerKey, tokenVersion })).preferences;
}

export type CloseResult = { outcome: 'closed'; inquiry: InquiryHeader } | { outcome: 'not-found' | 'closed-already' };

export async function closeInquiry(
  tenant: TenantConfig,
  inquiryId: string,
  staffRef: string,
  deps: InquiryDeps,
): Promise<CloseResult> {
  return withRetry(async (): Promise<CloseResult> => {
    const thread = await deps.store.get(tenant.tenantId, inquiryId);
    if (!thread) return { outcome: 'not-found' };
    if (thread.status === 'closed') return { outcome: 'closed-already' };
    const header = closeThread(thread, staffRef, deps.clock.now().getTime());
    await deps.store.save({ header, readVersion: thread.version, previous: thread });
    return { outcome: 'closed', inquiry: { ...header, version: thread.version + 1 } };
  });
}

export type ReopenResult = { outcome: 'reopened'; inquiry: InquiryHeader } | { outcome: 'not-found' | 'not-closed' };

/** Staff take a closed thread up again: it stands as before the close (lambdas/domain/inquiries.ts reopenThread). */
export async function reopenInquiry(tenant: TenantConfig, inquiryId: string, deps: InquiryDeps): Promise<ReopenResult> {
  return withRetry(async (): Promise<ReopenResult> => {
    const thread = await deps.store.get(tenant.tenantId, inquiryId);
    if (!thread) return { outcome: 'not-found' };
    if (thread.status !== 'closed') return { outcome: 'not-closed' };
    const header = reopenThread(thread);
    await deps.store.save({ header, readVersion: thread.version, previous: thread });
    return { outcome: 'reopened', inquiry: { ...header, version: thread.version + 1 } };
  });
}

/** The inbox: threads staff are due to act on (`new`, `open`), oldest first unless asked otherwise. */
export function listInquiries(
  tenantId: string,
  q: { statuses?: readonly InquiryStatus[]; order?: 'newest' | 'oldest'; limit?: number },
  deps: Pick<InquiryDeps, 'store'>,
): Promise<InquirySummary[]> {
  return deps.store.list(tenantId, {
    statuses: q.statuses ?? ['new', 'open'],
    order: q.order ?? 'oldest',
    limit: q.limit ?? 100,
  });
}

export function getInquiry(tenantId: string, inquiryId: string, deps: Pick<InquiryDeps, 'store'>) {
  return deps.store.get(tenantId, inquiryId);
}

/** A reader's threads with their messages, newest first (the console's reader page, the reader's own page). */
export async function readerInquiries(
  tenantId: string,
  readerKey: string,
  deps: Pick<InquiryDeps, 'store'>,
): Promise<Inquiry[]> {
  const refs = await deps.store.byReader(tenantId, readerKey);
  const threads = await Promise.all(refs.map((r) => deps.store.get(tenantId, r.inquiryId)));
  return threads.filter((t): t is Inquiry => t !== undefined);
}
