import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ENV } from '../../schemas/tables';
import { AuditRepository, ConsoleRepository } from '../adapters/console-repository';
import { SecretsManagerConsoleSessionSecret } from '../adapters/console-session-secret';
import { createDocumentClient } from '../adapters/dynamo-client';
import { InquiryRepository } from '../adapters/inquiry-repository';
import { OidcStaffIdentity } from '../adapters/staff-identity';
import type { ConsoleAccessDeps, ConsoleRequest, ConsoleResult } from '../services/console-access';
import type { ConsoleDeps } from '../services/console';
import { renderConsole } from '../web/console-pages';
import { ConsoleEnvSchema, lazy, logger, metrics, readEnv, onCorruptStoredItem } from './runtime';
import { eventBody, httpFunction } from './http-function';

/**
 * What every console function shares: sign-in, the session, the audit trail (built once per container). A
 * function with more dependencies spreads these into its own (see `consoleDeps`).
 */
export const consoleAccessDeps = lazy((): ConsoleAccessDeps => {
  const env = readEnv(ConsoleEnvSchema);
  const db = createDocumentClient();
  const secret = new SecretsManagerConsoleSessionSecret(env[ENV.consoleSessionSecret]);
  return {
    identity: new OidcStaffIdentity({
      authorizeEndpoint: env.CONSOLE_AUTHORIZE_URL,
      tokenEndpoint: env.CONSOLE_TOKEN_URL,
      logoutEndpoint: env.CONSOLE_LOGOUT_URL,
      clientId: env.CONSOLE_CLIENT_ID,
      ...(env.CONSOLE_USER_POOL_ID && { userPoolId: env.CONSOLE_USER_POOL_ID }),
      ...(env.CONSOLE_ISSUER && { issuer: env.CONSOLE_ISSUER }),
      ...(env.CONSOLE_JWKS_URI && { jwksUri: env.CONSOLE_JWKS_URI }),
    }),
    audit: new AuditRepository(db, env[ENV.auditTable]),
    sessionSecret: () => secret.get(),
    clock: { now: () => new Date() },
    baseUrl: env.CONSOLE_BASE_URL.replace(/\/$/, ''),
  };
});

/** The core pages' dependencies: the shared ones and the console's reads of the Data and Delivery tables. */
export const consoleDeps = lazy((): ConsoleDeps => {
  const env = readEnv(ConsoleEnvSchema);
  const db = createDocumentClient();
  return {
    ...consoleAccessDeps(),
    store: new ConsoleRepository(db, env[ENV.dataTable], env[ENV.deliveryTable], onCorruptStoredItem),
    // The reader page's inquiry history: the references in the reader's partition (a Query).
    inquiries: new InquiryRepository(db, env[ENV.dataTable]),
  };
});

/**
 * Forms are a few fields; anything bigger is refused before it is parsed. The largest is an inquiry reply: 2,000
 * characters of Japanese, 3 bytes each in UTF-8 and 9 once percent-encoded (18,000 bytes), with the CSRF token.
 */
export const MAX_CONSOLE_FORM_BYTES = 24 * 1024;

export function parseConsoleRequest(event: APIGatewayProxyEventV2): ConsoleRequest {
  const raw = eventBody(event);
  const cookies: Record<string, string> = {};
  // HTTP API payload 2.0 splits the Cookie header into `cookies`; the first of a repeated name wins.
  for (const c of event.cookies ?? []) {
    const i = c.indexOf('=');
    if (i > 0) cookies[c.slice(0, i).trim()] ??= c.slice(i + 1).trim();
  }
  const origin = event.headers.origin;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath.replace(/\/$/, '') || '/',
    query: new URLSearchParams(event.rawQueryString),
    cookies,
    body: raw.length <= MAX_CONSOLE_FORM_BYTES ? raw : '',
    ...(origin !== undefined && { origin }),
  };
}

export type ConsoleRoute<D extends ConsoleAccessDeps> = (req: ConsoleRequest, deps: D) => Promise<ConsoleResult>;

/**
 * A console function: `routes` maps `METHOD /path-pattern` to use cases, which get the dependencies `deps`
 * builds (once per container); a path it does not serve is 404, a method it does not take 405.
 */
export function consoleHandler<D extends ConsoleAccessDeps>(
  name: string,
  deps: () => D,
  routes: { pattern: RegExp; GET?: ConsoleRoute<D>; POST?: ConsoleRoute<D> }[],
) {
  return httpFunction('console request failed', async (event) => {
    const req = parseConsoleRequest(event);
    const match = routes.find((r) => r.pattern.test(req.path));
    if (!match) return renderConsole({ status: 404, view: { page: 'problem', problem: 'not-found' } });
    const route = match[req.method as 'GET' | 'POST'];
    if (!route) return { statusCode: 405, headers: { 'content-type': 'text/plain' }, body: '' };
    const result = await route(req, deps());
    // The function, the method, the outcome and the tenant: never a path (it holds references), token or form.
    logger.info('console', {
      fn: name,
      method: req.method,
      status: result.status,
      tenantId: result.staff?.tenantId,
      view: result.view?.page,
    });
    metrics.addMetric(`Console-${name}-${result.status}`, MetricUnit.Count, 1);
    return renderConsole(result);
  });
}
