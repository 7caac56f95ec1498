import { createHmac } from 'node:crypto';
import { bucketOf } from '../../../lambdas/domain/shard';
import { ReaderKeySecretInvalidError, readerKeys } from '../../../lambdas/services/reader-keys';

const SECRET = 'a-deployment-secret-of-at-least-32-characters';
const USER = `U${'4f'.repeat(16)}`;

/** The documented layout, computed here independently: `<channel>:` + base64url(HMAC-SHA256) cut to 32. */
const expected = (secret: string, input: string, channel: string) =>
  `${channel}:${createHmac('sha256', secret).update(input).digest('base64url').slice(0, 32)}`;

describe('reader keys (promise 10: no raw LINE id or email address in any item key)', () => {
  const keys = readerKeys(SECRET);

  it.each([
    { label: 'a LINE user id', key: () => keys.line(USER), want: expected(SECRET, `line:${USER}`, 'line') },
    {
      label: 'an email address, trimmed and lower-cased first',
      key: () => keys.email('  Hanako.Yamada@Example.JP '),
      want: expected(SECRET, 'email:hanako.yamada@example.jp', 'email'),
    },
  ])('$label is the keyed hash of channel and address', ({ key, want }) => {
    expect(key()).toBe(want);
    expect(key()).toMatch(/^(line|email):[A-Za-z0-9_-]{32}$/);
  });

  it('does not contain the address, and another secret gives another key', () => {
    expect(keys.line(USER)).not.toContain(USER);
    expect(keys.email('hanako@example.jp')).not.toContain('hanako');
    expect(readerKeys(`${SECRET}-other`).line(USER)).not.toBe(keys.line(USER));
  });

  it('keeps one person on two channels apart, and is stable (the bucket never moves)', () => {
    expect(keys.line('same')).not.toBe(keys.email('same').replace('email:', 'line:'));
    expect(bucketOf(readerKeys(SECRET).line(USER))).toBe(bucketOf(keys.line(USER)));
  });

  it('refuses a short secret', () => {
    expect(() => readerKeys('too-short')).toThrow(ReaderKeySecretInvalidError);
  });
});
