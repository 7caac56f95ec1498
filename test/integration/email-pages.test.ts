import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import { addDays, localDate } from '../../lambdas/domain';
import { dataKeys } from '../../lambdas/adapters/keys';
import { emailLinks, signEmailToken } from '../../lambdas/services/email-tokens';
import { runDelivery, sesEmails, type SesStoredEmail } from '../../local/stack';
import { ChatUser, newUserId, snapshot } from './chat';
import { startTestStack, type TestStack } from './helpers';

jest.setTimeout(180_000);

const TENANT = 'demo-minato';
const OTHER = 'demo-yamabe';
const today: IsoDate = localDate(new Date(), 'Asia/Tokyo');

/** The email pages through the local HTTP API (the real handlers, bundled), the SES emulator and DynamoDB Local. */
describe('email pages', () => {
  let stack: TestStack;
  let api: string;

  beforeAll(async () => {
    stack = await startTestStack('email-pages', { webhook: true });
    api = stack.api!.url;
  });
  afterAll(async () => {
    await stack.api?.close();
  });

  const newAddress = () => `parent-${randomBytes(5).toString('hex')}@example.com`;
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = (path: string, body: string) =>
    fetch(`${api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      redirect: 'manual',
    });
  const get = (path: string) => fetch(`${api}${path}`, { redirect: 'manual' });
  const state = async () => (await snapshot(stack, stack.tables.data)) + (await snapshot(stack, stack.tables.delivery));

  async function subscriptionsOf(address: string, tenantId = TENANT): Promise<Subscription[]> {
    const res = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.data,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: {
          ':pk': dataKeys.readerPk(tenantId, stack.readerKeys.email(address)),
          ':s': 'SUB#',
        },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map(({ pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, expiresAt: _e, ...rest }) =>
      SubscriptionSchema.parse(rest),
    );
  }

  async function mailTo(address: string, subjectPart: string): Promise<SesStoredEmail[]> {
    return (await sesEmails(stack.endpoints.ses)).filter(
      (m) => m.destination.to.includes(address) && m.subject.includes(subjectPart),
    );
  }

  /** The confirmation link of the latest confirmation mail to the address, as a path under the local API. */
  async function confirmPath(address: string): Promise<string> {
    const mails = await mailTo(address, 'メール登録の確認');
    const url = /https?:\/\/\S+\/confirm\?token=\S+/.exec(mails.at(-1)?.body.text ?? '')?.[0];
    if (!url) throw new Error('no confirmation link');
    const u = new URL(url);
    expect(u.origin).toBe(api);
    return u.pathname + u.search;
  }

  async function signUp(address: string, fields: Record<string, string> = {}): Promise<void> {
    const res = await post(
      `/email/${TENANT}/signup`,
      form({
        email: address,
        track: 'maternity',
        date: addDays(today, 120),
        nickname: 'はな',
        consent: 'yes',
        ...fields,
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('確認メールをお送りしました');
  }

  async function signUpAndConfirm(address: string, fields: Record<string, string> = {}): Promise<void> {
    await signUp(address, fields);
    const res = await post(await confirmPath(address), '');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('登録が完了しました');
  }

  function linksOf(sub: Subscription, tenantId = TENANT) {
    return emailLinks(stack.emailTokenKeys, {
      baseUrl: api,
      tenantId,
      readerKey: sub.readerKey,
      tokenVersion: sub.tokenVersion!,
      now: Math.floor(Date.now() / 1000),
    });
  }
  const pathOf = (url: string) => {
    const u = new URL(url);
    return u.pathname + u.search;
  };

  it('serves the sign-up page in Japanese with a label for every field', async () => {
    const res = await get(`/email/${TENANT}/signup`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain('<html lang="ja">');
    for (const id of ['email', 'date', 'inviteCode', 'nickname', 'consent'])
      expect(html).toMatch(new RegExp(`<label[^>]*for="${id}"|<label[^>]*><input[^>]*id="${id}"`));
    expect(html).toContain('https://www.minato.example.jp/privacy');
    expect((await get(`/email/no-such-town/signup`)).status).toBe(404);
  });

  it('shows each error next to its field, keeps what was typed, and stores nothing', async () => {
    const before = await state();
    const res = await post(
      `/email/${TENANT}/signup`,
      form({ email: 'not-an-address', track: 'maternity', date: addDays(today, -3), nickname: '<b>はな</b>' }),
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/id="email"[^>]*aria-invalid="true" aria-describedby="email-error"/);
    expect(html).toContain('id="email-error"');
    expect(html).toContain('id="date-error"');
    expect(html).toContain('id="consent-error"');
    expect(html).not.toContain('id="track-error"');
    // What was typed comes back, escaped.
    expect(html).toContain('value="not-an-address"');
    expect(html).toContain('value="&lt;b&gt;はな&lt;/b&gt;"');
    expect(html).not.toContain('<b>はな</b>');
    expect(await state()).toBe(before);
  });

  it('double opt-in: the POST mails a link, a GET of it changes nothing, the button confirms once and sends today', async () => {
    const address = newAddress();
    await signUp(address);
    expect(await subscriptionsOf(address)).toEqual([]);
    const path = await confirmPath(address);
    // The link carries a token, never the address.
    expect(path).not.toContain(address.split('@')[0]);

    const before = await state();
    const page = await get(path);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('登録を確定する');
    expect(await state()).toBe(before);

    const res = await post(path, '');
    expect(res.status).toBe(200);
    const [sub] = await subscriptionsOf(address);
    expect(sub).toMatchObject({
      channel: 'email',
      address,
      track: 'maternity',
      anchorDate: addDays(today, 120),
      nickname: 'はな',
      status: 'active',
      audience: 'parent',
      registeredOn: addDays(today, 1),
    });
    expect(sub!.tokenVersion).toBeDefined();
    // Today's message at once: gestational day 160 of the test library.
    const todays = await mailTo(address, '今日のメッセージ');
    expect(todays).toHaveLength(1);
    expect(todays[0]!.body.text).toContain('妊娠160日目、はなへ');

    // Single use: the same link again (a reload, a second click) changes nothing.
    const afterFirst = await state();
    const again = await post(path, '');
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('使用済み');
    expect(await state()).toBe(afterFirst);
  });

  it('a sign-up posted again at once mails once and keeps the first link working', async () => {
    const address = newAddress();
    await signUp(address);
    const first = await confirmPath(address);
    const before = await state();
    await signUp(address, { date: addDays(today, 90) });
    expect(await state()).toBe(before);
    expect(await mailTo(address, 'メール登録の確認')).toHaveLength(1);
    expect((await post(first, '')).status).toBe(200);
    expect((await subscriptionsOf(address))[0]!.anchorDate).toBe(addDays(today, 120));
  });

  it('signing up again with a confirmed address changes nothing and shows the same page', async () => {
    const address = newAddress();
    await signUpAndConfirm(address);
    const subs = await subscriptionsOf(address);
    await signUp(address, { date: addDays(today, 30) });
    expect(await subscriptionsOf(address)).toEqual(subs);
    // The owner of the address learns it is registered, with the way to the preferences.
    expect((await mailTo(address, 'メール登録について'))[0]!.body.text).toContain('/preferences?token=');
  });

  it('a tampered, expired, other-tenant or wrong-purpose token gets a friendly page and changes nothing', async () => {
    const address = newAddress();
    await signUpAndConfirm(address);
    const [sub] = await subscriptionsOf(address);
    const { preferencesUrl, unsubscribeUrl } = linksOf(sub!);
    const token = new URL(preferencesUrl).searchParams.get('token')!;
    const sign = (o: { tenantId?: string; now?: number; purpose?: 'preferences' | 'unsubscribe' }) =>
      signEmailToken(stack.emailTokenKeys, {
        tenantId: o.tenantId ?? TENANT,
        readerKey: sub!.readerKey,
        purpose: o.purpose ?? 'preferences',
        tokenVersion: sub!.tokenVersion!,
        now: o.now ?? Math.floor(Date.now() / 1000),
      });
    const cases: [string, string, number, string][] = [
      ['tampered', `${token.slice(0, -2)}xx`, 400, 'リンクを確認できませんでした'],
      ['expired', sign({ now: Math.floor(Date.now() / 1000) - 401 * 86_400 }), 410, '有効期限'],
      ['other tenant', sign({ tenantId: OTHER }), 400, '別の自治体'],
      ['wrong purpose', new URL(unsubscribeUrl).searchParams.get('token')!, 400, 'このページ用のリンクではありません'],
    ];
    const before = await state();
    for (const [label, t, status, text] of cases) {
      for (const res of [
        await get(`/email/${TENANT}/preferences?token=${encodeURIComponent(t)}`),
        await post(
          `/email/${TENANT}/preferences?token=${encodeURIComponent(t)}`,
          form({ action: 'stop', confirm: 'yes' }),
        ),
      ]) {
        expect([label, res.status]).toEqual([label, status]);
        expect(await res.text()).toContain(text);
      }
    }
    expect(await state()).toBe(before);
    expect((await subscriptionsOf(address))[0]!.status).toBe('active');
  });

  it('preferences: pause for a week and resume, with the change markers the send-time check reads', async () => {
    const address = newAddress();
    await signUpAndConfirm(address);
    const [sub] = await subscriptionsOf(address);
    const path = pathOf(linksOf(sub!).preferencesUrl);
    const page = await (await get(path)).text();
    expect(page).toContain('妊娠中・出産予定日');
    expect(page).toContain('お休みする');
    const paused = await post(path, form({ action: 'pause', period: 'week' }));
    expect(paused.status).toBe(200);
    expect(await paused.text()).toContain('再開します');
    expect((await subscriptionsOf(address))[0]).toMatchObject({ status: 'active', pausedUntil: addDays(today, 7) });
    const marker = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.delivery,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: { ':pk': `T#${TENANT}#D#${today}`, ':sk': `CHG#${sub!.readerKey}` },
      }),
    );
    expect(marker.Items).toHaveLength(1);
    await post(path, form({ action: 'resume' }));
    expect((await subscriptionsOf(address))[0]!.pausedUntil).toBeUndefined();
  });

  it('preferences: a date out of range is shown next to its field and changes nothing', async () => {
    const address = newAddress();
    await signUpAndConfirm(address);
    const [sub] = await subscriptionsOf(address);
    const path = pathOf(linksOf(sub!).preferencesUrl);
    const before = await state();
    const res = await post(
      path,
      form({ action: 'change-date', subscriptionId: sub!.subscriptionId, date: addDays(today, 400) }),
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(`id="date-${sub!.subscriptionId}-error"`);
    expect(await state()).toBe(before);
  });

  it('deletion asks twice; only the second yes deletes everything', async () => {
    const address = newAddress();
    await signUpAndConfirm(address);
    const [sub] = await subscriptionsOf(address);
    const path = pathOf(linksOf(sub!).preferencesUrl);
    const before = await state();
    expect(await (await post(path, form({ action: 'delete' }))).text()).toContain('削除してよろしいですか');
    expect(await (await post(path, form({ action: 'delete', confirm: 'yes' }))).text()).toContain('最終確認');
    expect(await state()).toBe(before);
    await post(path, form({ action: 'delete', confirm: 'yes', confirmAgain: 'yes' }));
    expect(await subscriptionsOf(address)).toEqual([]);
    // The old links are dead now.
    expect((await get(path)).status).toBe(410);
  });

  it('one-click unsubscribe: a GET changes nothing, a bare POST stops, the next day sends nothing', async () => {
    const address = newAddress();
    await signUpAndConfirm(address);
    const [sub] = await subscriptionsOf(address);
    const path = pathOf(linksOf(sub!).unsubscribeUrl);
    const before = await state();
    const page = await get(path);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('配信を停止する');
    expect(await state()).toBe(before);

    const res = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect((await subscriptionsOf(address))[0]).toMatchObject({ status: 'stopped', stoppedReason: 'reader' });
    // A mail provider's retry of the same POST answers the same and changes nothing.
    const afterStop = await state();
    expect((await post(path, 'List-Unsubscribe=One-Click')).status).toBe(200);
    expect(await state()).toBe(afterStop);

    await runDelivery(stack, { date: addDays(today, 1) });
    expect(await mailTo(address, '')).toHaveLength(
      (await mailTo(address, 'メール登録の確認')).length + (await mailTo(address, '今日のメッセージ')).length,
    );
  });

  it('a LINE parent and an email partner linked to one pregnancy both follow a birth and a loss', async () => {
    const parent = new ChatUser(stack, TENANT, newUserId());
    await parent.follow();
    await parent.tap('妊娠中');
    await parent.tap('日付を選ぶ', addDays(today, 60));
    await parent.tap('スキップ');
    await parent.say('パートナー招待');
    const code = /招待コード：([A-Z0-9]+)/.exec(await parent.lastBotText())?.[1];
    expect(code).toBeDefined();

    const partner = newAddress();
    await signUpAndConfirm(partner, { track: 'partner', date: '', nickname: '', inviteCode: code!.toLowerCase() });
    const [parentSub] = await parent.subscriptions();
    const [partnerSub] = await subscriptionsOf(partner);
    expect(partnerSub).toMatchObject({
      audience: 'partner',
      familyId: parentSub!.familyId,
      track: 'maternity',
      anchorDate: addDays(today, 60),
      channel: 'email',
    });

    // The LINE parent reports the birth: the email partner's subscription follows.
    const born = addDays(today, -1);
    await parent.say('出産のご報告');
    await parent.tap('日付を選ぶ', born);
    expect((await subscriptionsOf(partner))[0]).toMatchObject({ track: 'childcare', anchorDate: born });
    // ...and the partner is told by mail, once, with their own links (the webhook's notice to an email member).
    const [y, m, d] = born.split('-').map(Number);
    const notices = await mailTo(partner, 'ご家族からのお知らせ');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.body.text).toContain('ご出産のお知らせ');
    expect(notices[0]!.body.text).toContain(`${y}年${m}月${d}日`);
    expect(notices[0]!.body.text).toMatch(/\/email\/demo-minato\/preferences\?token=/);

    // The email partner reports a loss on the preferences page: the LINE parent's subscription stops too.
    const path = pathOf(linksOf((await subscriptionsOf(partner))[0]!).preferencesUrl);
    const ask = await post(path, form({ action: 'loss', subscriptionId: partnerSub!.subscriptionId }));
    expect(await ask.text()).toContain('おつらいなか');
    const done = await post(path, form({ action: 'loss', subscriptionId: partnerSub!.subscriptionId, confirm: 'yes' }));
    expect(await done.text()).toContain('心よりお悔やみ申し上げます');
    expect((await subscriptionsOf(partner))[0]!.status).toBe('lost');
    expect((await parent.subscriptions())[0]!.status).toBe('lost');
    // The LINE parent is told in the chat, in the same words as a loss reported on LINE.
    expect(await parent.lastBotText()).toContain('ご家族から、おつらいお知らせをいただきました');
  });

  it('an email parent invites on the preferences page; a LINE partner joins with the code in the chat', async () => {
    const address = newAddress();
    await signUpAndConfirm(address, { track: 'childcare', date: addDays(today, -30), nickname: '' });
    const [sub] = await subscriptionsOf(address);
    const path = pathOf(linksOf(sub!).preferencesUrl);
    const page = await (await post(path, form({ action: 'invite', subscriptionId: sub!.subscriptionId }))).text();
    const code = /<p class="code">([A-Z0-9]+)<\/p>/.exec(page)?.[1];
    expect(code).toBeDefined();
    const partner = new ChatUser(stack, TENANT, newUserId());
    await partner.follow();
    await partner.tap('パートナー・家族として登録');
    await partner.say(code!);
    expect(await partner.botTexts()).toEqual(expect.arrayContaining([expect.stringContaining('登録しました')]));
    expect((await partner.subscriptions())[0]).toMatchObject({
      channel: 'line',
      audience: 'partner',
      familyId: sub!.familyId,
      track: 'childcare',
      anchorDate: addDays(today, -30),
    });
  });

  it('fast-check: no form body gives a 5xx, and a rejected one changes nothing', async () => {
    const address = newAddress();
    await signUpAndConfirm(address);
    const [sub] = await subscriptionsOf(address);
    const prefs = pathOf(linksOf(sub!).preferencesUrl);
    const field = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('', 'yes', 'maternity', 'childcare', 'partner', 'week', today, '2027-02-30', '<script>'),
    );
    const body = fc.oneof(
      fc.dictionary(
        fc.constantFrom('email', 'track', 'date', 'nickname', 'inviteCode', 'consent', 'action', 'subscriptionId', 'x'),
        field,
      ),
      fc.string({ maxLength: 200 }).map((s) => ({ raw: s })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('signup', 'preferences'), body, async (page, b) => {
        const raw = 'raw' in b && typeof b.raw === 'string' ? b.raw : form(b);
        const path = page === 'signup' ? `/email/${TENANT}/signup` : prefs;
        const before = await state();
        const res = await post(path, raw);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(await state()).toBe(before);
      }),
      { numRuns: 40 },
    );
  });
});
