import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { ENV } from '../../schemas/tables';

/**
 * Configuration is read and checked once per container (cold start). Handlers are the only code that reads
 * process.env; services receive what they need as arguments.
 */
export const DeliveryEnvSchema = z.object({
  [ENV.dataTable]: z.string().min(1),
  [ENV.deliveryTable]: z.string().min(1),
  [ENV.contentTable]: z.string().min(1),
  [ENV.lineApiBaseUrl]: z.url().optional(),
  /** Tuning knobs with production defaults; the local stack and tests shorten the waits. */
  LINE_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(6),
  LINE_RETRY_BASE_MS: z.coerce.number().int().min(1).default(250),
  LINE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  SEND_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /** One channel's limits (LINE's); each worker paces at its share (the tenant's workers that may run at once). */
  LINE_MULTICAST_PER_SECOND: z.coerce.number().positive().default(200),
  LINE_PUSH_PER_SECOND: z.coerce.number().positive().default(2000),
  /** The event source's maximum concurrency: no more of a tenant's workers than this run at once. */
  SHARD_WORKER_MAX_CONCURRENCY: z.coerce.number().int().min(1).optional(),
  SES_CONFIGURATION_SET: z.string().optional(),
  /** The email links' signing keys (Secrets Manager): every daily mail carries signed links. */
  [ENV.emailTokenSecret]: z.string().min(1),
  /** The account-wide email send rate (mails/s), shared by every worker through the Delivery table; unpaced when absent. */
  EMAIL_SEND_PER_SECOND: z.coerce.number().int().min(1).max(10_000).optional(),
  /** No send starts with less time than this left before the function's timeout. */
  DEADLINE_MARGIN_MS: z.coerce.number().int().min(0).default(90_000),
});

export const WebhookEnvSchema = z.object({
  [ENV.dataTable]: z.string().min(1),
  [ENV.deliveryTable]: z.string().min(1),
  [ENV.contentTable]: z.string().min(1),
  [ENV.readerKeySecret]: z.string().min(1),
  [ENV.lineApiBaseUrl]: z.url().optional(),
  /** Screening alert mails go through the stage's configuration set like every other mail. */
  SES_CONFIGURATION_SET: z.string().optional(),
  /** Signs the links in a notice to an email family member; without it they are not told by mail. */
  [ENV.emailTokenSecret]: z.string().min(1).optional(),
  /** The staff console's base URL: inquiry notifications link into it (none are sent without it). */
  CONSOLE_BASE_URL: z.url().optional(),
});

export const EmailPagesEnvSchema = z.object({
  [ENV.dataTable]: z.string().min(1),
  [ENV.deliveryTable]: z.string().min(1),
  [ENV.contentTable]: z.string().min(1),
  [ENV.readerKeySecret]: z.string().min(1),
  [ENV.emailTokenSecret]: z.string().min(1),
  /** The pages' public base URL when it is not the tenant's `email.unsubscribeBaseUrl` (the local stack). */
  EMAIL_PAGES_BASE_URL: z.url().optional(),
  SES_CONFIGURATION_SET: z.string().optional(),
  /** The staff console's base URL: inquiry notifications (preferences page form) link into it. */
  CONSOLE_BASE_URL: z.url().optional(),
  /** Set on the preferences function only: it tells LINE family members (and may read the LINE secrets). */
  EMAIL_PAGES_LINE_NOTICES: z.enum(['true', 'false']).optional(),
  /** Set on the survey function only: answers, consent, completions and the screening alert mail. */
  EMAIL_PAGES_SURVEYS: z.enum(['true', 'false']).optional(),
  [ENV.lineApiBaseUrl]: z.url().optional(),
});

export const AlertRetryEnvSchema = z.object({
  [ENV.dataTable]: z.string().min(1),
  [ENV.contentTable]: z.string().min(1),
  SES_CONFIGURATION_SET: z.string().optional(),
});

export const EmailEventsEnvSchema = z.object({
  [ENV.dataTable]: z.string().min(1),
  [ENV.deliveryTable]: z.string().min(1),
  [ENV.contentTable]: z.string().min(1),
  [ENV.readerKeySecret]: z.string().min(1),
  /** Distinct transient bounces after which an address is suppressed. */
  TRANSIENT_BOUNCE_THRESHOLD: z.coerce.number().int().min(1).max(100).default(3),
});

export const ConsoleEnvSchema = z.object({
  [ENV.dataTable]: z.string().min(1),
  [ENV.deliveryTable]: z.string().min(1),
  [ENV.auditTable]: z.string().min(1),
  [ENV.consoleSessionSecret]: z.string().min(1),
  /** The console's public base URL (its HTTP API's endpoint): the callback URL and the Origin check derive from it. */
  CONSOLE_BASE_URL: z.url(),
  CONSOLE_CLIENT_ID: z.string().min(1),
  CONSOLE_AUTHORIZE_URL: z.url(),
  CONSOLE_TOKEN_URL: z.url(),
  CONSOLE_LOGOUT_URL: z.url(),
  /** In AWS: the Cognito user pool. Locally: the OpenID Connect provider's issuer and JWKS instead. */
  CONSOLE_USER_POOL_ID: z.string().min(1).optional(),
  CONSOLE_ISSUER: z.url().optional(),
  CONSOLE_JWKS_URI: z.url().optional(),
});

export const FanOutEnvSchema = z.object({
  [ENV.contentTable]: z.string().min(1),
  [ENV.deliveryTable]: z.string().min(1),
  [ENV.shardQueueUrl]: z.string().min(1),
});

export class ConfigurationError extends Error {
  constructor(options: { cause: unknown }) {
    super('the function is misconfigured: environment variables do not match the schema', options);
    this.name = 'ConfigurationError';
  }
}

export function readEnv<S extends z.ZodType>(schema: S): z.infer<S> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) throw new ConfigurationError({ cause: z.prettifyError(parsed.error) });
  return parsed.data;
}

/** Runs `build` on first use only, so importing a handler module has no side effects. */
export function lazy<T>(build: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: build() }).v;
}

export const logger = new Logger({ serviceName: 'hagukumi' });
export const metrics = new Metrics({ namespace: 'Hagukumi', serviceName: 'hagukumi' });

/** A stored item that fails its schema is skipped by the adapters; this logs its kind (never its key) and counts it. */
export function onCorruptStoredItem(kind: string): void {
  logger.warn('stored item failed its schema', { kind });
  metrics.addMetric('CorruptStoredItems', MetricUnit.Count, 1);
}
