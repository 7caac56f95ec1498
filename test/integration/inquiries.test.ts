import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { subscriptionItem, SubscriptionRepository } from '../../lambdas/adapters/subscription-repository';
import { bucketOf } from '../../lambdas/domain/shard';
import { emailLinks } from '../../lambdas/services/email-tokens';
import { SignedEmailLinks } from '../../lambdas/services/email-links';
import { SesEmailSender } from '../../lambdas/adapters/email-sender';
import { InquiryRepository } from '../../lambdas/adapters/inquiry-repository';
import { dataKeys, inquiryKeys } from '../../lambdas/adapters/keys';
import { BotSdkLineReplierFactory } from '../../lambdas/adapters/line-replier';
import { closeInquiry, listInquiries, replyToInquiry, type InquiryDeps } from '../../lambdas/services/inquiries';
import { seedDemoInquiries } from '../../local/seed-inquiries';
import { sesEmails } from '../../local/stack';
import { startInquiry, addStaffReply } from '../../lambdas/domain/inquiries';
import { ConcurrentChangeError } from '../../lambdas/services/ports';
import { TenantConfigSchema, type TenantConfig } from '../../schemas/tenant';
import { ChatUser, newUserId, snapshot } from './chat';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(180_000);

const CONSOLE = 'https://console.inquiries.test';
/** Written for this test: a resident asking about the infant check-up, with a child's name in it. */
const QUESTION = '4か月の乳幼児健診の日程を知りたいです。うちの子（さくら）は来月で4か月になります。';

describe('inquiries through the real webhook, DynamoDB Local, the LINE and SES emulators', () => {
  let stack: TestStack;
  let minato: TenantConfig;
  let yamabe: TenantConfig;
  let staffBox: string;
  let deps: InquiryDeps;

  beforeAll(async () => {
    stack = await startTestStack('inquiries', {
      webhook: true,
      handlerEnv: { CONSOLE_BASE_URL: CONSOLE },
      tenants: (px) => {
        staffBox = `staff.${px}@example.jp`;
        return testTenants(px).map((t) =>
          TenantConfigSchema.parse({
            ...t,
            inquiries: {
              enabled: true,
              answerTime: '3営業日以内',
              notifyTo: [staffBox],
              notifyFrom: `noreply.${px}@example.jp`,
            },
          }),
        );
      },
    });
    [minato, yamabe] = stack.tenants as [TenantConfig, TenantConfig];
    deps = {
      store: new InquiryRepository(stack.db, stack.tables.data),
      clock: { now: () => new Date() },
      line: new BotSdkLineReplierFactory(
        { get: (t) => Promise.resolve(stack.channels.get(t.tenantId)!) },
        stack.endpoints.line,
      ),
      mail: new SesEmailSender(),
      notifyMail: new SesEmailSender(),
      consoleBaseUrl: CONSOLE,
    };
  });

  const staffMail = async () =>
    (await sesEmails(stack.endpoints.ses)).filter((m) => m.destination.to.includes(staffBox));
  const threadsOf = async (user: ChatUser) => {
    const res = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.data,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: {
          ':pk': dataKeys.readerPk(user.tenantId, stack.readerKeys.line(user.userId)),
          ':p': inquiryKeys.readerRefPrefix,
        },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map((i) => String(i.inquiryId));
  };

  it('free text: FAQ answers first, 職員に送る asks, 送信する stores once (also when redelivered), staff mailed a link only', async () => {
    const u = new ChatUser(stack, minato.tenantId, newUserId());
    const mailBefore = (await staffMail()).length;
    await u.say(QUESTION);
    // The tenant file's infant check-up entry (its own answer text) is among the answers shown.
    const checkup = minato.faq.find((e) => e.id === 'nyuyoji-kenshin')!;
    expect((await u.botTexts()).some((t) => t.includes(checkup.answer))).toBe(true);
    expect((await u.quickReplies()).map((q) => q.label)).toEqual(['解決しました', '職員に送る']);
    await u.tap('職員に送る');
    expect(await u.lastBotText()).toContain(QUESTION);
    // Not stored before the reader agrees.
    expect(await threadsOf(u)).toEqual([]);
    const send = await u.tap('送信する');
    const ack = await u.lastBotText();
    expect(ack).toContain('3営業日以内');
    expect(ack).toContain(minato.consultation[0]!.name);
    expect(ack).toContain('119');

    await stack.line.user(stack.channels.get(minato.tenantId)!.channelId, u.userId).redeliver(send.webhookEventId);
    const ids = await threadsOf(u);
    expect(ids).toHaveLength(1);
    const thread = await deps.store.get(minato.tenantId, ids[0]!);
    expect(thread).toMatchObject({ status: 'new', channel: 'line', address: u.userId, messageCount: 1 });
    expect(thread!.messages.map((m) => m.text)).toEqual([QUESTION]);

    const mail = (await staffMail()).slice(mailBefore);
    expect(mail).toHaveLength(1);
    const body = `${mail[0]!.subject}\n${mail[0]!.body.text ?? ''}\n${mail[0]!.body.html ?? ''}`;
    expect(body).toContain(`${CONSOLE}/console/inquiries/${ids[0]}`);
    for (const leak of ['さくら', '乳幼児健診', '4か月', u.userId, stack.readerKeys.line(u.userId)])
      expect(body).not.toContain(leak);
  });

  it('解決しました stores nothing; a staff reply reaches the LINE chat; writing again continues the thread', async () => {
    const u = new ChatUser(stack, minato.tenantId, newUserId());
    await u.say('母子手帳はどこでもらえますか');
    await u.tap('解決しました');
    expect(await threadsOf(u)).toEqual([]);

    await u.say('保育園の申し込みはいつからですか');
    await u.tap('職員に送る');
    await u.tap('送信する');
    const [id] = await threadsOf(u);
    const r = await replyToInquiry(minato, id!, 'demo-minato-staff', '4月入園は11月から受付です。', deps);
    expect(r).toMatchObject({ outcome: 'answered', delivered: true });
    expect(await u.lastBotText()).toContain('4月入園は11月から受付です。');
    const answered = await deps.store.get(minato.tenantId, id!);
    expect(answered?.status).toBe('answered');
    expect(answered!.firstAnsweredAt! - answered!.createdAt).toBeGreaterThanOrEqual(0);

    await u.say('ありがとうございます。必要な書類は何ですか');
    await u.tap('職員に送る');
    expect(await u.lastBotText()).toContain('前回のお問い合わせの続き');
    await u.tap('送信する');
    expect(await threadsOf(u)).toEqual([id]);
    const open = await deps.store.get(minato.tenantId, id!);
    expect(open?.status).toBe('open');
    expect(open?.messages.map((m) => m.author)).toEqual(['reader', 'staff', 'reader']);
    expect((await listInquiries(minato.tenantId, {}, deps)).map((i) => i.inquiryId)).toContain(id);

    expect((await closeInquiry(minato, id!, 'demo-minato-staff', deps)).outcome).toBe('closed');
    expect((await listInquiries(minato.tenantId, {}, deps)).map((i) => i.inquiryId)).not.toContain(id);
  });

  it("another tenant's staff cannot reply to or close the thread: not found, nothing changed, nothing sent", async () => {
    const u = new ChatUser(stack, minato.tenantId, newUserId());
    await u.say('予防接種の予約について');
    await u.tap('職員に送る');
    await u.tap('送信する');
    const [id] = await threadsOf(u);
    const chatBefore = (await u.chat()).length;
    const before = await snapshot(stack, stack.tables.data);
    expect(await replyToInquiry(yamabe, id!, 'demo-yamabe-staff', 'よそからの返信', deps)).toEqual({
      outcome: 'not-found',
    });
    expect(await closeInquiry(yamabe, id!, 'demo-yamabe-staff', deps)).toEqual({ outcome: 'not-found' });
    expect(await snapshot(stack, stack.tables.data)).toBe(before);
    expect((await u.chat()).length).toBe(chatBefore);
  });

  it('email: the form on the preferences page shows FAQ answers, then sends once; reply mailed with the link; thread on the page', async () => {
    const address = `parent-${Date.now().toString(36)}@example.com`;
    const readerKey = stack.readerKeys.email(address);
    const today = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo' }).format(new Date());
    await stack.db.send(
      new PutCommand({
        TableName: stack.tables.data,
        Item: subscriptionItem({
          tenantId: minato.tenantId,
          readerKey,
          subscriptionId: 'mail-1',
          channel: 'email',
          address,
          track: 'childcare',
          anchorDate: today,
          audience: 'parent',
          status: 'active',
          registeredOn: today,
          familyId: 'fam-mail-1',
          bucket: bucketOf(readerKey),
          version: 1,
          tokenVersion: 'tv-1',
        }),
      }),
    );
    const api = stack.api!.url;
    const prefs = new URL(
      emailLinks(stack.emailTokenKeys, {
        baseUrl: api,
        tenantId: minato.tenantId,
        readerKey,
        tokenVersion: 'tv-1',
        now: Math.floor(Date.now() / 1000),
      }).preferencesUrl,
    );
    const path = prefs.pathname + prefs.search;
    const post = (fields: Record<string, string>) =>
      fetch(`${api}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const page = await (await fetch(`${api}${path}`)).text();
    expect(page).toContain('<textarea id="inquiry-text" name="text"');

    // Too long: the form again with the error at the field, nothing stored.
    const long = await post({ action: 'inquiry-faq', text: 'あ'.repeat(2001) });
    expect(long.status).toBe(400);
    expect(await long.text()).toContain('2,000文字まで');

    const question = '出生届はどこに出せばいいですか。子どもの名前は「ひなた」です。';
    const faq = await post({ action: 'inquiry-faq', text: question });
    expect(faq.status).toBe(200);
    const faqHtml = await faq.text();
    const entry = minato.faq.find((e) => e.id === 'shussei-todoke')!;
    expect(faqHtml).toContain(entry.question);
    expect(await deps.store.byReader(minato.tenantId, readerKey)).toEqual([]);
    const submissionId = /name="submissionId" value="([^"]+)"/.exec(faqHtml)![1]!;
    const text = /name="text" value="([^"]*)"/
      .exec(faqHtml)![1]!
      .replace(/&quot;/g, '"')
      .replace(/&#x3D;/g, '=');
    expect(text).toBe(question);
    const mailBefore = (await staffMail()).length;
    for (let i = 0; i < 2; i++) {
      // A reload of the result page posts the same form again: stored once.
      const sent = await post({ action: 'inquiry-send', text, submissionId });
      expect(sent.status).toBe(200);
      expect(await sent.text()).toContain('3営業日以内');
    }
    const refs = await deps.store.byReader(minato.tenantId, readerKey);
    expect(refs).toHaveLength(1);
    const id = refs[0]!.inquiryId;
    expect((await deps.store.get(minato.tenantId, id))?.messages.map((m) => m.text)).toEqual([question]);
    const notes = (await staffMail()).slice(mailBefore);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.body.text).toContain(`/console/inquiries/${id}`);
    for (const leak of ['ひなた', '出生届', address]) expect(JSON.stringify(notes[0])).not.toContain(leak);
    const acks = (await sesEmails(stack.endpoints.ses)).filter(
      (m) => m.destination.to.includes(address) && m.subject.includes('お問い合わせを受け付けました'),
    );
    expect(acks).toHaveLength(2);
    expect(acks[0]!.body.text).toContain(minato.consultation[0]!.name);

    const emailDeps = {
      ...deps,
      links: new SignedEmailLinks({ get: () => Promise.resolve(stack.emailTokenKeys) }, { now: () => new Date() }),
      subscriptions: new SubscriptionRepository(stack.db, stack.tables.data),
    };
    const r = await replyToInquiry(minato, id, 'demo-minato-staff', '市役所1階の市民課で受け付けています。', emailDeps);
    expect(r).toMatchObject({ outcome: 'answered', delivered: true });
    const reply = (await sesEmails(stack.endpoints.ses)).filter(
      (m) => m.destination.to.includes(address) && m.subject.includes('お問い合わせへのお返事'),
    );
    expect(reply).toHaveLength(1);
    expect(reply[0]!.body.text).toContain('市役所1階の市民課で受け付けています。');
    expect(reply[0]!.body.text).toContain(`/email/${minato.tenantId}/preferences?token=`);
    const after = await (await fetch(`${api}${path}`)).text();
    expect(after).toContain('市役所1階の市民課で受け付けています。');
    expect(after).toContain('お返事しました');
  });

  it('deleting my data deletes my inquiries', async () => {
    const u = new ChatUser(stack, minato.tenantId, newUserId());
    await u.follow();
    await u.tap('子育て中');
    await u.tap('日付を選ぶ', new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo' }).format(new Date()));
    await u.tap('スキップ');
    await u.say('児童手当の申請について');
    await u.tap('職員に送る');
    await u.tap('送信する');
    const [id] = await threadsOf(u);
    expect(await deps.store.get(minato.tenantId, id!)).toBeDefined();
    await u.say('配信停止');
    await u.tap('停止してデータ削除');
    await u.tap('削除する');
    expect(await threadsOf(u)).toEqual([]);
    expect(await deps.store.get(minato.tenantId, id!)).toBeUndefined();
    const all = await snapshot(stack, stack.tables.data);
    expect(all).not.toContain(id);
  });

  it('the DynamoDB store: a source saved twice is stored once, a stale version is refused, the inbox moves with the status', async () => {
    const store = new InquiryRepository(stack.db, stack.tables.data);
    const at = Date.now();
    const first = startInquiry({
      inquiryId: `repo-${at.toString(36)}`,
      tenantId: minato.tenantId,
      readerKey: 'line:repo-test-reader',
      channel: 'line',
      address: 'U-repo',
      text: '質問です',
      at,
    });
    expect(await store.save({ ...first, readVersion: undefined, sourceId: `src-${at}` })).toBe('saved');
    const before = await snapshot(stack, stack.tables.data);
    expect(await store.save({ ...first, readVersion: undefined, sourceId: `src-${at}` })).toBe('duplicate');
    await expect(store.save({ ...first, readVersion: undefined })).rejects.toBeInstanceOf(ConcurrentChangeError);
    expect(await snapshot(stack, stack.tables.data)).toBe(before);

    const reply = addStaffReply(first.header, 'nurse', '答えです', at + 1000);
    expect(await store.save({ ...reply, readVersion: 0, previous: first.header })).toBe('saved');
    // A second writer that read version 0 as well loses, and changes nothing.
    const late = await snapshot(stack, stack.tables.data);
    await expect(
      store.save({
        ...addStaffReply(first.header, 'nurse2', '別の答え', at + 2000),
        readVersion: 0,
        previous: first.header,
      }),
    ).rejects.toBeInstanceOf(ConcurrentChangeError);
    expect(await snapshot(stack, stack.tables.data)).toBe(late);
    const id = first.header.inquiryId;
    const answered = await store.list(minato.tenantId, { statuses: ['answered'], order: 'newest', limit: 50 });
    expect(answered.find((i) => i.inquiryId === id)).toMatchObject({ status: 'answered', version: 1, messageCount: 2 });
    const waiting = await store.list(minato.tenantId, { statuses: ['new', 'open'], order: 'oldest', limit: 50 });
    expect(waiting.map((i) => i.inquiryId)).not.toContain(id);
    expect(await store.get(yamabe.tenantId, id)).toBeUndefined();
  });

  it('npm start seeds a new, an answered and a written-again inquiry per tenant, once', async () => {
    const now = Date.now();
    const seeded = await seedDemoInquiries(stack.db, stack.tables.data, minato.tenantId, now);
    expect(seeded).toBeGreaterThan(0);
    expect(await seedDemoInquiries(stack.db, stack.tables.data, minato.tenantId, now)).toBe(0);
  });
});
