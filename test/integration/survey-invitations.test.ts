import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { surveyKeys } from '../../lambdas/adapters/keys';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { bucketOf } from '../../lambdas/domain/shard';
import { runDelivery } from '../../local/stack';
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
    let n = 0;
    const put = async (userId: string, over: Partial<Subscription>) => {
      const readerKey = stack.readerKeys.line(userId);
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

    const channelId = stack.channels.get(tenantId)!.channelId;
    const seen = new Map<string, number>();
    for (const date of [addDays(D, -1), D, addDays(D, 1)]) {
      await runDelivery(stack, { date });
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
    expect(res.Items).toHaveLength(1);
    expect(res.Items![0]).toMatchObject({ invitedOn: D, track: 'maternity', stageBand: 'maternity-late', runId: 't0' });
    expect(String(res.Items![0]!.sk)).not.toContain(users.stage);
    expect(String(res.Items![0]!.sk)).not.toContain(D);
  });

  it('running the day again sends nothing more', async () => {
    const before = (await stack.line.requests({ channelId: stack.channels.get(tenantId)!.channelId })).length;
    await runDelivery(stack, { date: D });
    expect((await stack.line.requests({ channelId: stack.channels.get(tenantId)!.channelId })).length).toBe(before);
  });
});
