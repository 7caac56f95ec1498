import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { createSesClient, SesEmailSender } from '../adapters/email-sender';
import { SecretsManagerEmailTokenKeys } from '../adapters/email-token-secret';
import { SecretsManagerLineCredentials } from '../adapters/line-credentials';
import { BotSdkLineReplierFactory } from '../adapters/line-replier';
import { SecretsManagerReaderKeys } from '../adapters/reader-key-secret';
import { ReaderRepository } from '../adapters/reader-repository';
import { SuppressionRepository } from '../adapters/suppression-repository';
import { SurveyRepository } from '../adapters/survey-repository';
import { MAX_FORM_BYTES, type EmailPagesDeps, type PageRequest, type PageResult } from '../services/email-pages';
import { renderPage } from '../web/pages';
import { EmailPagesEnvSchema, lazy, logger, metrics, readEnv, onCorruptStoredItem } from './runtime';
import { eventBody, httpFunction } from './http-function';
import { residentInquiryDeps } from './inquiry-deps';

/**
 * What the four email page functions share: their dependencies, the request parsing (HTTP API payload 2.0) and
 * the rendering. Each function (email-signup, email-confirm, email-preferences, email-unsubscribe) is one
 * route family and gets only its own grants; the code they run is this, with their own routes.
 */
export const emailPagesDeps = lazy((): EmailPagesDeps => {
  const env = readEnv(EmailPagesEnvSchema);
  const db = createDocumentClient();
  const content = new ContentRepository(db, env[ENV.contentTable]);
  const mail = new SesEmailSender(createSesClient(), env.SES_CONFIGURATION_SET);
  const clock = { now: () => new Date() };
  return {
    tenants: content,
    content,
    readers: new ReaderRepository(db, env[ENV.dataTable], env[ENV.deliveryTable], {
      onCorruptItem: onCorruptStoredItem,
    }),
    readerKeys: new SecretsManagerReaderKeys(env[ENV.readerKeySecret]),
    tokenKeys: new SecretsManagerEmailTokenKeys(env[ENV.emailTokenSecret]),
    mail,
    // Only the preferences function may read the LINE secrets (a birth, a date, a loss told to a LINE partner).
    ...(env.EMAIL_PAGES_LINE_NOTICES === 'true'
      ? { line: new BotSdkLineReplierFactory(new SecretsManagerLineCredentials(), env[ENV.lineApiBaseUrl]) }
      : {}),
    suppressions: new SuppressionRepository(db, env[ENV.dataTable], env[ENV.deliveryTable]),
    clock,
    // The inquiry form (preferences page); the staff are mailed a console link when the console's URL is known.
    inquiries: residentInquiryDeps({
      db,
      dataTable: env[ENV.dataTable],
      mail,
      clock,
      consoleBaseUrl: env.CONSOLE_BASE_URL,
    }),
    ...(env.EMAIL_PAGES_BASE_URL ? { baseUrl: env.EMAIL_PAGES_BASE_URL } : {}),
    // Only the survey function is granted the survey items and the alert mail's identities.
    ...(env.EMAIL_PAGES_SURVEYS === 'true'
      ? {
          surveys: {
            surveys: new SurveyRepository(db, env[ENV.dataTable]),
            alertMail: mail,
            onAlertMailFailed: () => metrics.addMetric('ScreeningAlertMailFailures', MetricUnit.Count, 1),
          },
        }
      : {}),
    onMailFailed: (err) => {
      // By name only: an SES error's message may quote the address.
      logger.warn('mail not sent', { error: err instanceof Error ? err.name : 'unknown' });
      metrics.addMetric('EmailPageMailFailures', MetricUnit.Count, 1);
    },
  };
});

/** `/email/<tenantId>/<page>`. */
const PATH = /^\/email\/([^/]+)\/(signup|confirm|preferences|unsubscribe|survey)\/?$/;

export type PageRoute = (req: PageRequest, deps: EmailPagesDeps) => Promise<PageResult>;

export function parsePageRequest(event: APIGatewayProxyEventV2): {
  page: string;
  method: string;
  req: PageRequest;
} {
  const m = PATH.exec(event.rawPath);
  const raw = eventBody(event);
  const query = new URLSearchParams(event.rawQueryString);
  // The confirm page's button (and every survey form, as `t`) also carries the token in its body; the query wins
  // when both are there.
  const body = raw.length <= MAX_FORM_BYTES ? new URLSearchParams(raw) : undefined;
  const token = query.get('token') ?? query.get('t') ?? body?.get('token') ?? body?.get('t') ?? undefined;
  return {
    page: m?.[2] ?? '',
    method: event.requestContext.http.method.toUpperCase(),
    req: { tenantId: m?.[1] ?? '', ...(token ? { token } : {}), body: raw },
  };
}

/** A handler for one page: GET and POST go to their use cases; anything else is 405. */
export function pageHandler(name: string, routes: { GET?: PageRoute; POST?: PageRoute }) {
  return httpFunction('email page failed', async (event) => {
    const { page, method, req } = parsePageRequest(event);
    const route = page === name ? routes[method as 'GET' | 'POST'] : undefined;
    if (!route) return { statusCode: page === name ? 405 : 404, headers: { 'content-type': 'text/plain' }, body: '' };
    const result = await route(req, emailPagesDeps());
    // The tenant, the page and the outcome only: never a token, an address or a form value.
    logger.info('email page', {
      tenantId: result.status === 404 ? undefined : result.tenantId,
      page,
      method,
      status: result.status,
      view: result.view.page,
      ...(result.view.page === 'problem' ? { reason: result.view.reason } : {}),
    });
    metrics.addMetric(`EmailPage-${page}-${result.status}`, MetricUnit.Count, 1);
    return renderPage(result);
  });
}
