import { FAMILY_NOTICE_SUBJECT } from './family-mail';
import { randomUUID } from 'node:crypto';
import { tenantSurveys } from './survey-invitations';
import type { SurveyView } from './survey-page';
import type { CompletionDeps } from './survey-completion';
import { backOff } from 'exponential-backoff';
import { z } from 'zod';
import type { IsoDate } from '../../schemas/common';
import {
  ONE_CLICK_BODY,
  PendingSignupSchema,
  PreferencesFormSchema,
  SIGNUP_TRACKS,
  SignupFormSchema,
  type PendingSignup,
  type PreferencesForm,
  type SignupForm,
} from '../../schemas/email';
import type { Invite } from '../../schemas/dialog';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { clearSuppression, libraryIndexFor, localDate } from '../domain';
import type { Change } from '../domain/dialog';
import * as lifecycle from '../domain/lifecycle';
import { live, type Reader } from '../domain/lifecycle';
import { japaneseDate, Phrases } from '../domain/replies';
import { packMessages, resolveSubscription } from '../domain/resolve';
import {
  checkStanding,
  confirmUrl,
  emailLinks,
  newJti,
  newTokenVersion,
  signEmailToken,
  verifyEmailToken,
  type EmailLinks,
  type TokenClaims,
  type TokenKeyring,
  type TokenProblem,
  type TokenPurpose,
} from './email-tokens';
import { v5 as uuidv5 } from 'uuid';
import { renderMail } from './email-render';
import type { InquiryDeps } from './inquiries';
import {
  INQUIRY_PAGE_WORDS,
  inquiriesEnabled,
  inquiryFaq,
  sendInquiryFromPage,
  shownThreads,
  type ShownThread,
} from './inquiry-pages';
import { currentInvite, familiesOf, familyPuts, newInviteCode, noticeRecipients, withRetention } from './line-webhook';
import {
  ConcurrentChangeError,
  type Clock,
  type ContentSource,
  type EmailSender,
  type EmailTokenKeySource,
  type LineReplierFactory,
  type ReaderKeySource,
  type ReaderState,
  type ReaderStore,
  type ReaderWrite,
  type SubscriptionPut,
  type SuppressionStore,
  type TenantDirectory,
} from './ports';

/**
 * The resident-facing email pages: sign-up with double opt-in, confirmation, preferences (everything the LINE
 * menu offers) and one-click unsubscribe. Each use case takes the parsed request and returns what to show:
 * the handlers render it (lambdas/web) and never decide anything. What a step does to the subscriptions is the
 * shared lifecycle's (domain/lifecycle.ts); the writes go through the same reader store, versioned and with the
 * same change markers as the LINE webhook's, so the shard worker's send-time check sees every change.
 */

export interface EmailPagesDeps {
  tenants: TenantDirectory;
  content: ContentSource;
  readers: ReaderStore;
  readerKeys: ReaderKeySource;
  tokenKeys: EmailTokenKeySource;
  mail: EmailSender;
  /** Tells LINE members of the family (a partner on the other channel) of a birth, a new date or a loss. */
  line?: LineReplierFactory;
  /** Our suppression list: a confirmed sign-up clears the reader's (SuppressionStore.clear). */
  suppressions?: Pick<SuppressionStore, 'clear'>;
  clock: Clock;
  /** The public base URL of the pages; the tenant's `email.unsubscribeBaseUrl` when absent (the local stack sets it). */
  baseUrl?: string;
  newId?: () => string;
  newInviteCode?: () => string;
  /** The inquiry form on the preferences page (services/inquiry-pages.ts); none without it. */
  inquiries?: InquiryDeps;
  /** Counts only: a mail (confirmation, today's message) could not be handed to SES. */
  onMailFailed?: (err: unknown) => void;
  /** The survey page (services/survey-page.ts): answers, consent, completions and screening alerts. */
  surveys?: CompletionDeps;
  maxAttempts?: number;
  retryBaseMs?: number;
}

/** A signed-up reader as the pages show them: labels, not ids or addresses. */
export interface ShownSubscription {
  subscriptionId: string;
  label: string;
  track: Subscription['track'];
  status: 'active' | 'paused' | 'stopped' | 'lost' | 'ended';
  onPause: boolean;
  pausedUntil?: IsoDate;
  nickname?: string;
  anchorDate: IsoDate;
}

export type FieldErrors = Partial<Record<string, string>>;

export type View =
  | { page: 'signup'; form: SignupForm; errors: FieldErrors; privacyUrl?: string }
  | { page: 'check-inbox' }
  | { page: 'confirm'; token: string }
  | { page: 'confirmed'; label: string; todaysTexts: string[]; preferencesUrl: string }
  | { page: 'problem'; reason: TokenProblem | 'not-found' | 'bad-request' | 'too-large' | 'invite-gone' }
  | {
      page: 'preferences';
      token: string;
      subscriptions: ShownSubscription[];
      lostLine: boolean;
      supportOffer: boolean;
      canResume: boolean;
      canPause: boolean;
      errors: FieldErrors;
      form?: Partial<PreferencesForm>;
      notice?: string;
      contacts?: string;
      invite?: { code: string; expiresOn: IsoDate; signupUrl: string };
      friendUrl?: string;
      /** The inquiry form is offered; the reader's threads with the answers. */
      inquiries?: { threads: ShownThread[] };
      ranges: { dueDate: DateRange; birthday: DateRange; birthDate: DateRange };
    }
  | {
      page: 'ask';
      token: string;
      question: string;
      action: PreferencesForm['action'];
      fields: Record<string, string>;
      yes: string;
      no: string;
    }
  | { page: 'done'; message: string; contacts?: string; token?: string; supportOffer?: boolean; title?: string }
  | {
      page: 'inquiry-faq';
      token: string;
      text: string;
      answers: { question: string; answer: string }[];
      submissionId: string;
    }
  | { page: 'unsubscribe'; token: string }
  | { page: 'unsubscribed' }
  | SurveyView;

interface DateRange {
  min: IsoDate;
  max: IsoDate;
}

export interface PageResult {
  status: 200 | 400 | 404 | 409 | 410 | 413;
  /** The tenant's name for the page header; absent when there is no such tenant. */
  tenantName?: string;
  tenantId: string;
  view: View;
  /** The tenant's wording, for the labels the pages share with the chat. */
  words?: Record<string, string>;
}

export interface PageRequest {
  tenantId: string;
  token?: string;
  /** The raw `application/x-www-form-urlencoded` body of a POST. */
  body?: string;
}

/** Far above any form of ours; a larger body is refused before it is parsed. */
/** Room for an inquiry of 2,000 Japanese characters, percent-encoded (9 bytes each) and sent back once more. */
export const MAX_FORM_BYTES = 64 * 1024;
/** Double opt-in: an unconfirmed sign-up is forgotten after this. */
export const PENDING_SIGNUP_SECONDS = 48 * 3600;
/** At most one confirmation mail per address in this window. */
export const SIGNUP_RESEND_SECONDS = 120;

const EMAIL = z.email();

/** What the pages say beyond the tenant's wording (channel-specific: no "send 再開" here). */
export const PAGE_WORDS = {
  emailInvalid: 'メールアドレスの形をご確認ください（例：hanako@example.jp）。',
  trackMissing: 'あてはまるものを選んでください。',
  dateMissing: '日付を入力してください。',
  inviteMissing: '登録した方から届いた招待コード（6文字）を入力してください。',
  consentMissing: '個人情報の取り扱いへの同意が必要です。',
  nicknameInvalid: 'ニックネームは20文字まででお願いします。',
  subscriptionMissing: 'そのご登録は見つかりませんでした。ページを開き直してください。',
  stopped: '配信を停止しました。またご利用になるときは、登録ページからお申し込みください。',
  paused: 'メッセージをお休みします。{date}から再開します。お休み中のメッセージは後から届きません。',
  pausedIndefinitely: 'メッセージをお休みします。再開するときは、このページの「再開する」を押してください。',
  pausedAlready: 'いまはお休み中です。',
  revoked: 'これまでのメールのリンクを無効にしました。新しいリンクをメールでお送りしました。',
  added: '登録しました（{label}）。明日からメッセージをお届けします。',
  confirmSubject: '【{tenantName}】メール登録の確認',
  confirmBody:
    '{tenantName}の子育て応援メッセージへのお申し込みを受け付けました。\n次のリンクを開き、「登録を確定する」を押すと登録が完了します（48時間有効）。\n\n{url}\n\nお心当たりのない場合は、このメールを破棄してください。登録は行われません。',
  alreadySubject: '【{tenantName}】メール登録について',
  alreadyBody:
    'このメールアドレスは、すでに登録されています。登録内容の確認・変更は次のリンクからどうぞ。\n\n{url}\n\nお心当たりのない場合は、このメールを破棄してください。',
  todaySubject: '【{tenantName}】今日のメッセージ',
  linksSubject: '【{tenantName}】登録内容の確認・変更のリンク',
  linksBody: '新しいリンクです。これまでのメールのリンクは使えなくなりました。\n\n登録内容の確認・変更：{url}',
} as const;

const fill = (t: string, v: Record<string, string>) => t.replace(/\{(\w+)\}/g, (m, k: string) => v[k] ?? m);

/** First value of each field of a form body; nothing else (repeated or unknown fields are not ours). */
export function parseForm(body: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body ?? '')) if (!(k in out)) out[k] = v;
  return out;
}

class Context {
  constructor(
    readonly tenant: TenantConfig,
    readonly deps: EmailPagesDeps,
    readonly now: Date,
  ) {}
  get today(): IsoDate {
    return localDate(this.now, this.tenant.timeZone);
  }
  get nowSeconds(): number {
    return Math.floor(this.now.getTime() / 1000);
  }
  get baseUrl(): string {
    return this.deps.baseUrl ?? this.tenant.email!.unsubscribeBaseUrl;
  }
  result(status: PageResult['status'], view: View): PageResult {
    return {
      status,
      tenantName: this.tenant.name,
      tenantId: this.tenant.tenantId,
      view,
      words: new Phrases(this.tenant).w,
    };
  }
  problem(reason: Extract<View, { page: 'problem' }>['reason']): PageResult {
    const status = reason === 'expired' || reason === 'reused' || reason === 'revoked' ? 410 : 400;
    return this.result(reason === 'too-large' ? 413 : status, { page: 'problem', reason });
  }
}

async function context(tenantId: string, deps: EmailPagesDeps): Promise<Context | PageResult> {
  const tenant = /^[a-z][a-z0-9-]{1,39}$/.test(tenantId) ? await deps.tenants.getTenant(tenantId) : undefined;
  if (!tenant?.email?.enabled) return { status: 404, tenantId, view: { page: 'problem', reason: 'not-found' } };
  return new Context(tenant, deps, deps.clock.now());
}

const isResult = (x: Context | PageResult): x is PageResult => !(x instanceof Context);

// ---- sign-up ----

export async function showSignup(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  const c = await context(req.tenantId, deps);
  if (isResult(c)) return c;
  return c.result(200, { page: 'signup', form: SignupFormSchema.parse({}), errors: {}, privacyUrl: privacyUrl(c) });
}

const privacyUrl = (c: Context) => c.tenant.email?.privacyNoticeUrl;

export async function submitSignup(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  const c = await context(req.tenantId, deps);
  if (isResult(c)) return c;
  if (Buffer.byteLength(req.body ?? '') > MAX_FORM_BYTES) return c.problem('too-large');
  const parsed = SignupFormSchema.safeParse(parseForm(req.body));
  // Only a field longer than any browser sends fails here: show the form empty rather than echo it.
  if (!parsed.success)
    return c.result(400, {
      page: 'signup',
      form: SignupFormSchema.parse({}),
      errors: { email: PAGE_WORDS.emailInvalid },
      privacyUrl: privacyUrl(c),
    });
  const form = parsed.data;
  const errors: FieldErrors = {};
  const w = new Phrases(c.tenant).w;
  const address = form.email.trim();
  if (!EMAIL.safeParse(address).success || address.length > 254) errors.email = PAGE_WORDS.emailInvalid;
  const track = (SIGNUP_TRACKS as readonly string[]).includes(form.track)
    ? (form.track as (typeof SIGNUP_TRACKS)[number])
    : undefined;
  if (!track) errors.track = PAGE_WORDS.trackMissing;
  if (track === 'maternity' || track === 'childcare') {
    const kind = track === 'maternity' ? 'due-date' : 'birthday';
    const checked = lifecycle.checkDate(c.today, kind, form.date.trim());
    if (!form.date.trim()) errors.date = PAGE_WORDS.dateMissing;
    else if (checked === 'not-a-date') errors.date = w.notADate.replace(/お手数ですが.*$/, '').trim();
    else if (checked === 'out-of-range')
      errors.date = track === 'maternity' ? w.dueDateOutOfRange : w.birthdayOutOfRange;
  }
  const inviteCode = form.inviteCode.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
  let invite: Invite | null = null;
  if (track === 'partner') {
    if (!inviteCode) errors.inviteCode = PAGE_WORDS.inviteMissing;
    else if (
      !/^[A-Z0-9]{4,12}$/.test(inviteCode) ||
      !(invite = await currentInvite(c.tenant, inviteCode, c.today, deps))
    )
      errors.inviteCode = w.inviteCodeUnknown;
  }
  const nickname = form.nickname.trim() ? lifecycle.sanitizeNickname(form.nickname) : undefined;
  if (form.nickname.trim() && !nickname) errors.nickname = PAGE_WORDS.nicknameInvalid;
  if (form.consent !== 'yes') errors.consent = PAGE_WORDS.consentMissing;
  if (Object.keys(errors).length > 0 || !track)
    return c.result(400, { page: 'signup', form, errors, privacyUrl: privacyUrl(c) });

  const readerKey = (await deps.readerKeys.get()).email(address);
  const keys = await deps.tokenKeys.get();
  const state = await deps.readers.load(c.tenant.tenantId, readerKey);
  // Someone may type another person's address: the page says the same either way, and only the owner of the
  // address learns (by mail) that it is registered.
  if (state.subscriptions.some(live)) {
    const tokenVersion = tokenVersionOf(state.subscriptions);
    if (tokenVersion) {
      const links = linksFor(c, keys, readerKey, tokenVersion);
      await sendMail(
        c,
        address,
        PAGE_WORDS.alreadySubject,
        fill(PAGE_WORDS.alreadyBody, { url: links.preferencesUrl }),
      );
    }
    return c.result(200, { page: 'check-inbox' });
  }
  // A form posted again and again (a double click, or someone mail-bombing an address through us) mails once a
  // window: within it the first link stays the one that works, and nothing changes.
  const pendingSince = state.pendingSignup && state.pendingSignup.expiresAt - PENDING_SIGNUP_SECONDS;
  if (pendingSince !== undefined && c.nowSeconds - pendingSince < SIGNUP_RESEND_SECONDS)
    return c.result(200, { page: 'check-inbox' });
  const jti = newJti();
  const pending: PendingSignup = PendingSignupSchema.parse({
    jti,
    address,
    track: track === 'partner' ? invite!.track : track,
    anchorDate: track === 'partner' ? invite!.anchorDate : form.date.trim(),
    nickname: track === 'partner' ? undefined : nickname,
    inviteCode: track === 'partner' ? inviteCode : undefined,
    expiresAt: c.nowSeconds + PENDING_SIGNUP_SECONDS,
  });
  await commit(c, readerKey, state, { pendingSignup: { put: pending } }, `email-signup:${jti}`);
  const token = signEmailToken(keys, {
    tenantId: c.tenant.tenantId,
    readerKey,
    purpose: 'confirm',
    tokenVersion: 'pending',
    now: c.nowSeconds,
    jti,
  });
  await sendMail(
    c,
    address,
    PAGE_WORDS.confirmSubject,
    fill(PAGE_WORDS.confirmBody, { url: confirmUrl(c.baseUrl, c.tenant.tenantId, token) }),
  );
  return c.result(200, { page: 'check-inbox' });
}

// ---- tokens ----

interface Authorised {
  c: Context;
  claims: TokenClaims;
  keys: TokenKeyring;
  state: ReaderState;
}

async function authorise(
  req: PageRequest,
  purpose: TokenPurpose,
  deps: EmailPagesDeps,
): Promise<Authorised | PageResult> {
  const c = await context(req.tenantId, deps);
  if (isResult(c)) return c;
  if (Buffer.byteLength(req.body ?? '') > MAX_FORM_BYTES) return c.problem('too-large');
  const keys = await deps.tokenKeys.get();
  const verified = verifyEmailToken(keys, req.token, { tenantId: c.tenant.tenantId, purpose, now: c.nowSeconds });
  if (!verified.ok) return c.problem(verified.reason);
  const state = await deps.readers.load(c.tenant.tenantId, verified.claims.readerKey);
  const standing = checkStanding(verified.claims, {
    tokenVersion: tokenVersionOf(state.subscriptions),
    pendingJti: state.pendingSignup?.jti,
  });
  if (standing !== 'ok') return c.problem(standing);
  return { c, claims: verified.claims, keys, state };
}

/** The reader's token version: the same on all their subscriptions (every write sets it on all of them). */
function tokenVersionOf(subs: Subscription[]): string | undefined {
  return subs.find((s) => s.tokenVersion !== undefined)?.tokenVersion;
}

function linksFor(c: Context, keys: TokenKeyring, readerKey: string, tokenVersion: string): EmailLinks {
  return emailLinks(keys, {
    baseUrl: c.baseUrl,
    tenantId: c.tenant.tenantId,
    readerKey,
    tokenVersion,
    now: c.nowSeconds,
  });
}

// ---- confirm ----

export async function showConfirm(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  const a = await authorise(req, 'confirm', deps);
  if (!('claims' in a)) return a;
  // A GET never confirms: mail scanners open every link.
  return a.c.result(200, { page: 'confirm', token: req.token! });
}

export async function confirmSignup(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  return withRetries(deps, async () => {
    const a = await authorise(req, 'confirm', deps);
    if (!('claims' in a)) return a;
    const { c, claims, keys, state } = a;
    const pending = state.pendingSignup!;
    const reader = readerOf(c, claims.readerKey, pending.address, state);
    let sub: Subscription | undefined;
    let invite: Invite | null = null;
    if (pending.inviteCode) {
      invite = await currentInvite(c.tenant, pending.inviteCode, c.today, deps);
      sub = lifecycle.joinFamily(reader, invite);
      if (!sub) return c.problem('invite-gone');
    } else sub = lifecycle.register(reader, pending.track, pending.anchorDate, pending.nickname);
    const tokenVersion = tokenVersionOf(state.subscriptions.filter(live)) ?? newTokenVersion();
    sub = { ...sub, tokenVersion };
    // Older subscriptions of the reader (stopped ones, kept for the retention period) take the new version, so
    // that the reader's version is one; their old links stay revoked.
    // Signing up anew is what ends a suppression (SES bounces, complaints): see domain/suppression.ts.
    const others = state.subscriptions.map((s) => ({ ...clearSuppression(s), tokenVersion }));
    const committed = await commit(
      c,
      claims.readerKey,
      state,
      {
        puts: [{ subscription: sub, isNew: true }, ...others.map((s) => ({ subscription: s, isNew: false }))],
        pendingSignup: { consume: pending.jti },
        redeemedInvite: invite ? invite.code : undefined,
      },
      `email-confirm:${pending.jti}`,
    );
    if (!committed) return c.problem('reused');
    // From now on a late SES event about a mail sent before this sign-up changes nothing.
    await deps.suppressions?.clear(c.tenant.tenantId, claims.readerKey, c.now.getTime());
    const links = linksFor(c, keys, claims.readerKey, tokenVersion);
    const texts = await todaysTexts(c, sub);
    if (texts.length > 0) await sendMail(c, pending.address, PAGE_WORDS.todaySubject, texts.join('\n\n'), links);
    const p = new Phrases(c.tenant);
    return c.result(200, {
      page: 'confirmed',
      label: p.describe(sub),
      todaysTexts: texts,
      preferencesUrl: links.preferencesUrl,
    });
  });
}

async function todaysTexts(c: Context, sub: Subscription): Promise<string[]> {
  const items = await c.deps.content.getLibrary(c.tenant.library);
  return packMessages(
    resolveSubscription({ ...sub, registeredOn: c.today }, c.today, {
      tenant: c.tenant,
      library: libraryIndexFor(items),
    }),
  );
}

// ---- preferences ----

export async function showPreferences(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  const a = await authorise(req, 'preferences', deps);
  if (!('claims' in a)) return a;
  const inquiries = inquiriesEnabled(a.c.tenant, deps)
    ? { inquiries: { threads: await shownThreads(a.c.tenant, a.claims.readerKey, deps.inquiries!) } }
    : {};
  return a.c.result(200, preferencesView(a, req.token!, inquiries));
}

function preferencesView(
  a: Authorised,
  token: string,
  extra: Partial<Extract<View, { page: 'preferences' }>>,
  subs = a.state.subscriptions,
): View {
  const { c } = a;
  const p = new Phrases(c.tenant);
  const today = c.today;
  const shown = subs
    .filter((s) => live(s))
    .map((s): ShownSubscription => ({
      subscriptionId: s.subscriptionId,
      label: p.describe(s),
      track: s.track,
      status: s.status,
      onPause: lifecycle.onPause(s, today),
      ...(s.pausedUntil ? { pausedUntil: s.pausedUntil } : {}),
      ...(s.nickname ? { nickname: s.nickname } : {}),
      anchorDate: s.anchorDate,
    }));
  const reader = readerOf(c, a.claims.readerKey, '', { ...a.state, subscriptions: subs });
  const lost = subs.some((s) => s.status === 'lost');
  return {
    page: 'preferences',
    token,
    subscriptions: shown,
    lostLine: lost,
    supportOffer: lost && !lifecycle.hasLiveSupport(reader),
    canResume: lifecycle.resume(reader).resumable,
    canPause: subs.some((s) => s.status === 'active'),
    errors: {},
    ...(lost ? { contacts: p.contacts() } : {}),
    ...(c.tenant.line.enabled && c.tenant.line.friendUrl ? { friendUrl: c.tenant.line.friendUrl } : {}),
    ranges: {
      dueDate: lifecycle.dateRange(today, 'due-date'),
      birthday: lifecycle.dateRange(today, 'birthday'),
      birthDate: lifecycle.dateRange(today, 'birth-date'),
    },
    ...extra,
  };
}

/**
 * One form of the preferences page. Anything unexpected (an unknown action, a registration that is not the
 * reader's, a date out of range) shows the page again with the error next to its field and changes nothing.
 */
export async function submitPreferences(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  return withRetries(deps, async () => {
    const a = await authorise(req, 'preferences', deps);
    if (!('claims' in a)) return a;
    const { c, claims, state } = a;
    const token = req.token!;
    const parsed = PreferencesFormSchema.safeParse(parseForm(req.body));
    if (!parsed.success) return c.result(400, preferencesView(a, token, { notice: undefined }));
    const f = parsed.data;
    const p = new Phrases(c.tenant);
    const w = p.w;
    const address = state.subscriptions.find((s) => s.channel === 'email')?.address ?? '';
    const reader = readerOf(c, claims.readerKey, address, state);
    const tokenVersion = tokenVersionOf(state.subscriptions)!;
    const invalid = (field: string, message: string) =>
      c.result(400, preferencesView(a, token, { errors: { [field]: message }, form: f }));
    const sub = f.subscriptionId ? lifecycle.liveSubscription(reader, f.subscriptionId) : undefined;
    const needsSub = ['change-date', 'change-nickname', 'birth', 'invite', 'loss'].includes(f.action);
    if (needsSub && (!sub || sub.track === 'support')) return invalid('subscriptionId', PAGE_WORDS.subscriptionMissing);
    const save = (changes: Change[], more: Partial<ReaderWrite> = {}) =>
      storeChanges(c, claims.readerKey, state, changes, tokenVersion, more);
    const done = (message: string, extra: Partial<Extract<View, { page: 'done' }>> = {}) =>
      c.result(200, { page: 'done', message, token, ...extra });

    switch (f.action) {
      case 'change-date': {
        const kind = lifecycle.dateKindOf(sub!.track);
        const checked = lifecycle.checkDate(c.today, kind, f.date);
        if (checked !== 'ok')
          return invalid(
            `date-${sub!.subscriptionId}`,
            checked === 'not-a-date'
              ? PAGE_WORDS.dateMissing
              : kind === 'due-date'
                ? w.dueDateOutOfRange
                : w.birthdayOutOfRange,
          );
        await save([
          ...lifecycle.changeDate(sub!, f.date),
          {
            type: 'notify',
            familyId: sub!.familyId,
            message: {
              type: 'text',
              text: p.fill(sub!.track === 'maternity' ? w.dueDateChangedNotice : w.birthdayChangedNotice, {
                date: japaneseDate(f.date),
              }),
            },
          },
        ]);
        return done(p.fill(w.updated, { label: p.describe({ ...sub!, anchorDate: f.date }) }));
      }
      case 'change-nickname': {
        const nickname = f.nickname.trim() ? lifecycle.sanitizeNickname(f.nickname) : undefined;
        if (f.nickname.trim() && !nickname)
          return invalid(`nickname-${sub!.subscriptionId}`, PAGE_WORDS.nicknameInvalid);
        const changed = lifecycle.changeNickname(sub!, nickname);
        await save([{ type: 'put', subscription: changed }]);
        return done(p.fill(w.updated, { label: p.describe(changed) }));
      }
      case 'add': {
        const track = f.track === 'maternity' || f.track === 'childcare' ? f.track : undefined;
        if (!track) return invalid('add-track', PAGE_WORDS.trackMissing);
        const checked = lifecycle.checkDate(c.today, lifecycle.dateKindOf(track), f.date);
        if (checked !== 'ok')
          return invalid(
            'add-date',
            checked === 'not-a-date'
              ? PAGE_WORDS.dateMissing
              : track === 'maternity'
                ? w.dueDateOutOfRange
                : w.birthdayOutOfRange,
          );
        const nickname = f.nickname.trim() ? lifecycle.sanitizeNickname(f.nickname) : undefined;
        if (f.nickname.trim() && !nickname) return invalid('add-nickname', PAGE_WORDS.nicknameInvalid);
        const added = lifecycle.register(reader, track, f.date, nickname);
        await save([{ type: 'put', subscription: added }]);
        return done(fill(PAGE_WORDS.added, { label: p.describe(added) }));
      }
      case 'birth': {
        if (sub!.track !== 'maternity') return invalid('subscriptionId', w.noPregnancy);
        const checked = lifecycle.checkDate(c.today, 'birth-date', f.date);
        if (checked !== 'ok')
          return invalid(
            `birth-${sub!.subscriptionId}`,
            checked === 'not-a-date' ? PAGE_WORDS.dateMissing : w.birthDateOutOfRange,
          );
        const { born, changes } = lifecycle.birth(reader, sub!, f.date);
        await save([
          ...changes,
          {
            type: 'notify',
            familyId: sub!.familyId,
            message: { type: 'text', text: p.fill(w.birthNotice, { date: japaneseDate(f.date) }) },
          },
        ]);
        return done(p.fill(w.birthRecorded, { label: p.describe(born) }));
      }
      case 'pause': {
        const period = f.period === 'week' || f.period === 'month' || f.period === 'resumed' ? f.period : undefined;
        if (!period) return invalid('period', PAGE_WORDS.trackMissing);
        const r = lifecycle.pause(reader, period);
        if (r.outcome !== 'paused')
          return done(r.outcome === 'paused-already' ? PAGE_WORDS.pausedAlready : w.nothingToPause);
        await save(r.puts.map((s) => ({ type: 'put', subscription: s })));
        return done(r.until ? fill(PAGE_WORDS.paused, { date: japaneseDate(r.until) }) : PAGE_WORDS.pausedIndefinitely);
      }
      case 'resume': {
        const r = lifecycle.resume(reader);
        if (!r.resumable) return done(w.nothingToResume);
        await save(r.puts.map((s) => ({ type: 'put', subscription: s })));
        return done(w.resumed);
      }
      case 'invite': {
        const code = (deps.newInviteCode ?? newInviteCode)();
        const invite = lifecycle.invite(reader, sub!, code);
        await save([{ type: 'invite', invite }]);
        return c.result(
          200,
          preferencesView(a, token, {
            invite: {
              code,
              expiresOn: invite.expiresOn,
              signupUrl: `${c.baseUrl.replace(/\/$/, '')}/email/${c.tenant.tenantId}/signup`,
            },
          }),
        );
      }
      case 'loss': {
        if (f.confirm !== 'yes')
          return c.result(200, {
            page: 'ask',
            token,
            question: `${w.lossAcknowledge}\n${p.fill(w.askLossConfirm, { label: p.describe(sub!) })}`,
            action: 'loss',
            fields: { subscriptionId: sub!.subscriptionId, confirm: 'yes' },
            yes: w.lossStop,
            no: w.lossKeep,
          });
        await save([
          ...lifecycle.loss(sub!),
          { type: 'notify', familyId: sub!.familyId, message: p.lossNotice(sub!.familyId) },
        ]);
        return done(w.lossRecorded, { contacts: p.contacts(), supportOffer: true });
      }
      case 'loss-support': {
        if (!state.subscriptions.some((s) => s.status === 'lost')) return invalid('subscriptionId', w.cancelled);
        if (f.confirm !== 'yes') return done(w.lossSupportDeclined);
        const support = lifecycle.startSupport(reader);
        if (support) await save([{ type: 'put', subscription: support }]);
        return done(w.lossSupportAccepted.replace(/いつでも.*$/, '').trim());
      }
      case 'stop': {
        if (f.confirm !== 'yes')
          return c.result(200, {
            page: 'ask',
            token,
            question: w.askStop.replace(/データの削除も選べます。/, ''),
            action: 'stop',
            fields: { confirm: 'yes' },
            yes: w.stopOnly,
            no: w.stopKeep,
          });
        await stopAll(c, claims.readerKey, state, reader);
        return c.result(200, { page: 'done', message: PAGE_WORDS.stopped });
      }
      case 'delete': {
        // Confirmed twice: the first answer asks again, only the second deletes.
        if (f.confirm !== 'yes')
          return c.result(200, {
            page: 'ask',
            token,
            question: w.askDelete,
            action: 'delete',
            fields: { confirm: 'yes' },
            yes: w.deleteYes,
            no: w.deleteKeep,
          });
        if (f.confirmAgain !== 'yes')
          return c.result(200, {
            page: 'ask',
            token,
            question: `${w.askDelete}\n（最終確認）`,
            action: 'delete',
            fields: { confirm: 'yes', confirmAgain: 'yes' },
            yes: w.deleteYes,
            no: w.deleteKeep,
          });
        await save(lifecycle.deleteReader(), { deleteReader: true });
        return c.result(200, { page: 'done', message: w.deleted });
      }
      case 'inquiry-faq':
      case 'inquiry-send': {
        if (!inquiriesEnabled(c.tenant, deps) || !address)
          return c.result(404, { page: 'problem', reason: 'not-found' });
        const out =
          f.action === 'inquiry-faq'
            ? inquiryFaq(c.tenant, f.text)
            : await sendInquiryFromPage(
                c.tenant,
                { readerKey: claims.readerKey, address },
                { text: f.text, submissionId: f.submissionId },
                deps.inquiries!,
              );
        if (out.kind === 'invalid')
          return c.result(
            400,
            preferencesView(a, token, {
              errors: { 'inquiry-text': out.error },
              form: f,
              inquiries: { threads: await shownThreads(c.tenant, claims.readerKey, deps.inquiries!) },
            }),
          );
        if (out.kind === 'faq') return c.result(200, { page: 'inquiry-faq', token, ...out });
        await sendMail(c, address, INQUIRY_PAGE_WORDS.ackSubject, out.message);
        return c.result(200, { page: 'done', title: 'お問い合わせを受け付けました', message: out.message, token });
      }
      case 'revoke': {
        const fresh = newTokenVersion();
        await storeChanges(c, claims.readerKey, state, [], fresh);
        const links = linksFor(c, a.keys, claims.readerKey, fresh);
        await sendMail(c, address, PAGE_WORDS.linksSubject, fill(PAGE_WORDS.linksBody, { url: links.preferencesUrl }));
        return c.result(200, { page: 'done', message: PAGE_WORDS.revoked });
      }
    }
  });
}

// ---- unsubscribe ----

export async function showUnsubscribe(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  const a = await authorise(req, 'unsubscribe', deps);
  if (!('claims' in a)) return a.view.page === 'problem' && a.view.reason === 'revoked' ? unsubscribedAlready(a) : a;
  return a.c.result(200, { page: 'unsubscribe', token: req.token! });
}

/**
 * RFC 8058 one-click: a POST whose body is `List-Unsubscribe=One-Click` stops every subscription of the reader
 * at once (no cookie, no page to press). The GET page's button sends the same body. A repeated POST (mail
 * providers retry) finds the links revoked by the first and answers the same.
 */
export async function unsubscribe(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  return withRetries(deps, async () => {
    const a = await authorise(req, 'unsubscribe', deps);
    if (!('claims' in a)) return a.view.page === 'problem' && a.view.reason === 'revoked' ? unsubscribedAlready(a) : a;
    const { c, claims, state } = a;
    const form = parseForm(req.body);
    if (form['List-Unsubscribe'] !== ONE_CLICK_BODY.split('=')[1]) return c.problem('bad-request');
    const address = state.subscriptions.find((s) => s.channel === 'email')?.address ?? '';
    await stopAll(c, claims.readerKey, state, readerOf(c, claims.readerKey, address, state));
    return c.result(200, { page: 'unsubscribed' });
  });
}

/** Revoked means: stopped (or deleted) already; the answer to a repeated unsubscribe is the same page. */
function unsubscribedAlready(r: PageResult): PageResult {
  return { ...r, status: 200, view: { page: 'unsubscribed' } };
}

/** Stops every live subscription and revokes every link mailed so far (a new token version on all of them). */
async function stopAll(c: Context, readerKey: string, state: ReaderState, reader: Reader): Promise<void> {
  await storeChanges(
    c,
    readerKey,
    state,
    lifecycle.stop(reader).map((s) => ({ type: 'put', subscription: s })),
    newTokenVersion(),
  );
}

// ---- storing ----

function readerOf(c: Context, readerKey: string, address: string, state: ReaderState): Reader {
  return {
    tenantId: c.tenant.tenantId,
    readerKey,
    channel: 'email',
    address,
    today: c.today,
    subscriptions: state.subscriptions,
    newId: c.deps.newId ?? randomUUID,
  };
}

/**
 * Stores a lifecycle step as the webhook does: the reader's own puts (each versioned), the family's members
 * following (a birth, a date, a loss), invites, and the change markers, in one transaction. Every subscription
 * of the reader carries `tokenVersion` afterwards. Family members on LINE are not told from here (yet): their
 * subscriptions change, and the LINE menu shows the new state.
 */
async function storeChanges(
  c: Context,
  readerKey: string,
  state: ReaderState,
  changes: Change[],
  tokenVersion: string,
  more: Partial<ReaderWrite> = {},
): Promise<void> {
  const members = await familiesOf(c.tenant, changes, c.deps);
  const stored = new Set(state.subscriptions.map((s) => s.subscriptionId));
  const own = new Map<string, Subscription>(state.subscriptions.map((s) => [s.subscriptionId, s]));
  const changed = new Set<string>();
  for (const ch of changes)
    if (ch.type === 'put') {
      own.set(ch.subscription.subscriptionId, ch.subscription);
      changed.add(ch.subscription.subscriptionId);
    }
  const puts: SubscriptionPut[] = [];
  for (const s of own.values()) {
    // Untouched subscriptions are written only when the token version changes (a stop, a revocation).
    if (!changed.has(s.subscriptionId) && s.tokenVersion === tokenVersion) continue;
    puts.push({
      subscription: withRetention({ ...s, tokenVersion }, c.today, c.tenant),
      isNew: !stored.has(s.subscriptionId),
    });
  }
  for (const ch of changes)
    if (ch.type === 'family')
      for (const s of familyPuts(readerKey, ch, members.get(ch.familyId)!))
        if (
          !puts.some(
            (p) => p.subscription.readerKey === s.readerKey && p.subscription.subscriptionId === s.subscriptionId,
          )
        )
          puts.push({ subscription: withRetention(s, c.today, c.tenant), isNew: false });
  // Who is told is decided on the family as it was before the change (a loss makes everyone "lost").
  const notices = changes.flatMap((ch) =>
    ch.type === 'notify'
      ? noticeRecipients(readerKey, members.get(ch.familyId)!).map((to) => ({ to, text: ch.message.text }))
      : [],
  );
  const eventId = `email:${randomUUID()}`;
  const committed = await commit(
    c,
    readerKey,
    state,
    { puts, invites: changes.flatMap((ch) => (ch.type === 'invite' ? [ch.invite] : [])), ...more },
    eventId,
  );
  if (committed) await tellFamily(c, notices, eventId);
}

/** Fixed, so that the retry keys of notices are stable across deployments (not the webhook's namespace). */
const NOTICE_KEY_NAMESPACE = '8d7c2f4e-1b0a-4f61-9a7e-3c5d2e1f0a9b';

/**
 * The other members of the family hear of a birth, a new date or a loss on their own channel: a LINE push, or a
 * mail with their own links. A lost notice is counted, never a failed page: the change is stored.
 */
async function tellFamily(c: Context, notices: { to: Subscription; text: string }[], eventId: string) {
  if (notices.length === 0) return;
  const keys = await c.deps.tokenKeys.get();
  for (const [n, { to, text }] of notices.entries()) {
    try {
      if (to.channel === 'line') {
        if (!c.deps.line || !c.tenant.line.enabled) continue;
        const line = await c.deps.line.forTenant(c.tenant);
        await line.push(
          to.address,
          [{ type: 'text', text }],
          uuidv5(`${c.tenant.tenantId}|${eventId}|${n}`, NOTICE_KEY_NAMESPACE),
        );
      } else if (to.tokenVersion) {
        await sendMail(
          c,
          to.address,
          FAMILY_NOTICE_SUBJECT(c.tenant.name),
          text,
          linksFor(c, keys, to.readerKey, to.tokenVersion),
        );
      }
    } catch (err) {
      c.deps.onMailFailed?.(err);
    }
  }
}

async function commit(
  c: Context,
  readerKey: string,
  state: ReaderState,
  w: Partial<ReaderWrite>,
  eventId = `email:${randomUUID()}`,
): Promise<boolean> {
  const deleting = w.deleteReader ?? false;
  return c.deps.readers.commit({
    tenantId: c.tenant.tenantId,
    readerKey,
    // Not a LINE event, but the same record: it makes the write single (a confirmation's id) and orders it.
    webhookEventId: eventId,
    eventAt: c.now.getTime(),
    lastEventAt: state.lastEventAt,
    changedOn: c.today,
    puts: deleting ? [] : (w.puts ?? []),
    invites: deleting ? [] : (w.invites ?? []),
    ...(w.redeemedInvite ? { redeemedInvite: w.redeemedInvite } : {}),
    ...(w.pendingSignup ? { pendingSignup: w.pendingSignup } : {}),
    dialog: undefined,
    deleteReader: deleting,
    ...(deleting && { surveyIds: tenantSurveys(c.tenant).map((s) => s.id) }),
  });
}

/** A concurrent change (the partner's loss, a second tab) fails the transaction: apply again to what is stored now. */
function withRetries<T>(deps: EmailPagesDeps, run: () => Promise<T>): Promise<T> {
  return backOff(run, {
    numOfAttempts: deps.maxAttempts ?? 5,
    startingDelay: deps.retryBaseMs ?? 20,
    maxDelay: 500,
    jitter: 'full',
    retry: (err: unknown) => err instanceof ConcurrentChangeError,
  });
}

/**
 * Through the daily mail's renderer (services/email-render.ts): text and HTML parts, and with the reader's links
 * (today's message) the visible links and the one-click List-Unsubscribe headers; without (the confirmation)
 * neither, since a transactional mail has nothing to unsubscribe from.
 */
async function sendMail(c: Context, to: string, subject: string, body: string, links?: EmailLinks): Promise<void> {
  const email = c.tenant.email!;
  const vars = { tenantName: c.tenant.name };
  try {
    const mail = renderMail({
      tenantName: c.tenant.name,
      subject: fill(subject, vars),
      paragraphs: body.split(/\n{2,}/),
      ...(links ? { links: { unsubscribe: links.unsubscribeUrl, preferences: links.preferencesUrl } } : {}),
    });
    await c.deps.mail.send({
      from: email.from,
      ...(email.fromName !== undefined && { fromName: email.fromName }),
      ...(email.replyTo !== undefined && { replyTo: email.replyTo }),
      to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      headers: mail.headers,
      tags: { tenant: c.tenant.tenantId, kind: links ? 'subscribed' : 'transactional' },
    });
  } catch (err) {
    // The sign-up or confirmation is stored: the page still answers, and the reader can sign up again.
    c.deps.onMailFailed?.(err);
  }
}
