import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { createSesClient, SesEmailSender } from '../adapters/email-sender';
import { SecretsManagerEmailTokenKeys } from '../adapters/email-token-secret';
import { InquiryRepository } from '../adapters/inquiry-repository';
import { SecretsManagerLineCredentials } from '../adapters/line-credentials';
import { BotSdkLineReplierFactory } from '../adapters/line-replier';
import { SubscriptionRepository } from '../adapters/subscription-repository';
import {
  inquiriesPage,
  inquiryPage,
  replyPage,
  threadStatusPage,
  type InquiryConsoleDeps,
} from '../services/console-inquiries';
import { SignedEmailLinks } from '../services/email-links';
import { consoleAccessDeps, consoleHandler } from './console-web';
import { ConsoleEnvSchema, lazy, logger, metrics, readEnv } from './runtime';

const InquiriesEnvSchema = ConsoleEnvSchema.extend({
  [ENV.contentTable]: z.string().min(1),
  [ENV.emailTokenSecret]: z.string().min(1),
  [ENV.lineApiBaseUrl]: z.url().optional(),
  SES_CONFIGURATION_SET: z.string().optional(),
});

const inquiriesDeps = lazy((): InquiryConsoleDeps => {
  const env = readEnv(InquiriesEnvSchema);
  const db = createDocumentClient();
  const access = consoleAccessDeps();
  return {
    ...access,
    tenants: new ContentRepository(db, env[ENV.contentTable]),
    inquiries: {
      store: new InquiryRepository(db, env[ENV.dataTable]),
      clock: access.clock,
      // A reply goes out on the reader's channel: a push through the tenant's LINE channel, or a mail with the
      // reader's own preferences link.
      line: new BotSdkLineReplierFactory(new SecretsManagerLineCredentials(), env[ENV.lineApiBaseUrl]),
      mail: new SesEmailSender(createSesClient(), env.SES_CONFIGURATION_SET),
      links: new SignedEmailLinks(new SecretsManagerEmailTokenKeys(env[ENV.emailTokenSecret]), access.clock),
      subscriptions: new SubscriptionRepository(db, env[ENV.dataTable]),
      onDeliveryFailed: (err) => {
        // By name only: a LINE or SES error may quote the address or the text.
        logger.warn('inquiry reply not delivered', { error: err instanceof Error ? err.name : 'unknown' });
        metrics.addMetric('InquiryReplyDeliveryFailures', MetricUnit.Count, 1);
      },
    },
  };
});

/**
 * `GET /console/inquiries` (the list by filter), `GET /console/inquiries/{inquiry}` (a thread, audited) and the
 * thread's forms: `POST .../reply`, `.../close`, `.../reopen`.
 */
export const handler = consoleHandler('inquiries', inquiriesDeps, [
  { pattern: /^\/console\/inquiries$/, GET: inquiriesPage },
  { pattern: /^\/console\/inquiries\/[^/]+$/, GET: inquiryPage },
  { pattern: /^\/console\/inquiries\/[^/]+\/reply$/, POST: replyPage },
  { pattern: /^\/console\/inquiries\/[^/]+\/(?:close|reopen)$/, POST: threadStatusPage },
]);
