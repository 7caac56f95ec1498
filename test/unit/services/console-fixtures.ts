import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { JwtVerifier } from 'aws-jwt-verify';
import type { AuditEntry } from '../../../schemas/console';
import type { ConsoleAccessDeps, ConsoleRequest } from '../../../lambdas/services/console-access';
import { SESSION_COOKIE, seal } from '../../../lambdas/services/console-session';
import type { AuditTrail, StaffIdentityProvider } from '../../../lambdas/services/ports';

/**
 * What the console's page tests share: an identity provider of their own (a key pair made here, the real
 * aws-jwt-verify verifier), sessions sealed with the test's secret holding tokens it mints, an in-memory audit
 * trail. Sign-in itself is tested in console.test.ts; page tests start from a session.
 */
export const ISSUER = 'https://idp.test/pool';
export const CLIENT_ID = 'console-client';
export const BASE = 'https://console.test';
export const SECRET = randomBytes(32).toString('hex');
const HOUR = 3_600_000;

const idpKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...idpKeys.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };

export function mint(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64({
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: now,
    exp: now + 3600,
    ...claims,
  })}`;
  const key = createPrivateKey(idpKeys.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return `${head}.${sign('RSA-SHA256', Buffer.from(head), key).toString('base64url')}`;
}

export const staffA = { sub: 'sub-a', 'cognito:username': 'nurse-a', 'cognito:groups': ['town-a:staff'] };
export const staffB = { sub: 'sub-b', 'cognito:username': 'nurse-b', 'cognito:groups': ['town-b:staff'] };

export function accessDeps(): { deps: ConsoleAccessDeps; audit: AuditEntry[] } {
  const audit: AuditEntry[] = [];
  const trail: AuditTrail = {
    record: async (e) => {
      audit.push(e);
    },
    list: async (t) => audit.filter((e) => e.tenantId === t).reverse(),
  };
  const verifier = JwtVerifier.create({ issuer: ISSUER, audience: CLIENT_ID, jwksUri: 'https://idp.test/jwks' });
  verifier.cacheJwks({ keys: [jwk as never] });
  const identity: StaffIdentityProvider = {
    authorizeUrl: () => 'https://idp.test/authorize',
    exchangeCode: async () => {
      throw new Error('page tests do not sign in');
    },
    logoutUrl: (r) => `https://idp.test/logout?to=${encodeURIComponent(r)}`,
    verifyIdToken: async (t) => await verifier.verify(t),
  };
  return {
    deps: {
      identity,
      audit: trail,
      sessionSecret: async () => SECRET,
      clock: { now: () => new Date() },
      baseUrl: BASE,
    },
    audit,
  };
}

/** A signed-in staff member's cookie and CSRF token. */
export async function sessionFor(claims: Record<string, unknown>, over: { expiresAt?: number; idToken?: string } = {}) {
  const csrf = randomBytes(32).toString('base64url');
  const sealed = await seal(
    { idToken: over.idToken ?? mint(claims), csrf, expiresAt: over.expiresAt ?? Date.now() + HOUR },
    SECRET,
    HOUR,
  );
  return { cookies: { [SESSION_COOKIE]: sealed }, csrf };
}

export const req = (over: Partial<ConsoleRequest> & { path: string }): ConsoleRequest => ({
  method: 'GET',
  query: new URLSearchParams(),
  cookies: {},
  body: '',
  ...over,
});

/** A form POST with our Origin. */
export const post = (path: string, session: { cookies: Record<string, string> }, form: Record<string, string>) =>
  req({ method: 'POST', path, cookies: session.cookies, body: new URLSearchParams(form).toString(), origin: BASE });
