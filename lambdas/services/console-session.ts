import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as Iron from '@hapi/iron';
import type { z } from 'zod';
import { StaffSchema, STAFF_ROLES, type Staff, type StaffRole } from '../../schemas/console';

/**
 * The console's cookies and tokens. Cookies are sealed with @hapi/iron (AES-256-CBC + HMAC-SHA256 with
 * per-seal salts, and a TTL checked on unseal): nobody can read or forge a session without the secret.
 */
export const SESSION_COOKIE = 'hg_console';
export const SIGN_IN_COOKIE = 'hg_console_signin';
/** The longest a session lasts, whatever the token's own expiry. */
export const SESSION_MAX_MS = 8 * 60 * 60 * 1000;
/** Time allowed between the redirect to the identity provider and its callback. */
export const SIGN_IN_MAX_MS = 10 * 60 * 1000;
/** Every console cookie is scoped to the console's paths. */
export const COOKIE_PATH = '/console';

export class SessionInvalidError extends Error {
  constructor(options: { cause: unknown }) {
    super('the session cookie is missing, tampered with or expired', options);
    this.name = 'SessionInvalidError';
  }
}

export async function seal(value: unknown, secret: string, ttlMs: number): Promise<string> {
  return Iron.seal(value, secret, { ...Iron.defaults, ttl: ttlMs });
}

/** The sealed value if it is intact, unexpired and of the schema's shape; otherwise SessionInvalidError. */
export async function unseal<S extends z.ZodType>(sealed: string | undefined, secret: string, schema: S) {
  if (!sealed) throw new SessionInvalidError({ cause: 'absent' });
  let raw: unknown;
  try {
    raw = await Iron.unseal(sealed, secret, Iron.defaults);
  } catch (err) {
    throw new SessionInvalidError({ cause: err });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new SessionInvalidError({ cause: parsed.error });
  return parsed.data;
}

/**
 * A `Set-Cookie` value: always Secure, HttpOnly, SameSite=Lax and scoped to the console. Lax (not Strict) so the
 * identity provider's redirect back to the callback carries the sign-in cookie; cross-site POSTs never carry it.
 */
export function setCookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=${COOKIE_PATH}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; Secure; HttpOnly; SameSite=Lax`;
}

export const clearCookie = (name: string) => setCookie(name, '', 0);

export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

/**
 * RFC 7636 S256: the challenge is the verifier's SHA-256 in base64url. One line of node:crypto; a client library
 * (openid-client) would bring its own fetch and discovery stack for this and the one token request we make.
 */
export const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** Constant-time comparison of a form's CSRF token with the session's. */
export function csrfMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class NotStaffError extends Error {
  constructor(reason: string) {
    super(`the token does not name one tenant's staff: ${reason}`);
    this.name = 'NotStaffError';
  }
}

/**
 * Staff identity from verified ID token claims: the groups `<tenantId>:staff` / `<tenantId>:admin`
 * (`cognito:groups`). Groups of more than one tenant are refused: every page shows one tenant's data.
 */
export function staffFromClaims(claims: Record<string, unknown>): Staff {
  const groups = claims['cognito:groups'];
  if (!Array.isArray(groups)) throw new NotStaffError('no cognito:groups');
  const memberships = groups
    .filter((g): g is string => typeof g === 'string')
    .map((g) => /^([a-z0-9-]+):([a-z]+)$/.exec(g))
    .filter((m): m is RegExpExecArray => m !== null && (STAFF_ROLES as readonly string[]).includes(m[2]!))
    .map((m) => ({ tenantId: m[1]!, role: m[2] as StaffRole }));
  const tenants = new Set(memberships.map((m) => m.tenantId));
  if (tenants.size !== 1) throw new NotStaffError(tenants.size === 0 ? 'no staff group' : 'groups of several tenants');
  const parsed = StaffSchema.safeParse({
    sub: claims.sub,
    username: claims['cognito:username'] ?? claims.preferred_username ?? claims.sub,
    tenantId: [...tenants][0],
    role: memberships.some((m) => m.role === 'admin') ? 'admin' : 'staff',
  });
  if (!parsed.success) throw new NotStaffError('claims of the wrong shape');
  return parsed.data;
}
