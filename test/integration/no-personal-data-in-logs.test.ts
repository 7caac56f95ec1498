// The handlers' logs, at DEBUG, through a conversation, a delivery and faults, never carry a reader's LINE id,
// email address, nickname or child's date of birth (marker values chosen here, searched for in every line).
import { randomBytes } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { addDays, localDate } from '../../lambdas/domain';
import { bucketOf } from '../../lambdas/domain/shard';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { chromium } from 'playwright-core';
import { runDelivery } from '../../local/stack';
import { TenantConfigSchema } from '../../schemas/tenant';
import { ChatUser } from './chat';
import { consoleSignIn } from './console-login';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(240_000);

const TENANT = 'demo-minato';
const today: IsoDate = localDate(new Date(), 'Asia/Tokyo');
const MARKERS = {
  nickname: 'MARKERNICK',
  chatNickname: 'MARKERCHAT',
  lineId: `U${randomBytes(16).toString('hex')}`,
  chatLineId: `U${randomBytes(16).toString('hex')}`,
  email: 'marker-xyz@example.test',
  // Birthdays 40 and 75 days back: never a delivery date, a registration date or anything else the run logs.
  birthday: addDays(today, -40),
  chatBirthday: addDays(today, -75),
  // An inquiry and the staff's answers (through the webhook and the console).
  inquiry: 'MARKERASK',
  reply: 'MARKERANSWER',
  failedReply: 'MARKERLOST',
};

/** Everything written to stdout and stderr while capturing; Powertools' logger writes to both through a Console. */
const captured: string[] = [];
const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
function capture(stream: NodeJS.WriteStream) {
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  };
}

describe('no personal data in the logs', () => {
  let stack: TestStack;
  const savedLevel = process.env.POWERTOOLS_LOG_LEVEL;
  const savedDev = process.env.POWERTOOLS_DEV;

  beforeAll(async () => {
    // Before the handlers load: their loggers read the level once. POWERTOOLS_DEV would send them to jest's console.
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    delete process.env.POWERTOOLS_DEV;
    capture(process.stdout);
    capture(process.stderr);
    stack = await startTestStack('no-pii-logs', {
      webhook: true,
      // The console too: staff read and answer an inquiry through its handlers.
      console: true,
      tenants: (px) =>
        testTenants(px).map((t) =>
          t.tenantId === TENANT
            ? TenantConfigSchema.parse({
                ...t,
                inquiries: {
                  enabled: true,
                  answerTime: '3営業日以内',
                  notifyTo: [`staff.${px}@example.jp`],
                  notifyFrom: `noreply.${px}@example.jp`,
                },
              })
            : t,
        ),
    });
  });
  afterAll(async () => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
    if (savedLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = savedLevel;
    if (savedDev !== undefined) process.env.POWERTOOLS_DEV = savedDev;
    await stack.console?.close();
    await stack.api?.close();
  });

  function markerSubscription(over: Partial<Subscription>): Subscription {
    const readerKey =
      over.channel === 'email' ? stack.readerKeys.email(MARKERS.email) : stack.readerKeys.line(MARKERS.lineId);
    return {
      tenantId: TENANT,
      readerKey,
      subscriptionId: `marker-${over.channel ?? 'line'}`,
      channel: 'line',
      address: MARKERS.lineId,
      track: 'childcare',
      anchorDate: MARKERS.birthday,
      audience: 'parent',
      nickname: MARKERS.nickname,
      status: 'active',
      registeredOn: addDays(today, -39),
      familyId: `marker-family-${over.channel ?? 'line'}`,
      bucket: bucketOf(readerKey),
      version: 0,
      ...over,
    };
  }

  it('logs nothing personal through a conversation, a delivery, and faults', async () => {
    // A LINE reader and an email reader, both due today and tomorrow (the test library has every early day).
    for (const s of [
      markerSubscription({ channel: 'line' }),
      markerSubscription({
        channel: 'email',
        address: MARKERS.email,
        unsubscribeToken: randomBytes(16).toString('hex'),
        tokenVersion: randomBytes(8).toString('hex'),
      }),
    ])
      await stack.db.send(new PutCommand({ TableName: stack.tables.data, Item: subscriptionItem(s) }));

    // The conversation: register a child with a nickname, then ask for the settings.
    const u = new ChatUser(stack, TENANT, MARKERS.chatLineId);
    expect((await u.follow()).status).toBe(200);
    await u.tap('子育て中');
    await u.tap('日付を選ぶ', MARKERS.chatBirthday);
    await u.say(MARKERS.chatNickname);
    expect((await u.subscriptions()).map((s) => s.nickname)).toContain(MARKERS.chatNickname);

    // The delivery of today.
    const [first] = (await runDelivery(stack, { date: today })).filter((r) => r.tenantId === TENANT);
    expect(first!.problems).toEqual([]);
    expect(first!.ledger.recipients).toBeGreaterThanOrEqual(2);

    // Faults: LINE answers half its requests with 500 (deliveries retry, replies fail) and a reply to the reader
    // fails outright.
    await stack.line.setFaults({ rate500: 0.5, seed: 11 });
    const [second] = (await runDelivery(stack, { date: addDays(today, 1) })).filter((r) => r.tenantId === TENANT);
    expect(second!.ledger.recipients).toBeGreaterThanOrEqual(2);
    await stack.line.setFaults({ rate500: 1 });
    await u.say('設定');
    await stack.line.setFaults({});

    const log = captured.join('');
    // The capture saw the handlers' DEBUG-level JSON lines, so an empty search below means something.
    expect(log).toMatch(/"level":"INFO".*"message":"shard delivered"/);
    expect(log).toMatch(/"message":"webhook"/);
    const found = Object.entries(MARKERS).filter(([, v]) => log.includes(v));
    expect(found.map(([k]) => k)).toEqual([]);
  });

  it('logs nothing personal through an inquiry: asked on LINE, read and answered in the console, a reply lost', async () => {
    const u = new ChatUser(stack, TENANT, MARKERS.chatLineId);
    await u.say(`保育園の申し込みはいつからですか ${MARKERS.inquiry}`);
    await u.tap('職員に送る');
    await u.tap('送信する');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await consoleSignIn(stack, page, TENANT);
      await page.goto(`${stack.console!.url}/inquiries`);
      await Promise.all([page.waitForURL(/\/console\/inquiries\/[^/]+$/), page.click('tbody a')]);
      expect(await page.locator('.reader-message').innerText()).toContain(MARKERS.inquiry);
      const reply = async (text: string) => {
        await page.fill('#reply-text', text);
        await Promise.all([page.waitForURL(/\/console\/inquiries\/[^/]+$/), page.click('text=返信する')]);
      };
      await reply(MARKERS.reply);
      expect(await u.lastBotText()).toContain(MARKERS.reply);
      // LINE fails the push: the reply is kept as not delivered, and the failure logged.
      await stack.line.setFaults({ rate500: 1 });
      await reply(MARKERS.failedReply);
      await stack.line.setFaults({});
      expect(await page.locator('.staff-message .who').last().innerText()).toContain('送信できませんでした');
      await context.close();
    } finally {
      await browser.close();
    }

    const log = captured.join('');
    expect(log).toMatch(/"message":"console".*"fn":"inquiries"/);
    expect(log).toMatch(/"message":"inquiry reply not delivered"/);
    const found = Object.entries(MARKERS).filter(([, v]) => log.includes(v));
    expect(found.map(([k]) => k)).toEqual([]);
  });
});
