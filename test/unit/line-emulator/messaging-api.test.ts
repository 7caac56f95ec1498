import { randomUUID } from 'node:crypto';
import { messagingApi } from '@line/bot-sdk';
import type { LineEmulator } from '../../../local/line-emulator';
import { fakeClock, lineError, startWithChannel, text, TOKEN, userId } from './support';
import { recordFile } from '../../../local/line-emulator/record-file';

const clock = fakeClock();
let emu: LineEmulator;
let channelId: string;
let line: messagingApi.MessagingApiClient;
const delivered = () => [...emu.deliveries(channelId).values()].flat();

beforeAll(async () => ({ emu, channelId, line } = await startWithChannel(clock.now)));
afterAll(() => emu.close());
beforeEach(() => emu.reset());

describe('accepted sends', () => {
  it('push returns sentMessages and a request id, is recorded without the token, and is delivered', async () => {
    const key = randomUUID();
    const { httpResponse, body } = await line.pushMessageWithHttpInfo(
      { to: userId(1), messages: [text('おはよう')] },
      key,
    );

    expect(body.sentMessages).toEqual([{ id: expect.stringMatching(/^\d+$/), quoteToken: expect.any(String) }]);
    expect(httpResponse.headers.get('x-line-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const [req] = emu.requests({ channelId });
    expect(req).toMatchObject({ method: 'POST', path: '/v2/bot/message/push', status: 200, body: { to: userId(1) } });
    expect(req?.headers['x-line-retry-key']).toBe(key);
    expect(req?.headers).not.toHaveProperty('authorization');
    expect(emu.deliveries(channelId).get(userId(1))).toEqual([
      expect.objectContaining({
        via: 'push',
        retryKey: key,
        message: text('おはよう'),
        requestId: httpResponse.headers.get('x-line-request-id'),
      }),
    ]);
    expect(emu.chat(channelId, userId(1))).toEqual([
      expect.objectContaining({ from: 'bot', via: 'push', message: text('おはよう') }),
    ]);
  });

  it('multicast answers {} and delivers every message to every recipient, in order', async () => {
    expect(
      await line.multicast({ to: [userId(1), userId(2)], messages: [text('a'), text('b')] }, randomUUID()),
    ).toEqual({});
    for (const u of [userId(1), userId(2)])
      expect(
        emu
          .deliveries(channelId)
          .get(u)
          ?.map((d) => d.message),
      ).toEqual([text('a'), text('b')]);
  });

  it.each([
    [
      '500 recipients',
      () => line.multicast({ to: Array.from({ length: 500 }, (_, i) => userId(i)), messages: [text('x')] }),
    ],
    ['5 messages', () => line.pushMessage({ to: userId(1), messages: Array.from({ length: 5 }, () => text('x')) })],
    ['5,000 UTF-16 code units', () => line.pushMessage({ to: userId(1), messages: [text('👶'.repeat(2500))] })],
    [
      '13 quick reply items',
      () =>
        line.pushMessage({
          to: userId(1),
          messages: [
            {
              ...text('x'),
              quickReply: {
                items: Array.from({ length: 13 }, (_, i) => ({
                  type: 'action',
                  action: { type: 'postback', label: `${i}`, data: `${i}` },
                })),
              },
            },
          ],
        }),
    ],
  ])('accepts the documented maximum: %s', async (_label, send) => {
    await expect(send()).resolves.toBeDefined();
  });
});

describe('LINE rules', () => {
  const quickReplies = (n: number) => ({
    items: Array.from({ length: n }, (_, i) => ({
      type: 'action' as const,
      action: { type: 'message' as const, label: `${i}`, text: `${i}` },
    })),
  });
  it.each([
    [
      '501 multicast recipients',
      () => line.multicast({ to: Array.from({ length: 501 }, (_, i) => userId(i)), messages: [text('x')] }),
      'to',
    ],
    ['a malformed multicast id', () => line.multicast({ to: [userId(1), 'U123'], messages: [text('x')] }), 'to[1]'],
    [
      '6 messages',
      () => line.pushMessage({ to: userId(1), messages: Array.from({ length: 6 }, () => text('x')) }),
      'messages',
    ],
    ['no messages', () => line.multicast({ to: [userId(1)], messages: [] }), 'messages'],
    [
      '5,001-character text',
      () => line.pushMessage({ to: userId(1), messages: [text('あ'.repeat(5001))] }),
      'messages[0].text',
    ],
    ['empty text', () => line.pushMessage({ to: userId(1), messages: [text('')] }), 'messages[0].text'],
    [
      '14 quick reply items',
      () => line.pushMessage({ to: userId(1), messages: [{ ...text('x'), quickReply: quickReplies(14) }] }),
      'messages[0].quickReply.items',
    ],
    [
      'an unknown message type',
      () => line.pushMessage({ to: userId(1), messages: [{ type: 'fax' } as never] }),
      'messages[0].type',
    ],
    [
      'a 401-character template altText',
      () =>
        line.pushMessage({
          to: userId(1),
          messages: [
            { type: 'template', altText: 'a'.repeat(401), template: { type: 'confirm', text: 'x', actions: [] } },
          ],
        }),
      'messages[0].altText',
    ],
    [
      'a push to a non-LINE id',
      () => line.pushMessage({ to: 'someone@example.com', messages: [text('x')] }),
      undefined,
    ],
    [
      'a retry key that is not a UUID',
      () => line.pushMessage({ to: userId(1), messages: [text('x')] }, 'retry-1'),
      undefined,
    ],
  ])('rejects %s with 400 and delivers nothing', async (_label, send, property) => {
    const e = await lineError(send());
    expect(e.status).toBe(400);
    if (property) expect(e.json.details).toContainEqual(expect.objectContaining({ property }));
    expect(delivered()).toHaveLength(0);
  });

  it('rejects X-Line-Retry-Key on reply', async () => {
    const res = await fetch(`${emu.url}/v2/bot/message/reply`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        'x-line-retry-key': randomUUID(),
      },
      body: JSON.stringify({ replyToken: 'a'.repeat(32), messages: [text('x')] }),
    });
    expect(res.status).toBe(400);
  });

  it.each([
    ['a missing token', undefined],
    ['an unknown token', 'Bearer nope'],
  ])('answers 401 for %s', async (_label, authorization) => {
    const res = await fetch(`${emu.url}/v2/bot/message/push`, {
      method: 'POST',
      headers: authorization ? { authorization } : {},
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      message: 'Authentication failed. Confirm that the access token in the authorization header is valid.',
    });
    const recorded = emu.requests().at(-1);
    expect([recorded?.status, recorded?.channelId]).toEqual([401, undefined]);
    expect(recorded?.headers).not.toHaveProperty('authorization');
  });

  it('answers 404 for endpoints it does not implement and 413 above 2 MB', async () => {
    expect((await lineError(line.broadcast({ messages: [text('x')] }))).json).toEqual({ message: 'Not found' });
    expect(
      (await lineError(line.pushMessage({ to: userId(1), messages: [text('x'.repeat(2 * 1024 * 1024))] }))).status,
    ).toBe(413);
  });
});

describe('X-Line-Retry-Key', () => {
  it('answers 409 with the original request id to a repeated key and delivers nothing again', async () => {
    const key = randomUUID();
    const first = await line.pushMessageWithHttpInfo({ to: userId(1), messages: [text('once')] }, key);
    const e = await lineError(line.pushMessage({ to: userId(1), messages: [text('once')] }, key));
    expect(e.status).toBe(409);
    expect(e.json).toMatchObject({
      message: 'The retry key is already accepted',
      sentMessages: first.body.sentMessages,
    });
    expect(e.headers.get('x-line-accepted-request-id')).toBe(first.httpResponse.headers.get('x-line-request-id'));
    expect((await lineError(line.multicast({ to: [userId(2)], messages: [text('other')] }, key))).status).toBe(409);
    expect(delivered()).toHaveLength(1);
  });

  it('forgets a key 24 hours after it was accepted', async () => {
    const key = randomUUID();
    await line.multicast({ to: [userId(1)], messages: [text('x')] }, key);
    clock.advance(24 * 3600 * 1000 - 1);
    expect((await lineError(line.multicast({ to: [userId(1)], messages: [text('x')] }, key))).status).toBe(409);
    clock.advance(1);
    await expect(line.multicast({ to: [userId(1)], messages: [text('x')] }, key)).resolves.toEqual({});
    expect(delivered()).toHaveLength(2);
  });
});

describe('limits and faults', () => {
  it('allows 200 multicasts per second per channel, then answers 429', async () => {
    const send = () => line.multicast({ to: [userId(1)], messages: [text('x')] });
    await Promise.all(Array.from({ length: 200 }, send));
    expect((await lineError(send())).json).toEqual({
      message: 'The API rate limit has been exceeded. Try again later.',
    });
    clock.advance(1000);
    await expect(send()).resolves.toEqual({});
  });

  it('lets the bench lift the rate limits and put them back', async () => {
    const send = () => line.multicast({ to: [userId(1)], messages: [text('x')] });
    clock.advance(1000);
    emu.setRateLimited(false);
    try {
      await Promise.all(Array.from({ length: 250 }, send));
    } finally {
      emu.setRateLimited(true);
    }
    clock.advance(1000);
    await Promise.all(Array.from({ length: 200 }, send));
    expect((await lineError(send())).status).toBe(429);
    clock.advance(1000);
  });

  it('answers every push and multicast with the monthly limit, which is not retryable', async () => {
    emu.setFaults({ monthlyLimit: true });
    for (const send of [
      () => line.pushMessage({ to: userId(1), messages: [text('x')] }),
      () => line.multicast({ to: [userId(1)], messages: [text('x')] }),
    ]) {
      const e = await lineError(send());
      expect([e.status, e.json.message]).toEqual([429, 'You have reached your monthly limit.']);
    }
    expect(delivered()).toHaveLength(0);
  });

  it('injects 429 and 500 at roughly the configured rates, reproducibly for a seed, delivering only the 200s', async () => {
    const run = async () => {
      emu.reset();
      emu.setFaults({ rate429: 0.2, rate500: 0.1, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 300; i++) {
        const res = await fetch(`${emu.url}/v2/bot/message/push`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: userId(1), messages: [text(`${i}`)] }),
        });
        statuses.push(res.status);
      }
      return statuses;
    };
    const statuses = await run();
    const count = (s: number) => statuses.filter((x) => x === s).length;
    expect(count(429)).toBeGreaterThan(40);
    expect(count(429)).toBeLessThan(80);
    expect(count(500)).toBeGreaterThan(15);
    expect(count(500)).toBeLessThan(45);
    expect(delivered()).toHaveLength(count(200));
    expect(await run()).toEqual(statuses);
  }, 20_000);

  it('does not accept a 500: the same retry key succeeds afterwards', async () => {
    const key = randomUUID();
    emu.setFaults({ rate500: 1 }, channelId);
    expect((await lineError(line.pushMessage({ to: userId(1), messages: [text('x')] }, key))).json).toEqual({
      message: 'Internal server error',
    });
    emu.setFaults({});
    await line.pushMessage({ to: userId(1), messages: [text('x')] }, key);
    expect(delivered()).toHaveLength(1);
  });

  it('delivers a timed-out request once; the retry with the same key gets 409', async () => {
    const key = randomUUID();
    emu.setFaults({ rateTimeout: 1, timeoutMs: 400 });
    const aborted = fetch(`${emu.url}/v2/bot/message/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-line-retry-key': key },
      body: JSON.stringify({ to: userId(1), messages: [text('x')] }),
      signal: AbortSignal.timeout(100),
    });
    await expect(aborted).rejects.toThrow();
    expect(delivered()).toHaveLength(1);
    emu.setFaults({});
    expect((await lineError(line.pushMessage({ to: userId(1), messages: [text('x')] }, key))).status).toBe(409);
    expect(delivered()).toHaveLength(1);
  });
});

describe('rich menus', () => {
  const menu = {
    size: { width: 2500, height: 843 },
    selected: true,
    name: 'main',
    chatBarText: 'メニュー',
    areas: [{ bounds: { x: 0, y: 0, width: 2500, height: 843 }, action: { type: 'postback' as const, data: 'menu' } }],
  };

  it('rejects a menu outside LINE limits', async () => {
    const e = await lineError(
      line.createRichMenu({ ...menu, size: { width: 1200, height: 810 }, chatBarText: 'あ'.repeat(15) }),
    );
    expect(e.json.details?.map((d) => d.property)).toEqual(['size', 'chatBarText']);
  });

  it('creates, uploads an image, sets the default, lists and deletes', async () => {
    const blob = new messagingApi.MessagingApiBlobClient({ channelAccessToken: TOKEN, baseURL: emu.url });
    const { richMenuId } = await line.createRichMenu(menu);
    expect((await lineError(line.setDefaultRichMenu(richMenuId))).status).toBe(400);
    await blob.setRichMenuImage(
      richMenuId,
      new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' }),
    );
    await line.setDefaultRichMenu(richMenuId);
    expect((await line.getRichMenuList()).richmenus).toEqual([{ richMenuId, ...menu }]);
    await line.deleteRichMenu(richMenuId);
    expect((await lineError(line.deleteRichMenu(richMenuId))).status).toBe(404);
  });
});

describe('--record-line', () => {
  it('writes each request with the channel it went to, and null where no token matched', async () => {
    const { emu, channelId, line } = await startWithChannel();
    try {
      const other = emu.registerChannel({ channelSecret: 's2', accessToken: 'token-2' }).channelId;
      const line2 = new messagingApi.MessagingApiClient({ channelAccessToken: 'token-2', baseURL: emu.url });
      await line.pushMessage({ to: userId(1), messages: [text('a')] });
      await line2.multicast({ to: [userId(2), userId(3)], messages: [text('b')] });
      await fetch(`${emu.url}/v2/bot/message/push`, { method: 'POST', body: '{}' });
      const rows = recordFile(emu.requests())
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(rows.map((r) => [r.channelId, r.path, r.status])).toEqual([
        [channelId, '/v2/bot/message/push', 200],
        [other, '/v2/bot/message/multicast', 200],
        [null, '/v2/bot/message/push', 401],
      ]);
      expect(rows[1]?.body).toEqual({ to: [userId(2), userId(3)], messages: [{ type: 'text', text: 'b' }] });
      expect(JSON.stringify(rows)).not.toContain('token-2');
    } finally {
      await emu.close();
    }
  });
});
