import type { IsoDate } from '../../schemas/common';
import {
  FOLLOW_UP_STATUSES,
  FollowUpFormSchema,
  SessionSchema,
  SignInStateSchema,
  type AuditAction,
  type AuditEntry,
  type FollowUpStatus,
  type Session,
  type Staff,
  type StaffAlert,
} from '../../schemas/console';
import type { ShardCounters } from '../../schemas/delivery';
import type { Track } from '../../schemas/common';
import { addDays, localDate, stageLabel } from '../domain';
import { addCounters, zeroCounters } from './counters';
import type { AuditTrail, Clock, ConsoleStore, StaffIdentityProvider } from './ports';
import {
  clearCookie,
  csrfMatches,
  pkceChallenge,
  randomToken,
  seal,
  SESSION_COOKIE,
  SESSION_MAX_MS,
  setCookie,
  SIGN_IN_COOKIE,
  SIGN_IN_MAX_MS,
  staffFromClaims,
  unseal,
} from './console-session';

/**
 * The staff console's use cases. Every page but sign-in authorises the request afresh: the sealed session
 * cookie must be intact and unexpired, the ID token inside it must verify (signature, issuer, audience, expiry)
 * and name one tenant's staff group; then only that tenant's data is read. An id of another tenant is simply not
 * found (404), the same answer as an id that does not exist, so ids cannot be probed across tenants.
 */
export interface ConsoleDeps {
  identity: StaffIdentityProvider;
  store: ConsoleStore;
  audit: AuditTrail;
  /** The secret that seals the cookies (Secrets Manager, cached by the caller). */
  sessionSecret: () => Promise<string>;
  clock: Clock;
  /** The console's public base URL (`https://.../console` has it as prefix): redirects and the Origin check. */
  baseUrl: string;
  /** The tenant's time zone for "today" (delivery counters). */
  timeZone?: (tenantId: string) => string;
}

export interface ConsoleRequest {
  method: string;
  /** The path, `/console/...`. */
  path: string;
  query: URLSearchParams;
  cookies: Record<string, string>;
  /** The raw form body. */
  body: string;
  /** The `Origin` header, when the browser sent one. */
  origin?: string;
}

export type Problem = 'not-found' | 'forbidden' | 'csrf' | 'session' | 'sign-in-failed' | 'bad-request';

export interface AlertRow extends StaffAlert {
  ageHours: number;
}

export type ConsoleView =
  | { page: 'inbox'; alerts: AlertRow[] }
  | { page: 'alert'; alert: AlertRow; statuses: readonly FollowUpStatus[] }
  | {
      page: 'reader';
      readerRef: string;
      subscriptions: { channel: string; track: Track; stage: string; status: string; audience: string }[];
      /** Present only when the reader consented to share screening results. */
      screening?: AlertRow[];
    }
  | { page: 'audit'; entries: AuditEntry[] }
  | { page: 'deliveries'; days: { date: IsoDate; counters: ShardCounters }[] }
  | { page: 'problem'; problem: Problem };

export interface ConsoleResult {
  status: number;
  /** Redirect target (303 after a POST, 302 otherwise). */
  location?: string;
  cookies?: string[];
  view?: ConsoleView;
  /** The signed-in staff member and the session's CSRF token, for the page's header and forms. */
  staff?: Staff;
  csrf?: string;
}

const problem = (status: number, p: Problem, extra: Partial<ConsoleResult> = {}): ConsoleResult => ({
  status,
  view: { page: 'problem', problem: p },
  ...extra,
});

const callbackUrl = (deps: ConsoleDeps) => `${deps.baseUrl}/console/callback`;

/** `GET /console/signin`: off to the identity provider, with PKCE, state and nonce sealed in a short cookie. */
export async function signIn(_req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  const state: { state: string; nonce: string; codeVerifier: string; expiresAt: number } = {
    state: randomToken(),
    nonce: randomToken(),
    codeVerifier: randomToken(48),
    expiresAt: deps.clock.now().getTime() + SIGN_IN_MAX_MS,
  };
  const sealed = await seal(state, await deps.sessionSecret(), SIGN_IN_MAX_MS);
  return {
    status: 302,
    location: deps.identity.authorizeUrl({
      redirectUri: callbackUrl(deps),
      state: state.state,
      nonce: state.nonce,
      codeChallenge: pkceChallenge(state.codeVerifier),
    }),
    cookies: [setCookie(SIGN_IN_COOKIE, sealed, SIGN_IN_MAX_MS / 1000)],
  };
}

/** `GET /console/callback?code&state`: the code for an ID token, checked, then the session. */
export async function callback(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  const secret = await deps.sessionSecret();
  const failed = () => problem(400, 'sign-in-failed', { cookies: [clearCookie(SIGN_IN_COOKIE)] });
  let pending;
  try {
    pending = await unseal(req.cookies[SIGN_IN_COOKIE], secret, SignInStateSchema);
  } catch {
    return failed();
  }
  const code = req.query.get('code');
  if (!code || !csrfMatches(pending.state, req.query.get('state')) || pending.expiresAt < deps.clock.now().getTime())
    return failed();
  let claims: Record<string, unknown>;
  let idToken: string;
  try {
    idToken = await deps.identity.exchangeCode({
      code,
      codeVerifier: pending.codeVerifier,
      redirectUri: callbackUrl(deps),
    });
    claims = await deps.identity.verifyIdToken(idToken);
  } catch {
    return failed();
  }
  // A token minted for another sign-in (replayed) carries another nonce.
  if (claims.nonce !== pending.nonce) return failed();
  try {
    staffFromClaims(claims);
  } catch {
    return problem(403, 'forbidden', { cookies: [clearCookie(SIGN_IN_COOKIE)] });
  }
  const now = deps.clock.now().getTime();
  const tokenExpiry = typeof claims.exp === 'number' ? claims.exp * 1000 : now;
  const session: Session = { idToken, csrf: randomToken(), expiresAt: Math.min(tokenExpiry, now + SESSION_MAX_MS) };
  const ttl = session.expiresAt - now;
  return {
    status: 302,
    location: `${deps.baseUrl}/console/inbox`,
    cookies: [clearCookie(SIGN_IN_COOKIE), setCookie(SESSION_COOKIE, await seal(session, secret, ttl), ttl / 1000)],
  };
}

interface Authorised {
  staff: Staff;
  session: Session;
}

/**
 * The staff member behind a request, or the answer to give instead: a GET without a valid session is sent to
 * sign in, anything else gets 401. A POST also needs the session's CSRF token in its form and, when the browser
 * names it, our own Origin.
 */
export async function authorise(req: ConsoleRequest, deps: ConsoleDeps): Promise<Authorised | ConsoleResult> {
  const unauthenticated = (): ConsoleResult =>
    req.method === 'GET'
      ? { status: 302, location: `${deps.baseUrl}/console/signin`, cookies: [clearCookie(SESSION_COOKIE)] }
      : problem(401, 'session', { cookies: [clearCookie(SESSION_COOKIE)] });
  let session: Session;
  let staff: Staff;
  try {
    session = await unseal(req.cookies[SESSION_COOKIE], await deps.sessionSecret(), SessionSchema);
    if (session.expiresAt <= deps.clock.now().getTime()) return unauthenticated();
    staff = staffFromClaims(await deps.identity.verifyIdToken(session.idToken));
  } catch {
    return unauthenticated();
  }
  if (req.method !== 'GET') {
    const form = new URLSearchParams(req.body);
    const originOk = req.origin === undefined || req.origin === new URL(deps.baseUrl).origin;
    if (!originOk || !csrfMatches(session.csrf, form.get('csrf'))) return problem(403, 'csrf', { staff });
  }
  return { staff, session };
}

const isResult = (a: Authorised | ConsoleResult): a is ConsoleResult => 'status' in a;

async function withStaff(
  req: ConsoleRequest,
  deps: ConsoleDeps,
  page: (a: Authorised) => Promise<ConsoleResult>,
): Promise<ConsoleResult> {
  const auth = await authorise(req, deps);
  if (isResult(auth)) return auth;
  const result = await page(auth);
  return { ...result, staff: auth.staff, csrf: auth.session.csrf };
}

/** `POST /console/signout`: the session is dropped here and at the identity provider. */
export async function signOut(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, () =>
    Promise.resolve({
      status: 303,
      location: deps.identity.logoutUrl(`${deps.baseUrl}/console/signin`),
      cookies: [clearCookie(SESSION_COOKIE)],
    }),
  );
}

const HOUR_MS = 3_600_000;
const withAge = (a: StaffAlert, now: number): AlertRow => ({ ...a, ageHours: Math.floor((now - a.at) / HOUR_MS) });

/** Open alerts first (urgent ones before the others), oldest first within each: the longest wait is on top. */
export function inboxOrder(alerts: readonly StaffAlert[]): StaffAlert[] {
  const rank = (a: StaffAlert) =>
    a.followUp === 'closed' ? 3 : a.acknowledgedAt === undefined ? (a.urgent ? 0 : 1) : 2;
  return [...alerts].sort((a, b) => rank(a) - rank(b) || a.at - b.at);
}

/** `GET /console/inbox`. Lists carry only references, instruments and ages: no reader's data, no audit line. */
export function inbox(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const now = deps.clock.now().getTime();
    const alerts = inboxOrder(await deps.store.alerts(staff.tenantId)).map((a) => withAge(a, now));
    return { status: 200, view: { page: 'inbox', alerts } };
  });
}

async function audit(
  deps: ConsoleDeps,
  staff: Staff,
  action: AuditAction,
  readerRef: string,
  extra: Pick<AuditEntry, 'target' | 'detail'> = {},
): Promise<void> {
  await deps.audit.record({
    tenantId: staff.tenantId,
    at: deps.clock.now().getTime(),
    staffSub: staff.sub,
    staffName: staff.username,
    action,
    readerRef,
    ...extra,
  });
}

const ALERT_PATH = /^\/console\/alerts\/([A-Za-z0-9_-]{1,128})$/;

/**
 * `GET /console/alerts/<reference>`: the alert, written to the audit trail before it is shown (a failed audit
 * write shows nothing). `POST` acknowledges it with a follow-up status.
 */
export function alertPage(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const reference = ALERT_PATH.exec(req.path)?.[1];
    const alert = reference ? await deps.store.alert(staff.tenantId, reference) : undefined;
    if (!alert) return problem(404, 'not-found');
    if (req.method === 'POST') {
      const form = FollowUpFormSchema.safeParse(Object.fromEntries(new URLSearchParams(req.body)));
      if (!form.success) return problem(400, 'bad-request');
      const at = deps.clock.now().getTime();
      if (
        !(await deps.store.recordFollowUp(staff.tenantId, alert.reference, {
          by: staff.username,
          at,
          followUp: form.data.followUp,
        }))
      )
        return problem(404, 'not-found');
      await audit(deps, staff, 'acknowledge-alert', alert.readerKey, {
        target: alert.reference,
        detail: form.data.followUp,
      });
      return { status: 303, location: `${deps.baseUrl}/console/alerts/${alert.reference}` };
    }
    await audit(deps, staff, 'view-alert', alert.readerKey, { target: alert.reference });
    return {
      status: 200,
      view: { page: 'alert', alert: withAge(alert, deps.clock.now().getTime()), statuses: FOLLOW_UP_STATUSES },
    };
  });
}

const READER_PATH = /^\/console\/readers\/((?:line|email)(?::|%3A)[A-Za-z0-9_-]{1,100})$/i;

/**
 * `GET /console/readers/<reference>`: what staff need and nothing more: channel, track and stage, status. No
 * address, nickname or dates. Screening history only with the reader's consent. Audited.
 */
export function readerPage(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const match = READER_PATH.exec(req.path)?.[1];
    const readerRef = match?.replace(/%3A/i, ':');
    const reader = readerRef ? await deps.store.reader(staff.tenantId, readerRef) : undefined;
    if (!readerRef || !reader || reader.subscriptions.length === 0) return problem(404, 'not-found');
    await audit(deps, staff, 'view-reader', readerRef);
    const now = deps.clock.now();
    const today = localDate(now, deps.timeZone?.(staff.tenantId) ?? 'Asia/Tokyo');
    const screening = reader.screeningConsent
      ? (await deps.store.alerts(staff.tenantId))
          .filter((a) => a.readerKey === readerRef)
          .sort((a, b) => b.at - a.at)
          .map((a) => withAge(a, now.getTime()))
      : undefined;
    return {
      status: 200,
      view: {
        page: 'reader',
        readerRef,
        subscriptions: reader.subscriptions.map((s) => ({
          channel: s.channel,
          track: s.track,
          stage: stageLabel(s.track, s.anchorDate, today),
          status: s.status,
          audience: s.audience,
        })),
        ...(screening && { screening }),
      },
    };
  });
}

export const AUDIT_PAGE_SIZE = 200;

/** `GET /console/audit`: the tenant's audit trail, newest first; admins only. */
export function auditPage(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    if (staff.role !== 'admin') return problem(403, 'forbidden');
    return { status: 200, view: { page: 'audit', entries: await deps.audit.list(staff.tenantId, AUDIT_PAGE_SIZE) } };
  });
}

export const DELIVERY_DAYS = 14;

/** `GET /console/deliveries`: the tenant's delivery counters (summed over shards) for the last two weeks. */
export function deliveriesPage(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const today = localDate(deps.clock.now(), deps.timeZone?.(staff.tenantId) ?? 'Asia/Tokyo');
    const days = [];
    for (let i = 0; i < DELIVERY_DAYS; i++) {
      const date = addDays(today, -i);
      const shards = await deps.store.counters(staff.tenantId, date);
      if (shards.length === 0) continue;
      const counters = shards.reduce((sum, c) => addCounters(sum, c), zeroCounters());
      days.push({ date, counters });
    }
    return { status: 200, view: { page: 'deliveries', days } };
  });
}
