// A small HTTP fault proxy on loopback, in front of DynamoDB Local, the SES emulator, the Secrets Manager
// emulator and the LINE emulator. The handlers' SDK clients reach it through their ordinary endpoint
// configuration (AWS_ENDPOINT_URL_*, LINE_API_BASE_URL), so faults hit the bundled production code without a
// single test hook in it. The issue suggests SDK middleware instead; middleware would have to be added to the
// handlers' own clients from inside the bundles (a test hook in production code) and would fake error objects,
// whereas the proxy answers with DynamoDB's real wire error shapes (`__type`, CancellationReasons) that the
// SDK parses into its real exception classes, and a reset connection is exactly what a dead container leaves.
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxiedService = 'dynamodb' | 'ses' | 'secrets' | 'line';
/** Which caller the request came from: each caller gets listeners of its own, so faults can target one. */
export type ProxyClient = 'worker' | 'webhook';

export interface ProxiedRequest {
  service: ProxiedService;
  client: ProxyClient;
  /** The operation: `X-Amz-Target` without its prefix (DynamoDB, Secrets Manager) or the path (SES, LINE). */
  operation: string;
  method: string;
  path: string;
  body: string;
  /** Milliseconds since the epoch when the request arrived. */
  at: number;
}

export type ProxyDecision =
  | { kind: 'forward'; delayMs?: number }
  /** Forward, let the upstream apply it, then drop the connection instead of answering: the caller died. */
  | { kind: 'forward-then-reset' }
  /** Drop the connection without forwarding: a dead container's requests never arrive. */
  | { kind: 'reset' }
  | { kind: 'reply'; status: number; body: unknown; contentType?: string };

export interface ProxyPolicy {
  decide(req: ProxiedRequest): ProxyDecision | Promise<ProxyDecision>;
  /** After the upstream answered a forwarded request. */
  answered?(req: ProxiedRequest, status: number, body: string, ms: number): void;
}

const PASS: ProxyPolicy = { decide: () => ({ kind: 'forward' }) };

export interface FaultProxy {
  /** Endpoint of a service for one client, e.g. `endpoint('dynamodb', 'worker')`. */
  endpoint(service: ProxiedService, client: ProxyClient): string;
  setPolicy(policy: ProxyPolicy | undefined): void;
  /** Resolves once no request is in flight (a late answer of a timed-out call included). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The AWS JSON error body, as DynamoDB and Secrets Manager send it. */
export const awsError = (type: string, message: string, extra: Record<string, unknown> = {}) => ({
  __type: type,
  message,
  ...extra,
});

export async function startFaultProxy(upstreams: Record<ProxiedService, string>): Promise<FaultProxy> {
  let policy: ProxyPolicy = PASS;
  // Reused upstream connections: a new TCP connection per request would cost more than the request itself.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const servers: Server[] = [];
  const endpoints = new Map<string, string>();

  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const settled = () => {
    if (--inFlight > 0) return;
    for (const w of waiters) w();
    waiters = [];
  };
  const handle = async (service: ProxiedService, client: ProxyClient, req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    try {
      await proxy(service, client, req, res);
    } finally {
      settled();
    }
  };
  const proxy = async (service: ProxiedService, client: ProxyClient, req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const target = String(req.headers['x-amz-target'] ?? '');
    const proxied: ProxiedRequest = {
      service,
      client,
      operation: target ? target.slice(target.lastIndexOf('.') + 1) : (req.url ?? '/').split('?')[0]!,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      body: raw.toString('utf8'),
      at: Date.now(),
    };
    const decision = await policy.decide(proxied);
    if (decision.kind === 'reset') return void req.socket.destroy();
    if (decision.kind === 'reply') {
      const contentType =
        decision.contentType ?? (service === 'dynamodb' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1');
      res.writeHead(decision.status, { 'content-type': contentType, 'x-amzn-requestid': 'chaos-proxy' });
      return void res.end(JSON.stringify(decision.body));
    }
    if (decision.kind === 'forward' && decision.delayMs) await new Promise((r) => setTimeout(r, decision.delayMs));
    const up = new URL(upstreams[service]);
    const started = Date.now();
    await new Promise<void>((done) => {
      const upstream = httpRequest(
        {
          host: up.hostname,
          port: up.port,
          method: req.method,
          path: req.url,
          agent,
          // Tells the LINE emulator's record which caller sent a request (the webhook also pushes, e.g. a loss notice).
          headers: { ...req.headers, host: up.host, 'x-chaos-client': client },
        },
        (ures) => {
          const parts: Buffer[] = [];
          ures.on('data', (c: Buffer) => parts.push(c));
          ures.on('end', () => {
            const body = Buffer.concat(parts);
            policy.answered?.(proxied, ures.statusCode ?? 0, body.toString('utf8'), Date.now() - started);
            done();
            if (decision.kind === 'forward-then-reset') return void req.socket.destroy();
            if (res.destroyed) return;
            res.writeHead(ures.statusCode ?? 502, ures.headers);
            res.end(body);
          });
        },
      );
      upstream.on('error', () => {
        done();
        req.socket.destroy();
      });
      upstream.end(raw);
    });
  };

  const listen = async (service: ProxiedService, client: ProxyClient) => {
    const server = createServer((req, res) => void handle(service, client, req, res).catch(() => req.socket.destroy()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    endpoints.set(`${service}/${client}`, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  };
  for (const service of Object.keys(upstreams) as ProxiedService[])
    for (const client of ['worker', 'webhook'] as const) await listen(service, client);

  return {
    endpoint: (service, client) => endpoints.get(`${service}/${client}`)!,
    setPolicy: (p) => void (policy = p ?? PASS),
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    close: async () => {
      for (const s of servers) s.closeAllConnections();
      agent.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
