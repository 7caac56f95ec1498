import {
  SessionSchema,
  SignInStateSchema,
  type AuditAction,
  type AuditEntry,
  type Session,
  type Staff,
} from '../../schemas/console';
import type { CoreView } from './console';
import type { InquiriesView } from './console-inquiries';
import type { KpiView } from './console-kpi';
import type { ResultsView } from './console-results';
import type { BroadcastsView } from './console-broadcasts';
import type { AuditTrail, Clock, StaffIdentityProvider } from './ports';
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
 * The staff console's shared plumbing: sign-in, sign-out, and the authorisation every page goes through. Every
 * page but sign-in authorises the request afresh: the sealed session cookie must be intact and unexpired, the ID
 * token inside it must verify (signature, issuer, audience, expiry) and name one tenant's staff group; then only
 * that tenant's data is read. An id of another tenant is simply not found (404), the same answer as an id that
 * does not exist, so ids cannot be probed across tenants.
 *
 * A page of its own (a concern of its own) lives in its own service file: it wraps its use case in `withStaff`,
 * records views and changes of a reader's data with `recordAudit`, adds its view type to `ConsoleView` below and
 * its template to lambdas/web/console-pages.ts.
 */
export interface ConsoleAccessDeps {
  identity: StaffIdentityProvider;
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

export type Problem = 'not-found' | 'forbidden' | 'csrf' | 'session' | 'sign-in-failed' | 'bad-request' | 'bad-month';

/** Every page the console renders; a page module adds its own view here (and its template to console-pages.ts). */
export type ConsoleView =
  CoreView | ResultsView | InquiriesView | BroadcastsView | KpiView | { page: 'problem'; problem: Problem };

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

export const problem = (status: number, p: Problem, extra: Partial<ConsoleResult> = {}): ConsoleResult => ({
  status,
  view: { page: 'problem', problem: p },
  ...extra,
});

const callbackUrl = (deps: ConsoleAccessDeps) => `${deps.baseUrl}/console/callback`;

/** `GET /console/signin`: off to the identity provider, with PKCE, state and nonce sealed in a short cookie. */
export async function signIn(_req: ConsoleRequest, deps: ConsoleAccessDeps): Promise<ConsoleResult> {
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
export async function callback(req: ConsoleRequest, deps: ConsoleAccessDeps): Promise<ConsoleResult> {
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

export interface Authorised {
  staff: Staff;
  session: Session;
}

/**
 * The staff member behind a request, or the answer to give instead: a GET without a valid session is sent to
 * sign in, anything else gets 401. A POST also needs the session's CSRF token in its form and, when the browser
 * names it, our own Origin.
 */
export async function authorise(req: ConsoleRequest, deps: ConsoleAccessDeps): Promise<Authorised | ConsoleResult> {
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

/** Runs a page for an authorised staff member (or answers as `authorise` says); the page gets the header's data. */
export async function withStaff(
  req: ConsoleRequest,
  deps: ConsoleAccessDeps,
  page: (a: Authorised) => Promise<ConsoleResult>,
): Promise<ConsoleResult> {
  const auth = await authorise(req, deps);
  if (isResult(auth)) return auth;
  const result = await page(auth);
  return { ...result, staff: auth.staff, csrf: auth.session.csrf };
}

/** `POST /console/signout`: the session is dropped here and at the identity provider. */
export async function signOut(req: ConsoleRequest, deps: ConsoleAccessDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, () =>
    Promise.resolve({
      status: 303,
      location: deps.identity.logoutUrl(`${deps.baseUrl}/console/signin`),
      cookies: [clearCookie(SESSION_COOKIE)],
    }),
  );
}

/** Writes one line of the audit trail (before the page shows anything: a failed write shows nothing). */
export async function recordAudit(
  deps: ConsoleAccessDeps,
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
