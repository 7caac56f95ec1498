import { brotliDecompressSync } from 'node:zlib';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ChangeMarkerFeed } from '../../lambdas/adapters/change-feed';
import { DayLayoutRepository } from '../../lambdas/adapters/day-layouts';
import { deliveryKeys } from '../../lambdas/adapters/keys';
import { PlanRepository } from '../../lambdas/adapters/plan-repository';
import { SubscriptionRepository, subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { bucketOf } from '../../lambdas/domain/shard';
import { zeroCounters } from '../../lambdas/services/counters';
import type { PlannedSend, ShardTask } from '../../schemas/delivery';
import type { Subscription } from '../../schemas/subscription';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { startTestStack, type TestStack } from './helpers';

// The DynamoDB adapters of the shard worker on DynamoDB Local: the conditions that make retries safe.
jest.setTimeout(60_000);
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack('plan-store');
});

const task = (shard: number): ShardTask => ({
  tenantId: 'demo-minato',
  date: '2026-12-10',
  shard,
  shardCount: 4,
  issuedAt: new Date().toISOString(),
});
const push = (n: number): PlannedSend => ({
  kind: 'push',
  to: `U${n}`,
  readerKey: `line:k${n}`,
  messages: [{ type: 'text', text: `t${n}` }],
});
const meta = (planId: string) => ({ planId, committedAt: Date.now(), planned: zeroCounters() });
/** As the store keeps a send: by reader key, without the address. */
const saved = ({ to: _to, ...rest }: PlannedSend) => rest;

describe('PlanRepository', () => {
  it('keeps the first committed plan when two invocations commit at once', async () => {
    const plans = new PlanRepository(stack.db, stack.tables.delivery);
    const [a, b] = await Promise.all([
      plans.commit(task(0), meta('plan-a'), [[push(1)], [push(2)]]),
      plans.commit(task(0), meta('plan-b'), [[push(3)]]),
    ]);
    // Exactly one commits; the other is handed the winner's plan.
    const [winner, other] = a === 'ours' ? ['plan-a', b] : ['plan-b', a];
    expect(other).not.toBe('ours');
    expect(other !== 'ours' && other.planId).toBe(winner);
    expect((await plans.load(task(0)))?.batches.flatMap((x) => x.sends)).toEqual(
      (winner === 'plan-a' ? [push(1), push(2)] : [push(3)]).map(saved),
    );
  });

  it('records outcomes beside the batches, and on completion keeps the counters and lets the batches expire the next day', async () => {
    const plans = new PlanRepository(stack.db, stack.tables.delivery);
    const plan = meta('plan-c');
    expect(await plans.commit(task(1), plan, [[push(10)], [push(11)]])).toBe('ours');
    const outcome = { ...zeroCounters(), recipients: 1, pushRequests: 1 };
    await plans.markBatchDone(task(1), plan.planId, 0, outcome);
    // A duplicate's outcome for the same batch does not replace the first.
    await plans.markBatchDone(task(1), plan.planId, 0, { ...outcome, recipients: 9 });
    const resumed = await plans.load(task(1));
    expect(resumed?.batches.map((b) => [b.sends, b.outcome])).toEqual([
      [[saved(push(10))], expect.objectContaining({ recipients: 1 })],
      [[saved(push(11))], undefined],
    ]);
    const counters = { ...zeroCounters(), recipients: 2, pushRequests: 2 };
    await plans.complete(task(1), plan, counters);
    const done = await plans.load(task(1));
    expect(done).toMatchObject({ completedAt: expect.any(Number), counters, batches: [] });
    const items = await stack.db.send(new ScanCommand({ TableName: stack.tables.delivery }));
    const batches = (items.Items ?? []).filter((i) =>
      String(i.sk).startsWith(deliveryKeys.batchPrefix(task(1), plan.planId)),
    );
    expect(batches).toHaveLength(3); // two batches and one outcome
    // The sends (addresses) expire at the end of the next day (UTC), or a day after they were written once the
    // date has passed; the outcome holds counters only.
    const dayAfter = Date.parse('2026-12-12T00:00:00Z') / 1000;
    const aDayAfterNow = Math.floor(Date.now() / 1000) + 86_400;
    for (const b of batches.filter((i) => !String(i.sk).endsWith('#OUT'))) {
      expect(b.expiresAt).toBeGreaterThanOrEqual(dayAfter);
      expect(b.expiresAt).toBeLessThanOrEqual(Math.max(dayAfter, aDayAfterNow));
    }
    // No address is stored, compressed or not: the batches name readers by reader key only.
    const unpacked = batches.map((b) => (b.packed ? brotliDecompressSync(b.packed as Uint8Array).toString() : ''));
    expect(unpacked.join()).toContain('line:k10');
    expect(JSON.stringify(batches) + unpacked.join()).not.toMatch(/U1[01]/);
    expect((await plans.listCounters('demo-minato', '2026-12-10')).find((c) => c.shard === 1)).toMatchObject(counters);
  });

  it('claims an email once, tells a confirmed claim from an unknown one, and never gives back a confirmed one', async () => {
    const plans = new PlanRepository(stack.db, stack.tables.delivery);
    const t = task(2);
    expect(await plans.claimEmail(t, 'email:a')).toBe('claimed');
    expect(await plans.claimEmail(t, 'email:a')).toBe('unknown');
    await plans.confirmEmail(t, 'email:a', 'mid-1');
    expect(await plans.claimEmail(t, 'email:a')).toBe('sent');
    await plans.releaseEmail(t, 'email:a');
    expect(await plans.claimEmail(t, 'email:a')).toBe('sent');
    expect(await plans.claimEmail(t, 'email:b')).toBe('claimed');
    await plans.releaseEmail(t, 'email:b');
    expect(await plans.claimEmail(t, 'email:b')).toBe('claimed');
  });

  it('keeps the working state of a date run after it has passed until a day after the run', async () => {
    // A simulated month or a replay plans dates long past: TTL counted from the date alone would let DynamoDB
    // delete the plan while its shard still runs, and a redelivered task would plan and send again.
    const plans = new PlanRepository(stack.db, stack.tables.delivery);
    const past: ShardTask = { ...task(0), date: '2026-01-10' };
    const plan = meta('plan-past');
    const before = Math.floor(Date.now() / 1000);
    expect(await plans.commit(past, plan, [[push(30)], [push(31)]])).toBe('ours');
    await plans.markBatchDone(past, plan.planId, 0, { ...zeroCounters(), recipients: 1 });
    expect(await plans.claimEmail(past, 'email:past')).toBe('claimed');
    await new DayLayoutRepository(stack.db, stack.tables.delivery).fix('demo-minato', '2026-01-10', 4);
    const items = await stack.db.send(new ScanCommand({ TableName: stack.tables.delivery }));
    const written = (items.Items ?? []).filter((i) => i.pk === deliveryKeys.pk('demo-minato', '2026-01-10'));
    expect(written.length).toBeGreaterThanOrEqual(5); // header, two batches, an outcome, a claim (+ layout)
    // At least a day after the write, whatever the date.
    for (const i of written) expect(i.expiresAt).toBeGreaterThanOrEqual(before + 86_400);
  });

  it('records a stale task and deletes the batches of its plan', async () => {
    const plans = new PlanRepository(stack.db, stack.tables.delivery);
    const plan = meta('plan-d');
    await plans.commit(task(3), plan, [[push(20)]]);
    await plans.refuseStale(task(3), plan, 'task issued more than 20 hours ago');
    const items = await stack.db.send(new ScanCommand({ TableName: stack.tables.delivery }));
    expect(JSON.stringify(items.Items)).not.toContain('U20');
    expect(items.Items?.some((i) => i.sk === deliveryKeys.staleSk(3))).toBe(true);
  });
});

describe('DayLayoutRepository', () => {
  it('fixes the first shard count of a date and returns it to every later caller', async () => {
    const layouts = new DayLayoutRepository(stack.db, stack.tables.delivery);
    const got = await Promise.all([4, 9, 2].map((n) => layouts.fix('demo-yamabe', '2026-12-11', n)));
    expect(new Set(got).size).toBe(1);
    expect(await layouts.fix('demo-yamabe', '2026-12-11', 16)).toBe(got[0]);
  });
});

describe('SubscriptionRepository and ChangeMarkerFeed', () => {
  const sub = (readerKey: string, over: Partial<Subscription> = {}): Subscription => ({
    tenantId: 'demo-yamabe',
    readerKey,
    subscriptionId: `s-${readerKey}`,
    channel: 'line',
    address: 'U-not-a-real-one',
    track: 'maternity',
    anchorDate: '2027-03-01',
    audience: 'parent',
    status: 'active',
    registeredOn: '2026-11-01',
    familyId: `f-${readerKey}`,
    bucket: bucketOf(readerKey),
    version: 3,
    ...over,
  });

  it('leaves a reader with an unreadable item out of the shard, and lists the rest', async () => {
    const repo = new SubscriptionRepository(stack.db, stack.tables.data);
    const good = sub('line:good');
    const bad = sub('line:bad');
    await repo.put(good);
    await stack.db.send(
      new PutCommand({ TableName: stack.tables.data, Item: { ...subscriptionItem(bad), anchorDate: 'not a date' } }),
    );
    const listings = await Promise.all([0, 1, 2, 3].map((s) => repo.listShard('demo-yamabe', s, 4)));
    expect(listings.flatMap((l) => l.subscriptions).map((s) => s.readerKey)).toEqual(['line:good']);
    expect(listings.flatMap((l) => l.corruptReaders)).toEqual(['line:bad']);
    await expect(repo.listReader('demo-yamabe', 'line:bad')).rejects.toMatchObject({ name: 'CorruptItemError' });
  });

  it('marks an ended subscription only if nobody changed it since it was read', async () => {
    const repo = new SubscriptionRepository(stack.db, stack.tables.data);
    const s = sub('line:ending');
    await repo.put(s);
    await repo.markEnded({ ...s, version: 2 }, '2027-03-01'); // read before someone else's change: ignored
    expect((await repo.listReader('demo-yamabe', 'line:ending'))[0]?.status).toBe('active');
    await repo.markEnded(s, '2027-03-01');
    const [ended] = await repo.listReader('demo-yamabe', 'line:ending');
    expect(ended).toMatchObject({ status: 'ended', eraseOn: '2027-03-01', version: 4 });
    const listings = await Promise.all([0, 1, 2, 3].map((n) => repo.listShard('demo-yamabe', n, 4)));
    expect(listings.flatMap((l) => l.subscriptions).some((x) => x.readerKey === 'line:ending')).toBe(false);
  });

  it('finds the changed readers of a shard since a time, over several dates', async () => {
    const feed = new ChangeMarkerFeed(stack.db, stack.tables.delivery);
    const keys = ['line:c1', 'line:c2', 'line:c3'];
    const at = [1_000, 2_000, 3_000];
    for (const [i, k] of keys.entries()) {
      await stack.db.send(
        new PutCommand({
          TableName: stack.tables.delivery,
          Item: {
            pk: deliveryKeys.pk('demo-yamabe', i === 2 ? '2026-12-12' : '2026-12-11'),
            sk: deliveryKeys.changeSk(k),
            bucket: bucketOf(k),
            at: at[i],
          },
        }),
      );
    }
    const all = new Set(keys.map(bucketOf));
    expect((await feed.changedReaders('demo-yamabe', ['2026-12-11', '2026-12-12'], all, 1_500)).sort()).toEqual([
      'line:c2',
      'line:c3',
    ]);
    expect(await feed.changedReaders('demo-yamabe', ['2026-12-11'], new Set([bucketOf('line:c1')]), 0)).toEqual(
      keys.filter((k) => bucketOf(k) === bucketOf('line:c1') && k !== 'line:c3'),
    );
  });
});
