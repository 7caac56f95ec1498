import { mailFamilyNotice, type FamilyMailDeps } from './family-mail';
import { randomInt, randomUUID } from 'node:crypto';
import { validateSignature } from '@line/bot-sdk';
import { backOff } from 'exponential-backoff';
import { v5 as uuidv5 } from 'uuid';
import type { IsoDate } from '../../schemas/common';
import { INVITE_ALPHABET, type Invite } from '../../schemas/dialog';
import {
  LineWebhookBodySchema,
  WEBHOOK_DEDUPE_WINDOW_SECONDS,
  type LineEvent,
  type ReaderAction,
} from '../../schemas/line-webhook';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { addDays, libraryIndexFor, localDate } from '../domain';
import { converse, dialogTakesText, isTextCommand, type Change } from '../domain/dialog';
import type { BotMessage } from '../domain/replies';
import {
  ConcurrentChangeError,
  type Clock,
  type ContentSource,
  type LineCredentialsSource,
  type LineReplierFactory,
  type ReaderKeySource,
  type ReaderStore,
  type SubscriptionPut,
  type TenantDirectory,
} from './ports';
import type { InquiryDeps } from './inquiries';
import { handleInquiryChat } from './inquiry-chat';
import { handleSurveyChat, type SurveyChatDeps } from './survey-chat';
import { tenantSurveys } from './survey-invitations';

export interface LineWebhookDeps {
  tenants: TenantDirectory;
  content: ContentSource;
  credentials: LineCredentialsSource;
  readers: ReaderStore;
  readerKeys: ReaderKeySource;
  replies: LineReplierFactory;
  clock: Clock;
  newId?: () => string;
  newInviteCode?: () => string;
  /** Surveys and screening answered in the chat; without it survey commands fall through to the dialog. */
  surveys?: SurveyChatDeps;
  /** Email family members hear of a birth, a new date or a loss by mail; without it they are not told. */
  familyMail?: FamilyMailDeps;
  /** Inquiries to staff (FAQ first, then consent); without it free text gets the help reply. */
  inquiries?: InquiryDeps;
  /** Counts only, never content: called when a reply, or a notice to a family member, could not be sent. */
  onReplyFailed?: (err: unknown) => void;
  /** Counts only: an event was applied again from a fresh load after a concurrent change. */
  onConcurrentChange?: () => void;
  /** Attempts per event when concurrent changes keep winning (the last failure is thrown: LINE redelivers). */
  maxAttempts?: number;
  /** First back-off between attempts, in ms (full jitter, doubling). */
  retryBaseMs?: number;
}

export interface WebhookRequest {
  tenantId: string;
  rawBody: string;
  signature: string | undefined;
}

export interface WebhookResponse {
  status: 200 | 400 | 401 | 404 | 413;
  message: string;
  /** Events applied now (not duplicates, not ignored). */
  handled: number;
}

/** LINE's webhook bodies are small; anything near this is not LINE. */
export const MAX_BODY_BYTES = 1_000_000;

export const newInviteCode = () =>
  Array.from({ length: 6 }, () => INVITE_ALPHABET[randomInt(INVITE_ALPHABET.length)]).join('');

/**
 * Verifies and handles one webhook request. Checks come before any write: unknown tenant (404), oversized
 * (413, before hashing a huge body), missing or wrong signature over the raw body (401), malformed JSON or
 * schema (400). Each event is
 * then applied at most once (its webhookEventId is stored in the same transaction as its effects).
 */
export async function handleLineWebhook(req: WebhookRequest, deps: LineWebhookDeps): Promise<WebhookResponse> {
  const tenant = /^[a-z][a-z0-9-]{1,39}$/.test(req.tenantId) ? await deps.tenants.getTenant(req.tenantId) : undefined;
  if (!tenant?.line.enabled) return { status: 404, message: 'unknown tenant', handled: 0 };
  if (Buffer.byteLength(req.rawBody) > MAX_BODY_BYTES) return { status: 413, message: 'body too large', handled: 0 };
  const { channelSecret } = await deps.credentials.get(tenant);
  if (!req.signature || !validateSignature(req.rawBody, channelSecret, req.signature))
    return { status: 401, message: 'invalid signature', handled: 0 };

  let json: unknown;
  try {
    json = JSON.parse(req.rawBody);
  } catch {
    return { status: 400, message: 'body is not JSON', handled: 0 };
  }
  const body = LineWebhookBodySchema.safeParse(json);
  if (!body.success)
    return {
      status: 400,
      message: `body does not match the webhook schema: ${body.error.issues[0]?.path.join('.')}`,
      handled: 0,
    };

  let handled = 0;
  // LINE may deliver a reader's events out of order: apply them in `timestamp` order (a stable sort keeps
  // events of the same millisecond in the order they came).
  const events = [...body.data.events].sort((a, b) => a.timestamp - b.timestamp);
  for (const event of events) {
    if (await handleEvent(tenant, event, deps)) handled++;
  }
  return { status: 200, message: 'ok', handled };
}

function toAction(e: LineEvent): ReaderAction | undefined {
  switch (e.type) {
    case 'follow':
      return { kind: 'follow', unblocked: e.follow?.isUnblocked ?? false };
    case 'unfollow':
      return { kind: 'unfollow' };
    case 'message':
      return e.message?.type === 'text' && e.message.text !== undefined
        ? { kind: 'text', text: e.message.text }
        : undefined;
    case 'postback':
      return e.postback ? { kind: 'postback', data: e.postback.data, date: e.postback.params?.date } : undefined;
    default:
      return undefined;
  }
}

async function handleEvent(tenant: TenantConfig, event: LineEvent, deps: LineWebhookDeps): Promise<boolean> {
  // Standby: another channel (e.g. a chat operator) has the conversation; events from groups are not ours.
  if (event.mode === 'standby' || event.source?.type !== 'user' || !event.source.userId) return false;
  const action = toAction(event);
  if (!action) return false;
  if (await deps.readers.isProcessed(tenant.tenantId, event.webhookEventId)) return false;
  const userId = event.source.userId;
  const readerKey = (await deps.readerKeys.get()).line(userId);

  // A concurrent change to what this event read (the partner's loss, a second device, an invite taken or a code
  // drawn twice) fails the transaction as a whole: the event is applied again to what is stored now.
  const applied = await backOff(() => applyEvent(tenant, event, action, userId, readerKey, deps), {
    numOfAttempts: deps.maxAttempts ?? 5,
    startingDelay: deps.retryBaseMs ?? 20,
    maxDelay: 500,
    jitter: 'full',
    retry: (err: unknown) => {
      if (!(err instanceof ConcurrentChangeError)) return false;
      deps.onConcurrentChange?.();
      return true;
    },
  });
  if (!applied) return false;

  if (event.replyToken && applied.replies.length > 0) {
    try {
      await (await deps.replies.forTenant(tenant)).reply(event.replyToken, applied.replies);
    } catch (err) {
      // The change is stored; a lost reply (expired token, LINE hiccup) must not make LINE redeliver the event.
      deps.onReplyFailed?.(err);
    }
  }
  if (applied.notices.length > 0) {
    const line = await deps.replies.forTenant(tenant);
    for (const [n, { to, message }] of applied.notices.entries()) {
      try {
        if (to.channel === 'email') {
          // Sent only when the event was stored just now: a redelivered event is not applied, so not mailed again.
          if (deps.familyMail) await mailFamilyNotice(deps.familyMail, tenant, to, message.text);
          continue;
        }
        // The key follows from the event, so a retried push within 24 h is not shown twice.
        await line.push(
          to.address,
          [message],
          uuidv5(`${tenant.tenantId}|${event.webhookEventId}|${n}`, NOTICE_KEY_NAMESPACE),
        );
      } catch (err) {
        // Stored is stored: a lost notice must not make LINE redeliver (and re-apply) the event.
        deps.onReplyFailed?.(err);
      }
    }
  }
  return true;
}

/** Fixed, so that notice retry keys are stable across deployments. */
const NOTICE_KEY_NAMESPACE = '5f0e7a52-93a4-4c3e-9a43-2b8f6f0c1d77';

const live = (s: Subscription) => s.status === 'active' || s.status === 'paused';

/** The members of every family the changes name, loaded once per family (also used by the email pages). */
export async function familiesOf(
  tenant: TenantConfig,
  changes: Change[],
  deps: { readers: ReaderStore },
): Promise<Map<string, Subscription[]>> {
  const ids = new Set(changes.flatMap((c) => (c.type === 'family' || c.type === 'notify' ? [c.familyId] : [])));
  const entries = await Promise.all(
    [...ids].map(async (id) => [id, await deps.readers.familyMembers(tenant.tenantId, id)] as const),
  );
  return new Map(entries);
}

/** One subscription per other reader of the family who still hears from us (not stopped, not unfollowed, not lost). */
export function noticeRecipients(readerKey: string, members: Subscription[]): Subscription[] {
  const byReader = new Map<string, Subscription>();
  for (const s of members)
    if (s.readerKey !== readerKey && live(s) && !byReader.has(s.readerKey)) byReader.set(s.readerKey, s);
  return [...byReader.values()];
}

/** One attempt: load, converse, commit. Undefined when the event was a duplicate or had no effect to answer. */
async function applyEvent(
  tenant: TenantConfig,
  event: LineEvent,
  action: ReaderAction,
  userId: string,
  readerKey: string,
  deps: LineWebhookDeps,
): Promise<{ replies: BotMessage[]; notices: { to: Subscription; message: BotMessage }[] } | undefined> {
  const now = deps.clock.now();
  const today = localDate(now, tenant.timeZone);
  const [state, items] = await Promise.all([
    deps.readers.load(tenant.tenantId, readerKey),
    deps.content.getLibrary(tenant.library),
  ]);
  const write = {
    tenantId: tenant.tenantId,
    readerKey,
    webhookEventId: event.webhookEventId,
    lastEventAt: state.lastEventAt,
    changedOn: today,
  };

  // Older than an event already applied (it arrived late), or older than the dedupe window (a replay that the
  // event ids no longer catch): recorded, so a redelivery is a duplicate, and otherwise ignored.
  const tooOld = event.timestamp < now.getTime() - WEBHOOK_DEDUPE_WINDOW_SECONDS * 1000;
  if (tooOld || (state.lastEventAt !== undefined && event.timestamp < state.lastEventAt)) {
    await deps.readers.commit({
      ...write,
      eventAt: undefined,
      puts: [],
      invites: [],
      dialog: undefined,
      deleteReader: false,
    });
    return undefined;
  }

  if (deps.surveys) {
    const surveyReplies = await handleSurveyChat(
      { tenant, readerKey, subscriptions: state.subscriptions, action, now, today },
      deps.surveys,
    );
    if (surveyReplies) {
      // The survey's own writes are idempotent; the event is recorded like any other, the dialog left as it was.
      const committed = await deps.readers.commit({
        ...write,
        eventAt: event.timestamp,
        puts: [],
        invites: [],
        dialog: undefined,
        deleteReader: false,
      });
      return committed ? { replies: surveyReplies, notices: [] } : undefined;
    }
  }

  if (deps.inquiries) {
    const inquiry = await handleInquiryChat(
      {
        tenant,
        readerKey,
        userId,
        action,
        freeText: action.kind === 'text' && !isTextCommand(action.text) && !dialogTakesText(state.dialog),
        webhookEventId: event.webhookEventId,
        now,
      },
      deps.inquiries,
    );
    if (inquiry) {
      // The inquiry's own writes are idempotent (the event id is its source); the event is recorded like any other.
      const committed = await deps.readers.commit({
        ...write,
        eventAt: event.timestamp,
        puts: [],
        invites: [],
        dialog: inquiry.endDialog ? null : undefined,
        deleteReader: false,
      });
      return committed ? { replies: inquiry.replies, notices: [] } : undefined;
    }
  }

  const invite =
    state.dialog?.step === 'invite-code' && action.kind === 'text'
      ? await currentInvite(tenant, action.text.normalize('NFKC').replace(/\s+/g, '').toUpperCase(), today, deps)
      : undefined;
  const out = converse({
    tenant,
    library: libraryIndexFor(items),
    today,
    userId,
    readerKey,
    subscriptions: state.subscriptions,
    dialog: state.dialog,
    action,
    invite,
    newId: deps.newId ?? randomUUID,
    newInviteCode: deps.newInviteCode ?? newInviteCode,
  });

  const members = await familiesOf(tenant, out.changes, deps);
  // Who is told is decided on the family as it was before this event's changes (a loss makes everyone "lost").
  const notices = out.changes.flatMap((c) =>
    c.type === 'notify'
      ? noticeRecipients(readerKey, members.get(c.familyId)!).map((to) => ({ to, message: c.message }))
      : [],
  );
  const stored = new Set(state.subscriptions.map((s) => s.subscriptionId));
  const puts: SubscriptionPut[] = out.changes.flatMap((c) =>
    c.type === 'put' ? [{ subscription: c.subscription, isNew: !stored.has(c.subscription.subscriptionId) }] : [],
  );
  for (const c of out.changes)
    if (c.type === 'family')
      for (const s of familyPuts(readerKey, c, members.get(c.familyId)!))
        if (
          !puts.some(
            (p) => p.subscription.readerKey === s.readerKey && p.subscription.subscriptionId === s.subscriptionId,
          )
        )
          puts.push({ subscription: s, isNew: false });
  const deleting = out.changes.some((c) => c.type === 'delete-reader');
  // Joining with an invite uses it up, in the same transaction.
  const joined =
    invite &&
    out.changes.some(
      (c) =>
        c.type === 'put' && c.subscription.familyId === invite.familyId && !stored.has(c.subscription.subscriptionId),
    );
  const committed = await deps.readers.commit({
    ...write,
    eventAt: event.timestamp,
    puts: deleting ? [] : puts.map((p) => ({ ...p, subscription: withRetention(p.subscription, today, tenant) })),
    invites: out.changes.flatMap((c) => (c.type === 'invite' ? [c.invite] : [])),
    redeemedInvite: joined ? invite.code : undefined,
    dialog: deleting ? undefined : out.dialog,
    deleteReader: deleting,
    ...(deleting && { surveyIds: tenantSurveys(tenant).map((s) => s.id) }),
  });
  return committed ? { replies: out.replies, notices } : undefined;
}

/**
 * One retention rule for every subscription the webhook writes: a stopped, lost or ended subscription is erased
 * (by TTL) the tenant's `retentionDays` after it stopped; one that is active or paused again keeps no date.
 */
export function withRetention(s: Subscription, today: IsoDate, tenant: TenantConfig): Subscription {
  const { eraseOn, ...rest } = s;
  if (s.status === 'active' || s.status === 'paused') return rest;
  return { ...rest, eraseOn: eraseOn ?? addDays(today, tenant.retentionDays) };
}

/**
 * The same change for the other readers of the family (the partner follows a birth, a date change, a loss),
 * whatever their own status, so that a stopped or paused partner who resumes later resumes the right stage;
 * a lost subscription is never changed again.
 */
export function familyPuts(
  readerKey: string,
  c: Extract<Change, { type: 'family' }>,
  members: Subscription[],
): Subscription[] {
  return members.filter((s) => s.readerKey !== readerKey && s.status !== 'lost').map((s) => ({ ...s, ...c.set }));
}

/**
 * An invite describes the family as it was when it was made; the family may have moved on since (a birth,
 * a changed date, a loss). The partner joins the family as it is now, or not at all when nothing of it is left.
 */
export async function currentInvite(
  tenant: TenantConfig,
  code: string,
  today: IsoDate,
  deps: { readers: ReaderStore },
): Promise<Invite | null> {
  const invite = await deps.readers.findInvite(tenant.tenantId, code, today);
  if (!invite) return null;
  const members = await deps.readers.familyMembers(tenant.tenantId, invite.familyId);
  if (members.some((s) => s.status === 'lost')) return null;
  const current = members.find((s) => s.audience === 'parent') ?? members[0];
  if (!current || current.track === 'support') return null;
  return {
    ...invite,
    track: current.track,
    anchorDate: current.anchorDate,
    nickname: current.nickname ?? invite.nickname,
  };
}
