import { createHmac, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { snapshot, ChatUser, newUserId } from './chat';
import { startTestStack, type TestStack } from './helpers';

jest.setTimeout(180_000);

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64');

function followEvent(userId: string, overrides: Record<string, unknown> = {}) {
  return {
    type: 'follow',
    mode: 'active',
    timestamp: Date.now(),
    source: { type: 'user', userId },
    webhookEventId: `01${randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24)}`,
    deliveryContext: { isRedelivery: false },
    replyToken: randomUUID().replace(/-/g, ''),
    follow: { isUnblocked: false },
    ...overrides,
  };
}

describe('the webhook refuses what LINE did not send, and changes nothing for it', () => {
  let stack: TestStack;
  let secret: string;
  let otherSecret: string;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.api!.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const tables = async () => [await snapshot(stack, stack.tables.data)].join('');

  beforeAll(async () => {
    stack = await startTestStack('webhook-security', { webhook: true });
    secret = stack.channels.get('demo-minato')!.channelSecret;
    otherSecret = stack.channels.get('demo-yamabe')!.channelSecret;
  });
  afterAll(async () => {
    await stack.api?.close();
  });

  const body = (events: unknown[]) => JSON.stringify({ destination: 'U0000000000000000000000000000000', events });

  it.each([
    { label: 'no signature', path: '/line/demo-minato/webhook', sig: () => undefined, status: 401 },
    {
      label: 'a forged signature',
      path: '/line/demo-minato/webhook',
      sig: () => 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      status: 401,
    },
    {
      label: "another tenant's secret",
      path: '/line/demo-minato/webhook',
      sig: (b: string) => sign(otherSecret, b),
      status: 401,
    },
    {
      label: 'the right signature on the wrong tenant path',
      path: '/line/demo-yamabe/webhook',
      sig: (b: string) => sign(secret, b),
      status: 401,
    },
    {
      label: 'an unknown tenant',
      path: '/line/no-such-town/webhook',
      sig: (b: string) => sign(secret, b),
      status: 404,
    },
    { label: 'a wrong path', path: '/line/demo-minato/hook', sig: (b: string) => sign(secret, b), status: 404 },
  ])('answers $label with $status', async ({ path, sig, status }) => {
    const before = await tables();
    const b = body([followEvent(newUserId())]);
    const s = sig(b);
    const res = await post(path, b, s ? { 'x-line-signature': s } : {});
    expect(res.status).toBe(status);
    expect(await tables()).toBe(before);
  });

  it.each([
    { label: 'malformed JSON', raw: '{"destination":', status: 400 },
    { label: 'a body that is not a webhook', raw: '{"hello":"world"}', status: 400 },
    {
      label: 'an event without webhookEventId',
      raw: JSON.stringify({
        destination: 'x',
        events: [{ type: 'follow', mode: 'active', timestamp: 1, deliveryContext: { isRedelivery: false } }],
      }),
      status: 400,
    },
    {
      label: 'an oversized body',
      raw: JSON.stringify({ destination: 'x', events: [], pad: 'x'.repeat(1_100_000) }),
      status: 413,
    },
    {
      label: "LINE's connection check (no events)",
      raw: JSON.stringify({ destination: 'x', events: [] }),
      status: 200,
    },
  ])('answers $label, signed correctly, with $status and stores nothing', async ({ raw, status }) => {
    const before = await tables();
    const res = await post('/line/demo-minato/webhook', raw, { 'x-line-signature': sign(secret, raw) });
    expect(res.status).toBe(status);
    expect(await tables()).toBe(before);
  });

  it('applies a replayed or redelivered event once, and replies once', async () => {
    const u = new ChatUser(stack, 'demo-minato', newUserId());
    const first = await u.follow();
    expect(first.status).toBe(200);
    await u.tap('子育て中');
    const afterFirst = { tables: await tables(), chat: (await u.chat()).length };
    const picked = await u.postback('a=date', { date: new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10) });
    const afterPick = { tables: await tables(), chat: (await u.chat()).length };
    expect(afterPick.tables).not.toBe(afterFirst.tables);

    // LINE's redelivery (isRedelivery: true, same id) and a replay of the very same signed request.
    const channelId = stack.channels.get('demo-minato')!.channelId;
    expect((await stack.line.user(channelId, u.userId).redeliver(picked.webhookEventId)).status).toBe(200);
    const replay = body([followEvent(u.userId, { webhookEventId: first.webhookEventId })]);
    expect((await post('/line/demo-minato/webhook', replay, { 'x-line-signature': sign(secret, replay) })).status).toBe(
      200,
    );
    expect(await tables()).toBe(afterPick.tables);
    expect((await u.chat()).length).toBe(afterPick.chat + 0);
  });

  it('ignores standby events and events from groups', async () => {
    const before = await tables();
    const standby = body([
      followEvent(newUserId(), { mode: 'standby' }),
      followEvent(newUserId(), { source: { type: 'group', groupId: 'C1' } }),
    ]);
    const res = await post('/line/demo-minato/webhook', standby, { 'x-line-signature': sign(secret, standby) });
    expect(res.status).toBe(200);
    expect(await tables()).toBe(before);
  });

  it('never answers random bodies and headers with a 5xx, and never changes state for them', async () => {
    const before = await tables();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.json({ maxDepth: 3 }),
          fc.constant(body([followEvent(newUserId())])),
        ),
        fc.dictionary(
          fc.constantFrom('x-line-signature', 'content-type', 'x-other'),
          fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x21-\x7e]/g, 'a')),
        ),
        fc.boolean(),
        async (raw, headers, signRandomly) => {
          // Either garbage headers, or a valid signature over a body that is not a usable webhook.
          const isFollow = raw.includes('"follow"');
          const h = signRandomly && !isFollow ? { ...headers, 'x-line-signature': sign(secret, raw) } : headers;
          const res = await post('/line/demo-minato/webhook', raw, h);
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
    expect(await tables()).toBe(before);
  });
});
