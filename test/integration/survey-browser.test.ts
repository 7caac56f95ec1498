import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dataKeys, surveyKeys } from '../../lambdas/adapters/keys';
import { SubscriptionRepository } from '../../lambdas/adapters/subscription-repository';
import { addDays, localDate } from '../../lambdas/domain';
import { bucketOfAnchor } from '../../lambdas/domain/shard';
import { signEmailToken } from '../../lambdas/services/email-tokens';
import { REPO_ROOT, runDelivery, sesEmails, type SesStoredEmail } from '../../local/stack';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { TenantConfigSchema } from '../../schemas/tenant';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(240_000);

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'test-output', 'survey-browser');
const describeWithChromium = existsSync(CHROMIUM) ? describe : describe.skip;
const today: IsoDate = localDate(new Date(), 'Asia/Tokyo');
const ALERT_TO = 'hoken-survey@example.jp';

/** EPDS scoring as published: items 1, 2 and 4 score 0-3 from the top option, the others from the bottom. */
const epdsOptionFor = (item: number, score: number) => ([1, 2, 4].includes(item) ? score : 3 - score);

/**
 * An email reader answers through the signed survey page in headless Chromium with JavaScript off: the link
 * comes from the day's mail (SES emulator), the pages are the real handlers behind the local API, the answers
 * are read back from DynamoDB Local, the staff alert from the SES emulator.
 */
describeWithChromium('the email survey page in Chromium (JavaScript off)', () => {
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let tenantId: string;
  let other: string;
  let alertFrom: string;
  const who = { survey: '', epds: '', decline: '' };
  const links = new Map<string, string>();

  beforeAll(async () => {
    stack = await startTestStack('survey-browser', {
      webhook: true,
      tenants: (px) =>
        testTenants(px).map((t, i) =>
          i > 0
            ? t
            : TenantConfigSchema.parse({
                ...t,
                surveys: [
                  {
                    id: 'late-pregnancy',
                    title: '妊娠後期アンケート',
                    intro: 'これからの支援のために教えてください。',
                    trigger: { kind: 'stage', stages: [{ track: 'maternity', day: 196 }] },
                    questions: [
                      {
                        kind: 'single',
                        id: 'worry',
                        text: 'いちばんの心配は？',
                        choices: [
                          { id: 'sleep', label: '睡眠' },
                          { id: 'money', label: 'お金' },
                        ],
                      },
                      {
                        kind: 'multiple',
                        id: 'help',
                        text: '使いたい支援は？',
                        choices: [
                          { id: 'visit', label: '訪問' },
                          { id: 'class', label: '教室' },
                          { id: 'chat', label: '相談' },
                        ],
                      },
                      { kind: 'scale', id: 'ease', text: '相談しやすさは？', low: 'しにくい', high: 'しやすい' },
                      { kind: 'text', id: 'comment', text: 'ご意見をどうぞ' },
                    ],
                  },
                ],
                screening: { enabled: true, alertTo: [ALERT_TO], alertFrom: `alert.${px}@example.jp` },
              }),
        ),
    });
    tenantId = stack.tenants[0]!.tenantId;
    other = stack.tenants[1]!.tenantId;
    alertFrom = stack.tenants[0]!.screening!.alertFrom;
    const repo = new SubscriptionRepository(stack.db, stack.tables.data);
    const put = async (name: keyof typeof who, track: 'maternity' | 'childcare', anchorDate: IsoDate) => {
      const address = `${name}.${tenantId}.${Date.now()}@example.jp`;
      who[name] = address;
      const sub: Subscription = {
        tenantId,
        readerKey: stack.readerKeys.email(address),
        subscriptionId: `s-${name}`,
        channel: 'email',
        address,
        track,
        anchorDate,
        audience: 'parent',
        status: 'active',
        registeredOn: addDays(today, -200),
        familyId: `f-${name}`,
        bucket: bucketOfAnchor(anchorDate),
        version: 0,
        tokenVersion: `tv-${name}`,
      };
      await repo.put(sub);
    };
    // Gestational day 196 today (the stage survey), twice; childcare day 30 (the second EPDS).
    await put('survey', 'maternity', addDays(today, 84));
    await put('decline', 'maternity', addDays(today, 84));
    await put('epds', 'childcare', addDays(today, -30));
    await runDelivery(stack, { date: today, schedules: [stack.tenants[0]!] });
    const mail = await sesEmails(stack.endpoints.ses);
    for (const [name, address] of Object.entries(who)) {
      const m = mail.find((x: SesStoredEmail) => x.destination.to.includes(address));
      const link = /(https?:\/\/\S+\/survey\?t=\S+)/.exec(m?.body.text ?? '')?.[1];
      if (!link) throw new Error(`no survey link in the mail to ${name}`);
      const u = new URL(link);
      links.set(name, `${stack.api!.url}${u.pathname}${u.search}`);
    }
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await (await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' })).newPage();
  });
  afterAll(async () => {
    await browser.close();
    await stack.api?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const partition = async (surveyId: string) =>
    (
      await stack.db.send(
        new QueryCommand({
          TableName: stack.tables.data,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': surveyKeys.pk(tenantId, surveyId) },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  const answersOf = async (surveyId: string, address: string) =>
    (await partition(surveyId)).filter((i) => i.kind === 'answer' && i.readerKey === stack.readerKeys.email(address));
  const submit = (label: string) => page.getByRole('button', { name: label }).click();

  it('walks a reader from the mail link through every kind of question: skip, resume, double POST, too long', async () => {
    await page.goto(links.get('survey')!);
    await shot('01-question-single');
    expect(await page.locator('h1').textContent()).toBe('妊娠後期アンケート');
    expect(await page.locator('legend').textContent()).toBe('いちばんの心配は？');
    // Nothing chosen: an error tied to the field, nothing stored.
    await submit('回答して次へ');
    expect(await page.locator('#v-error').textContent()).toContain('選択肢を選ぶか');
    expect(await page.getAttribute('#v', 'aria-describedby')).toBe('v-error');
    await page.check('input[name=v][value=money]');
    await submit('回答して次へ');
    // The multiple choice: two picks.
    expect(await page.locator('legend').textContent()).toBe('使いたい支援は？');
    await page.check('input[name=v][value=visit]');
    await page.check('input[name=v][value=chat]');
    await shot('02-question-multiple');
    await submit('回答して次へ');
    // The same form posted again (a double click, a resent form): stored once, the current question shown.
    const again = await fetch(links.get('survey')!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `action=answer&r=t0&q=1&v=class&t=${encodeURIComponent(new URL(links.get('survey')!).searchParams.get('t')!)}`,
    });
    const againHtml = await again.text();
    expect(againHtml).toContain('すでにお答えいただいています');
    expect(againHtml).toContain('相談しやすさは？');
    expect(await page.locator('legend').textContent()).toBe('相談しやすさは？');
    // The scale is skipped; the reader closes the page and opens the mail link again: it resumes.
    await submit('この質問をとばす');
    await page.goto(links.get('survey')!);
    expect(await page.locator('[role=status]').textContent()).toContain('前回の続きから');
    expect(await page.locator('label[for=v]').textContent()).toBe('ご意見をどうぞ');
    // The browser keeps to the field's maxlength; a client that does not is refused by the page, nothing stored.
    expect(await page.getAttribute('#v', 'maxlength')).toBe('1000');
    const tooLong = await fetch(links.get('survey')!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `action=answer&r=t0&q=3&v=${encodeURIComponent('あ'.repeat(1001))}&t=${encodeURIComponent(new URL(links.get('survey')!).searchParams.get('t')!)}`,
    });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toContain('1000文字以内でお願いします（いまは1001文字です）');
    await shot('03-text-question');
    await page.fill('#v', '夜に相談できる窓口がほしいです');
    await submit('回答して次へ');
    expect(await page.locator('[role=status]').textContent()).toContain('ご回答ありがとうございました');
    await shot('04-thanks');

    const stored = await answersOf('late-pregnancy', who.survey);
    expect(Object.fromEntries(stored.map((a) => [a.questionId, a.value]))).toEqual({
      worry: 'money',
      help: ['visit', 'chat'],
      comment: '夜に相談できる窓口がほしいです',
    });
    for (const a of stored) expect(a).toMatchObject({ channel: 'email', track: 'maternity', audience: 'parent' });
    const done = (await partition('late-pregnancy')).filter((i) => i.kind === 'completion');
    expect(done).toHaveLength(1);
    // The link after the end: nothing more to answer.
    await page.goto(links.get('survey')!);
    expect(await page.locator('[role=status]').textContent()).toContain('回答済み');
  });

  it('a reader declines for good: recorded, and the link says so afterwards', async () => {
    await page.goto(links.get('decline')!);
    await submit('このアンケートには答えない');
    expect(await page.locator('[role=status]').textContent()).toContain('今後お送りしません');
    await page.goto(links.get('decline')!);
    expect(await page.locator('[role=status]').textContent()).toContain('今後お送りしません');
    const declined = (await partition('late-pregnancy')).filter((i) => i.kind === 'declined');
    expect(declined).toHaveLength(1);
    expect(await answersOf('late-pregnancy', who.decline)).toEqual([]);
  });

  it('an EPDS at the cut-off: consent first (with its time), the warm message with contacts, one staff alert', async () => {
    await page.goto(links.get('epds')!);
    await shot('05-consent');
    expect(await page.locator('main').textContent()).toContain('保健師');
    const before = Date.now();
    await submit('同意して始める');
    const consent = (
      await stack.db.send(
        new QueryCommand({
          TableName: stack.tables.data,
          KeyConditionExpression: 'pk = :pk AND sk = :sk',
          ExpressionAttributeValues: {
            ':pk': dataKeys.readerPk(tenantId, stack.readerKeys.email(who.epds)),
            ':sk': surveyKeys.consentSk,
          },
        }),
      )
    ).Items![0]!;
    expect(consent.givenAt).toBeGreaterThanOrEqual(before);
    // Score 1 on items 1-9 and 0 on item 10: a total of 9, the cut-off, not urgent.
    for (let item = 1; item <= 10; item++) {
      const score = item === 10 ? 0 : 1;
      await page.check(`input[name=v][value="${epdsOptionFor(item, score)}"]`);
      if (item === 1) await shot('06-epds-item');
      await submit('回答して次へ');
    }
    const message = await page.locator('[role=status]').textContent();
    await shot('07-epds-done');
    expect(message).toContain('ひとりで抱えなくて大丈夫です');
    for (const c of stack.tenants[0]!.consultation) expect(message).toContain(c.name);
    expect(message).not.toMatch(/\d+\s*点/);
    const scores = (await answersOf('epds', who.epds)).map((a) => Number(a.score));
    expect(scores.reduce((a, b) => a + b, 0)).toBe(9);

    let alerts: SesStoredEmail[] = [];
    for (let i = 0; i < 50 && alerts.length === 0; i++) {
      alerts = (await sesEmails(stack.endpoints.ses)).filter((m) => m.from.includes(alertFrom));
      if (alerts.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.destination.to).toEqual([ALERT_TO]);
    expect(alerts[0]!.subject).not.toContain('【緊急】');
    // A reference, the band; no answer, no score, no address.
    expect(alerts[0]!.body.text).toContain('参照番号');
    expect(alerts[0]!.body.text).not.toContain(who.epds);
    expect(alerts[0]!.body.text).not.toMatch(/合計|\b9点/);
    // Consent is taken back on the page, stored with its time.
    await submit('同意を取り消す');
    expect(await page.locator('[role=status]').textContent()).toContain('同意を取り消しました');
    const revoked = (
      await stack.db.send(
        new QueryCommand({
          TableName: stack.tables.data,
          KeyConditionExpression: 'pk = :pk AND sk = :sk',
          ExpressionAttributeValues: {
            ':pk': dataKeys.readerPk(tenantId, stack.readerKeys.email(who.epds)),
            ':sk': surveyKeys.consentSk,
          },
          ConsistentRead: true,
        }),
      )
    ).Items![0]!;
    expect(revoked).toMatchObject({ givenAt: consent.givenAt, revokedAt: expect.any(Number) });
    // The same link again: done.
    await page.goto(links.get('epds')!);
    expect(await page.locator('main').textContent()).toContain('回答済み');
  });

  it.each([
    { label: 'a forged token', status: 400, text: 'リンクを確認できませんでした', token: () => 'abc.def' },
    {
      label: "another tenant's token",
      status: 400,
      text: '別の自治体',
      token: (s: TestStack, rk: string) =>
        signEmailToken(s.emailTokenKeys, {
          tenantId: other,
          readerKey: rk,
          purpose: 'survey',
          tokenVersion: 'tv-survey',
          now: Math.floor(Date.now() / 1000),
          surveyId: 'late-pregnancy',
        }),
    },
    {
      label: 'an expired token',
      status: 410,
      text: '有効期限',
      token: (s: TestStack, rk: string) =>
        signEmailToken(s.emailTokenKeys, {
          tenantId,
          readerKey: rk,
          purpose: 'survey',
          tokenVersion: 'tv-survey',
          now: Math.floor(Date.now() / 1000) - 31 * 86_400,
          surveyId: 'late-pregnancy',
        }),
    },
    {
      label: 'a preferences token',
      status: 400,
      text: 'このページ用のリンクではありません',
      token: (s: TestStack, rk: string) =>
        signEmailToken(s.emailTokenKeys, {
          tenantId,
          readerKey: rk,
          purpose: 'preferences',
          tokenVersion: 'tv-survey',
          now: Math.floor(Date.now() / 1000),
        }),
    },
  ])('$label: a clear error page, and a POST with it stores nothing', async ({ status, text, token }) => {
    const readerKey = stack.readerKeys.email(who.decline);
    const t = token(stack, readerKey);
    const url = `${stack.api!.url}/email/${tenantId}/survey?t=${encodeURIComponent(t)}`;
    const res = await page.goto(url);
    expect(res!.status()).toBe(status);
    expect(await page.locator('main').textContent()).toContain(text);
    const before = await partition('late-pregnancy');
    const post = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ t, action: 'answer', r: 't0', q: '0', v: 'sleep' }).toString(),
    });
    expect(post.status).toBe(status);
    expect(await partition('late-pregnancy')).toEqual(before);
  });
});
