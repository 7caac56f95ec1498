// Webhook paths an attacker or a misconfiguration could produce: unknown tenants, odd characters, another
// tenant's id under a valid signature. Never a 5xx, never a stored change, never a reply sent to LINE.
import { createHmac, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/lambda-context';
import { newUserId, snapshot } from './chat';
import { startTestStack, type TestStack } from './helpers';

jest.setTimeout(180_000);

const SIGNER = 'demo-minato';
const OTHER = 'demo-yamabe';
const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64');

function followBody(userId: string): string {
  return JSON.stringify({
    destination: 'U0000000000000000000000000000000',
    events: [
      {
        type: 'follow',
        mode: 'active',
        timestamp: Date.now(),
        source: { type: 'user', userId },
        webhookEventId: `01${randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24)}`,
        deliveryContext: { isRedelivery: false },
        replyToken: randomUUID().replace(/-/g, ''),
        follow: { isUnblocked: false },
      },
    ],
  });
}

/** A tenant segment that is never the signing tenant's id: unknown ids, odd characters, the other tenant. */
const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,40}$/),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(OTHER, `${SIGNER}-x`, `x${SIGNER}`, SIGNER.toUpperCase(), `${SIGNER}%00`, '..', '%2e%2e', ''),
);
const suffix = fc.constantFrom('', '/', '/x', '//', '/..', '%2F', '?');
const path = fc
  .tuple(fc.constantFrom('/line/', '/LINE/', '/line//', '/'), segment, fc.constantFrom('/webhook', '/hook', ''), suffix)
  .map(([a, s, b, c]) => `${a}${s}${b}${c}`)
  .filter((p) => !p.includes(SIGNER) || p.includes(`${SIGNER}-x`) || p.includes(`x${SIGNER}`));

describe('webhook paths other than the signing tenant’s own', () => {
  let stack: TestStack;
  let secret: string;
  const state = async () => ({
    data: await snapshot(stack, stack.tables.data),
    delivery: await snapshot(stack, stack.tables.delivery),
    lineRequests: (await stack.line.requests()).length,
  });

  beforeAll(async () => {
    stack = await startTestStack('webhook-paths', { webhook: true });
    secret = stack.channels.get(SIGNER)!.channelSecret;
  });
  afterAll(async () => {
    await stack.api?.close();
  });

  it('through the local API: 4xx for every path, and nothing stored or sent', async () => {
    const before = await state();
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(path, async (p) => {
        // fetch would resolve dot segments itself; the test's own check keeps the real route out.
        const url = new URL(`${stack.api!.url}${p.startsWith('/') ? p : `/${p}`}`);
        fc.pre(url.pathname.replace(/\/$/, '') !== `/line/${SIGNER}/webhook`);
        const body = followBody(newUserId());
        const res = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-line-signature': sign(secret, body) },
        });
        statuses.add(res.status);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 120 },
    );
    expect(await state()).toEqual(before);
    expect([...statuses].every((s) => [400, 401, 404].includes(s))).toBe(true);
  });

  it('another tenant’s route under this tenant’s valid signature is 401, and changes nothing', async () => {
    const before = await state();
    const body = followBody(newUserId());
    const res = await fetch(stack.api!.webhookUrl(OTHER), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-line-signature': sign(secret, body) },
    });
    expect(res.status).toBe(401);
    expect(await state()).toEqual(before);
  });

  it('straight into the handler (as if any path reached it): never a 5xx, nothing stored or sent', async () => {
    const handler = loadHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>('line-webhook');
    const before = await state();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          path,
          fc.string({ maxLength: 80 }).filter((s) => !s.includes(SIGNER)),
        ),
        async (p) => {
          const body = followBody(newUserId());
          const event = {
            version: '2.0',
            routeKey: '$default',
            rawPath: p,
            rawQueryString: '',
            headers: { 'content-type': 'application/json', 'x-line-signature': sign(secret, body) },
            requestContext: { http: { method: 'POST', path: p }, requestId: randomUUID(), stage: '$default' },
            body: Buffer.from(body).toString('base64'),
            isBase64Encoded: true,
          } as unknown as APIGatewayProxyEventV2;
          const res = await handler(event, lambdaContext('line-webhook', 10_000));
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
    expect(await state()).toEqual(before);
  });
});
