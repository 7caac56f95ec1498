import {
  buildLibraryIndex,
  groupByReader,
  planSends,
  resolveReader,
  addDays,
  type ReaderDelivery,
} from '../../../lambdas/domain';
import {
  bucketFieldsForNewSubscription,
  bucketForNewSubscription,
  bucketOf,
  bucketOfAnchor,
  bucketsOfReader,
  bucketsOfShard,
  effectiveBucket,
  readerBucket,
} from '../../../lambdas/domain/shard';
import { LINE_MULTICAST_MAX_RECIPIENTS, type IsoDate } from '../../../schemas/common';
import type { Subscription } from '../../../schemas/subscription';
import { loadRepoTenants, loadSampleLibrary } from '../../../local/stack';
import { prng } from '../../../local/seed';

// A stage's multicast should go out once per tenant, not once per shard: readers of one anchor date share a
// bucket. Judged against the floor of the whole tenant's day, computed here from the readers' texts by this
// test's own grouping (one send per distinct message list per 500 recipients), not by the planner.
const DATE: IsoDate = '2026-12-01';
const tenant = { ...loadRepoTenants().find((t) => t.tenantId === 'demo-yamabe')!, shardCount: 16 };
const ctx = { tenant, library: buildLibraryIndex(loadSampleLibrary().items) };
const NICKNAMES = ['はな', 'ゆう', 'そら', 'りん', 'あおい', 'めい', 'はる', 'ひな'];

type Assign = (existing: readonly Subscription[], anchorDate: IsoDate, readerKey: string) => number;
const byAnchor: Assign = (existing, anchorDate) => bucketForNewSubscription(existing, anchorDate);
const byReaderKey: Assign = (_existing, _anchor, readerKey) => bucketOf(readerKey);

/**
 * 50,000 LINE readers registered one subscription at a time, as the webhook would: pregnancies and children
 * over every stage, half with a nickname, twins, a toddler with a new pregnancy, partners; `births` of the
 * pregnancies registered earlier now childcare with a birthday off the due date (their bucket stays).
 */
function population(readers: number, assign: Assign, mix: { births: number; secondChild: number }): Subscription[] {
  const rnd = prng(12);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const out: Subscription[] = [];
  const add = (
    held: Subscription[],
    readerKey: string,
    fields: Pick<Subscription, 'track' | 'anchorDate' | 'audience' | 'nickname'>,
  ) => {
    const sub: Subscription = {
      tenantId: tenant.tenantId,
      readerKey,
      subscriptionId: `s${out.length}`,
      channel: 'line',
      address: `U${readerKey}`,
      status: 'active',
      registeredOn: addDays(DATE, -30),
      familyId: `f${out.length}`,
      bucket: assign(held, fields.anchorDate, readerKey),
      version: 0,
      ...fields,
    };
    held.push(sub);
    out.push(sub);
    return sub;
  };
  for (let r = 0; r < readers; r++) {
    const key = `line:r${r}`;
    const held: Subscription[] = [];
    const maternity = rnd() < 0.45;
    const nickname = rnd() < 0.5 ? NICKNAMES[int(0, NICKNAMES.length - 1)] : undefined;
    const anchorDate = maternity ? addDays(DATE, 280 - int(28, 293)) : addDays(DATE, -int(0, 1095));
    const first = add(held, key, {
      track: maternity ? 'maternity' : 'childcare',
      anchorDate,
      audience: 'parent',
      nickname,
    });
    if (!maternity && rnd() < mix.births) {
      // Registered with the due date, then reported the birth: the anchor moved, the bucket did not.
      const due = addDays(anchorDate, int(-7, 14));
      first.bucket = assign([], due, key);
    }
    const extra = rnd();
    if (extra < 0.02)
      add(held, key, { track: first.track, anchorDate, audience: 'parent', nickname: NICKNAMES[int(0, 7)] });
    else if (extra < 0.02 + mix.secondChild && !maternity)
      add(held, key, {
        track: 'maternity',
        anchorDate: addDays(DATE, 280 - int(28, 250)),
        audience: 'parent',
        nickname: undefined,
      });
    else if (extra < 0.1 + mix.secondChild && r + 1 < readers) {
      r++;
      add([], `line:r${r}`, { track: first.track, anchorDate, audience: 'partner', nickname });
    }
  }
  return out;
}

function readerDeliveries(subs: readonly Subscription[]): ReaderDelivery[] {
  return groupByReader(subs).flatMap((group) => {
    const texts = resolveReader(group, DATE, ctx);
    const f = group[0]!;
    return texts.length ? [{ readerKey: f.readerKey, channel: f.channel, address: f.address, texts }] : [];
  });
}

/** The floor: every distinct message list once per 500 of its recipients, all of the tenant's readers together. */
function floor(subs: readonly Subscription[]): number {
  const lists = new Map<string, number>();
  for (const r of readerDeliveries(subs))
    lists.set(JSON.stringify(r.texts), (lists.get(JSON.stringify(r.texts)) ?? 0) + 1);
  let n = 0;
  for (const count of lists.values()) n += Math.ceil(count / LINE_MULTICAST_MAX_RECIPIENTS);
  return n;
}

/** What the shards send: each shard plans its own buckets' readers. */
function shardSends(subs: readonly Subscription[], shardCount: number): number {
  let n = 0;
  for (let shard = 0; shard < shardCount; shard++) {
    const buckets = new Set(bucketsOfShard(shard, shardCount));
    const sends = planSends(readerDeliveries(subs.filter((s) => buckets.has(s.bucket))), { emailSubject: 'x' });
    n += sends.filter((s) => s.kind !== 'email').length;
  }
  return n;
}

describe('anchor-date buckets', () => {
  it("gives readers of one anchor date one bucket, and a reader's later subscriptions the reader's bucket", () => {
    expect(bucketOfAnchor('1970-01-01')).toBe(0);
    expect(bucketOfAnchor('1970-09-13')).toBe(255); // day 255
    expect(bucketOfAnchor('1970-09-14')).toBe(0); // day 256
    expect(bucketOfAnchor('1969-12-31')).toBe(255); // day -1
    expect(bucketForNewSubscription([], '2026-05-01')).toBe(bucketOfAnchor('2026-05-01'));
    expect(bucketForNewSubscription([{ bucket: 7 }], '2026-05-01')).toBe(7);
  });

  it.each([
    { label: '16 shards', shardCount: 16 },
    { label: '10 shards', shardCount: 10 },
    { label: '64 shards', shardCount: 64 },
  ])(
    'sends within 1.05x of the floor for 50,000 readers whose subscriptions share an anchor date: $label',
    ({ shardCount }) => {
      const subs = population(50_000, byAnchor, { births: 0, secondChild: 0 });
      const f = floor(subs);
      const sends = shardSends(subs, shardCount);
      expect(f).toBeGreaterThan(1000);
      expect(sends).toBeGreaterThanOrEqual(f);
      expect(sends / f).toBeLessThanOrEqual(1.05);
    },
  );

  it('costs at most one extra send for each reader with a subscription off its anchor bucket (a birth, a second child)', () => {
    const subs = population(50_000, byAnchor, { births: 0.3, secondChild: 0.02 });
    const offAnchor = new Set(subs.filter((s) => s.bucket !== bucketOfAnchor(s.anchorDate)).map((s) => s.readerKey));
    const f = floor(subs);
    const sends = shardSends(subs, 16);
    expect(offAnchor.size).toBeGreaterThan(1000);
    expect(sends).toBeGreaterThan(f);
    expect(sends).toBeLessThanOrEqual(f + offAnchor.size);
  });

  it('would not be met by buckets from a hash of the reader key (the test can tell)', () => {
    const subs = population(50_000, byReaderKey, { births: 0, secondChild: 0 });
    expect(shardSends(subs, 16) / floor(subs)).toBeGreaterThan(1.05);
  });

  it('sends within 1.05x of the floor once each such reader sits with the readers of their latest anchor date', () => {
    // What the shard worker leaves after a reader's first day: every reader moved to the bucket of the latest
    // anchor date among their subscriptions (the due date of a new pregnancy, the birthday after a birth).
    const subs = population(50_000, byAnchor, { births: 0.3, secondChild: 0.02 });
    const latest = new Map<string, IsoDate>();
    for (const s of subs) if ((latest.get(s.readerKey) ?? '') < s.anchorDate) latest.set(s.readerKey, s.anchorDate);
    const target = new Map(groupByReader(subs).map((g) => [g[0]!.readerKey, readerBucket(g)!]));
    const moved = subs.map((s) => ({ ...s, bucket: target.get(s.readerKey)! }));
    for (const s of moved) expect(s.bucket).toBe(bucketOfAnchor(latest.get(s.readerKey)!));
    const f = floor(moved);
    const sends = shardSends(moved, 16);
    expect(sends).toBeGreaterThanOrEqual(f);
    expect(sends / f).toBeLessThanOrEqual(1.05);
  });

  it.each([
    { label: 'never moved', subs: [{ bucket: 9 }], date: '2026-12-01', expected: 9 },
    {
      label: 'on the day of the move: still the old bucket',
      subs: [{ bucket: 9, previousBucket: 200, movedThrough: '2026-12-01' }],
      date: '2026-12-01',
      expected: 200,
    },
    {
      label: 'the day after: the new bucket',
      subs: [{ bucket: 9, previousBucket: 200, movedThrough: '2026-12-01' }],
      date: '2026-12-02',
      expected: 9,
    },
    {
      label: 'a subscription added after the move counts with the others',
      subs: [{ bucket: 9 }, { bucket: 9, previousBucket: 200, movedThrough: '2026-12-01' }],
      date: '2026-12-01',
      expected: 200,
    },
  ])('delivers a moved reader from one bucket on each date: $label', ({ subs, date, expected }) => {
    expect(effectiveBucket(subs, date)).toBe(expected);
  });

  it('marks changes for both buckets of a moved reader, and gives a new subscription the move of its reader', () => {
    const moved = { bucket: 9, previousBucket: 200, movedThrough: '2026-12-01' };
    expect(bucketsOfReader([moved]).sort((a, b) => a - b)).toEqual([9, 200]);
    expect(bucketFieldsForNewSubscription([moved], '2027-01-01')).toEqual(moved);
    expect(bucketFieldsForNewSubscription([], '2026-05-01')).toEqual({ bucket: bucketOfAnchor('2026-05-01') });
    expect(
      readerBucket([
        { anchorDate: '2024-01-01', status: 'active' },
        { anchorDate: '2027-03-01', status: 'active' },
      ]),
    ).toBe(bucketOfAnchor('2027-03-01'));
    expect(readerBucket([{ anchorDate: '2027-03-01', status: 'stopped' }])).toBeUndefined();
  });
});
