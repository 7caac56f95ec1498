import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  checkStanding,
  emailLinks,
  keyringFromSecret,
  signEmailToken,
  TokenSecretSchema,
  verifyEmailToken,
  type TokenKeyring,
} from '../../../lambdas/services/email-tokens';

const KEY_A = { id: 'a', key: 'a'.repeat(20) + 'key-A-0123456789abcdef' };
const KEY_B = { id: 'b', key: 'b'.repeat(20) + 'key-B-0123456789abcdef' };
const keys: TokenKeyring = { current: KEY_A };
const NOW = 1_800_000_000;
const base = { tenantId: 'demo-city', readerKey: 'email:abcdefghijklmnop', tokenVersion: 'v1', now: NOW };

/** The format written out by hand from its description, so the test does not trust `signEmailToken` to define it. */
function handMade(key: { id: string; key: string }, claims: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createHmac('sha256', key.key).update(`hgk-email-token.v1.${payload}`).digest('base64url');
  return `${payload}.${sig}`;
}
const claims = (over: Record<string, unknown> = {}) => ({
  v: 1,
  k: 'a',
  t: 'demo-city',
  r: 'email:abcdefghijklmnop',
  p: 'preferences',
  e: NOW + 3600,
  n: 'v1',
  j: 'jti-1',
  ...over,
});
const expect_ = (purpose: 'confirm' | 'preferences' | 'unsubscribe' = 'preferences', now = NOW) => ({
  tenantId: 'demo-city',
  purpose,
  now,
});

describe('email tokens', () => {
  it('accepts a token made by hand from the documented format and reads its claims', () => {
    const r = verifyEmailToken(keys, handMade(KEY_A, claims()), expect_());
    expect(r).toEqual({
      ok: true,
      claims: {
        tenantId: 'demo-city',
        readerKey: 'email:abcdefghijklmnop',
        purpose: 'preferences',
        expiresAt: NOW + 3600,
        tokenVersion: 'v1',
        jti: 'jti-1',
      },
    });
  });

  it('signs what it verifies, for each purpose, with the purpose lifetime (confirm: 48 h)', () => {
    const t = signEmailToken(keys, { ...base, purpose: 'confirm', jti: 'j' });
    const r = verifyEmailToken(keys, t, expect_('confirm'));
    expect(r.ok && r.claims.expiresAt).toBe(NOW + 48 * 3600);
    expect(verifyEmailToken(keys, t, expect_('confirm', NOW + 48 * 3600 - 1)).ok).toBe(true);
    expect(verifyEmailToken(keys, t, expect_('confirm', NOW + 48 * 3600))).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    ['signed with a key we do not have', () => handMade({ id: 'a', key: 'x'.repeat(40) }, claims())],
    ['naming an unknown key id', () => handMade(KEY_B, claims({ k: 'b' }))],
    [
      'with a payload changed after signing',
      () => {
        const [, sig] = handMade(KEY_A, claims()).split('.');
        return `${Buffer.from(JSON.stringify(claims({ r: 'email:someone-else-xxx' }))).toString('base64url')}.${sig}`;
      },
    ],
    ['with claims that do not fit the schema', () => handMade(KEY_A, claims({ p: 'admin' }))],
    ['that is not JSON', () => handMade(KEY_A, 'not json' as unknown as Record<string, unknown>)],
    ['with no signature', () => handMade(KEY_A, claims()).split('.')[0]!],
    ['empty', () => ''],
    ['far too long', () => 'a'.repeat(5000)],
  ])('refuses a token %s as tampered', (_label, make) => {
    expect(verifyEmailToken(keys, make(), expect_())).toEqual({ ok: false, reason: 'tampered' });
  });

  it('refuses another tenant, another purpose and an expired token, each with its own reason', () => {
    expect(verifyEmailToken(keys, handMade(KEY_A, claims({ t: 'other-town' })), expect_())).toEqual({
      ok: false,
      reason: 'wrong-tenant',
    });
    expect(verifyEmailToken(keys, handMade(KEY_A, claims({ p: 'unsubscribe' })), expect_())).toEqual({
      ok: false,
      reason: 'wrong-purpose',
    });
    expect(verifyEmailToken(keys, handMade(KEY_A, claims({ e: NOW })), expect_())).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('keeps verifying links of the previous key after a rotation, and signs with the new one', () => {
    const old = handMade(KEY_A, claims());
    const rotated: TokenKeyring = { current: KEY_B, previous: KEY_A };
    expect(verifyEmailToken(rotated, old, expect_()).ok).toBe(true);
    const fresh = signEmailToken(rotated, { ...base, purpose: 'preferences' });
    expect(verifyEmailToken({ current: KEY_B }, fresh, expect_()).ok).toBe(true);
    expect(verifyEmailToken({ current: KEY_A }, fresh, expect_())).toEqual({ ok: false, reason: 'tampered' });
    // Two rotations later the oldest key is gone: its links no longer verify.
    expect(verifyEmailToken({ current: { id: 'c', key: 'c'.repeat(40) }, previous: KEY_B }, old, expect_())).toEqual({
      ok: false,
      reason: 'tampered',
    });
  });

  it('a confirm token is good while its sign-up waits for it, and reused after', () => {
    const c = { tenantId: 't', readerKey: 'r', purpose: 'confirm' as const, expiresAt: 1, tokenVersion: 'x', jti: 'J' };
    expect(checkStanding(c, { tokenVersion: undefined, pendingJti: 'J' })).toBe('ok');
    expect(checkStanding(c, { tokenVersion: undefined, pendingJti: undefined })).toBe('reused');
    // Signing up again replaces the pending sign-up: the older link is spent.
    expect(checkStanding(c, { tokenVersion: undefined, pendingJti: 'K' })).toBe('reused');
  });

  it('other tokens are revoked once the reader has another token version, or none', () => {
    const c = {
      tenantId: 't',
      readerKey: 'r',
      purpose: 'unsubscribe' as const,
      expiresAt: 1,
      tokenVersion: 'v1',
      jti: 'J',
    };
    expect(checkStanding(c, { tokenVersion: 'v1' })).toBe('ok');
    expect(checkStanding(c, { tokenVersion: 'v2' })).toBe('revoked');
    expect(checkStanding(c, { tokenVersion: undefined })).toBe('revoked');
  });

  it('any change to one character of a token makes it fail (never another valid token)', () => {
    const token = signEmailToken(keys, { ...base, purpose: 'unsubscribe' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...alphabet), (i, ch) => {
        fc.pre(token[i] !== ch);
        const changed = token.slice(0, i) + ch + token.slice(i + 1);
        const r = verifyEmailToken(keys, changed, expect_('unsubscribe'));
        // base64url's last character can carry unused bits: a change there may decode to the same bytes.
        if (r.ok)
          expect(Buffer.from(changed.split('.')[1] ?? '', 'base64url')).toEqual(
            Buffer.from(token.split('.')[1]!, 'base64url'),
          );
      }),
      { numRuns: 400 },
    );
  });

  it('builds preferences and unsubscribe links whose tokens verify for their own purpose only', () => {
    const links = emailLinks(keys, { ...base, baseUrl: 'https://api.example.jp/' });
    const pref = new URL(links.preferencesUrl);
    const unsub = new URL(links.unsubscribeUrl);
    expect(pref.origin + pref.pathname).toBe('https://api.example.jp/email/demo-city/preferences');
    expect(unsub.origin + unsub.pathname).toBe('https://api.example.jp/email/demo-city/unsubscribe');
    expect(verifyEmailToken(keys, pref.searchParams.get('token')!, expect_('preferences')).ok).toBe(true);
    expect(verifyEmailToken(keys, unsub.searchParams.get('token')!, expect_('unsubscribe')).ok).toBe(true);
    expect(verifyEmailToken(keys, unsub.searchParams.get('token')!, expect_('preferences'))).toEqual({
      ok: false,
      reason: 'wrong-purpose',
    });
    // The link carries no address: only the tenant and the reader's keyed hash.
    expect(links.unsubscribeUrl).not.toContain('@');
  });

  it('reads the secret JSON and refuses a short key or half a previous key', () => {
    const ok = TokenSecretSchema.parse({
      currentId: '2',
      current: 'k'.repeat(40),
      previousId: '1',
      previous: 'p'.repeat(40),
    });
    expect(keyringFromSecret(ok)).toEqual({
      current: { id: '2', key: 'k'.repeat(40) },
      previous: { id: '1', key: 'p'.repeat(40) },
    });
    expect(TokenSecretSchema.safeParse({ currentId: '1', current: 'short' }).success).toBe(false);
    expect(
      TokenSecretSchema.safeParse({ currentId: '1', current: 'k'.repeat(40), previous: 'p'.repeat(40) }).success,
    ).toBe(false);
  });
});
