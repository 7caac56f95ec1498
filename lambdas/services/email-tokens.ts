import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Signed tokens for the links in our mails (confirm a sign-up, open the preferences, unsubscribe, answer a
 * survey). A token is `<payload>.<signature>`, both base64url: the payload is a small JSON object, the signature
 * HMAC-SHA256 over a version prefix and the payload with a key of the deployment's email token secret.
 *
 * Hand-written on node:crypto rather than a JWT library: the token needs five claims, one algorithm and no
 * header negotiation (the `alg` confusion JWT libraries must defend against cannot arise), and every check below
 * must report its own reason, which the pages turn into a friendly sentence.
 *
 * Pure: the keys, the clock and the reader's current standing are inputs; nothing here reads a secret or a table.
 */

export const TOKEN_PURPOSES = ['confirm', 'preferences', 'unsubscribe', 'survey'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/** How long a token of each purpose stays valid: a confirmation 48 h (RFC-free but usual), the rest long-lived. */
export const TOKEN_LIFETIME_SECONDS: Record<TokenPurpose, number> = {
  confirm: 48 * 3600,
  // Long-lived but revocable (the reader's token version): a mail from last year must still unsubscribe.
  preferences: 400 * 86_400,
  unsubscribe: 400 * 86_400,
  survey: 30 * 86_400,
};

/** A key of the keyring: its id travels in the token, so that a rotated key still verifies older links. */
export interface TokenKey {
  id: string;
  key: string;
}
export interface TokenKeyring {
  /** Signs new tokens (and verifies). */
  current: TokenKey;
  /** The key before the last rotation: verifies only, so that links already mailed keep working. */
  previous?: TokenKey;
}

/** Below this an HMAC key is guessable. */
export const TOKEN_KEY_MIN_LENGTH = 32;

const ClaimsSchema = z.object({
  /** Format version. */
  v: z.literal(1),
  /** Key id. */
  k: z.string().min(1).max(20),
  t: z.string().min(1).max(40),
  r: z.string().min(3).max(80),
  p: z.enum(TOKEN_PURPOSES),
  /** Expiry, epoch seconds. */
  e: z.number().int().positive(),
  /** The reader's token version when the token was made: a bumped version revokes every older token. */
  n: z.string().min(1).max(40),
  /** The token's own id: single use where a token changes state once (confirm). */
  j: z.string().min(1).max(40),
  /** Survey tokens: the survey the link opens (never anything personal). */
  s: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
});
type Claims = z.infer<typeof ClaimsSchema>;

export interface TokenClaims {
  tenantId: string;
  readerKey: string;
  purpose: TokenPurpose;
  /** Epoch seconds. */
  expiresAt: number;
  tokenVersion: string;
  jti: string;
  /** Survey tokens only. */
  surveyId?: string;
}

export type TokenProblem = 'tampered' | 'expired' | 'wrong-tenant' | 'wrong-purpose' | 'revoked' | 'reused';
export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: TokenProblem };

export class TokenKeyInvalidError extends Error {
  constructor() {
    super(`an email token key must be at least ${TOKEN_KEY_MIN_LENGTH} characters with an id`);
    this.name = 'TokenKeyInvalidError';
  }
}

const PREFIX = 'hgk-email-token.v1.';
/** Far below any URL limit; a longer input is not ours and is not even hashed. */
const TOKEN_MAX_LENGTH = 600;

export const newTokenVersion = () => randomBytes(9).toString('base64url');
export const newJti = () => randomBytes(12).toString('base64url');

function mac(key: TokenKey, payload: string): Buffer {
  if (key.key.length < TOKEN_KEY_MIN_LENGTH || !key.id) throw new TokenKeyInvalidError();
  return createHmac('sha256', key.key)
    .update(PREFIX + payload)
    .digest();
}

export interface SignInput {
  tenantId: string;
  readerKey: string;
  purpose: TokenPurpose;
  tokenVersion: string;
  /** Epoch seconds. */
  now: number;
  jti?: string;
  /** Overrides the purpose's lifetime (tests, a survey's closing date). */
  lifetimeSeconds?: number;
  /** Survey tokens: the survey the link opens. */
  surveyId?: string;
}

export function signEmailToken(keys: TokenKeyring, i: SignInput): string {
  const claims: Claims = {
    v: 1,
    k: keys.current.id,
    t: i.tenantId,
    r: i.readerKey,
    p: i.purpose,
    e: i.now + (i.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS[i.purpose]),
    n: i.tokenVersion,
    j: i.jti ?? newJti(),
    ...(i.surveyId !== undefined && { s: i.surveyId }),
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(keys.current, payload).toString('base64url')}`;
}

export interface VerifyExpectation {
  tenantId: string;
  purpose: TokenPurpose;
  /** Epoch seconds. */
  now: number;
}

/**
 * Checks what the token itself can prove: made with one of our keys and not changed (else `tampered`), not
 * expired, for this tenant, for this purpose. The reader's standing (revoked, reused) needs stored state: see
 * `checkStanding`.
 */
export function verifyEmailToken(
  keys: TokenKeyring,
  token: string | undefined,
  expect: VerifyExpectation,
): VerifyResult {
  const tampered = { ok: false, reason: 'tampered' } as const;
  if (!token || token.length > TOKEN_MAX_LENGTH) return tampered;
  const parts = token.split('.');
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) return tampered;
  const [payload, signature] = parts as [string, string];
  let claims: Claims;
  try {
    claims = ClaimsSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    return tampered;
  }
  const key = [keys.current, keys.previous].find((k) => k?.id === claims.k);
  if (!key) return tampered;
  const given = Buffer.from(signature, 'base64url');
  const wanted = mac(key, payload);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return tampered;
  // Signed by us, so the claims are ours: now the checks that give a reason the reader can be told.
  if (claims.t !== expect.tenantId) return { ok: false, reason: 'wrong-tenant' };
  if (claims.p !== expect.purpose) return { ok: false, reason: 'wrong-purpose' };
  if (claims.e <= expect.now) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    claims: {
      tenantId: claims.t,
      readerKey: claims.r,
      purpose: claims.p,
      expiresAt: claims.e,
      tokenVersion: claims.n,
      jti: claims.j,
      ...(claims.s !== undefined && { surveyId: claims.s }),
    },
  };
}

/** What is stored about the reader the token names. */
export interface ReaderStanding {
  /** The reader's current token version; undefined when the reader holds no confirmed subscription. */
  tokenVersion: string | undefined;
  /** For a confirm token: the id of the pending sign-up still waiting for it, if any. */
  pendingJti?: string;
}

/**
 * A confirm token is good once, while its sign-up waits for it; any other token while the reader's token version
 * is the one it was made with (a stop, a deletion or "revoke my links" bumps it).
 */
export function checkStanding(claims: TokenClaims, standing: ReaderStanding): 'ok' | 'revoked' | 'reused' {
  if (claims.purpose === 'confirm') return standing.pendingJti === claims.jti ? 'ok' : 'reused';
  return standing.tokenVersion !== undefined && standing.tokenVersion === claims.tokenVersion ? 'ok' : 'revoked';
}

/** Parses the secret's JSON: `{"currentId","current","previousId"?,"previous"?}` (see README, email tokens). */
export const TokenSecretSchema = z
  .object({
    currentId: z.string().min(1).max(20),
    current: z.string().min(TOKEN_KEY_MIN_LENGTH),
    previousId: z.string().min(1).max(20).optional(),
    previous: z.string().min(TOKEN_KEY_MIN_LENGTH).optional(),
  })
  .refine((s) => (s.previous === undefined) === (s.previousId === undefined), {
    error: 'previous and previousId come together',
  });

export function keyringFromSecret(secret: z.infer<typeof TokenSecretSchema>): TokenKeyring {
  return {
    current: { id: secret.currentId, key: secret.current },
    ...(secret.previous && secret.previousId ? { previous: { id: secret.previousId, key: secret.previous } } : {}),
  };
}

export interface EmailLinkInput {
  /** The public base URL of the HTTP API (the tenant's `email.unsubscribeBaseUrl`). */
  baseUrl: string;
  tenantId: string;
  readerKey: string;
  tokenVersion: string;
  /** Epoch seconds. */
  now: number;
}

export interface EmailLinks {
  preferencesUrl: string;
  /** Also the RFC 8058 `List-Unsubscribe` target: a POST with `List-Unsubscribe=One-Click` unsubscribes. */
  unsubscribeUrl: string;
}

/** The preferences and unsubscribe links of one reader, for the daily mail's body and headers. */
export function emailLinks(keys: TokenKeyring, i: EmailLinkInput): EmailLinks {
  const base = `${i.baseUrl.replace(/\/$/, '')}/email/${encodeURIComponent(i.tenantId)}`;
  const token = (purpose: TokenPurpose) =>
    encodeURIComponent(
      signEmailToken(keys, {
        tenantId: i.tenantId,
        readerKey: i.readerKey,
        purpose,
        tokenVersion: i.tokenVersion,
        now: i.now,
      }),
    );
  return {
    preferencesUrl: `${base}/preferences?token=${token('preferences')}`,
    unsubscribeUrl: `${base}/unsubscribe?token=${token('unsubscribe')}`,
  };
}

/** The signed link to one survey's page (`?t=`: the token carries the survey id and the reader key, nothing else). */
export function surveyUrl(keys: TokenKeyring, i: EmailLinkInput & { surveyId: string }): string {
  const token = signEmailToken(keys, {
    tenantId: i.tenantId,
    readerKey: i.readerKey,
    purpose: 'survey',
    tokenVersion: i.tokenVersion,
    now: i.now,
    surveyId: i.surveyId,
  });
  return `${i.baseUrl.replace(/\/$/, '')}/email/${encodeURIComponent(i.tenantId)}/survey?t=${encodeURIComponent(token)}`;
}

export function confirmUrl(baseUrl: string, tenantId: string, token: string): string {
  return `${baseUrl.replace(/\/$/, '')}/email/${encodeURIComponent(tenantId)}/confirm?token=${encodeURIComponent(token)}`;
}
