import { deliverShard, type DeliverShardDeps } from '../../../lambdas/services/deliver-shard';
import { BATCH_MAX_SENDS } from '../../../lambdas/services/plan-shard';
import { EmailNotAcceptedError, EmailRejectedError } from '../../../lambdas/services/delivery-errors';
import { SignedEmailLinks } from '../../../lambdas/services/email-links';
import { verifyEmailToken } from '../../../lambdas/services/email-tokens';
import { fanOut } from '../../../lambdas/services/fan-out';
import type {
  BatchOutcome,
  ChangeFeed,
  DayLayouts,
  EmailMessage,
  EmailSender,
  LineSendResult,
  PlanStore,
  InvitationFacts,
  ReaderSurveyFacts,
  SavedPlan,
  ShardListing,
  StoredPlan,
  SubscriptionReader,
  SubscriptionWriter,
  SurveyInvitationStore,
} from '../../../lambdas/services/ports';
import { bucketOf, bucketOfAnchor, bucketsOfShard, BUCKETS, shardOfBucket } from '../../../lambdas/domain/shard';
import type { IsoDate } from '../../../schemas/common';
import type { ContentItem } from '../../../schemas/content';
import type { LineTextMessage, PlannedSend, ShardCounters, ShardTask } from '../../../schemas/delivery';
import type { Subscription } from '../../../schemas/subscription';
import { TenantConfigSchema, type TenantConfig } from '../../../schemas/tenant';

// In-memory ports: the shard service's own rules under test, every crash window played by a port that fails.
const DATE: IsoDate = '2026-12-10';
/** 09:00 in Tokyo on DATE. */
const NOW = new Date('2026-12-10T00:00:00Z');
const HOUR = 3600_000;

const tenant: TenantConfig = TenantConfigSchema.parse({
  tenantId: 'town',
  name: 'テスト町',
  deliveryTime: '09:00',
  shardCount: 1,
  library: 'lib',
  line: { enabled: true, secretName: 'hagukumi/town/line' },
  email: { enabled: true, from: 'news@town.example.jp', unsubscribeBaseUrl: 'https://api.town.example.jp' },
  birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
});
/** Every maternity day has its own text, so the test knows what a due date gets without the domain's help. */
const library: ContentItem[] = Array.from({ length: 293 - 28 + 1 }, (_, i) => ({
  track: 'maternity',
  day: 28 + i,
  audience: 'parent',
  text: `M${28 + i} {nickname}`,
}));
const addDaysUtc = (date: IsoDate, days: number): IsoDate =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
/** Due in `daysLeft` days: gestational day 280 - daysLeft. */
const dueIn = (daysLeft: number) => addDaysUtc(DATE, daysLeft);
const expectedText = (daysLeft: number, nickname: string) => `M${280 - daysLeft} ${nickname}`;

const KEYRING = { current: { id: '1', key: 'k'.repeat(40) } };

let seq = 0;
function reader(channel: 'line' | 'email', daysLeft: number, over: Partial<Subscription> = {}): Subscription {
  const n = seq++;
  const address = channel === 'line' ? `U${String(n).padStart(32, '0')}` : `r${n}@example.jp`;
  const readerKey = over.readerKey ?? `${channel}:k${n}`;
  return {
    tenantId: 'town',
    readerKey,
    subscriptionId: `s${n}`,
    channel,
    address,
    track: 'maternity',
    anchorDate: dueIn(daysLeft),
    audience: 'parent',
    nickname: `n${n}`,
    status: 'active',
    registeredOn: '2026-06-01',
    familyId: `f${n}`,
    bucket: bucketOf(readerKey),
    version: 1,
    ...(channel === 'email' && { tokenVersion: `tv${n}` }),
    ...over,
  };
}

class MemorySubscriptions implements SubscriptionReader, SubscriptionWriter {
  table = new Map<string, Subscription>();
  /** What the eventually consistent index shows; the table itself when undefined. */
  indexSnapshot: Subscription[] | undefined;
  corruptInIndex: string[] = [];
  ended: { id: string; eraseOn: IsoDate }[] = [];
  constructor(subs: Subscription[]) {
    for (const s of subs) this.put(s);
  }
  put(s: Subscription) {
    this.table.set(s.subscriptionId, s);
  }
  async listShard(_t: string, shard: number, shardCount: number): Promise<ShardListing> {
    const buckets = new Set(bucketsOfShard(shard, shardCount));
    const source = this.indexSnapshot ?? [...this.table.values()];
    return {
      subscriptions: source.filter((s) => s.status === 'active' && buckets.has(s.bucket)),
      corruptReaders: this.corruptInIndex,
    };
  }
  async listReader(_t: string, readerKey: string) {
    return [...this.table.values()].filter((s) => s.readerKey === readerKey);
  }
  async markEnded(s: Subscription, eraseOn: IsoDate) {
    this.ended.push({ id: s.subscriptionId, eraseOn });
    this.put({ ...s, status: 'ended', eraseOn });
  }
  async moveReader(subs: readonly Subscription[], bucket: number, through: IsoDate) {
    if (subs.some((s) => this.table.get(s.subscriptionId)?.version !== s.version)) return false;
    for (const s of subs)
      this.put({ ...s, bucket, previousBucket: s.bucket, movedThrough: through, version: s.version + 1 });
    return true;
  }
}

class MemoryChanges implements ChangeFeed {
  markers: { readerKey: string; date: IsoDate; at: number }[] = [];
  mark(s: Subscription, at = NOW.getTime()) {
    this.markers.push({ readerKey: s.readerKey, date: DATE, at });
  }
  async changedReaders(_t: string, dates: IsoDate[], buckets: ReadonlySet<number>, since: number) {
    return [
      ...new Set(
        this.markers
          .filter((m) => dates.includes(m.date) && m.at >= since && buckets.has(bucketOf(m.readerKey)))
          .map((m) => m.readerKey),
      ),
    ];
  }
}

/** A plan store with the DynamoDB adapter's semantics; `failNext` plays a crash at one of its writes. */
class MemoryPlans implements PlanStore {
  plan: StoredPlan | undefined;
  emails = new Map<string, { messageId?: string }>();
  counters: ShardCounters | undefined;
  staleReasons: string[] = [];
  failNext: Partial<Record<'markBatchDone' | 'confirmEmail', number>> = {};
  private crash(op: 'markBatchDone' | 'confirmEmail') {
    const n = this.failNext[op] ?? 0;
    if (n > 0) {
      this.failNext[op] = n - 1;
      throw new Error(`crash at ${op}`);
    }
  }
  /** As the DynamoDB store: the sends by reader key, without their addresses. */
  async load(): Promise<SavedPlan | undefined> {
    if (!this.plan) return undefined;
    const plan = structuredClone(this.plan);
    return { ...plan, batches: plan.batches.map((b) => ({ ...b, sends: b.sends.map(({ to: _to, ...s }) => s) })) };
  }
  async commit(
    _t: ShardTask,
    meta: { planId: string; committedAt: number; planned: ShardCounters },
    batches: PlannedSend[][],
  ) {
    if (this.plan) return (await this.load())!;
    this.plan = { ...meta, batches: batches.map((sends, batchNo) => ({ batchNo, sends })) };
    return 'ours' as const;
  }
  async markBatchDone(_t: ShardTask, _p: string, batchNo: number, outcome: BatchOutcome) {
    this.crash('markBatchDone');
    const b = this.plan?.batches[batchNo];
    if (b && !b.outcome) b.outcome = outcome;
  }
  async markLateDone(_t: ShardTask, _p: string, outcome: BatchOutcome) {
    if (this.plan && !this.plan.lateOutcome) this.plan.lateOutcome = outcome;
  }
  async complete(_t: ShardTask, _plan: StoredPlan, counters: ShardCounters) {
    this.counters = counters;
    if (this.plan) Object.assign(this.plan, { completedAt: NOW.getTime(), counters, batches: [] });
  }
  async refuseStale(_t: ShardTask, _p: StoredPlan | undefined, reason: string) {
    this.staleReasons.push(reason);
    if (this.plan) this.plan.batches = [];
  }
  async claimEmail(_t: ShardTask, readerKey: string) {
    const claim = this.emails.get(readerKey);
    if (!claim) {
      this.emails.set(readerKey, {});
      return 'claimed' as const;
    }
    return claim.messageId ? ('sent' as const) : ('unknown' as const);
  }
  async confirmEmail(_t: ShardTask, readerKey: string, messageId: string) {
    this.crash('confirmEmail');
    this.emails.set(readerKey, { messageId });
  }
  async releaseEmail(_t: ShardTask, readerKey: string) {
    if (!this.emails.get(readerKey)?.messageId) this.emails.delete(readerKey);
  }
  async listCounters() {
    return [];
  }
}

/** LINE as the platform behaves: a retry key it accepted answers 409; every accepted request is recorded. */
class FakeLine {
  accepted: { to: string[]; texts: string[]; key: string }[] = [];
  keys = new Set<string>();
  rejectAddresses = new Set<string>();
  /** Called before each request is answered; may throw (a timeout) or change the world. */
  before?: (n: number) => void;
  requests = 0;
  sender = {
    multicast: (to: string[], m: LineTextMessage[], key: string) => this.send(to, m, key),
    push: (to: string, m: LineTextMessage[], key: string) => this.send([to], m, key),
  };
  private async send(to: string[], messages: LineTextMessage[], key: string): Promise<LineSendResult> {
    const n = this.requests++;
    this.before?.(n);
    if (to.some((a) => this.rejectAddresses.has(a))) return { status: 'rejected', httpStatus: 400 };
    if (this.keys.has(key)) return { status: 'duplicate' };
    this.keys.add(key);
    this.accepted.push({ to, texts: messages.map((m) => m.text), key });
    return { status: 'sent' };
  }
  /** What each address received, request by request. */
  received(): Map<string, string[][]> {
    const out = new Map<string, string[][]>();
    for (const r of this.accepted) for (const a of r.to) out.set(a, [...(out.get(a) ?? []), r.texts]);
    return out;
  }
}

class FakeEmail implements EmailSender {
  delivered: EmailMessage[] = [];
  /** Per call: what SES does with it. */
  behaviour: (m: EmailMessage, n: number) => 'accept' | 'reject' | 'throttle' | 'accept-then-vanish' | 'no-answer' =
    () => 'accept';
  calls = 0;
  async send(m: EmailMessage) {
    switch (this.behaviour(m, this.calls++)) {
      case 'reject':
        throw new EmailRejectedError({ cause: 'test' });
      case 'throttle':
        throw new EmailNotAcceptedError({ cause: 'test' });
      case 'no-answer':
        throw new Error('socket hang up');
      case 'accept-then-vanish':
        this.delivered.push(m);
        throw new Error('connection reset after the request was sent');
      case 'accept':
        this.delivered.push(m);
        return { messageId: `m${this.delivered.length}` };
    }
  }
  countTo(address: string) {
    return this.delivered.filter((m) => m.to === address).length;
  }
}

interface World {
  subs: MemorySubscriptions;
  changes: MemoryChanges;
  plans: MemoryPlans;
  line: FakeLine;
  email: FakeEmail;
  deps: (over?: Partial<DeliverShardDeps>) => DeliverShardDeps;
}
function world(population: Subscription[]): World {
  const w = {
    subs: new MemorySubscriptions(population),
    changes: new MemoryChanges(),
    plans: new MemoryPlans(),
    line: new FakeLine(),
    email: new FakeEmail(),
  };
  return {
    ...w,
    deps: (over = {}) => ({
      tenants: { listTenants: async () => [tenant], getTenant: async (id) => (id === 'town' ? tenant : undefined) },
      content: { getLibrary: async () => library },
      subscriptions: w.subs,
      changes: w.changes,
      plans: w.plans,
      line: { forTenant: async () => w.line.sender },
      email: w.email,
      emailLinks: new SignedEmailLinks({ get: async () => KEYRING }, { now: () => NOW }),
      clock: { now: () => NOW },
      concurrency: 1,
      ...over,
    }),
  };
}
const task = (over: Partial<ShardTask> = {}): ShardTask => ({
  tenantId: 'town',
  date: DATE,
  shard: 0,
  shardCount: 1,
  issuedAt: NOW.toISOString(),
  ...over,
});

/** Email readers each get their own send, so a crowd of BATCH_MAX_SENDS + 10 makes two batches. */
function emailCrowd(n: number) {
  return Array.from({ length: n }, (_, i) => reader('email', 100 + (i % 50)));
}

describe('deliverShard: stops are final at send time (promise 1)', () => {
  it('withholds the send of a reader who stops after the plan was fixed', async () => {
    const crowd = emailCrowd(BATCH_MAX_SENDS + 10);
    const w = world(crowd);
    // Readers are planned in reader-key order; the last one sits in the second batch.
    const late = [...crowd].sort((a, b) => (a.readerKey < b.readerKey ? -1 : 1)).at(-1)!;
    w.email.behaviour = (_m, n) => {
      if (n === 0) {
        w.subs.put({ ...late, status: 'stopped', stoppedReason: 'reader', version: 2 });
        w.changes.mark(late);
      }
      return 'accept';
    };
    const res = await deliverShard(task(), w.deps());
    expect(w.email.countTo(late.address)).toBe(0);
    for (const s of crowd.filter((s) => s !== late)) expect(w.email.countTo(s.address)).toBe(1);
    expect(res.status === 'delivered' && res.counters.withheld).toBe(1);
  });

  it('withholds a reader who stops while their batch is already being sent (checked before each send)', async () => {
    const crowd = emailCrowd(10);
    const w = world(crowd);
    const last = [...crowd].sort((a, b) => (a.readerKey < b.readerKey ? -1 : 1)).at(-1)!;
    w.email.behaviour = (_m, n) => {
      if (n === 3) {
        w.subs.put({ ...last, status: 'stopped', stoppedReason: 'reader', version: 2 });
        w.changes.mark(last);
      }
      return 'accept';
    };
    await deliverShard(task(), w.deps());
    expect(w.email.countTo(last.address)).toBe(0);
    expect(w.email.delivered).toHaveLength(9);
  });

  it('withholds a loss for the reader and the partner (both marked by the webhook), and deletion alike', async () => {
    const crowd = emailCrowd(BATCH_MAX_SENDS + 5);
    const sorted = [...crowd].sort((a, b) => (a.readerKey < b.readerKey ? -1 : 1));
    const [parent, partner, deleted] = sorted.slice(-3) as [Subscription, Subscription, Subscription];
    const w = world(crowd);
    w.email.behaviour = (_m, n) => {
      if (n === 0) {
        w.subs.put({ ...parent, status: 'lost', version: 2 });
        w.subs.put({ ...partner, status: 'lost', version: 2 });
        w.subs.table.delete(deleted.subscriptionId);
        [parent, partner, deleted].forEach((s) => w.changes.mark(s));
      }
      return 'accept';
    };
    await deliverShard(task(), w.deps());
    for (const s of [parent, partner, deleted]) expect(w.email.countTo(s.address)).toBe(0);
    expect(w.email.delivered).toHaveLength(BATCH_MAX_SENDS + 2);
  });

  it('takes a stopped reader out of a multicast and keeps the others in it', async () => {
    const group = Array.from({ length: 4 }, () => reader('line', 120, { nickname: undefined }));
    const w = world(group);
    const [gone, ...stay] = group as [Subscription, ...Subscription[]];
    w.subs.put({ ...gone, status: 'stopped', version: 2 });
    w.changes.mark(gone, NOW.getTime() + 1);
    await deliverShard(task(), w.deps());
    const got = w.line.received();
    expect(got.has(gone.address)).toBe(false);
    for (const s of stay) expect(got.get(s.address)).toEqual([[expectedText(120, tenant.defaultNickname)]]);
    expect(w.line.accepted).toHaveLength(1);
  });

  it('delivers a reader the lagging index did not show yet (a change seconds before planning), once', async () => {
    const known = reader('line', 90);
    const fresh = reader('line', 91);
    const w = world([known, fresh]);
    w.subs.indexSnapshot = [known];
    w.changes.mark(fresh, NOW.getTime() - 5_000);
    const res = await deliverShard(task(), w.deps());
    expect(w.line.received().get(fresh.address)).toEqual([[expectedText(91, fresh.nickname!)]]);
    expect(w.line.received().get(known.address)).toEqual([[expectedText(90, known.nickname!)]]);
    expect(res.status === 'delivered' && res.counters.late).toBe(1);
  });

  it('sends the fresh messages when a reader changed after planning (a new nickname), once', async () => {
    const r = reader('line', 150);
    const w = world([r]);
    w.line.before = (n) => {
      if (n === 0) throw new Error('LINE timed out');
    };
    // The first attempt fails before LINE takes anything; the reader renames the baby before the retry.
    await expect(deliverShard(task(), w.deps())).rejects.toThrow('must be retried');
    w.subs.put({ ...r, nickname: 'もも', version: 2 });
    w.changes.mark(r);
    await deliverShard(task(), w.deps());
    expect(w.line.received().get(r.address)).toEqual([[expectedText(150, 'もも')]]);
  });
});

describe('deliverShard: one bad thing fails one send (promise 3)', () => {
  it('records a permanent LINE refusal against its send and completes the shard', async () => {
    const bad = reader('line', 60);
    const good = reader('line', 61);
    const w = world([bad, good]);
    w.line.rejectAddresses.add(bad.address);
    const res = await deliverShard(task(), w.deps());
    expect(res.status).toBe('delivered');
    expect(w.line.received().get(good.address)).toHaveLength(1);
    expect(res.status === 'delivered' && res.counters).toMatchObject({ rejected: 1, failures: 1, recipients: 1 });
  });

  it('leaves out a reader whose index item does not parse, and a reader whose text cannot fit LINE', async () => {
    const ok = reader('line', 70);
    const huge = reader('line', 71, { nickname: 'x'.repeat(20) });
    const w = world([ok, huge]);
    w.subs.corruptInIndex = ['line:broken'];
    const tooLong = library.map((i) => (i.day === 209 ? { ...i, text: `${'あ'.repeat(4_990)}{nickname}` } : i));
    const res = await deliverShard(task(), w.deps({ content: { getLibrary: async () => tooLong } }));
    expect(w.line.received().get(ok.address)).toHaveLength(1);
    expect(w.line.received().has(huge.address)).toBe(false);
    expect(res.status === 'delivered' && res.counters).toMatchObject({ corrupt: 2, failures: 2 });
  });

  it('retries only what may succeed later: a LINE timeout makes the shard come back, without a duplicate', async () => {
    const rs = [reader('line', 80), reader('line', 81), reader('line', 82)];
    const w = world(rs);
    w.line.before = (n) => {
      if (n === 1) throw new Error('LINE timed out');
    };
    await expect(deliverShard(task(), w.deps())).rejects.toThrow('must be retried');
    await deliverShard(task(), w.deps());
    for (const r of rs) expect(w.line.received().get(r.address)).toHaveLength(1);
  });
});

describe('deliverShard: the deadline (promise 4) and crash windows', () => {
  it('starts no send with too little time left, and the retry finishes without a duplicate or a loss', async () => {
    const crowd = [...emailCrowd(30), ...Array.from({ length: 30 }, (_, i) => reader('line', 200 + i))];
    const w = world(crowd);
    let left = 200_000;
    const first = w.deps({ remainingMs: () => (left -= 5_000), deadlineMarginMs: 90_000 });
    await expect(deliverShard(task(), first)).rejects.toThrow('must be retried');
    const sentBefore = w.email.delivered.length + w.line.accepted.length;
    expect(sentBefore).toBeGreaterThan(0);
    expect(sentBefore).toBeLessThan(60);
    await deliverShard(task(), w.deps());
    for (const s of crowd) {
      if (s.channel === 'email') expect(w.email.countTo(s.address)).toBe(1);
      else expect(w.line.received().get(s.address)).toHaveLength(1);
    }
  });

  it('a crash after LINE accepted but before the ledger write sends nothing twice', async () => {
    const rs = [reader('line', 30), reader('line', 31)];
    const w = world(rs);
    w.plans.failNext.markBatchDone = 1;
    await expect(deliverShard(task(), w.deps())).rejects.toThrow('crash at markBatchDone');
    await deliverShard(task(), w.deps());
    expect(w.line.accepted).toHaveLength(2);
    for (const r of rs) expect(w.line.received().get(r.address)).toHaveLength(1);
  });
});

describe('deliverShard: a resumed plan is addressed from the subscriptions (promise 10)', () => {
  it('a reader erased between a failed send and the retry gets nothing; the others keep their retry keys', async () => {
    const rs = Array.from({ length: 5 }, (_, i) => reader('line', 40 + i));
    const w = world(rs);
    w.line.before = (n) => {
      if (n === 2) throw new Error('timeout');
    };
    await expect(deliverShard(task(), w.deps())).rejects.toThrow('must be retried');
    expect(w.line.accepted).toHaveLength(4);
    // The third send failed; its reader is erased before the retry, without a change marker: the stored plan
    // (reader keys only) must not reach them, and the sends after it must keep their keys (LINE answers 409).
    const failed = w.plans.plan!.batches[0]!.sends[2]!;
    const erased = rs.find((r) => failed.kind === 'push' && r.readerKey === failed.readerKey)!;
    w.subs.table.delete(erased.subscriptionId);
    w.line.before = undefined;
    const res = await deliverShard(task(), w.deps());
    expect(w.line.accepted).toHaveLength(4);
    expect(w.line.received().has(erased.address)).toBe(false);
    for (const r of rs.filter((r) => r !== erased)) expect(w.line.received().get(r.address)).toHaveLength(1);
    expect(res.status === 'delivered' && res.counters.withheld).toBe(1);
  });

  it('addresses a reader the index no longer shows (moved or paused since planning) from their own subscriptions', async () => {
    const rs = Array.from({ length: 3 }, (_, i) => reader('line', 50 + i));
    const w = world(rs);
    w.line.before = (n) => {
      if (n === 0) throw new Error('timeout');
    };
    await expect(deliverShard(task(), w.deps())).rejects.toThrow('must be retried');
    w.line.before = undefined;
    // The index now shows nobody (a lagging or moved index): every address comes from the readers' own items.
    w.subs.indexSnapshot = [];
    await deliverShard(task(), w.deps());
    for (const r of rs) expect(w.line.received().get(r.address)).toHaveLength(1);
  });
});

describe('deliverShard: stale work is refused (promise 5)', () => {
  it.each([
    { label: 'a task issued 21 hours ago', issuedAt: new Date(NOW.getTime() - 21 * HOUR).toISOString(), plannedAgo: 0 },
    { label: 'a plan committed 24 hours ago', issuedAt: NOW.toISOString(), plannedAgo: 24 * HOUR },
  ])('$label sends nothing and is recorded', async ({ issuedAt, plannedAgo }) => {
    const r = reader('line', 40);
    const w = world([r]);
    if (plannedAgo) {
      // Plan first (LINE down), then come back a day later.
      w.line.before = () => {
        throw new Error('LINE down');
      };
      const then = new Date(NOW.getTime() - plannedAgo);
      await expect(
        deliverShard(task({ issuedAt: then.toISOString() }), w.deps({ clock: { now: () => then } })),
      ).rejects.toThrow();
      w.line.before = undefined;
    }
    const res = await deliverShard(task({ issuedAt }), w.deps());
    expect(res.status).toBe('stale');
    expect(w.line.accepted).toHaveLength(0);
    expect(w.plans.staleReasons).toHaveLength(1);
  });
});

describe('deliverShard: the daily mail', () => {
  it('sends both parts, the one-click headers with the reader’s own link, and the tenant tag', async () => {
    const r = reader('email', 100);
    const w = world([r]);
    await deliverShard(task(), w.deps());
    const [mail] = w.email.delivered;
    const link = /^<(https:\/\/api\.town\.example\.jp\/email\/town\/unsubscribe\?token=([^>]+))>$/.exec(
      mail!.headers![0]!.value,
    );
    expect(link).not.toBeNull();
    const [, unsubscribe, token] = link!;
    // The link's token is this reader's, for unsubscribing, signed with the deployment's key.
    const verified = verifyEmailToken(KEYRING, decodeURIComponent(token!), {
      tenantId: 'town',
      purpose: 'unsubscribe',
      now: NOW.getTime() / 1000,
    });
    expect(verified.ok && [verified.claims.readerKey, verified.claims.tokenVersion]).toEqual([
      r.readerKey,
      r.tokenVersion,
    ]);
    expect(mail).toMatchObject({
      from: 'news@town.example.jp',
      to: r.address,
      headers: [
        { name: 'List-Unsubscribe', value: `<${unsubscribe}>` },
        { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      ],
      tags: { tenant: 'town', kind: 'daily' },
    });
    expect(mail!.text).toContain(expectedText(100, r.nickname!));
    expect(mail!.html).toContain(expectedText(100, r.nickname!));
    expect(mail!.text).toContain(unsubscribe);
  });

  it('sends no mail without an unsubscribe link: that reader is counted, the others get theirs', async () => {
    const bare = reader('email', 100, { tokenVersion: undefined });
    const other = reader('email', 101);
    const w = world([bare, other]);
    const res = await deliverShard(task(), w.deps());
    expect(w.email.countTo(bare.address)).toBe(0);
    expect(w.email.countTo(other.address)).toBe(1);
    expect(res.status === 'delivered' && res.counters).toMatchObject({ emails: 1, corrupt: 1, failures: 1 });
  });

  it('skips and counts a suppressed reader, and mails the others', async () => {
    const bounced = reader('email', 100, { suppressed: { reason: 'bounce', at: NOW.getTime() } });
    const other = reader('email', 101);
    const w = world([bounced, other]);
    const res = await deliverShard(task(), w.deps());
    expect(w.email.countTo(bounced.address)).toBe(0);
    expect(w.email.countTo(other.address)).toBe(1);
    expect(res.status === 'delivered' && res.counters).toMatchObject({ suppressed: 1, emails: 1, failures: 0 });
  });

  it('withholds a reader suppressed after the plan was fixed (a complaint during the run)', async () => {
    const crowd = emailCrowd(BATCH_MAX_SENDS + 10);
    const w = world(crowd);
    const late = [...crowd].sort((a, b) => (a.readerKey < b.readerKey ? -1 : 1)).at(-1)!;
    w.email.behaviour = (_m, n) => {
      if (n === 0) {
        w.subs.put({ ...late, suppressed: { reason: 'complaint', at: NOW.getTime() }, version: 2 });
        w.changes.mark(late);
      }
      return 'accept';
    };
    const res = await deliverShard(task(), w.deps());
    expect(w.email.countTo(late.address)).toBe(0);
    expect(res.status === 'delivered' && res.counters.withheld).toBe(1);
  });

  it('takes a token of the account-wide rate before each claim', async () => {
    const crowd = [reader('email', 100), reader('email', 101), reader('email', 102)];
    const w = world(crowd);
    const order: string[] = [];
    const claim = w.plans.claimEmail.bind(w.plans);
    w.plans.claimEmail = (t, k) => (order.push('claim'), claim(t, k));
    await deliverShard(task(), w.deps({ emailRate: { take: async () => void order.push('take') } }));
    expect(order).toEqual(['take', 'claim', 'take', 'claim', 'take', 'claim']);
  });
});

/** Invitations as the DynamoDB adapter keeps them: recorded for one date (conditional), marked sent once. */
class MemoryInvitations implements SurveyInvitationStore {
  recorded = new Map<string, { date: IsoDate; facts: InvitationFacts; sentAt?: number }>();
  async readerSurveys(_t: string, readerKey: string, surveyIds: readonly string[]) {
    return new Map(
      surveyIds.map((id): [string, ReaderSurveyFacts] => [
        id,
        {
          declined: false,
          completed: new Set<string>(),
          invitations: new Map(
            [...this.recorded]
              .filter(([k]) => k.startsWith(`${readerKey}/${id}/`))
              .map(([k, v]) => [k.split('/')[2]!, v.date]),
          ),
        },
      ]),
    );
  }
  async recordInvitation(
    _t: string,
    readerKey: string,
    surveyId: string,
    runId: string,
    date: IsoDate,
    facts: InvitationFacts,
  ) {
    const key = `${readerKey}/${surveyId}/${runId}`;
    const had = this.recorded.get(key);
    if (had && had.date !== date) return false;
    if (!had) this.recorded.set(key, { date, facts });
    return true;
  }
  async markInvitationSent(_t: string, readerKey: string, surveyId: string, runId: string, at: number) {
    const had = this.recorded.get(`${readerKey}/${surveyId}/${runId}`);
    if (had) had.sentAt ??= at;
  }
}

describe('deliverShard: survey invitations by email', () => {
  // Gestational day 196 on DATE is 84 days before the due date.
  const surveyTenant = TenantConfigSchema.parse({
    ...tenant,
    surveys: [
      {
        id: 'late-pregnancy',
        title: '妊娠後期アンケート',
        trigger: { kind: 'stage', stages: [{ track: 'maternity', day: 196 }] },
        questions: [{ kind: 'scale', id: 'q1', text: '不安はありますか', low: 'ない', high: 'ある' }],
      },
    ],
  });
  const tenants = {
    listTenants: async () => [surveyTenant],
    getTenant: async (id: string) => (id === 'town' ? surveyTenant : undefined),
  };
  const surveyLinks = (m: EmailMessage) =>
    [...m.text.matchAll(/https:\/\/api\.town\.example\.jp\/email\/town\/survey\?t=(\S+)/g)].map((x) =>
      decodeURIComponent(x[1]!),
    );

  it('the reader due the survey gets it in the one daily mail: the paragraph last, a link signed for the survey', async () => {
    const due = reader('email', 84);
    const other = reader('email', 85);
    const w = world([due, other]);
    const invitations = new MemoryInvitations();
    await deliverShard(task(), w.deps({ tenants, surveys: invitations }));
    expect(w.email.countTo(due.address)).toBe(1);
    const mail = w.email.delivered.find((m) => m.to === due.address)!;
    expect(mail.text.indexOf(expectedText(84, due.nickname!))).toBeLessThan(
      mail.text.indexOf('【アンケートのお願い】'),
    );
    expect(mail.text).toContain('下のリンクからお答えください（1問');
    const [token, ...more] = surveyLinks(mail);
    expect(more).toEqual([]);
    const verified = verifyEmailToken(KEYRING, token, {
      tenantId: 'town',
      purpose: 'survey',
      now: NOW.getTime() / 1000,
    });
    expect(verified.ok && verified.claims).toMatchObject({ readerKey: due.readerKey, surveyId: 'late-pregnancy' });
    // The address is nowhere in the link, the HTML part has the same link as a button.
    expect(/survey\?t=\S+/.exec(mail.text)![0]).not.toContain(encodeURIComponent(due.address));
    expect(mail.html).toContain('アンケートに答える');
    expect(surveyLinks(w.email.delivered.find((m) => m.to === other.address)!)).toEqual([]);
    expect([...invitations.recorded]).toEqual([
      [
        `${due.readerKey}/late-pregnancy/t0`,
        {
          date: DATE,
          facts: { track: 'maternity', stageBand: 'maternity-late', audience: 'parent', channel: 'email' },
          sentAt: NOW.getTime(),
        },
      ],
    ]);
  });

  it.each<{ label: string; first: 'reject' | 'no-answer' | 'throttle'; sent: boolean }>([
    { label: 'SES rejected the mail: recorded, never counted as sent', first: 'reject', sent: false },
    { label: 'no answer from SES: uncertain, not counted as sent', first: 'no-answer', sent: false },
    { label: 'SES throttled, the retry was accepted: counted as sent', first: 'throttle', sent: true },
  ])('$label', async ({ first, sent }) => {
    const due = reader('email', 84);
    const w = world([due]);
    const invitations = new MemoryInvitations();
    w.email.behaviour = (_m, n) => (n === 0 ? first : 'accept');
    const deps = w.deps({ tenants, surveys: invitations });
    if (!(await deliverShard(task(), deps).catch(() => undefined))) await deliverShard(task(), deps);
    const [entry] = [...invitations.recorded.values()];
    expect(entry?.date).toBe(DATE);
    expect(entry?.sentAt !== undefined).toBe(sent);
  });

  it('a loss since planning takes the invitation out of the mail (sent afresh, never marked sent)', async () => {
    const due = reader('email', 84);
    const w = world([due]);
    const invitations = new MemoryInvitations();
    const deps = w.deps({ tenants, surveys: invitations });
    // Planned first (the plan store keeps the plan), then the loss of a second pregnancy is recorded, then sent.
    const plans = w.plans;
    const commit = plans.commit.bind(plans);
    plans.commit = async (...args) => {
      const plan = await commit(...args);
      w.subs.put(reader('email', 200, { readerKey: due.readerKey, status: 'lost', tokenVersion: due.tokenVersion }));
      w.changes.mark(due);
      return plan;
    };
    await deliverShard(task(), deps);
    expect(w.email.delivered.flatMap(surveyLinks)).toEqual([]);
    expect([...invitations.recorded.values()].every((v) => v.sentAt === undefined)).toBe(true);
  });
});

describe('deliverShard: email is never sent twice (promise 6)', () => {
  it.each<{
    label: string;
    first: 'throttle' | 'no-answer' | 'accept-then-vanish' | 'reject';
    mails: number;
    counters: Partial<ShardCounters>;
  }>([
    {
      label: 'SES throttled: the claim is given back and the retry sends it',
      first: 'throttle',
      mails: 1,
      counters: { emails: 1 },
    },
    {
      label: 'no answer from SES: never resent, counted uncertain',
      first: 'no-answer',
      mails: 0,
      counters: { emailsUncertain: 1, emails: 0 },
    },
    {
      label: 'SES took it but the answer was lost: exactly one mail',
      first: 'accept-then-vanish',
      mails: 1,
      counters: { emailsUncertain: 1, emails: 0 },
    },
    {
      label: 'SES rejected it for good: recorded, not retried',
      first: 'reject',
      mails: 0,
      counters: { rejected: 1, failures: 1 },
    },
  ])('$label', async ({ first, mails, counters }) => {
    const r = reader('email', 50);
    const w = world([r]);
    w.email.behaviour = (_m, n) => (n === 0 ? first : 'accept');
    let res = await deliverShard(task(), w.deps()).catch(() => undefined);
    res ??= await deliverShard(task(), w.deps());
    expect(w.email.countTo(r.address)).toBe(mails);
    expect(res.status === 'delivered' && res.counters).toMatchObject(counters);
  });

  it('counts what SES accepted, not what was claimed: a crash after the confirmation counts the mail once', async () => {
    const r = reader('email', 50);
    const w = world([r]);
    w.plans.failNext.markBatchDone = 1;
    await expect(deliverShard(task(), w.deps())).rejects.toThrow();
    const res = await deliverShard(task(), w.deps());
    expect(w.email.countTo(r.address)).toBe(1);
    expect(res.status === 'delivered' && res.counters).toMatchObject({ emails: 1, recipients: 1, emailsUncertain: 0 });
  });
});

describe('deliverShard: bookkeeping', () => {
  it('marks a subscription whose track is over as ended, to be erased after the retention period', async () => {
    const over = reader('line', -20); // day 300, past 41w6d
    const w = world([over, reader('line', 10)]);
    await deliverShard(task(), w.deps());
    expect(w.subs.ended).toEqual([{ id: over.subscriptionId, eraseOn: addDaysUtc(DATE, tenant.retentionDays) }]);
  });

  it('does nothing for a plan that is complete', async () => {
    const w = world([reader('line', 10)]);
    await deliverShard(task(), w.deps());
    const res = await deliverShard(task(), w.deps());
    expect(res.status).toBe('already-done');
    expect(w.line.requests).toBe(1);
  });
});

describe('deliverShard: a reader joins the readers of their latest anchor date', () => {
  // A pregnancy on its last day (293) beside a new one: from tomorrow only the new one sends, and its
  // readers' multicast should carry this reader too. Two shards; the two due dates in different ones.
  const ending = -13;
  const shardOf = (daysLeft: number) => shardOfBucket(bucketOfAnchor(dueIn(daysLeft)), 2);
  const newer = [100, 101, 102, 103].find((d) => shardOf(d) !== shardOf(ending))!;
  const nick = tenant.defaultNickname;

  it.each([
    ['the old shard first', [shardOf(ending), shardOf(newer)]],
    ['the new shard first', [shardOf(newer), shardOf(ending)]],
  ])('sends them once on the day of the move (%s) and with the others from the next day', async (_l, order) => {
    const old = reader('line', ending, { nickname: undefined, bucket: bucketOfAnchor(dueIn(ending)) });
    const added = reader('line', newer, {
      readerKey: old.readerKey,
      address: old.address,
      nickname: undefined,
      bucket: old.bucket,
    });
    const peer = reader('line', newer, { nickname: undefined, bucket: bucketOfAnchor(dueIn(newer)) });
    const w = world([old, added, peer]);
    // The memory plan store holds one shard's plan: one store per shard and date.
    const run = (shard: number, date: IsoDate) =>
      deliverShard(task({ shard, shardCount: 2, date }), w.deps({ plans: new MemoryPlans() }));
    for (const shard of order) await run(shard, DATE);
    // Day one: the reader's two pregnancies in one send, once; the peer alone.
    expect(w.line.received().get(old.address)).toEqual([[`M293 ${nick}`, `M${280 - newer} ${nick}`]]);
    expect(w.line.received().get(peer.address)).toEqual([[`M${280 - newer} ${nick}`]]);

    w.line.accepted = [];
    const next = addDaysUtc(DATE, 1);
    for (const shard of order) await run(shard, next);
    // Day two: only the new pregnancy sends, one request to both.
    const toOld = w.line.accepted.filter((r) => r.to.includes(old.address));
    expect(toOld).toHaveLength(1);
    expect(toOld[0]!.to.sort()).toEqual([old.address, peer.address].sort());
    expect(toOld[0]!.texts).toEqual([`M${281 - newer} ${nick}`]);
  });
});

describe('shard layout (promise 2)', () => {
  it('puts every bucket in exactly one shard, for every shard count', () => {
    for (let count = 1; count <= BUCKETS; count++) {
      const all = Array.from({ length: count }, (_, s) => bucketsOfShard(s, count)).flat();
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: BUCKETS }, (_, b) => b));
    }
  });

  it('gives each shard one contiguous, non-empty range of buckets that shardOfBucket agrees with', () => {
    for (let count = 1; count <= BUCKETS; count++)
      for (let s = 0; s < count; s++) {
        const mine = bucketsOfShard(s, count);
        expect(mine.length).toBeGreaterThan(0);
        expect(mine.at(-1)! - mine[0]!).toBe(mine.length - 1);
        for (const b of mine) expect(shardOfBucket(b, count)).toBe(s);
      }
  });

  it('keeps the first layout of a day when shardCount changes later that day or the schedule fires twice', async () => {
    const stored = new Map<string, number>();
    const layouts: DayLayouts = {
      fix: async (t, d, n) => {
        const k = `${t}|${d}`;
        if (!stored.has(k)) stored.set(k, n);
        return stored.get(k)!;
      },
    };
    const enqueued: ShardTask[] = [];
    const run = (shardCount: number) =>
      fanOut(
        { deliveryTime: '09:00', timeZone: 'Asia/Tokyo', scheduledTime: NOW.toISOString() },
        {
          tenants: { listTenants: async () => [{ ...tenant, shardCount }], getTenant: async () => undefined },
          layouts,
          queue: { enqueue: async (tasks) => void enqueued.push(...tasks) },
          clock: { now: () => NOW },
        },
      );
    await run(4);
    await run(7);
    expect(enqueued.map((t) => `${t.shard}/${t.shardCount}`)).toEqual([
      '0/4',
      '1/4',
      '2/4',
      '3/4',
      '0/4',
      '1/4',
      '2/4',
      '3/4',
    ]);
  });

  it('refuses a schedule that fires more than 20 hours late', async () => {
    await expect(
      fanOut(
        {
          deliveryTime: '09:00',
          timeZone: 'Asia/Tokyo',
          scheduledTime: new Date(NOW.getTime() - 21 * HOUR).toISOString(),
        },
        {
          tenants: { listTenants: async () => [tenant], getTenant: async () => tenant },
          layouts: { fix: async (_t, _d, n) => n },
          queue: { enqueue: async () => undefined },
          clock: { now: () => NOW },
        },
      ),
    ).rejects.toThrow('more than 20 hours late');
  });
});
