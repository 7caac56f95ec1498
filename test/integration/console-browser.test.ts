import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { auditKeys, surveyKeys } from '../../lambdas/adapters/keys';
import { localDate } from '../../lambdas/domain';
import { seedDemo } from '../../local/stack';
import { seedDemoAlerts } from '../../local/seed-console';
import { SurveyRepository } from '../../lambdas/adapters/survey-repository';
import { TenantConfigSchema } from '../../schemas/tenant';
import { consoleLogin, consoleSignIn } from './console-login';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(240_000);

const SHOTS = join(__dirname, '..', '..', 'test-output', 'console');
const TENANT = 'demo-minato';
const SURVEY_TRIGGER = { kind: 'campaign', from: '2026-11-01', to: '2027-03-31' } as const;
/** Six readers answered the survey's satisfaction question: four with 4, two with 5. */
const SATISFACTION = [4, 4, 4, 4, 5, 5];

/**
 * The staff console in headless Chromium (Debian's, driven by playwright-core) through the local stack: the local
 * API runs the real console handlers, the local OpenID Connect provider signs staff in, DynamoDB Local holds the
 * alerts and the audit trail. No JavaScript is needed by the pages; the browser keeps the Secure cookies on
 * localhost as it would on the HTTPS API.
 */
describe('staff console in a browser', () => {
  let stack: TestStack;
  let browser: Browser;
  let references: string[];
  let other: string;

  beforeAll(async () => {
    stack = await startTestStack('console', {
      console: true,
      tenants: (px) =>
        testTenants(px).map((t) =>
          t.tenantId === TENANT
            ? TenantConfigSchema.parse({
                ...t,
                sharedSurveys: [{ shared: 'reader-survey-2027', trigger: SURVEY_TRIGGER }],
              })
            : t,
        ),
    });
    const today = localDate(new Date(), 'Asia/Tokyo');
    await seedDemo(stack, 40, today);
    references = await seedDemoAlerts(stack.db, stack.tables.data, TENANT, Date.now());
    other = stack.tenants.find((t) => t.tenantId !== TENANT)!.tenantId;
    const surveys = new SurveyRepository(stack.db, stack.tables.data);
    for (const [i, value] of SATISFACTION.entries()) {
      const readerKey = `line:survey-reader-${i}`;
      const facts = { track: 'childcare', stageBand: 'childcare-0-100d', audience: 'parent', channel: 'line' };
      await surveys.recordInvitation(TENANT, readerKey, 'reader-survey-2027', 'c', today, facts);
      await surveys.putAnswer(
        TENANT,
        'reader-survey-2027',
        readerKey,
        'c',
        { questionId: 'satisfaction', value },
        { ...facts, answeredAt: 1 },
      );
    }
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser.close();
    await stack.console?.close();
    await stack.api?.close();
  });

  const login = (tenantId: string, role: 'staff' | 'admin') => consoleLogin(stack, tenantId, role);
  const signIn = (page: Page, tenantId: string, role: 'staff' | 'admin' = 'staff') =>
    consoleSignIn(stack, page, tenantId, role);

  const alertItem = async (reference: string) =>
    (
      await stack.db.send(
        new GetCommand({
          TableName: stack.tables.data,
          Key: { pk: surveyKeys.alertPk(TENANT), sk: surveyKeys.alertSk(reference) },
          ConsistentRead: true,
        }),
      )
    ).Item!;

  it("signs in as a tenant's staff, sees the inbox, opens an alert and acknowledges it; audited", async () => {
    expect(references.length).toBeGreaterThan(1);
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
    const page = await context.newPage();
    await signIn(page, TENANT);
    await page.screenshot({ path: join(SHOTS, '1-inbox.png'), fullPage: true });
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(references.length);
    // The urgent alert is on top.
    expect(await rows.first().innerText()).toContain('至急');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'hg_console')!;
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/console' });

    const urgent = references[0]!;
    await page.click(`a[href="/console/alerts/${urgent}"]`);
    await page.waitForURL(new RegExp(`/console/alerts/${urgent}$`));
    await page.screenshot({ path: join(SHOTS, '2-alert.png'), fullPage: true });
    await page.selectOption('#followUp', 'contacted');
    await Promise.all([page.waitForURL(new RegExp(`/console/alerts/${urgent}$`)), page.click('text=確認して記録')]);
    expect(await page.locator('main').innerText()).toContain('連絡済み');
    await page.screenshot({ path: join(SHOTS, '3-acknowledged.png'), fullPage: true });

    const item = await alertItem(urgent);
    expect(item).toMatchObject({ followUp: 'contacted', acknowledgedBy: login(TENANT, 'staff').username });
    const audit = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.audit,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': auditKeys.pk(TENANT) },
      }),
    );
    expect((audit.Items ?? []).map((e) => [e.action, e.target, e.staffName])).toEqual([
      ['view-alert', urgent, login(TENANT, 'staff').username],
      ['acknowledge-alert', urgent, login(TENANT, 'staff').username],
      ['view-alert', urgent, login(TENANT, 'staff').username],
    ]);
    // No LINE id, address or date of a reader in any URL the browser saw: the alert's opaque reference only.
    expect(page.url()).toMatch(/\/console\/alerts\/[0-9A-F]{10}$/);
    await context.close();
  });

  it("another tenant's staff gets 404 on the first tenant's alert URL, and nothing is audited or changed", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
    const page = await context.newPage();
    await signIn(page, other);
    expect(await page.locator('tbody tr').count()).toBe(0);
    const target = references[1]!;
    const before = await alertItem(target);
    const res = await page.goto(`${stack.console!.url}/alerts/${target}`);
    expect(res!.status()).toBe(404);
    expect(await page.locator('h1').innerText()).toBe('見つかりません');
    await page.screenshot({ path: join(SHOTS, '4-other-tenant-404.png'), fullPage: true });
    expect(await alertItem(target)).toEqual(before);
    const audit = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.audit,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': auditKeys.pk(other) },
      }),
    );
    expect(audit.Items ?? []).toEqual([]);
    await context.close();
  });

  it('an admin reads the audit trail: the three entries of the first staff member', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
    const page = await context.newPage();
    await signIn(page, TENANT, 'admin');
    await page.goto(`${stack.console!.url}/audit`);
    expect(await page.locator('tbody tr').count()).toBe(3);
    await page.screenshot({ path: join(SHOTS, '5-audit.png'), fullPage: true });
    await context.close();
  });

  it("shows the tenant's survey results, small cells as <5", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
    const page = await context.newPage();
    await signIn(page, TENANT);
    await page.click('header nav >> text=アンケート結果');
    await page.click('a[href="/console/surveys/reader-survey-2027"]');
    await page.waitForURL(/\/console\/surveys\/reader-survey-2027$/);
    const text = await page.locator('main').innerText();
    const mean = Math.round((SATISFACTION.reduce((a, b) => a + b, 0) / SATISFACTION.length) * 10) / 10;
    expect(text).toContain(`依頼した人数：${SATISFACTION.length}、回答者数：${SATISFACTION.length}、回答率：100%`);
    expect(text).toContain(`平均：${mean}`);
    // Four 4s and two 5s: both cells are under 5.
    const satisfaction = page.locator('section', { hasText: 'メッセージの内容に満足していますか？' });
    expect(await satisfaction.locator('tbody tr').allInnerTexts()).toEqual([
      '1（まったく満足していない）\t<5',
      '2\t<5',
      '3\t<5',
      '4\t<5',
      '5（とても満足している）\t<5',
    ]);
    await page.screenshot({ path: join(SHOTS, '6-survey-results.png'), fullPage: true });
    await context.close();
  });
});
