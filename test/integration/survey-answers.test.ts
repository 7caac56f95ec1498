import { PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { surveyKeys } from '../../lambdas/adapters/keys';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { bucketOf } from '../../lambdas/domain/shard';
import { sesEmails } from '../../local/stack';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { TenantConfigSchema } from '../../schemas/tenant';
import { ChatUser, newUserId } from './chat';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(180_000);

const localToday = (): IsoDate => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo' }).format(new Date());
const addDays = (date: IsoDate, days: number): IsoDate =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

describe('surveys and screening answered in the LINE chat (real webhook, emulators)', () => {
  let stack: TestStack;
  let tenantId: string;
  let alertTo: string;
  let n = 0;

  beforeAll(async () => {
    stack = await startTestStack('survey-ans', {
      webhook: true,
      tenants: (px) => {
        const t = testTenants(px)[0]!;
        alertTo = `hoken.${px}@example.jp`;
        return [
          TenantConfigSchema.parse({
            ...t,
            surveys: [
              {
                id: 'voice',
                title: '声をきかせてください',
                trigger: { kind: 'request' },
                questions: [
                  {
                    kind: 'single',
                    id: 'reading',
                    text: 'どのくらい読んでいますか',
                    choices: [
                      { id: 'daily', label: 'ほぼ毎日' },
                      { id: 'rarely', label: 'ほとんど読まない' },
                    ],
                  },
                  { kind: 'scale', id: 'satisfaction', text: '満足していますか', low: '不満', high: '満足' },
                  {
                    kind: 'multiple',
                    id: 'topics',
                    text: '役に立った話題',
                    choices: [
                      { id: 'health', label: '健康' },
                      { id: 'growth', label: '成長' },
                      { id: 'city', label: '市の制度' },
                    ],
                  },
                  { kind: 'text', id: 'comment', text: 'ご意見をどうぞ', maxLength: 200 },
                ],
              },
            ],
            screening: { enabled: true, alertTo: [alertTo], alertFrom: `noreply.${px}@example.jp` },
          }),
        ];
      },
    });
    tenantId = stack.tenants[0]!.tenantId;
  });

  /** A registered parent on childcare day 40 (today, Tokyo): the webhook reads the stage at answer time. */
  async function reader(audience: 'parent' | 'partner' = 'parent'): Promise<ChatUser> {
    const userId = newUserId();
    const readerKey = stack.readerKeys.line(userId);
    const sub: Subscription = {
      tenantId,
      readerKey,
      subscriptionId: `s${n++}`,
      channel: 'line',
      address: userId,
      track: 'childcare',
      anchorDate: addDays(localToday(), -40),
      audience,
      status: 'active',
      registeredOn: addDays(localToday(), -40),
      familyId: `f${n}`,
      bucket: bucketOf(readerKey),
      version: 1,
    };
    await stack.db.send(new PutCommand({ TableName: stack.tables.data, Item: subscriptionItem(sub) }));
    return new ChatUser(stack, tenantId, userId);
  }

  async function stored(user: ChatUser, surveyId: string) {
    const res = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.data,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: {
          ':pk': surveyKeys.pk(tenantId, surveyId),
          ':r': surveyKeys.readerPrefix(stack.readerKeys.line(user.userId)),
        },
        ConsistentRead: true,
      }),
    );
    return res.Items ?? [];
  }
  const answersOf = async (user: ChatUser, surveyId: string) =>
    (await stored(user, surveyId)).filter((i) => i.kind === 'answer');

  it('answers every question kind in the chat; each answer stored once with track, stage band, channel, audience', async () => {
    const u = await reader();
    await u.say('アンケート');
    expect(await u.lastBotText()).toMatch(/^（1\/4）どのくらい読んでいますか/);
    await u.tap('ほぼ毎日');
    expect(await u.lastBotText()).toMatch(/^（2\/4）満足していますか/);
    await u.tap('4');
    await u.tap('健康');
    await u.tap('市の制度');
    expect(await u.lastBotText()).toContain('選択中: 健康、市の制度');
    await u.tap('選び終わった');
    expect(await u.lastBotText()).toMatch(/^（4\/4）ご意見をどうぞ/);
    await u.say('x'.repeat(201));
    expect((await u.botTexts()).at(-2)).toContain('200文字以内でお願いします');
    expect(await answersOf(u, 'voice')).toHaveLength(3);
    await u.say('毎朝たのしみにしています');
    expect(await u.lastBotText()).toContain('ご回答ありがとうございました');

    const answers = await answersOf(u, 'voice');
    expect(Object.fromEntries(answers.map((a) => [a.questionId, a.value]))).toEqual({
      reading: 'daily',
      satisfaction: 4,
      topics: ['health', 'city'],
      comment: '毎朝たのしみにしています',
    });
    for (const a of answers)
      expect(a).toMatchObject({
        tenantId,
        surveyId: 'voice',
        track: 'childcare',
        stageBand: 'childcare-0-100d',
        channel: 'line',
        audience: 'parent',
      });
    expect((await stored(u, 'voice')).filter((i) => i.kind === 'completion')).toHaveLength(1);
  });

  it('a redelivered postback and a second tap of an old button store the answer once', async () => {
    const u = await reader('partner');
    await u.say('アンケート');
    const first = (await u.quickReplies()).find((a) => a.label === 'ほとんど読まない')!;
    const tapped = await u.postback(first.data!);
    const redelivered = await stack.line
      .user(stack.channels.get(tenantId)!.channelId, u.userId)
      .redeliver(tapped.webhookEventId);
    expect(redelivered.status).toBe(200);
    await u.postback(first.data!);
    expect(await u.lastBotText()).toMatch(/^（2\/4）満足していますか/);
    const answers = await answersOf(u, 'voice');
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ questionId: 'reading', value: 'rarely', audience: 'partner' });
  });

  it('a survey paused half-way resumes where it stopped; skipped questions are not stored', async () => {
    const u = await reader();
    await u.say('アンケート');
    await u.tap('スキップ');
    await u.tap('5');
    await u.tap('中断する');
    await u.tap('あとで続ける');
    expect(await u.lastBotText()).toContain('続きは「アンケート」と送るか');
    await u.say('アンケート');
    const texts = await u.botTexts();
    expect(texts.at(-2)).toBe('続きから再開します。');
    expect(texts.at(-1)).toMatch(/^（3\/4）役に立った話題/);
    expect((await answersOf(u, 'voice')).map((a) => a.questionId)).toEqual(['satisfaction']);
  });

  it('a survey declined for good is not offered again', async () => {
    const u = await reader();
    await u.say('アンケート');
    await u.tap('中断する');
    await u.tap('このアンケートは答えない');
    await u.say('アンケート');
    expect(await u.lastBotText()).toContain('いまお答えいただけるアンケートはありません');
  });

  it('screening asks consent first; without it nothing is asked or stored', async () => {
    const u = await reader();
    await u.say('こころの健康チェック');
    expect(await u.lastBotText()).toContain('共有に同意いただける場合のみ');
    await u.tap('同意しない');
    expect(await u.lastBotText()).toContain('チェックは行いません');
    expect(await answersOf(u, 'phq9')).toEqual([]);
  });

  it('a positive, urgent PHQ-9: the reader gets contacts at once, the staff exactly one alert mail without answers', async () => {
    const u = await reader();
    const mailBefore = (await sesEmails(stack.endpoints.ses)).filter((m) => m.destination.to.includes(alertTo));
    await u.say('こころの健康チェック');
    await u.tap('同意して始める');
    let lastEventId = '';
    for (let item = 1; item <= 9; item++) {
      expect(await u.lastBotText()).toMatch(new RegExp(`^（${item}/9）【仮の文言】PHQ-9 設問${item}`));
      // The fourth option scores 3 on every PHQ-9 item: 27, item 9 above 0.
      lastEventId = (await u.tap('【仮】選択肢4')).webhookEventId;
    }
    const done = await u.lastBotText();
    expect(done).toContain('ひとりで抱えなくて大丈夫です');
    expect(done).toContain(stack.tenants[0]!.consultation[0]!.name);
    expect(done).not.toContain('27');
    // The last tap delivered again: still one completion and one alert.
    await stack.line.user(stack.channels.get(tenantId)!.channelId, u.userId).redeliver(lastEventId);

    const mail = (await sesEmails(stack.endpoints.ses))
      .filter((m) => m.destination.to.includes(alertTo))
      .slice(mailBefore.length);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toMatch(/^【緊急】こころの健康チェック アラート（PHQ-9）参照番号 [0-9A-F]{10}$/);
    const body = mail[0]!.body.text ?? '';
    expect(body).toContain('区分: severe');
    expect(body).toContain('緊急度: 緊急');
    // The reference and the time may hold any digits (a '27' at 07:27): checked for their form, then left out.
    expect(body).toMatch(/^参照番号: [0-9A-F]{10}$/m);
    expect(body).toMatch(/^日時: \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(Asia\/Tokyo\)$/m);
    const rest = body.replace(/^(参照番号|日時): .*$/gm, '');
    for (const leak of ['27', '選択肢', '仮の文言', u.userId, stack.readerKeys.line(u.userId)])
      expect(rest).not.toContain(leak);

    const alerts = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.data,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': surveyKeys.alertPk(tenantId) },
      }),
    );
    expect(alerts.Items).toEqual([
      expect.objectContaining({ instrument: 'PHQ-9', band: 'severe', urgent: true, mailed: true }),
    ]);
    const answers = await answersOf(u, 'phq9');
    expect(answers.map((a) => a.score)).toEqual(Array(9).fill(3));
  });

  it('"delete my data" also erases their answers, invitations, consent and screening alerts', async () => {
    const u = await reader();
    const readerKey = stack.readerKeys.line(u.userId);
    await u.say('こころの健康チェック');
    await u.tap('同意して始める');
    for (let item = 1; item <= 9; item++) await u.tap('【仮】選択肢4');
    expect(await answersOf(u, 'phq9')).toHaveLength(9);
    const mentions = async () => {
      const res = await stack.db.send(new ScanCommand({ TableName: stack.tables.data, ConsistentRead: true }));
      return (res.Items ?? []).filter((i) => JSON.stringify(i).includes(readerKey));
    };
    expect((await mentions()).some((i) => i.pk === surveyKeys.alertPk(tenantId))).toBe(true);

    await u.say('配信停止');
    await u.tap('停止してデータ削除');
    await u.tap('削除する');
    expect(await u.lastBotText()).toContain('削除しました');
    expect(await mentions()).toEqual([]);
  });

  it('consent can be revoked; a new check then asks again', async () => {
    const u = await reader();
    await u.say('こころの健康チェック');
    await u.tap('同意して始める');
    await u.say('同意の取り消し');
    expect(await u.lastBotText()).toContain('同意を取り消しました');
    await u.say('こころの健康チェック');
    expect(await u.lastBotText()).toContain('共有に同意いただける場合のみ');
  });
});
