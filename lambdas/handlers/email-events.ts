import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { SecretsManagerReaderKeys } from '../adapters/reader-key-secret';
import { SuppressionRepository } from '../adapters/suppression-repository';
import { handleEmailEvent, type EmailEventsDeps, type EmailEventsOutcome } from '../services/email-events';
import { EmailEventsEnvSchema, lazy, logger, metrics, readEnv } from './runtime';

const deps = lazy((): EmailEventsDeps => {
  const env = readEnv(EmailEventsEnvSchema);
  const db = createDocumentClient();
  return {
    tenants: new ContentRepository(db, env[ENV.contentTable]),
    keys: new SecretsManagerReaderKeys(env[ENV.readerKeySecret]),
    store: new SuppressionRepository(db, env[ENV.dataTable], env[ENV.deliveryTable]),
    clock: { now: () => new Date() },
    transientThreshold: env.TRANSIENT_BOUNCE_THRESHOLD,
  };
});

/**
 * SES bounces and complaints, from the configuration set through EventBridge. A failure (DynamoDB, the
 * secret) is thrown: Lambda retries the asynchronous event, then it goes to the function's DLQ.
 */
export const handler = middy<unknown, EmailEventsOutcome>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event) => {
    const outcome = await handleEmailEvent(event, deps());
    // Counts only: addresses are personal data.
    logger.info('ses event', { ...outcome });
    metrics.addMetric('EmailsSuppressed', MetricUnit.Count, outcome.suppressed);
    metrics.addMetric('TransientBounces', MetricUnit.Count, outcome.transientCounted);
    metrics.addMetric('SesEventsIgnored', MetricUnit.Count, outcome.ignored + outcome.unknownTenant);
    return outcome;
  });
