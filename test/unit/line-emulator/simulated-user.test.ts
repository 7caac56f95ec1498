import { messagingApi, validateSignature } from '@line/bot-sdk';
import { LineEmulatorClient } from '../../../local/line-emulator/client';
import type { LineEmulator } from '../../../local/line-emulator';
import {
  fakeClock,
  lineError,
  SECRET,
  startWebhookReceiver,
  startWithChannel,
  text,
  userId,
  type ReceivedWebhook,
} from './support';

const clock = fakeClock();
const parent = userId(0xabc);
let emu: LineEmulator;
let channelId: string;
let line: messagingApi.MessagingApiClient;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
// The receiver plays our webhook Lambda; a test sets what it does with each event.
let onEvent: (w: ReceivedWebhook) => Promise<void> | void = () => {};
const lastEvent = () => receiver.received.at(-1)!.body.events[0]!;

beforeAll(async () => {
  ({ emu, channelId, line } = await startWithChannel(clock.now));
  receiver = await startWebhookReceiver((w) => onEvent(w));
  emu.setWebhookUrl(channelId, receiver.url);
});
afterAll(async () => Promise.all([emu.close(), receiver.close()]));
beforeEach(() => {
  emu.reset();
  receiver.received.length = 0;
  onEvent = () => {};
});

it('signs a follow event the way LINE does, with LINE-shaped fields', async () => {
  const result = await emu.user(channelId, parent).follow();
  const { headers, raw, body } = receiver.received[0]!;

  expect(validateSignature(raw, SECRET, headers['x-line-signature'] as string)).toBe(true);
  expect(validateSignature(raw, 'another-secret', headers['x-line-signature'] as string)).toBe(false);
  expect(headers).toMatchObject({
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'LineBotWebhook/2.0',
  });
  expect(body.destination).toMatch(/^U[0-9a-f]{32}$/);
  expect(body.events).toEqual([
    {
      type: 'follow',
      mode: 'active',
      timestamp: clock.now(),
      source: { type: 'user', userId: parent },
      webhookEventId: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      deliveryContext: { isRedelivery: false },
      replyToken: expect.stringMatching(/^[0-9a-f]{32}$/),
      follow: { isUnblocked: false },
    },
  ]);
  expect(result).toMatchObject({
    status: 200,
    body: 'OK',
    webhookEventId: lastEvent().webhookEventId,
    replyToken: lastEvent().replyToken,
  });
  expect(await line.getProfile(parent)).toEqual({ userId: parent, displayName: expect.any(String), language: 'ja' });
});

it.each([
  [
    'text message',
    () => emu.user(channelId, parent).sendText('予定日は4月1日'),
    {
      type: 'message',
      message: {
        id: expect.stringMatching(/^\d+$/),
        type: 'text',
        quoteToken: expect.any(String),
        text: '予定日は4月1日',
      },
    },
  ],
  [
    'date picker postback',
    () => emu.user(channelId, parent).postback('due-date', { date: '2025-10-01' }),
    { type: 'postback', postback: { data: 'due-date', params: { date: '2025-10-01' } } },
  ],
  [
    'plain postback',
    () => emu.user(channelId, parent).postback('menu=today'),
    { type: 'postback', postback: { data: 'menu=today' } },
  ],
])('sends a %s event with a reply token', async (_label, act, expected) => {
  await act();
  expect(lastEvent()).toMatchObject({ ...expected, replyToken: expect.stringMatching(/^[0-9a-f]{32}$/) });
});

it('shows the conversation in the chat: user actions and the bot replies, in order', async () => {
  onEvent = async ({ body }) => {
    const [e] = body.events;
    if (e?.replyToken) {
      const quickReply = {
        items: [
          {
            type: 'action' as const,
            action: { type: 'postback' as const, label: 'はい', data: 'ok=yes', displayText: 'はい、登録します' },
          },
        ],
      };
      await line.replyMessage({ replyToken: e.replyToken, messages: [{ ...text(`re:${e.type}`), quickReply }] });
    }
  };
  const user = emu.user(channelId, parent);
  await user.follow();
  await user.sendText('こんにちは');
  await user.postback('ok=yes');
  expect(
    emu
      .chat(channelId, parent)
      .map((c) =>
        c.from === 'bot' ? `bot ${String(c.message.text)}` : `user ${c.action} ${c.text ?? c.displayText ?? ''}`.trim(),
      ),
  ).toEqual([
    'user follow',
    'bot re:follow',
    'user text こんにちは',
    'bot re:message',
    'user postback はい、登録します',
    'bot re:postback',
  ]);
  expect(
    emu
      .deliveries(channelId)
      .get(parent)
      ?.every((d) => d.via === 'reply'),
  ).toBe(true);
});

it('accepts a reply token once, and only within a minute', async () => {
  const { replyToken: once } = await emu.user(channelId, parent).sendText('a');
  await line.replyMessage({ replyToken: once!, messages: [text('ok')] });
  const { replyToken: late } = await emu.user(channelId, parent).sendText('b');
  clock.advance(60_000);
  for (const token of [once!, late!, '0'.repeat(32)]) {
    const e = await lineError(line.replyMessage({ replyToken: token, messages: [text('again')] }));
    expect([e.status, e.json]).toEqual([400, { message: 'Invalid reply token' }]);
  }
  expect(emu.deliveries(channelId).get(parent)).toHaveLength(1);
});

it('redelivers the same event with isRedelivery true', async () => {
  const first = await emu.user(channelId, parent).sendText('届いた?');
  const again = await emu.user(channelId, parent).redeliver(first.webhookEventId);
  const [original, redelivered] = receiver.received.map((w) => w.body.events[0]!);
  expect(again.webhookEventId).toBe(first.webhookEventId);
  expect(redelivered).toEqual({ ...original, deliveryContext: { isRedelivery: true } });
  expect(emu.chat(channelId, parent).filter((c) => c.from === 'user')).toHaveLength(1);
});

it('skips a user who unfollowed: the send still answers 200, and a re-follow is an unblock', async () => {
  const other = userId(0xdef);
  const user = emu.user(channelId, parent);
  await user.follow();
  const unfollow = await user.unfollow();
  expect(lastEvent()).not.toHaveProperty('replyToken');
  expect(unfollow.replyToken).toBeUndefined();

  await expect(line.pushMessage({ to: parent, messages: [text('x')] })).resolves.toHaveProperty('sentMessages');
  await line.multicast({ to: [parent, other], messages: [text('y')] });
  expect([...emu.deliveries(channelId).keys()]).toEqual([other]);
  expect((await lineError(line.getProfile(parent))).status).toBe(404);

  await user.follow();
  expect(lastEvent().follow).toEqual({ isUnblocked: true });
});

it('refuses user ids that are not LINE ids', () => {
  expect(() => emu.user(channelId, 'user-1')).toThrow(/LINE user id/);
});

it('offers the same controls over HTTP for tests in another process', async () => {
  const client = new LineEmulatorClient(emu.url);
  const { channelId: other } = await client.registerChannel({
    channelSecret: 's2',
    accessToken: 't2',
    channelId: '1234567890',
  });
  await client.setWebhookUrl(other, receiver.url);
  const followed = await client.user(other, parent).follow({ isUnblocked: false });
  expect(followed.status).toBe(200);
  expect(
    validateSignature(
      receiver.received.at(-1)!.raw,
      's2',
      receiver.received.at(-1)!.headers['x-line-signature'] as string,
    ),
  ).toBe(true);

  const line2 = new messagingApi.MessagingApiClient({ channelAccessToken: 't2', baseURL: client.url });
  await client.setFaults({ monthlyLimit: true }, channelId);
  await line2.multicast({ to: [parent], messages: [text('from 2')] });
  expect((await client.deliveries(other)).get(parent)?.map((d) => d.message)).toEqual([text('from 2')]);
  expect((await client.chat(other, parent)).map((c) => c.from)).toEqual(['user', 'bot']);
  expect((await client.requests({ channelId: other })).map((r) => r.path)).toEqual(['/v2/bot/message/multicast']);
  await client.reset();
  expect(await client.requests()).toEqual([]);
  await expect(client.chat('nope', parent)).rejects.toThrow(/unknown channel/);
});
