import { createHmac } from 'node:crypto';
import type { Channel } from '../../schemas/common';

/**
 * Reader keys are keyed hashes, so no item key carries a LINE user id or an email address (promise 10):
 * `<channel>:` + base64url(HMAC-SHA256(secret, `<channel>:<normalised address>`)), cut to 32 characters
 * (192 bits, far beyond any collision risk for a municipality's readers). The secret is one per deployment,
 * kept in Secrets Manager; without it a key cannot be linked to a person, and with it the same person always
 * gets the same key. The webhook, the seeder and the tests all compute keys here.
 */
export interface ReaderKeys {
  line(userId: string): string;
  email(address: string): string;
}

/** Below this a secret is guessable enough to brute-force known LINE ids against stored keys. */
export const READER_KEY_SECRET_MIN_LENGTH = 32;
const HASH_LENGTH = 32;

export class ReaderKeySecretInvalidError extends Error {
  constructor() {
    super(`the reader key secret must be a string of at least ${READER_KEY_SECRET_MIN_LENGTH} characters`);
    this.name = 'ReaderKeySecretInvalidError';
  }
}

export function normaliseAddress(channel: Channel, address: string): string {
  return channel === 'email' ? address.trim().toLowerCase() : address.trim();
}

export function readerKeys(secret: string): ReaderKeys {
  if (secret.length < READER_KEY_SECRET_MIN_LENGTH) throw new ReaderKeySecretInvalidError();
  const key = (channel: Channel, address: string) => {
    const h = createHmac('sha256', secret)
      .update(`${channel}:${normaliseAddress(channel, address)}`)
      .digest('base64url')
      .slice(0, HASH_LENGTH);
    return `${channel}:${h}`;
  };
  return { line: (userId) => key('line', userId), email: (address) => key('email', address) };
}
