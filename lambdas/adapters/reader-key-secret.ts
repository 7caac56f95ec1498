import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { readerKeys, type ReaderKeys } from '../services/reader-keys';
import type { ReaderKeySource } from '../services/ports';

/**
 * The deployment's reader key secret (a plain string), read through Powertools like the LINE secrets and cached
 * per container. It never rotates: a new secret would give every reader a new key and orphan their data.
 */
export class SecretsManagerReaderKeys implements ReaderKeySource {
  constructor(
    private readonly secretName: string,
    private readonly provider = new SecretsProvider(),
    private readonly maxAgeSeconds = 3600,
  ) {}

  async get(): Promise<ReaderKeys> {
    const raw = await this.provider.get(this.secretName, { maxAge: this.maxAgeSeconds });
    return readerKeys(typeof raw === 'string' ? raw : '');
  }
}
