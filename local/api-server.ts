import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadHandler, type HandlerName } from './handlers';
import { lambdaContext } from './lambda-context';
import { CONSOLE_ROUTES } from '../schemas/console';

export const EMAIL_PAGES = ['signup', 'confirm', 'preferences', 'unsubscribe', 'survey'] as const;
/** Local only (no such route is deployed): SES bounce and complaint events for the email-events handler. */
export const LOCAL_SES_EVENTS_PATH = '/local/ses-events';

export interface LocalApi {
  url: string;
  webhookUrl(tenantId: string): string;
  close(): Promise<void>;
}

/** Plays API Gateway's HTTP API: the same routes as the CDK stack, each request as a payload 2.0 event to the real handler. */
export async function startLocalApi(tenantIds: string[], opts: { port?: number } = {}): Promise<LocalApi> {
  type Handler = (
    event: APIGatewayProxyEventV2,
    context: ReturnType<typeof lambdaContext>,
  ) => Promise<APIGatewayProxyStructuredResultV2>;
  const webhook = loadHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>('line-webhook');
  const routes = new Map<string, { name: string; handler: Handler }>(
    tenantIds.map((t) => [`POST /line/${t}/webhook`, { name: 'line-webhook', handler: webhook }]),
  );
  // The email pages: one function per page, GET and POST, as in the CDK stack's routes.
  for (const page of EMAIL_PAGES) {
    const name = `email-${page}` as const;
    // Bundled on first use: the webhook's tests and load runs never pay for the pages.
    let loaded: Handler | undefined;
    const handler: Handler = (event, context) =>
      (loaded ??= loadHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(name))(event, context);
    for (const t of tenantIds)
      for (const method of ['GET', 'POST']) routes.set(`${method} /email/${t}/${page}`, { name, handler });
  }
  // Plays the EventBridge rule of the CDK stack (the SES emulator publishes no events): the body is the event.
  let sesEvents: ((event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>) | undefined;
  const sesRoute: Handler = async (event, context) => {
    sesEvents ??= loadHandler<unknown, unknown>('email-events');
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(event.body ?? '', 'base64').toString('utf8'));
    } catch {
      return { statusCode: 400, body: '{"message":"the body must be an EventBridge event as JSON"}' };
    }
    const outcome = await sesEvents(parsed, context);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(outcome) };
  };
  routes.set(`POST ${LOCAL_SES_EVENTS_PATH}`, { name: 'email-events', handler: sesRoute });
  // The staff console: its functions and routes as in the CDK stack (lib/constructs/staff-console.ts).
  const patterns: { method: string; path: RegExp; name: string; handler: Handler }[] = [];
  for (const [fn, routeList] of Object.entries(CONSOLE_ROUTES)) {
    const name = `console-${fn}` as HandlerName;
    let loaded: Handler | undefined;
    const handler: Handler = (event, context) =>
      (loaded ??= loadHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(name))(event, context);
    for (const [method, path] of routeList)
      patterns.push({ method, path: new RegExp(`^${path.replace(/\{[a-z]+\}/g, '[^/]+')}$`), name, handler });
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://local');
      } catch {
        // A request target like `//[` is no URL at all: refuse it as API Gateway would, never crash the server.
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"Bad Request"}');
        return;
      }
      const routeKey = `${req.method} ${url.pathname}`;
      const route = routes.get(routeKey) ?? patterns.find((p) => p.method === req.method && p.path.test(url.pathname));
      if (!route) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
        return;
      }
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
      );
      // As API Gateway's payload 2.0 does: the Cookie header split into `cookies`.
      const cookies = headers.cookie ? headers.cookie.split(';').map((c) => c.trim()) : undefined;
      const event: APIGatewayProxyEventV2 = {
        version: '2.0',
        routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          domainName: 'localhost',
          domainPrefix: 'localhost',
          http: {
            method: req.method ?? 'POST',
            path: url.pathname,
            protocol: 'HTTP/1.1',
            sourceIp: req.socket.remoteAddress ?? '',
            userAgent: headers['user-agent'] ?? '',
          },
          requestId: randomUUID(),
          routeKey,
          stage: '$default',
          time: new Date().toISOString(),
          timeEpoch: Date.now(),
        },
        body: body.toString('base64'),
        isBase64Encoded: true,
        ...(cookies && { cookies }),
      };
      const failed = (err: unknown) => {
        // The error's name only: a message may quote what the request carried (personal data never goes to logs).
        console.error(
          `local API: ${routeKey.replace(/\/(line|email)\/[^/]+/, '/$1/{tenantId}')} failed: ${err instanceof Error ? err.name : 'unknown'}`,
        );
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
      };
      Promise.resolve()
        .then(() => route.handler(event, lambdaContext(route.name, 10_000)))
        .then((out) => {
          // Payload 2.0 answers carry Set-Cookie values in `cookies`.
          if (out.cookies?.length) res.setHeader('set-cookie', out.cookies);
          res.writeHead(out.statusCode ?? 200, (out.headers ?? {}) as Record<string, string>).end(out.body ?? '');
        }, failed);
    });
  });
  // Idle sockets are closed by the client (see the LINE emulator).
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('local API did not bind');
  const url = `http://127.0.0.1:${addr.port}`;
  return {
    url,
    webhookUrl: (t) => `${url}/line/${t}/webhook`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
