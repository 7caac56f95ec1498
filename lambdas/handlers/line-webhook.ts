import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { SecretsManagerLineCredentials } from '../adapters/line-credentials';
import { BotSdkLineReplierFactory } from '../adapters/line-replier';
import { SecretsManagerReaderKeys } from '../adapters/reader-key-secret';
import { ReaderRepository } from '../adapters/reader-repository';
import { createSesClient, SesEmailSender } from '../adapters/email-sender';
import { SurveyRepository } from '../adapters/survey-repository';
import { handleLineWebhook, type LineWebhookDeps } from '../services/line-webhook';
import { lazy, logger, metrics, readEnv, WebhookEnvSchema } from './runtime';

const deps = lazy((): LineWebhookDeps => {
  const env = readEnv(WebhookEnvSchema);
  const db = createDocumentClient();
  const content = new ContentRepository(db, env[ENV.contentTable]);
  const credentials = new SecretsManagerLineCredentials();
  return {
    tenants: content,
    content,
    credentials,
    readers: new ReaderRepository(db, env[ENV.dataTable], env[ENV.deliveryTable], {
      // By kind only: a stored dialog or invite that fails its schema is treated as absent.
      onCorruptItem: (kind) => {
        logger.warn('stored item failed its schema', { kind });
        metrics.addMetric('CorruptStoredItems', MetricUnit.Count, 1);
      },
    }),
    readerKeys: new SecretsManagerReaderKeys(env[ENV.readerKeySecret]),
    replies: new BotSdkLineReplierFactory(credentials, env[ENV.lineApiBaseUrl]),
    clock: { now: () => new Date() },
    surveys: {
      surveys: new SurveyRepository(db, env[ENV.dataTable]),
      alertMail: new SesEmailSender(createSesClient(), env.SES_CONFIGURATION_SET),
      onAlertMailFailed: () => metrics.addMetric('ScreeningAlertMailFailures', MetricUnit.Count, 1),
    },
    onReplyFailed: () => metrics.addMetric('LineReplyFailures', MetricUnit.Count, 1),
    onConcurrentChange: () => metrics.addMetric('WebhookConcurrentChanges', MetricUnit.Count, 1),
  };
});

/** `/line/<tenantId>/webhook`: one route per tenant, so the tenant comes from the path. */
const PATH = /^\/line\/([^/]+)\/webhook\/?$/;

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  // Anything unexpected becomes a bare 500: a server error never shows its message to the caller.
  // Logged by name only: an SDK error's message could quote a key, and keys hold LINE user ids.
  .use(
    httpErrorHandler({
      fallbackMessage: 'internal error',
      logger: (error: unknown) =>
        logger.error('webhook failed', { error: error instanceof Error ? error.name : 'unknown' }),
    }),
  )
  .handler(async (event) => {
    metrics.addMetric('WebhookRequests', MetricUnit.Count, 1);
    const tenantId = PATH.exec(event.rawPath)?.[1] ?? '';
    const rawBody =
      event.body === undefined
        ? ''
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body;
    const res = await handleLineWebhook({ tenantId, rawBody, signature: event.headers['x-line-signature'] }, deps());
    // Identifiers and counts only: no user ids, no message text.
    logger.info('webhook', {
      tenantId: res.status === 404 ? undefined : tenantId,
      status: res.status,
      handled: res.handled,
    });
    metrics.addMetric('WebhookEventsHandled', MetricUnit.Count, res.handled);
    return {
      statusCode: res.status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: res.message }),
    };
  });
