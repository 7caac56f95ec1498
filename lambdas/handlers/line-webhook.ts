import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { SecretsManagerLineCredentials } from '../adapters/line-credentials';
import { BotSdkLineReplierFactory } from '../adapters/line-replier';
import { SecretsManagerReaderKeys } from '../adapters/reader-key-secret';
import { ReaderRepository } from '../adapters/reader-repository';
import { createSesClient, SesEmailSender } from '../adapters/email-sender';
import { SurveyRepository } from '../adapters/survey-repository';
import { SecretsManagerEmailTokenKeys } from '../adapters/email-token-secret';
import { SignedEmailLinks } from '../services/email-links';
import { handleLineWebhook, type LineWebhookDeps } from '../services/line-webhook';
import { lazy, logger, metrics, readEnv, onCorruptStoredItem, WebhookEnvSchema } from './runtime';
import { eventBody, httpFunction } from './http-function';
import { residentInquiryDeps } from './inquiry-deps';

const deps = lazy((): LineWebhookDeps => {
  const env = readEnv(WebhookEnvSchema);
  const clock = { now: () => new Date() };
  const mail = new SesEmailSender(createSesClient(), env.SES_CONFIGURATION_SET);
  const tokenSecret = env[ENV.emailTokenSecret];
  const db = createDocumentClient();
  const content = new ContentRepository(db, env[ENV.contentTable]);
  const credentials = new SecretsManagerLineCredentials();
  return {
    tenants: content,
    content,
    credentials,
    readers: new ReaderRepository(db, env[ENV.dataTable], env[ENV.deliveryTable], {
      // By kind only: a stored dialog or invite that fails its schema is treated as absent.
      onCorruptItem: onCorruptStoredItem,
    }),
    readerKeys: new SecretsManagerReaderKeys(env[ENV.readerKeySecret]),
    replies: new BotSdkLineReplierFactory(credentials, env[ENV.lineApiBaseUrl]),
    clock,
    surveys: {
      surveys: new SurveyRepository(db, env[ENV.dataTable]),
      alertMail: mail,
      onAlertMailFailed: () => metrics.addMetric('ScreeningAlertMailFailures', MetricUnit.Count, 1),
    },
    ...(tokenSecret && {
      familyMail: { mail, links: new SignedEmailLinks(new SecretsManagerEmailTokenKeys(tokenSecret), clock) },
    }),
    inquiries: residentInquiryDeps({
      db,
      dataTable: env[ENV.dataTable],
      mail,
      clock,
      consoleBaseUrl: env.CONSOLE_BASE_URL,
    }),
    onReplyFailed: () => metrics.addMetric('LineReplyFailures', MetricUnit.Count, 1),
    onConcurrentChange: () => metrics.addMetric('WebhookConcurrentChanges', MetricUnit.Count, 1),
  };
});

/** `/line/<tenantId>/webhook`: one route per tenant, so the tenant comes from the path. */
const PATH = /^\/line\/([^/]+)\/webhook\/?$/;

export const handler = httpFunction('webhook failed', async (event) => {
  metrics.addMetric('WebhookRequests', MetricUnit.Count, 1);
  const tenantId = PATH.exec(event.rawPath)?.[1] ?? '';
  const rawBody = eventBody(event);
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
