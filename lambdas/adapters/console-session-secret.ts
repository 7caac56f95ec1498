import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';

export class ConsoleSessionSecretInvalidError extends Error {
  constructor(secretName: string) {
    // The name only: never the value.
    super(`secret ${secretName} must be a string of at least 32 characters`);
    this.name = 'ConsoleSessionSecretInvalidError';
  }
}

/** The key that seals the console's cookies, from Secrets Manager, cached per container like the other secrets. */
export class SecretsManagerConsoleSessionSecret {
  constructor(
    private readonly secretName: string,
    private readonly provider = new SecretsProvider(),
    private readonly maxAgeSeconds = 300,
  ) {}

  async get(): Promise<string> {
    const value = await this.provider.get(this.secretName, { maxAge: this.maxAgeSeconds });
    if (typeof value !== 'string' || value.length < 32) throw new ConsoleSessionSecretInvalidError(this.secretName);
    return value;
  }
}
