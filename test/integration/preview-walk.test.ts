import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { previewDays } from '../../bin/preview';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { addDays, localDate } from '../../lambdas/domain';
import { bucketOf } from '../../lambdas/domain/shard';
import { runDelivery } from '../../local/stack';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { TenantConfigSchema } from '../../schemas/tenant';
import { newUserId } from './chat';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(600_000);

// Issue 11: the preview shows what the local pipeline actually sends. One pregnancy walked through 60 days
// both ways: `hagukumi preview`'s days against the LINE messages the reader received from each day's delivery
// through the real fan-out and shard worker (one shard, so a day is one worker run).
const DAYS = 60;
const FROM: IsoDate = localDate(new Date(), 'Asia/Tokyo');

describe('preview against the pipeline, 60 days', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack('preview-walk', {
      tenants: (px) => [TenantConfigSchema.parse({ ...testTenants(px)[0]!, shardCount: 1 })],
    });
  });

  it('each day the reader receives exactly the preview of that day', async () => {
    const tenant = stack.tenants[0]!;
    // Gestational day 110 on the first day: the walk crosses the tenant's overlay on day 140.
    const due = addDays(FROM, 280 - 110);
    expect(tenant.overlays.some((o) => o.track === 'maternity' && o.day === 140)).toBe(true);
    const userId = newUserId();
    const readerKey = stack.readerKeys.line(userId);
    const sub: Subscription = {
      tenantId: tenant.tenantId,
      readerKey,
      subscriptionId: 'walk',
      channel: 'line',
      address: userId,
      track: 'maternity',
      anchorDate: due,
      audience: 'parent',
      nickname: 'はな',
      status: 'active',
      registeredOn: FROM,
      familyId: 'walk',
      bucket: bucketOf(readerKey),
      version: 1,
    };
    await stack.db.send(new PutCommand({ TableName: stack.tables.data, Item: subscriptionItem(sub) }));

    const preview = await previewDays(tenant, stack.libraries[0]!.items, {
      track: 'maternity',
      anchorDate: due,
      from: FROM,
      days: DAYS,
      audience: 'parent',
      nickname: 'はな',
    });
    const channelId = stack.channels.get(tenant.tenantId)!.channelId;
    const received: { date: IsoDate; messages: string[] }[] = [];
    for (let i = 0; i < DAYS; i++) {
      const date = addDays(FROM, i);
      const before = ((await stack.line.deliveries(channelId)).get(userId) ?? []).length;
      const [summary] = await runDelivery(stack, { date });
      expect(summary?.problems).toEqual([]);
      const got = ((await stack.line.deliveries(channelId)).get(userId) ?? []).slice(before);
      received.push({ date, messages: got.map((m) => String((m.message as { text?: string }).text)) });
    }
    expect(received).toEqual(preview.map((d) => ({ date: d.date, messages: d.messages })));
    // The walk is not empty: every day has the library's text, and the overlay day both.
    expect(received.every((d) => d.messages.length > 0)).toBe(true);
    expect(received[30]!.messages.some((m) => m.includes('【みなと市から】'))).toBe(true);
  });
});
