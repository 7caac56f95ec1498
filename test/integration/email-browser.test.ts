import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { IsoDate } from '../../schemas/common';
import { addDays, localDate } from '../../lambdas/domain';
import { REPO_ROOT, runDelivery, sesEmails, type SesStoredEmail } from '../../local/stack';
import { startTestStack, type TestStack } from './helpers';

jest.setTimeout(240_000);

const CHROMIUM = '/usr/bin/chromium';
const TENANT = 'demo-minato';
const today: IsoDate = localDate(new Date(), 'Asia/Tokyo');
const SHOTS = join(REPO_ROOT, 'test-output', 'email-browser');

/** Debian's Chromium, installed by .ci/run; a machine without it skips this file (CI never lacks it). */
const describeWithChromium = existsSync(CHROMIUM) ? describe : describe.skip;

/**
 * The whole flow in a real browser against the local stack: the pages are served by the local HTTP API
 * (the real handlers), mail is read from the SES emulator, the day is run by the real fan-out and shard worker.
 */
describeWithChromium('email reader in headless Chromium', () => {
  let stack: TestStack;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  let api: string;

  beforeAll(async () => {
    stack = await startTestStack('email-browser', { webhook: true });
    api = stack.api!.url;
    mkdirSync(SHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'hagukumi-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 390, height: 844 },
      locale: 'ja-JP',
    });
    page = context.pages()[0] ?? (await context.newPage());
  });
  afterAll(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await stack.api?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  /** A link from a mail, served by the local API (the tenant's public address is not reachable here). */
  const local = (url: string) => {
    const u = new URL(url);
    return `${api}${u.pathname}${u.search}`;
  };
  async function mailsTo(address: string): Promise<SesStoredEmail[]> {
    return (await sesEmails(stack.endpoints.ses)).filter((m) => m.destination.to.includes(address));
  }
  async function waitForMail(address: string, subjectPart: string): Promise<SesStoredEmail> {
    for (let i = 0; i < 100; i++) {
      const found = (await mailsTo(address)).find((m) => m.subject.includes(subjectPart));
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no mail "${subjectPart}"`);
  }
  const header = (m: SesStoredEmail, name: string) =>
    m.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

  it('signs up, confirms, gets the daily mail, pauses, unsubscribes with one click, and hears nothing more', async () => {
    const address = `browser-${randomBytes(4).toString('hex')}@example.com`;

    // Bad input: each error next to its field, the typed values kept.
    await page.goto(`${api}/email/${TENANT}/signup`);
    await shot('01-signup');
    await page.fill('#email', 'hanako-at-example');
    await page.check('input[name=track][value=maternity]');
    await page.fill('#date', addDays(today, 400));
    await page.click('button[type=submit]');
    expect(await page.locator('#email-error').textContent()).toContain('メールアドレス');
    expect(await page.locator('#date-error').textContent()).toContain('10か月');
    expect(await page.locator('#consent-error').textContent()).toContain('同意');
    expect(await page.getAttribute('#email', 'aria-describedby')).toBe('email-error');
    expect(await page.inputValue('#email')).toBe('hanako-at-example');
    expect(await page.isChecked('input[name=track][value=maternity]')).toBe(true);
    expect(await page.locator('[role=alert]').count()).toBe(1);
    await shot('02-signup-errors');

    // Good input.
    await page.fill('#email', address);
    await page.fill('#date', addDays(today, 120));
    await page.fill('#nickname', 'はな');
    await page.check('#consent');
    const started = Date.now();
    await page.click('button[type=submit]');
    await page.getByRole('heading', { name: '確認メールをお送りしました' }).waitFor();
    await shot('03-check-inbox');

    // The confirmation mail's link opens a page with one button; only pressing it confirms.
    const confirmation = await waitForMail(address, 'メール登録の確認');
    const link = /https?:\/\/\S+\/confirm\?token=\S+/.exec(confirmation.body.text ?? '')![0];
    await page.goto(local(link));
    await shot('04-confirm');
    await page.getByRole('button', { name: '登録を確定する' }).click();
    await page.getByRole('heading', { name: '登録が完了しました' }).waitFor();
    await shot('05-confirmed');
    const first = await waitForMail(address, '今日のメッセージ');
    const roundTripMs = Date.now() - started;
    // Measured, not asserted: the figure goes to the report (this machine's load varies by a factor of ten).
    console.log(`sign-up to first mail round trip: ${roundTripMs} ms (form submit -> today's message in SES)`);
    expect(first.body.text).toContain('妊娠160日目、はなへ');

    // The next day's delivery: the daily mail with both parts, both unsubscribe headers and visible links.
    const tomorrow = addDays(today, 1);
    await runDelivery(stack, { date: tomorrow });
    const daily = (await mailsTo(address)).find((m) => m.body.text?.includes('妊娠161日目のメッセージ'))!;
    expect(daily).toBeDefined();
    expect((daily.body as { html?: string }).html).toContain('妊娠161日目のメッセージ');
    const listUnsubscribe = header(daily, 'List-Unsubscribe');
    expect(listUnsubscribe).toMatch(/^<https?:\/\/\S+\/unsubscribe\?token=\S+>$/);
    expect(header(daily, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    const preferencesLink = /https?:\/\/\S+\/preferences\?token=[^\s"<>]+/.exec(daily.body.text ?? '')![0];

    // Preferences: pause for a week.
    await page.goto(local(preferencesLink));
    await page.getByRole('heading', { name: '登録内容の確認・変更' }).waitFor();
    await shot('06-preferences');
    await page.check('input[name=period][value=week]');
    await page.getByRole('button', { name: 'お休みする' }).click();
    expect(await page.locator('[role=status]').textContent()).toContain('再開します');
    await shot('07-paused');

    // A GET of the unsubscribe link shows a button and changes nothing; a bare POST unsubscribes.
    const unsubscribeUrl = local(listUnsubscribe!.slice(1, -1));
    await page.goto(unsubscribeUrl);
    await shot('08-unsubscribe-page');
    const res = await fetch(unsubscribeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    await page.goto(unsubscribeUrl);
    await shot('09-unsubscribed');
    expect(await page.locator('h1').textContent()).toContain('配信を停止しました');

    // The pause would end in a week; the stop is for good: a day after the pause still sends nothing.
    const before = (await mailsTo(address)).length;
    await runDelivery(stack, { date: addDays(today, 9) });
    expect((await mailsTo(address)).length).toBe(before);
  });
});
