import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SesEmailSender } from '../../lambdas/adapters/email-sender';
import { InquiryRepository } from '../../lambdas/adapters/inquiry-repository';
import { dataKeys, inquiryKeys } from '../../lambdas/adapters/keys';
import { BotSdkLineReplierFactory } from '../../lambdas/adapters/line-replier';
import { closeInquiry, listInquiries, replyToInquiry, type InquiryDeps } from '../../lambdas/services/inquiries';
import { sesEmails } from '../../local/stack';
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
});
