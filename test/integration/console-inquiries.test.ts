import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { InquiryRepository } from '../../lambdas/adapters/inquiry-repository';
import { auditKeys } from '../../lambdas/adapters/keys';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { bucketOf } from '../../lambdas/domain/shard';
import { emailLinks } from '../../lambdas/services/email-tokens';
import { SESSION_COOKIE } from '../../lambdas/services/console-session';
import { sesEmails } from '../../local/stack';
import { TenantConfigSchema } from '../../schemas/tenant';
import { ChatUser, newUserId } from './chat';
import { consoleLogin, consoleSignIn } from './console-login';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(240_000);

const SHOTS = join(__dirname, '..', '..', 'test-output', 'console');
const TENANT = 'demo-minato';
/** Written for this test: a LINE resident's and an email resident's questions, and the staff's answers. */
const LINE_QUESTION = '来月の離乳食教室の申し込み方法を教えてください。\n平日の午前だと助かります。';
const LINE_ANSWER = '離乳食教室は保健センターの窓口かお電話で申し込めます。\n平日午前の回もあります。';
const EMAIL_QUESTION = '予防接種の予診票をなくしてしまいました。再発行できますか。';
const EMAIL_ANSWER = '保健センターの窓口で再発行できます。母子健康手帳をお持ちください。';

/**
 * The staff side of inquiries in headless Chromium (Debian's, JavaScript off) through the local stack: a LINE
 * resident writes through the real webhook on the LINE emulator, an email resident through the preferences page;
 * staff sign in at the local OpenID Connect provider, see both in the list, open (audited), reply (the answer
 * arrives in the LINE chat and as a mail in the SES emulator), close and reopen. Another tenant's staff get 404 for
 * the thread's URL and its forms, and nothing changes. DynamoDB Local holds the threads and the audit trail.
 */
describe('staff console: inquiries in a browser', () => {
  let stack: TestStack;
  let browser: Browser;
  let store: InquiryRepository;
  let other: string;

  beforeAll(async () => {
    stack = await startTestStack('console-inquiries', {
      console: true,
      tenants: (px) =>
        testTenants(px).map((t) =>
          TenantConfigSchema.parse({
            ...t,
            inquiries: {
              enabled: true,
              answerTime: '3営業日以内',
              notifyTo: [`staff.${px}@example.jp`],
              notifyFrom: `noreply.${px}@example.jp`,
            },
          }),
        ),
    });
    store = new InquiryRepository(stack.db, stack.tables.data);
    other = stack.tenants.find((t) => t.tenantId !== TENANT)!.tenantId;
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser.close();
    await stack.console?.close();
    await stack.api?.close();
  });

  const newPage = async (): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
    return { context, page: await context.newPage() };
  };
  const auditOf = async (tenantId: string) =>
    (
      await stack.db.send(
        new QueryCommand({
          TableName: stack.tables.audit,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': auditKeys.pk(tenantId) },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  /** A form post as the browser's would be, outside it: with the session cookie and our Origin. */
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

  let lineUser: ChatUser;
  let lineId: string;
  let emailAddress: string;
  let emailId: string;

  it('a LINE resident (registered, through the webhook) and an email resident (the preferences page) write', async () => {
    const minato = stack.tenants.find((t) => t.tenantId === TENANT)!;
    lineUser = new ChatUser(stack, TENANT, newUserId());
    await lineUser.follow();
    await lineUser.tap('子育て中');
    await lineUser.tap('日付を選ぶ', new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo' }).format(new Date()));
    await lineUser.tap('スキップ');
    await lineUser.say(LINE_QUESTION);
    await lineUser.tap('職員に送る');
    await lineUser.tap('送信する');
    const lineRefs = await store.byReader(TENANT, stack.readerKeys.line(lineUser.userId));
    expect(lineRefs).toHaveLength(1);
    lineId = lineRefs[0]!.inquiryId;

    emailAddress = `parent-${Date.now().toString(36)}@example.com`;
    const readerKey = stack.readerKeys.email(emailAddress);
    const today = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo' }).format(new Date());
    await stack.db.send(
      new PutCommand({
        TableName: stack.tables.data,
        Item: subscriptionItem({
          tenantId: TENANT,
          readerKey,
          subscriptionId: 'mail-1',
          channel: 'email',
          address: emailAddress,
          track: 'maternity',
          anchorDate: today,
          audience: 'parent',
          status: 'active',
          registeredOn: today,
          familyId: 'fam-console-mail',
          bucket: bucketOf(readerKey),
          version: 1,
          tokenVersion: 'tv-1',
        }),
      }),
    );
    const prefs = emailLinks(stack.emailTokenKeys, {
      baseUrl: stack.api!.url,
      tenantId: minato.tenantId,
      readerKey,
      tokenVersion: 'tv-1',
      now: Math.floor(Date.now() / 1000),
    }).preferencesUrl;
    const { context, page } = await newPage();
    await page.goto(prefs);
    await page.fill('#inquiry-text', EMAIL_QUESTION);
    await Promise.all([page.waitForLoadState(), page.click('text=よくあるご質問を見る')]);
    await Promise.all([page.waitForLoadState(), page.click('text=職員に送る')]);
    expect(await page.locator('main').innerText()).toContain('3営業日以内');
    await context.close();
    const emailRefs = await store.byReader(TENANT, readerKey);
    expect(emailRefs).toHaveLength(1);
    emailId = emailRefs[0]!.inquiryId;
  });

  it('staff see both waiting, the longest wait first, open the LINE thread (audited first), reply: it arrives in the chat', async () => {
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, TENANT);
    // The inbox counts both as waiting.
    expect(await page.locator('#waiting-inquiries').innerText()).toContain('対応待ちのお問い合わせ：2件');
    await page.click('header nav >> text=お問い合わせ');
    await page.waitForURL(/\/console\/inquiries$/);
    const rows = page.locator('tbody tr');
    // Oldest waiting first: the LINE question was written before the email one.
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('a').getAttribute('href')).toBe(`/console/inquiries/${lineId}`);
    expect(await rows.nth(1).locator('a').getAttribute('href')).toBe(`/console/inquiries/${emailId}`);
    const first = (await rows.nth(0).innerText()).split('\t');
    expect(first[0]).toBe('未回答');
    expect(first[1]).toBe('LINE');
    expect(first[4]).toMatch(/時間以内|時間前|日前/);
    expect((await rows.nth(1).innerText()).split('\t')[1]).toBe('メール');
    // The list holds no text of the questions.
    expect(await page.locator('main').innerText()).not.toContain('離乳食');
    await page.screenshot({ path: join(SHOTS, '6-inquiries.png'), fullPage: true });

    expect(await auditOf(TENANT)).toEqual([]);
    await page.click(`a[href="/console/inquiries/${lineId}"]`);
    await page.waitForURL(new RegExp(`/console/inquiries/${lineId}$`));
    const audit = await auditOf(TENANT);
    expect(audit.map((e) => [e.action, e.target, e.readerRef, e.staffName])).toEqual([
      ['view-inquiry', lineId, stack.readerKeys.line(lineUser.userId), consoleLogin(stack, TENANT, 'staff').username],
    ]);
    // The message as written, line break kept; no LINE id anywhere on the page.
    expect(await page.locator('.reader-message .message').innerText()).toBe(LINE_QUESTION);
    expect(await page.content()).not.toContain(lineUser.userId);

    await page.fill('#reply-text', LINE_ANSWER);
    await Promise.all([page.waitForURL(new RegExp(`/console/inquiries/${lineId}$`)), page.click('text=返信する')]);
    expect(await lineUser.lastBotText()).toContain(LINE_ANSWER);
    expect(await page.locator('.staff-message .message').innerText()).toBe(LINE_ANSWER);
    expect(await page.locator('.staff-message .who').innerText()).toContain('送信済み');
    await page.screenshot({ path: join(SHOTS, '7-thread.png'), fullPage: true });
    const thread = await store.get(TENANT, lineId);
    expect(thread).toMatchObject({ status: 'answered', messageCount: 2 });
    expect(thread!.messages[1]).toMatchObject({
      author: 'staff',
      staffRef: consoleLogin(stack, TENANT, 'staff').username,
      text: LINE_ANSWER,
      delivery: 'sent',
    });
    expect((await auditOf(TENANT)).map((e) => [e.action, e.target, e.detail])).toEqual([
      ['view-inquiry', lineId, undefined],
      ['reply-inquiry', lineId, 'sent'],
      ['view-inquiry', lineId, undefined],
    ]);

    // The reader page lists the thread (statuses and times, no text).
    await page.click('text=利用者の情報を見る');
    await page.waitForURL(/\/console\/readers\//);
    const history = page
      .locator('section, table')
      .filter({ has: page.locator(`a[href="/console/inquiries/${lineId}"]`) });
    expect(await history.count()).toBeGreaterThan(0);
    expect(await page.locator('main').innerText()).toContain('回答済み');
    expect(await page.locator('main').innerText()).not.toContain('離乳食');
    await context.close();
  });

  it('an empty reply or one without the CSRF token changes nothing and sends nothing', async () => {
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, TENANT);
    await page.goto(`${stack.console!.url}/inquiries/${emailId}`);
    const before = await store.get(TENANT, emailId);
    const mailsBefore = (await sesEmails(stack.endpoints.ses)).filter((m) => m.destination.to.includes(emailAddress));
    const res = await Promise.all([page.waitForResponse(/\/reply$/), page.click('text=返信する')]);
    expect(res[0].status()).toBe(400);
    expect(await page.locator('.error').innerText()).toBe('お返事の内容を入力してください。');
    const noCsrf = await postForm(context, `/console/inquiries/${emailId}/reply`, { text: EMAIL_ANSWER });
    expect(noCsrf.status).toBe(403);
    expect(await store.get(TENANT, emailId)).toEqual(before);
    expect((await sesEmails(stack.endpoints.ses)).filter((m) => m.destination.to.includes(emailAddress))).toEqual(
      mailsBefore,
    );
    await context.close();
  });

  it("an email resident's inquiry answered arrives as a mail with the answer and their own link", async () => {
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, TENANT, 'admin');
    await page.goto(`${stack.console!.url}/inquiries/${emailId}`);
    expect(await page.locator('.reader-message .message').innerText()).toBe(EMAIL_QUESTION);
    expect(await page.content()).not.toContain(emailAddress);
    await page.fill('#reply-text', EMAIL_ANSWER);
    await Promise.all([page.waitForURL(new RegExp(`/console/inquiries/${emailId}$`)), page.click('text=返信する')]);
    const mails = (await sesEmails(stack.endpoints.ses)).filter(
      (m) => m.destination.to.includes(emailAddress) && m.subject.includes('お問い合わせへのお返事'),
    );
    expect(mails).toHaveLength(1);
    expect(mails[0]!.body.text).toContain(EMAIL_ANSWER);
    expect(mails[0]!.body.text).toContain(`/email/${TENANT}/preferences?token=`);
    expect(await store.get(TENANT, emailId)).toMatchObject({ status: 'answered', messageCount: 2 });
    // Both answered: nothing waits.
    await page.goto(`${stack.console!.url}/inquiries`);
    expect(await page.locator('tbody tr').count()).toBe(0);
    await page.goto(`${stack.console!.url}/inquiries?status=answered`);
    expect(await page.locator('tbody tr').count()).toBe(2);
    await context.close();
  });

  it('close, then reopen: closed it is listed as such; reopened it stands answered again (its last message is staff) and takes the longest reply', async () => {
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, TENANT);
    await page.goto(`${stack.console!.url}/inquiries/${lineId}`);
    await Promise.all([page.waitForURL(new RegExp(`/console/inquiries/${lineId}$`)), page.click('text=完了にする')]);
    expect(await store.get(TENANT, lineId)).toMatchObject({
      status: 'closed',
      closedBy: consoleLogin(stack, TENANT, 'staff').username,
    });
    expect(await page.locator('#reply-text').count()).toBe(0);
    await page.goto(`${stack.console!.url}/inquiries?status=closed`);
    expect(await page.locator('tbody a').getAttribute('href')).toBe(`/console/inquiries/${lineId}`);
    await page.goto(`${stack.console!.url}/inquiries/${lineId}`);
    await Promise.all([page.waitForURL(new RegExp(`/console/inquiries/${lineId}$`)), page.click('text=再開する')]);
    const reopened = await store.get(TENANT, lineId);
    expect(reopened?.status).toBe('answered');
    expect(reopened?.closedAt).toBeUndefined();
    const actions = (await auditOf(TENANT)).filter((e) => e.target === lineId).map((e) => e.action);
    expect(actions.filter((a) => a === 'close-inquiry' || a === 'reopen-inquiry')).toEqual([
      'close-inquiry',
      'reopen-inquiry',
    ]);
    // The longest reply there may be (2,000 characters, 18,000 bytes as a form) goes through the real handler.
    const longest = '返'.repeat(2000);
    await page.fill('#reply-text', longest);
    await Promise.all([page.waitForURL(new RegExp(`/console/inquiries/${lineId}$`)), page.click('text=返信する')]);
    expect(await lineUser.lastBotText()).toContain(longest);
    expect((await store.get(TENANT, lineId))?.messages.at(-1)).toMatchObject({ text: longest, delivery: 'sent' });
    // A filter that does not exist is refused.
    const bad = await page.goto(`${stack.console!.url}/inquiries?status=everything`);
    expect(bad!.status()).toBe(400);
    await context.close();
  });

  it("another tenant's staff get 404 for the thread's URL and its forms; nothing is audited, changed or sent", async () => {
    const { context, page } = await newPage();
    await consoleSignIn(stack, page, other);
    const before = await store.get(TENANT, lineId);
    const chatBefore = (await lineUser.chat()).length;
    const res = await page.goto(`${stack.console!.url}/inquiries/${lineId}`);
    expect(res!.status()).toBe(404);
    expect(await page.locator('h1').innerText()).toBe('見つかりません');
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    for (const action of ['reply', 'close', 'reopen'])
      expect(
        (await postForm(context, `/console/inquiries/${lineId}/${action}`, { csrf: csrf!, text: 'よそからの返信' }))
          .status,
      ).toBe(404);
    expect(await store.get(TENANT, lineId)).toEqual(before);
    expect((await lineUser.chat()).length).toBe(chatBefore);
    expect(await auditOf(other)).toEqual([]);
    await page.goto(`${stack.console!.url}/inquiries`);
    expect(await page.locator('tbody tr').count()).toBe(0);
    await context.close();
  });
});
