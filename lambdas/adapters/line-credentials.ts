import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import type { TenantConfig } from '../../schemas/tenant';
import type { LineCredentials, LineCredentialsSource } from '../services/ports';

const LineSecretSchema = z.object({ channelSecret: z.string().min(1), channelAccessToken: z.string().min(1) });

export class LineSecretInvalidError extends Error {
  constructor(secretName: string, options: { cause: unknown }) {
    // The secret's name only: its value must never reach a log.
    super(`secret ${secretName} is not {"channelSecret","channelAccessToken"}`, options);
    this.name = 'LineSecretInvalidError';
  }
}

/** Powertools caches each secret per container for `maxAgeSeconds`, so a rotated token is picked up without a deploy. */
export class SecretsManagerLineCredentials implements LineCredentialsSource {
  constructor(
    private readonly provider = new SecretsProvider(),
    private readonly maxAgeSeconds = 300,
  ) {}

  async get(tenant: TenantConfig): Promise<LineCredentials> {
    const raw = await this.provider.get(tenant.line.secretName, { maxAge: this.maxAgeSeconds, transform: 'json' });
    const parsed = LineSecretSchema.safeParse(raw);
    if (!parsed.success)
      throw new LineSecretInvalidError(tenant.line.secretName, {
        cause: parsed.error.issues.map((i) => i.path.join('.')),
      });
    return parsed.data;
  }
}
