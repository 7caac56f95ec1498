import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { surveyKeys } from '../../lambdas/adapters/keys';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { bucketOf } from '../../lambdas/domain/shard';
import { verifyEmailToken } from '../../lambdas/services/email-tokens';
import { runDelivery, sesEmails, type SesStoredEmail } from '../../local/stack';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { TenantConfigSchema } from '../../schemas/tenant';
import { newUserId } from './chat';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(180_000);

const addDays = (date: IsoDate, days: number): IsoDate =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const D: IsoDate = '2026-12-01';

describe('survey invitations travel in the daily send (real handlers, emulators)', () => {
  let stack: TestStack;
  let tenantId: string;
  const users = { stage: newUserId(), epds: newUserId(), afterLoss: newUserId(), partner: newUserId() };
  let mailFrom: string;
  const mailTo = { stage: '', epds: '', afterLoss: '' };
  /** Daily mails each email reader received, per delivery date, from the SES emulator. */
  const mailed = new Map<IsoDate, SesStoredEmail[]>();
  /** Texts each user received, per delivery date. */
  const received = new Map<IsoDate, Map<string, { requests: number; texts: string[] }>>();

  beforeAll(async () => {
    stack = await startTestStack('survey-inv', {
      tenants: (px) => {
        const t = testTenants(px)[0]!;
        return [
          TenantConfigSchema.parse({
            ...t,
            surveys: [
              {
                id: 'late-pregnancy',
                title: '妊娠後期アンケート',
                trigger: { kind: 'stage', stages: [{ track: 'maternity', day: 196 }] },
                questions: [{ kind: 'scale', id: 'q1', text: '不安はありますか', low: 'ない', high: 'ある' }],
              },
            ],
            screening: { enabled: true, alertTo: ['hoken@example.jp'], alertFrom: 'noreply@example.jp' },
          }),
        ];
      },
    });
    tenantId = stack.tenants[0]!.tenantId;
    mailFrom = stack.tenants[0]!.email!.from;
    for (const k of Object.keys(mailTo) as (keyof typeof mailTo)[]) mailTo[k] = `${k}.${tenantId}.survey@example.jp`;
    let n = 0;
    const put = async (userId: string, over: Partial<Subscription>) => {
      const readerKey = over.channel === 'email' ? stack.readerKeys.email(userId) : stack.readerKeys.line(userId);
      const sub: Subscription = {
        tenantId,
        readerKey,
        subscriptionId: `s${n++}`,
        channel: 'line',
        address: userId,
        track: 'maternity',
        anchorDate: addDays(D, 280 - 196),
        audience: 'parent',
        status: 'active',
        registeredOn: '2026-06-01',
        familyId: `f${n}`,
        bucket: bucketOf(readerKey),
        version: 1,
        ...over,
      };
      await stack.db.send(new PutCommand({ TableName: stack.tables.data, Item: subscriptionItem(sub) }));
    };
    // Gestational day 196 (28w0d) on D.
    await put(users.stage, {});
    // Childcare day 30 on D: the parent's second EPDS invitation.
    await put(users.epds, { track: 'childcare', anchorDate: addDays(D, -30) });
    // The same, with a pregnancy lost: nothing is asked of them any more.
    await put(users.afterLoss, { track: 'childcare', anchorDate: addDays(D, -30) });
    await put(users.afterLoss, { status: 'lost', anchorDate: addDays(D, 100), eraseOn: addDays(D, 80) });
    // A partner on childcare day 30: the EPDS is for the parent.
    await put(users.partner, { track: 'childcare', anchorDate: addDays(D, -30), audience: 'partner' });

    // The same three cases by email: the stage survey, the EPDS, and the EPDS after a loss.
    const email = (over: Partial<Subscription>): Partial<Subscription> => ({
      channel: 'email',
      tokenVersion: 'tv-1',
      ...over,
    });
    await put(mailTo.stage, email({ address: mailTo.stage }));
    await put(mailTo.epds, email({ address: mailTo.epds, track: 'childcare', anchorDate: addDays(D, -30) }));
    await put(mailTo.afterLoss, email({ address: mailTo.afterLoss, track: 'childcare', anchorDate: addDays(D, -30) }));
    await put(
      mailTo.afterLoss,
      email({ address: mailTo.afterLoss, status: 'lost', anchorDate: addDays(D, 100), eraseOn: addDays(D, 80) }),
    );

    const channelId = stack.channels.get(tenantId)!.channelId;
    const seen = new Map<string, number>();
    const seenMail = new Set<string>();
    const mailId = (m: SesStoredEmail) => m.messageId ?? JSON.stringify(m);
    for (const date of [addDays(D, -1), D, addDays(D, 1)]) {
      await runDelivery(stack, { date });
      // The emulator's store is shared and its `since` has one-second steps: new mail is mail not seen before.
      const fresh = (await sesEmails(stack.endpoints.ses)).filter(
        (m) => m.from.includes(mailFrom) && !seenMail.has(mailId(m)),
      );
      for (const m of fresh) seenMail.add(mailId(m));
      mailed.set(date, fresh);
      const perUser = new Map<string, { requests: number; texts: string[] }>();
      for (const [userId, messages] of await stack.line.deliveries(channelId)) {
        const fresh = messages.slice(seen.get(userId) ?? 0);
        seen.set(userId, messages.length);
        perUser.set(userId, {
          requests: new Set(fresh.map((m) => m.requestId)).size,
          texts: fresh.map((m) => String(m.message.text)),
        });
      }
      received.set(date, perUser);
    }
  });

  const on = (date: IsoDate, userId: string) => received.get(date)?.get(userId) ?? { requests: 0, texts: [] };
  const invitations = (texts: string[]) =>
    texts.filter((t) => t.startsWith('【アンケートのお願い】') || t.startsWith('【こころの健康チェックのご案内】'));

  it('the stage-triggered survey arrives on its day, inside the one send, after the day message', () => {
    const today = on(D, users.stage);
    expect(today.requests).toBe(1);
    expect(today.texts).toHaveLength(2);
    expect(today.texts[0]).toContain('妊娠196日目');
    expect(today.texts[1]).toMatch(/^【アンケートのお願い】妊娠後期アンケート/);
    expect(invitations(on(addDays(D, -1), users.stage).texts)).toEqual([]);
    expect(invitations(on(addDays(D, 1), users.stage).texts)).toEqual([]);
  });

  it('the EPDS invitation reaches the parent on childcare day 30, not the partner', () => {
    expect(on(D, users.epds).requests).toBe(1);
    expect(invitations(on(D, users.epds).texts)).toEqual([expect.stringMatching(/^【こころの健康チェックのご案内】/)]);
    expect(on(D, users.partner).requests).toBe(1);
    expect(invitations(on(D, users.partner).texts)).toEqual([]);
  });

  it('a loss suppresses the pending invitation, not the day message', () => {
    const today = on(D, users.afterLoss);
    expect(today.requests).toBe(1);
    expect(today.texts.length).toBeGreaterThan(0);
    expect(invitations(today.texts)).toEqual([]);
  });

  it('each invitation is recorded once, for its date, with no personal data in its key', async () => {
    const res = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.data,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': surveyKeys.pk(tenantId, 'late-pregnancy') },
      }),
    );
    expect(res.Items!.map((i) => i.channel).sort()).toEqual(['email', 'line']);
    for (const item of res.Items!) {
      expect(item).toMatchObject({ invitedOn: D, track: 'maternity', stageBand: 'maternity-late', runId: 't0' });
      for (const personal of [users.stage, mailTo.stage, D]) expect(String(item.sk)).not.toContain(personal);
    }
  });

  const mailsTo = (date: IsoDate, address: string) =>
    (mailed.get(date) ?? []).filter((m) => m.destination.to.includes(address));
  const surveyTokens = (m: SesStoredEmail) =>
    [...(m.body.text ?? '').matchAll(/\/email\/([^/\s]+)\/survey\?t=(\S+)/g)].map((x) => ({
      tenant: decodeURIComponent(x[1]!),
      token: decodeURIComponent(x[2]!),
    }));

  it('an email reader due the survey gets it in the one daily mail, with a link signed for the survey', () => {
    const [mail, ...more] = mailsTo(D, mailTo.stage);
    expect(more).toEqual([]);
    const text = mail!.body.text!;
    expect(text.indexOf('妊娠196日目')).toBeGreaterThan(0);
    expect(text.indexOf('【アンケートのお願い】妊娠後期アンケート')).toBeGreaterThan(text.indexOf('妊娠196日目'));
    const links = surveyTokens(mail!);
    expect(links).toHaveLength(1);
    expect(links[0]!.tenant).toBe(tenantId);
    const verified = verifyEmailToken(stack.emailTokenKeys, links[0]!.token, {
      tenantId,
      purpose: 'survey',
      now: Math.floor(Date.now() / 1000),
    });
    expect(verified.ok && verified.claims).toMatchObject({
      readerKey: stack.readerKeys.email(mailTo.stage),
      surveyId: 'late-pregnancy',
    });
    expect(/survey\?t=\S+/.exec(text)![0]).not.toContain(encodeURIComponent(mailTo.stage));
    // The day before and after: the day's mail, no invitation.
    for (const date of [addDays(D, -1), addDays(D, 1)]) {
      expect(mailsTo(date, mailTo.stage)).toHaveLength(1);
      expect(surveyTokens(mailsTo(date, mailTo.stage)[0]!)).toEqual([]);
    }
  });

  it('the EPDS reaches the email parent with its own link; a loss leaves only the day mail', () => {
    const [epds] = mailsTo(D, mailTo.epds);
    expect(epds!.body.text).toContain('【こころの健康チェックのご案内】');
    expect(epds!.body.html).toContain('チェックを始める');
    const [token] = surveyTokens(epds!);
    const verified = verifyEmailToken(stack.emailTokenKeys, token!.token, {
      tenantId,
      purpose: 'survey',
      now: Math.floor(Date.now() / 1000),
    });
    expect(verified.ok && verified.claims.surveyId).toBe('epds');
    const afterLoss = mailsTo(D, mailTo.afterLoss);
    expect(afterLoss).toHaveLength(1);
    expect(surveyTokens(afterLoss[0]!)).toEqual([]);
    expect(afterLoss[0]!.body.text).not.toContain('こころの健康チェック');
  });

  it('an email invitation is marked sent once SES accepted its mail', async () => {
    const res = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.data,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': surveyKeys.pk(tenantId, 'epds') },
      }),
    );
    const byChannel = (channel: string) => (res.Items ?? []).filter((i) => i.channel === channel);
    // Two parents on childcare day 30, one per channel (the partner and the readers after a loss are not asked).
    expect(byChannel('line')).toHaveLength(1);
    expect(byChannel('email')).toEqual([
      expect.objectContaining({ invitedOn: D, runId: 't1', sentAt: expect.any(Number) }),
    ]);
  });

  it('running the day again sends nothing more, on LINE or by email', async () => {
    const before = (await stack.line.requests({ channelId: stack.channels.get(tenantId)!.channelId })).length;
    const mailBefore = (await sesEmails(stack.endpoints.ses)).filter((m) => m.from.includes(mailFrom)).length;
    await runDelivery(stack, { date: D });
    expect((await stack.line.requests({ channelId: stack.channels.get(tenantId)!.channelId })).length).toBe(before);
    expect((await sesEmails(stack.endpoints.ses)).filter((m) => m.from.includes(mailFrom))).toHaveLength(mailBefore);
  });
});
