import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { BroadcastRepository } from '../../lambdas/adapters/broadcast-repository';
import { addDays, localDate } from '../../lambdas/domain';
import { SESSION_COOKIE } from '../../lambdas/services/console-session';
import { consoleSignIn } from './console-login';
import { startTestStack, type TestStack } from './helpers';

jest.setTimeout(180_000);

const SHOTS = join(__dirname, '..', '..', 'test-output', 'console');
const TENANT = 'demo-minato';
const TEXT = '【両親学級】12月の両親学級のご案内です';

/**
 * The admins' broadcasts page in headless Chromium (JavaScript off) through the local stack: the local API runs
 * the real console handler, the local OpenID Connect provider signs staff in, DynamoDB Local holds the broadcasts.
 */
describe('console: broadcasts page (admins)', () => {
  let stack: TestStack;
  let browser: Browser;
  let store: BroadcastRepository;
  let other: string;
  const date = addDays(localDate(new Date(), 'Asia/Tokyo'), 2);

  beforeAll(async () => {
    stack = await startTestStack('console-bc', { console: true });
    store = new BroadcastRepository(stack.db, stack.tables.content);
    other = stack.tenants.find((t) => t.tenantId !== TENANT)!.tenantId;
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser.close();
    await stack.console?.close();
    await stack.api?.close();
  });

  const newPage = async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
    return { context, page: await context.newPage() };
  };
  const postForm = async (context: BrowserContext, path: string, form: Record<string, string>) => {
    const session = (await context.cookies()).find((c) => c.name === SESSION_COOKIE)!;
    return fetch(`${stack.console!.url.replace(/\/console$/, '')}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: `${SESSION_COOKIE}=${session.value}`,
        origin: new URL(stack.console!.url).origin,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
    });
  };

  it('an admin schedules a broadcast with the form, sees it listed, and cancels it', async () => {
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, TENANT, 'admin');
    await page.click('nav >> text=一斉配信');
    await page.waitForURL(/\/console\/broadcasts$/);
    expect(await page.locator('main').innerText()).toContain('予定された一斉配信はありません');

    // A malformed week: 400, the field named, nothing stored, what was typed kept.
    await page.fill('input[name=date]', date);
    await page.fill('input[name=weeksFrom]', '20w9d');
    await page.fill('input[name=weeksTo]', '30w6d');
    await page.uncheck('input[name=tracks][value=childcare]');
    await page.uncheck('input[name=channels][value=email]');
    await page.fill('textarea[name=lineText]', TEXT);
    const [bad] = await Promise.all([
      page.waitForResponse(/\/console\/broadcasts$/),
      page.click('button:has-text("予約する")'),
    ]);
    expect(bad.status()).toBe(400);
    expect(await page.locator('[role=alert]').innerText()).toContain('segment.maternity.from');
    expect(await page.inputValue('textarea[name=lineText]')).toBe(TEXT);
    expect(await store.list(TENANT)).toEqual([]);

    await page.fill('input[name=weeksFrom]', '20w0d');
    await Promise.all([page.waitForURL(/\/console\/broadcasts\?created=/), page.click('button:has-text("予約する")')]);
    const stored = await store.list(TENANT);
    expect(stored).toEqual([
      expect.objectContaining({
        date,
        status: 'scheduled',
        line: { text: TEXT },
        segment: {
          tracks: ['maternity'],
          maternity: { from: '20w0d', to: '30w6d' },
          channels: ['line'],
          audience: 'both',
        },
      }),
    ]);
    expect(stored[0]!.email).toBeUndefined();
    const row = page.locator('tbody tr');
    expect(await row.count()).toBe(1);
    expect(await row.innerText()).toContain('妊娠期 20w0d〜30w6d／LINE／ご本人とパートナー');
    await page.screenshot({ path: join(SHOTS, 'broadcasts.png'), fullPage: true });

    await Promise.all([
      page.waitForURL(/\/console\/broadcasts\?cancelled=/),
      page.click('button:has-text("取り消す")'),
    ]);
    expect(await row.innerText()).toContain('取り消し済み');
    expect((await store.list(TENANT))[0]).toMatchObject({ status: 'cancelled' });
    await context.close();
  });

  it('a form without the CSRF token is refused and stores nothing', async () => {
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, TENANT, 'admin');
    const before = await store.list(TENANT);
    const res = await postForm(context, '/console/broadcasts', {
      date,
      tracks: 'maternity',
      channels: 'line',
      lineText: 'CSRFなし',
    });
    expect(res.status).toBe(403);
    expect(await store.list(TENANT)).toEqual(before);
    await context.close();
  });

  it('staff who are not admins get 403 and no menu entry', async () => {
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, TENANT, 'staff');
    expect(await page.locator('nav').innerText()).not.toContain('一斉配信');
    const res = await page.goto(`${stack.console!.url}/broadcasts`);
    expect(res!.status()).toBe(403);
    expect(await page.locator('h1').innerText()).toBe('権限がありません');
    await context.close();
  });

  it("another tenant's admin cannot cancel this tenant's broadcast: 404, nothing changes", async () => {
    const mine = await store.create({
      id: `${date}-0123456789abcdef`,
      tenantId: TENANT,
      date,
      line: { text: 'よそから取り消せない' },
      segment: { tracks: ['maternity', 'childcare'], channels: ['line'], audience: 'both' },
      status: 'scheduled',
      createdAt: 1,
      createdBy: 'test',
    });
    expect(mine).toBe(true);
    const before = await store.list(TENANT);
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, other, 'admin');
    await page.goto(`${stack.console!.url}/broadcasts`);
    expect(await page.locator('tbody tr').count()).toBe(0);
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    const res = await postForm(context, `/console/broadcasts/${date}-0123456789abcdef/cancel`, { csrf: csrf! });
    expect(res.status).toBe(404);
    expect(await store.list(TENANT)).toEqual(before);
    await context.close();
  });
});
