import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { createSesClient, SesEmailSender } from '../adapters/email-sender';
import { SurveyRepository } from '../adapters/survey-repository';
import { retryAlerts, type RetryOutcome } from '../services/alert-outbox';
import { AlertRetryEnvSchema, lazy, logger, metrics, readEnv } from './runtime';

const deps = lazy(() => {
  const env = readEnv(AlertRetryEnvSchema);
  const db = createDocumentClient();
  return {
    tenants: new ContentRepository(db, env[ENV.contentTable]),
    outbox: new SurveyRepository(db, env[ENV.dataTable]),
    mail: new SesEmailSender(createSesClient(), env.SES_CONFIGURATION_SET),
    onFailed: () => metrics.addMetric('ScreeningAlertMailFailures', MetricUnit.Count, 1),
  };
});

/** Every 5 minutes (a schedule): screening alert mails still owed are sent again until SES accepted them. */
export const handler = middy<unknown, RetryOutcome>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async () => {
    const outcome = await retryAlerts(deps(), new Date());
    // Counts only: an alert's reference is for staff, not for logs.
    logger.info('alert retry', { ...outcome });
    metrics.addMetric('ScreeningAlertsOwed', MetricUnit.Count, outcome.pending);
    metrics.addMetric('ScreeningAlertsRetried', MetricUnit.Count, outcome.sent);
    return outcome;
  });
