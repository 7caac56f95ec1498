import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { keyringFromSecret, TokenSecretSchema, type TokenKeyring } from '../services/email-tokens';
import type { EmailTokenKeySource } from '../services/ports';

export class EmailTokenSecretInvalidError extends Error {
  constructor(secretName: string, options: { cause: unknown }) {
    // The secret's name and the failing fields only: its value must never reach a log.
    super(`secret ${secretName} is not {"currentId","current","previousId"?,"previous"?}`, options);
    this.name = 'EmailTokenSecretInvalidError';
  }
}

/**
 * The email links' signing keys, read through Powertools like the LINE secrets and cached per container for
 * `maxAgeSeconds`: a rotation (the new key as `current`, the old one moved to `previous`) is picked up without a
 * deploy, and links signed with the previous key keep verifying until the next rotation.
 */
export class SecretsManagerEmailTokenKeys implements EmailTokenKeySource {
  constructor(
    private readonly secretName: string,
    private readonly provider = new SecretsProvider(),
    private readonly maxAgeSeconds = 300,
  ) {}

  async get(): Promise<TokenKeyring> {
    const raw = await this.provider.get(this.secretName, { maxAge: this.maxAgeSeconds, transform: 'json' });
    const parsed = TokenSecretSchema.safeParse(raw);
    if (!parsed.success)
      throw new EmailTokenSecretInvalidError(this.secretName, {
        cause: parsed.error.issues.map((i) => i.path.join('.')),
      });
    return keyringFromSecret(parsed.data);
  }
}
