import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { JwtVerifier } from 'aws-jwt-verify';
import type { AuditEntry, FollowUpStatus, StaffAlert } from '../../../schemas/console';
import type { Subscription } from '../../../schemas/subscription';
import { alertPage, auditPage, inbox, readerPage, type ConsoleDeps } from '../../../lambdas/services/console';
import { callback, signIn, type ConsoleRequest, type ConsoleResult } from '../../../lambdas/services/console-access';
import { SESSION_COOKIE, SIGN_IN_COOKIE, seal } from '../../../lambdas/services/console-session';
import type { AuditTrail, ConsoleStore, StaffIdentityProvider } from '../../../lambdas/services/ports';
import { renderConsole } from '../../../lambdas/web/console-pages';

/**
 * Authorisation of the staff console, through its use cases with in-memory stores and the real token verifier
 * (aws-jwt-verify) over a key pair made here. The tokens are built by hand in this test: it plays the identity
 * provider and the forger.
 */
const ISSUER = 'https://idp.test/pool';
const CLIENT_ID = 'console-client';
const BASE = 'https://console.test';
const SECRET = randomBytes(32).toString('hex');

const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const idpKeys = keyPair();
const forgerKeys = keyPair();
const jwk = { ...idpKeys.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };

function mint(claims: Record<string, unknown>, key: KeyObject = idpKeys.privateKey, kid = 'k1'): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: now,
    exp: now + 3600,
    ...claims,
  })}`;
  return `${head}.${sign('RSA-SHA256', Buffer.from(head), createPrivateKey(key.export({ format: 'pem', type: 'pkcs8' }))).toString('base64url')}`;
}

const staffA = { sub: 'sub-a', 'cognito:username': 'nurse-a', 'cognito:groups': ['town-a:staff'] };
const adminA = { sub: 'sub-a2', 'cognito:username': 'admin-a', 'cognito:groups': ['town-a:staff', 'town-a:admin'] };
const staffB = { sub: 'sub-b', 'cognito:username': 'nurse-b', 'cognito:groups': ['town-b:staff'] };

const HOUR = 3_600_000;

function world() {
  const now = Date.now();
  const alerts = new Map<string, StaffAlert>();
  const put = (a: StaffAlert) => alerts.set(`${a.tenantId}/${a.reference}`, a);
  put({
    reference: 'refA1',
    tenantId: 'town-a',
    readerKey: 'line:readerA1',
    instrument: 'EPDS',
    band: '9点以上',
    urgent: false,
    at: now - 30 * HOUR,
  });
  put({
    reference: 'refA2',
    tenantId: 'town-a',
    readerKey: 'line:readerA2',
    instrument: 'EPDS',
    band: '項目10',
    urgent: true,
    at: now - 2 * HOUR,
  });
  put({
    reference: 'refB1',
    tenantId: 'town-b',
    readerKey: 'line:readerB1',
    instrument: 'PHQ-9',
    band: '10点以上',
    urgent: true,
    at: now - 5 * HOUR,
  });
  const subscription: Subscription = {
    tenantId: 'town-a',
    readerKey: 'line:readerA2',
    subscriptionId: 's1',
    channel: 'line',
    address: 'U0123456789abcdef0123456789abcdef',
    track: 'childcare',
    anchorDate: '2026-11-01',
    audience: 'parent',
    nickname: 'はなこ',
    status: 'active',
    registeredOn: '2026-11-01',
    familyId: 'f1',
    bucket: 3,
    version: 1,
  };
  const audit: AuditEntry[] = [];
  const store: ConsoleStore = {
    alerts: async (t) => [...alerts.values()].filter((a) => a.tenantId === t),
    alert: async (t, r) => alerts.get(`${t}/${r}`),
    recordFollowUp: async (t, r, f: { by: string; at: number; followUp: FollowUpStatus }) => {
      const a = alerts.get(`${t}/${r}`);
      if (!a) return false;
      alerts.set(`${t}/${r}`, {
        ...a,
        acknowledgedAt: a.acknowledgedAt ?? f.at,
        acknowledgedBy: a.acknowledgedBy ?? f.by,
        followUp: f.followUp,
        followUpAt: f.at,
      });
      return true;
    },
    reader: async (t, k) =>
      t === 'town-a' && k === 'line:readerA2' ? { subscriptions: [subscription], screeningConsent: true } : undefined,
    counters: async () => [],
  };
  const trail: AuditTrail = {
    record: async (e) => {
      audit.push(e);
    },
    list: async (t) => audit.filter((e) => e.tenantId === t).reverse(),
  };
  const verifier = JwtVerifier.create({ issuer: ISSUER, audience: CLIENT_ID, jwksUri: 'https://idp.test/jwks' });
  verifier.cacheJwks({ keys: [jwk as never] });
  /** The codes this fake provider would answer with a token. */
  const codes = new Map<string, string>();
  const identity: StaffIdentityProvider = {
    authorizeUrl: (p) => `https://idp.test/authorize?${new URLSearchParams({ ...p }).toString()}`,
    exchangeCode: async ({ code }) => {
      const t = codes.get(code);
      if (!t) throw new Error('unknown code');
      return t;
    },
    logoutUrl: (r) => `https://idp.test/logout?to=${encodeURIComponent(r)}`,
    verifyIdToken: async (t) => await verifier.verify(t),
  };
  const deps: ConsoleDeps = {
    identity,
    store,
    audit: trail,
    sessionSecret: async () => SECRET,
    clock: { now: () => new Date() },
    baseUrl: BASE,
  };
  return { deps, alerts, audit, codes };
}

const req = (over: Partial<ConsoleRequest> & { path: string }): ConsoleRequest => ({
  method: 'GET',
  query: new URLSearchParams(),
  cookies: {},
  body: '',
  ...over,
});

const cookieValue = (r: ConsoleResult, name: string) =>
  r.cookies
    ?.find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0]!
    .slice(name.length + 1);

/** Through the real sign-in: redirect, the provider's callback with the code, the session cookie. */
async function signInAs(w: ReturnType<typeof world>, claims: Record<string, unknown>, opts: { nonce?: string } = {}) {
  const start = await signIn(req({ path: '/console/signin' }), w.deps);
  const to = new URL(start.location!);
  const code = randomBytes(8).toString('hex');
  w.codes.set(code, mint({ ...claims, nonce: opts.nonce ?? to.searchParams.get('nonce') }));
  const back = await callback(
    req({
      path: '/console/callback',
      query: new URLSearchParams({ code, state: to.searchParams.get('state')! }),
      cookies: { [SIGN_IN_COOKIE]: cookieValue(start, SIGN_IN_COOKIE)! },
    }),
    w.deps,
  );
  return { back, session: cookieValue(back, SESSION_COOKIE) };
}

async function sessionOf(w: ReturnType<typeof world>, claims: Record<string, unknown>) {
  const { session } = await signInAs(w, claims);
  expect(session).toBeTruthy();
  const page = await inbox(req({ path: '/console/inbox', cookies: { [SESSION_COOKIE]: session! } }), w.deps);
  return { cookies: { [SESSION_COOKIE]: session! }, csrf: page.csrf! };
}

describe('staff console: sign-in', () => {
  it('redirects with PKCE S256, state and nonce, and a sealed, Secure, HttpOnly, SameSite=Lax cookie', async () => {
    const w = world();
    const r = await signIn(req({ path: '/console/signin' }), w.deps);
    expect(r.status).toBe(302);
    const to = new URL(r.location!);
    expect(to.searchParams.get('codeChallenge') ?? to.searchParams.get('code_challenge')).toMatch(
      /^[A-Za-z0-9_-]{43}$/,
    );
    expect(to.searchParams.get('redirectUri')).toBe(`${BASE}/console/callback`);
    const cookie = r.cookies!.find((c) => c.startsWith(`${SIGN_IN_COOKIE}=`))!;
    expect(cookie).toMatch(/; Secure; HttpOnly; SameSite=Lax$/);
    expect(cookie).toContain('Path=/console');
    // The verifier is sealed: it is not readable in the cookie.
    expect(cookie).not.toContain(to.searchParams.get('state')!);
  });

  it('a valid sign-in gives a session that expires with the token and shows only the own tenant', async () => {
    const w = world();
    const { back, session } = await signInAs(w, staffA);
    expect(back.status).toBe(302);
    expect(back.location).toBe(`${BASE}/console/inbox`);
    const cookie = back.cookies!.find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)![1]);
    expect(maxAge).toBeGreaterThan(3500);
    expect(maxAge).toBeLessThanOrEqual(3600);
    const page = await inbox(req({ path: '/console/inbox', cookies: { [SESSION_COOKIE]: session! } }), w.deps);
    expect(page.status).toBe(200);
    if (page.view?.page !== 'inbox') throw new Error('not the inbox');
    // Urgent and unacknowledged first, then by age; town-b's alert is not there.
    expect(page.view.alerts.map((a) => a.reference)).toEqual(['refA2', 'refA1']);
    expect(page.view.alerts.map((a) => a.ageHours)).toEqual([2, 30]);
    expect(page.staff).toEqual({ sub: 'sub-a', username: 'nurse-a', tenantId: 'town-a', role: 'staff' });
  });

  it.each([
    ['a token signed with another key', () => mint(staffA, forgerKeys.privateKey)],
    ['an expired token', () => mint({ ...staffA, exp: Math.floor(Date.now() / 1000) - 60 })],
    ['a token of another issuer', () => mint({ ...staffA, iss: 'https://evil.test' })],
    ['a token for another client', () => mint({ ...staffA, aud: 'other-client' })],
  ])('the callback refuses %s and starts no session', async (_label, token) => {
    const w = world();
    const start = await signIn(req({ path: '/console/signin' }), w.deps);
    const to = new URL(start.location!);
    w.codes.set('c', token());
    const back = await callback(
      req({
        path: '/console/callback',
        query: new URLSearchParams({ code: 'c', state: to.searchParams.get('state')! }),
        cookies: { [SIGN_IN_COOKIE]: cookieValue(start, SIGN_IN_COOKIE)! },
      }),
      w.deps,
    );
    expect(back.status).toBe(400);
    expect(cookieValue(back, SESSION_COOKIE)).toBeUndefined();
  });

  it('refuses a wrong state, a replayed nonce, and a user of no staff group or of two tenants', async () => {
    const w = world();
    const start = await signIn(req({ path: '/console/signin' }), w.deps);
    w.codes.set('c', mint({ ...staffA, nonce: new URL(start.location!).searchParams.get('nonce') }));
    const wrongState = await callback(
      req({
        path: '/console/callback',
        query: new URLSearchParams({ code: 'c', state: 'x'.repeat(43) }),
        cookies: { [SIGN_IN_COOKIE]: cookieValue(start, SIGN_IN_COOKIE)! },
      }),
      w.deps,
    );
    expect(wrongState.status).toBe(400);
    expect((await signInAs(w, staffA, { nonce: 'n'.repeat(43) })).back.status).toBe(400);
    expect((await signInAs(w, { sub: 'x', 'cognito:groups': ['someone-else'] })).back.status).toBe(403);
    const two = await signInAs(w, { sub: 'x', 'cognito:groups': ['town-a:staff', 'town-b:staff'] });
    expect(two.back.status).toBe(403);
    expect(two.session).toBeUndefined();
  });
});

describe('staff console: every request is authorised from the token', () => {
  it.each([
    ['no cookie', async () => undefined],
    ['a tampered cookie', async () => 'Fe26.2**' + randomBytes(40).toString('base64url')],
    [
      'a session (sealed with our secret) holding a forged token',
      async () =>
        seal(
          { idToken: mint(staffA, forgerKeys.privateKey), csrf: 'c'.repeat(43), expiresAt: Date.now() + HOUR },
          SECRET,
          HOUR,
        ),
    ],
    [
      'a session holding an expired token',
      async () =>
        seal(
          {
            idToken: mint({ ...staffA, exp: Math.floor(Date.now() / 1000) - 1 }),
            csrf: 'c'.repeat(43),
            expiresAt: Date.now() + HOUR,
          },
          SECRET,
          HOUR,
        ),
    ],
    [
      'an expired session with a valid token',
      async () => seal({ idToken: mint(staffA), csrf: 'c'.repeat(43), expiresAt: Date.now() - 1 }, SECRET, HOUR),
    ],
    [
      'a session sealed with another secret',
      async () =>
        seal({ idToken: mint(staffA), csrf: 'c'.repeat(43), expiresAt: Date.now() + HOUR }, 'z'.repeat(64), HOUR),
    ],
  ])('%s: GET goes to sign-in, POST gets 401, nothing is read, written or audited', async (_label, cookie) => {
    const w = world();
    const value = await cookie();
    const cookies: Record<string, string> = value ? { [SESSION_COOKIE]: value } : {};
    const get = await alertPage(req({ path: '/console/alerts/refA1', cookies }), w.deps);
    expect(get.status).toBe(302);
    expect(get.location).toBe(`${BASE}/console/signin`);
    expect(get.view).toBeUndefined();
    const post = await alertPage(
      req({
        method: 'POST',
        path: '/console/alerts/refA1',
        cookies,
        body: 'csrf=' + 'c'.repeat(43) + '&followUp=closed',
      }),
      w.deps,
    );
    expect(post.status).toBe(401);
    expect(w.alerts.get('town-a/refA1')!.followUp).toBeUndefined();
    expect(w.audit).toEqual([]);
  });

  it("another tenant's alert or reader is 404, like an unknown id; nothing is written or audited", async () => {
    const w = world();
    const b = await sessionOf(w, staffB);
    for (const path of ['/console/alerts/refA1', '/console/alerts/nope', '/console/readers/line:readerA2'])
      expect(
        (await (path.includes('readers') ? readerPage : alertPage)(req({ path, cookies: b.cookies }), w.deps)).status,
      ).toBe(404);
    const post = await alertPage(
      req({
        method: 'POST',
        path: '/console/alerts/refA1',
        cookies: b.cookies,
        body: `csrf=${b.csrf}&followUp=closed`,
      }),
      w.deps,
    );
    expect(post.status).toBe(404);
    expect(w.alerts.get('town-a/refA1')!.acknowledgedAt).toBeUndefined();
    expect(w.audit).toEqual([]);
    // Their own alert is there.
    expect((await alertPage(req({ path: '/console/alerts/refB1', cookies: b.cookies }), w.deps)).status).toBe(200);
  });

  it.each([
    ['no CSRF token', (_csrf: string) => 'followUp=closed', undefined],
    ['a wrong CSRF token', (_csrf: string) => `csrf=${'x'.repeat(43)}&followUp=closed`, undefined],
    ['the right token from a foreign origin', (csrf: string) => `csrf=${csrf}&followUp=closed`, 'https://evil.test'],
  ])('a POST with %s is refused with 403 and changes nothing', async (_label, body, origin) => {
    const w = world();
    const a = await sessionOf(w, staffA);
    const before = JSON.stringify([...w.alerts]);
    const r = await alertPage(
      req({
        method: 'POST',
        path: '/console/alerts/refA1',
        cookies: a.cookies,
        body: body(a.csrf),
        ...(origin && { origin }),
      }),
      w.deps,
    );
    expect(r.status).toBe(403);
    expect(r.view).toEqual({ page: 'problem', problem: 'csrf' });
    expect(JSON.stringify([...w.alerts])).toBe(before);
    expect(w.audit).toEqual([]);
  });

  it('acknowledging records the follow-up and who did it; an invalid status is 400 and changes nothing', async () => {
    const w = world();
    const a = await sessionOf(w, staffA);
    const bad = await alertPage(
      req({
        method: 'POST',
        path: '/console/alerts/refA2',
        cookies: a.cookies,
        body: `csrf=${a.csrf}&followUp=ignored`,
      }),
      w.deps,
    );
    expect(bad.status).toBe(400);
    expect(w.alerts.get('town-a/refA2')!.followUp).toBeUndefined();
    const ok = await alertPage(
      req({
        method: 'POST',
        path: '/console/alerts/refA2',
        cookies: a.cookies,
        body: `csrf=${a.csrf}&followUp=visit-planned`,
        origin: BASE,
      }),
      w.deps,
    );
    expect(ok.status).toBe(303);
    expect(ok.location).toBe(`${BASE}/console/alerts/refA2`);
    expect(w.alerts.get('town-a/refA2')).toMatchObject({ followUp: 'visit-planned', acknowledgedBy: 'nurse-a' });
    expect(w.audit.map((e) => [e.action, e.readerRef, e.target, e.detail, e.staffSub])).toEqual([
      ['acknowledge-alert', 'line:readerA2', 'refA2', 'visit-planned', 'sub-a'],
    ]);
  });
});

describe('staff console: audit trail', () => {
  it("writes one entry per view of a reader's data (alert, reader page), none for the inbox list", async () => {
    const w = world();
    const a = await sessionOf(w, staffA);
    const auditedBefore = w.audit.length;
    await inbox(req({ path: '/console/inbox', cookies: a.cookies }), w.deps);
    expect(w.audit.length).toBe(auditedBefore);
    await alertPage(req({ path: '/console/alerts/refA2', cookies: a.cookies }), w.deps);
    await alertPage(req({ path: '/console/alerts/refA2', cookies: a.cookies }), w.deps);
    const reader = await readerPage(req({ path: '/console/readers/line:readerA2', cookies: a.cookies }), w.deps);
    expect(w.audit.map((e) => [e.tenantId, e.staffName, e.action, e.readerRef, e.target])).toEqual([
      ['town-a', 'nurse-a', 'view-alert', 'line:readerA2', 'refA2'],
      ['town-a', 'nurse-a', 'view-alert', 'line:readerA2', 'refA2'],
      ['town-a', 'nurse-a', 'view-reader', 'line:readerA2', undefined],
    ]);
    for (const e of w.audit) expect(Math.abs(e.at - Date.now())).toBeLessThan(60_000);
    // The reader page shows what staff need, not the address, nickname or dates.
    const html = renderConsole(reader).body!;
    expect(html).toContain('子育て期');
    for (const personal of ['U0123456789abcdef0123456789abcdef', 'はなこ', '2026-11-01'])
      expect(html).not.toContain(personal);
  });

  it("only admins read the audit trail, and only their own tenant's", async () => {
    const w = world();
    const a = await sessionOf(w, staffA);
    const b = await sessionOf(w, staffB);
    await alertPage(req({ path: '/console/alerts/refA1', cookies: a.cookies }), w.deps);
    await alertPage(req({ path: '/console/alerts/refB1', cookies: b.cookies }), w.deps);
    expect((await auditPage(req({ path: '/console/audit', cookies: a.cookies }), w.deps)).status).toBe(403);
    const admin = await sessionOf(w, adminA);
    const page = await auditPage(req({ path: '/console/audit', cookies: admin.cookies }), w.deps);
    expect(page.status).toBe(200);
    if (page.view?.page !== 'audit') throw new Error('not the audit page');
    expect(page.view.entries.map((e) => e.target)).toEqual(['refA1']);
  });
});

describe('staff console: pages', () => {
  it("every form carries the session's CSRF token; values are escaped", async () => {
    const w = world();
    w.alerts.set('town-a/refA1', { ...w.alerts.get('town-a/refA1')!, band: '<script>x</script>' });
    const a = await sessionOf(w, staffA);
    const html = renderConsole(
      await alertPage(req({ path: '/console/alerts/refA1', cookies: a.cookies }), w.deps),
    ).body!;
    const forms = html.match(/<form[\s\S]*?<\/form>/g)!;
    expect(forms.length).toBe(2);
    for (const f of forms) expect(f).toContain(`<input type="hidden" name="csrf" value="${a.csrf}">`);
    expect(html).not.toContain('<script>x');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('lang="ja"');
  });
});
