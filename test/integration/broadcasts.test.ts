import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BroadcastRepository, newBroadcastId } from '../../lambdas/adapters/broadcast-repository';
import { deliveryKeys } from '../../lambdas/adapters/keys';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { bucketOf } from '../../lambdas/domain/shard';
import { createBroadcast } from '../../lambdas/services/broadcasts';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/lambda-context';
import { runDelivery, sesEmails } from '../../local/stack';
import type { Broadcast } from '../../schemas/broadcast';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { newUserId } from './chat';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(180_000);

// Segment broadcasts through the real pipeline (fan-out, shard workers, DynamoDB Local, the SQS emulator, the LINE
// and SES emulators). The expected recipients follow from the seeded readers and the segment rules written out
// here: gestational day = 280 - (due date - D); the child's completed months counted by hand from the birthday.
const D: IsoDate = '2026-12-01';
const addDays = (date: IsoDate, days: number): IsoDate =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const dueForDay = (gestationalDay: number) => addDays(D, 280 - gestationalDay);

type Key = 'A' | 'B' | 'E';
interface Seed {
  label: string;
  channel: 'line' | 'email';
  subs: Partial<Subscription>[];
  /** From the rules: A = maternity 20w0d-30w6d (days 140-216), parents, LINE and email; B = children of 0-11
   * completed months, parents and partners, LINE only; E = everyone on LINE and email. */
  gets: Key[];
}
const SEEDS: Seed[] = [
  { label: 'day 140 (20w0d)', channel: 'line', subs: [{ anchorDate: dueForDay(140) }], gets: ['A', 'E'] },
  { label: 'day 139 (19w6d)', channel: 'line', subs: [{ anchorDate: dueForDay(139) }], gets: ['E'] },
  { label: 'day 216 (30w6d)', channel: 'line', subs: [{ anchorDate: dueForDay(216) }], gets: ['A', 'E'] },
  { label: 'day 217 (31w0d)', channel: 'line', subs: [{ anchorDate: dueForDay(217) }], gets: ['E'] },
  {
    label: 'a partner at day 175',
    channel: 'line',
    subs: [{ anchorDate: dueForDay(175), audience: 'partner' }],
    gets: ['E'],
  },
  { label: 'email at day 160', channel: 'email', subs: [{ anchorDate: dueForDay(160) }], gets: ['A', 'E'] },
  {
    label: 'a lost pregnancy at day 175',
    channel: 'line',
    subs: [{ anchorDate: dueForDay(175), status: 'lost' }],
    gets: [],
  },
  {
    label: 'a paused reader',
    channel: 'line',
    subs: [{ anchorDate: dueForDay(175), pausedUntil: addDays(D, 3) }],
    gets: [],
  },
  // 2026-01-01 to 2026-12-01: 11 completed months; 2025-12-01: 12; 2025-12-02: 11 (a day short of 12).
  {
    label: 'a child of 11 months',
    channel: 'line',
    subs: [{ track: 'childcare', anchorDate: '2026-01-01' }],
    gets: ['B', 'E'],
  },
  {
    label: 'a child of 12 months',
    channel: 'line',
    subs: [{ track: 'childcare', anchorDate: '2025-12-01' }],
    gets: ['E'],
  },
  {
    label: 'a child a day short of 12 months',
    channel: 'line',
    subs: [{ track: 'childcare', anchorDate: '2025-12-02' }],
    gets: ['B', 'E'],
  },
  {
    label: 'a partner of a 3-month-old',
    channel: 'line',
    subs: [{ track: 'childcare', anchorDate: '2026-09-01', audience: 'partner' }],
    gets: ['B', 'E'],
  },
  {
    label: 'email, a child of 3 months',
    channel: 'email',
    subs: [{ track: 'childcare', anchorDate: '2026-09-01' }],
    gets: ['E'],
  },
  {
    label: 'a pregnancy at day 200 beside twins of 5 months',
    channel: 'line',
    subs: [
      { anchorDate: dueForDay(200) },
      { track: 'childcare', anchorDate: '2026-07-01', nickname: 'あお' },
      { track: 'childcare', anchorDate: '2026-07-01', nickname: 'ゆい' },
    ],
    gets: ['A', 'B', 'E'],
  },
  {
    label: 'a lost pregnancy beside a child of 2 months',
    channel: 'line',
    subs: [
      { anchorDate: dueForDay(180), status: 'lost' },
      { track: 'childcare', anchorDate: '2026-10-01' },
    ],
    gets: ['B', 'E'],
  },
];

const TEXTS: Record<Key | 'C', string> = {
  A: '【両親学級】妊娠20週から30週の方へ：12月の両親学級のご案内です',
  B: '【予防接種】1歳未満のお子さんの予防接種週間です',
  E: '【市からのお知らせ】年末年始の窓口のご案内です',
  C: '【取り消し】このお知らせは届きません',
};

describe('segment broadcasts on the emulators', () => {
  let stack: TestStack;
  let tenantId: string;
  const addresses = new Map<string, string>();
  const created: Partial<Record<Key | 'C', Broadcast>> = {};
  let lineBefore = 0;

  beforeAll(async () => {
    stack = await startTestStack('broadcasts', { tenants: (px) => [testTenants(px)[0]!] });
    const tenant = stack.tenants[0]!;
    tenantId = tenant.tenantId;
    let n = 0;
    for (const seed of SEEDS) {
      const address = seed.channel === 'line' ? newUserId() : `bc-${n}-${tenantId}@example.jp`;
      addresses.set(seed.label, address);
      const readerKey = seed.channel === 'line' ? stack.readerKeys.line(address) : stack.readerKeys.email(address);
      for (const over of seed.subs) {
        const sub: Subscription = {
          tenantId,
          readerKey,
          subscriptionId: `s${n++}`,
          channel: seed.channel,
          address,
          track: 'maternity',
          anchorDate: D,
          audience: 'parent',
          status: 'active',
          registeredOn: '2026-01-01',
          familyId: `f${n}`,
          bucket: bucketOf(readerKey),
          version: 1,
          ...(seed.channel === 'email' && { unsubscribeToken: `u${n}`, tokenVersion: '1' }),
          ...over,
        };
        await stack.db.send(new PutCommand({ TableName: stack.tables.data, Item: subscriptionItem(sub) }));
      }
    }
    const broadcasts = new BroadcastRepository(stack.db, stack.tables.content);
    // Scheduled the day before, through the use case the CLI and the console share.
    const deps = {
      broadcasts,
      clock: { now: () => new Date(`${addDays(D, -1)}T10:00:00+09:00`) },
      newId: newBroadcastId,
    };
    const make = (key: Key | 'C', segment: unknown, email = true) =>
      createBroadcast(
        tenant,
        {
          date: D,
          line: { text: TEXTS[key] },
          ...(email && { email: { subject: `件名${key}`, body: TEXTS[key] } }),
          segment,
        },
        'test',
        deps,
      ).then((b) => (created[key] = b));
    await make('A', { tracks: ['maternity'], maternity: { from: '20w0d', to: '30w6d' }, audience: 'parent' });
    await make(
      'B',
      { tracks: ['childcare'], childcare: { unit: 'months', from: 0, to: 11 }, channels: ['line'] },
      false,
    );
    await make('E', {});
    await make('C', {});
    expect(await broadcasts.cancel(tenantId, created.C!.id, 'test', Date.now())).toBe('cancelled');

    lineBefore = (await stack.line.requests({ channelId: stack.channels.get(tenantId)!.channelId })).length;
    // The day twice: the second run finds the plans complete and sends nothing.
    await runDelivery(stack, { date: D });
    await runDelivery(stack, { date: D });
  });

  const lineOf = async () => {
    const deliveries = await stack.line.deliveries(stack.channels.get(tenantId)!.channelId);
    return (label: string) => deliveries.get(addresses.get(label)!) ?? [];
  };

  it.each(SEEDS.filter((s) => s.channel === 'line').map((s) => [s.label, s] as const))(
    'LINE: %s gets exactly its broadcasts, once, in one send of at most 5 messages',
    async (_label, seed) => {
      const messages = (await lineOf())(seed.label);
      const texts = messages.map((m) => String(m.message.text));
      for (const key of ['A', 'B', 'E', 'C'] as const) {
        const times = texts.filter((t) => t.includes(TEXTS[key])).length;
        expect([key, times]).toEqual([key, (seed.gets as string[]).includes(key) ? 1 : 0]);
      }
      const requests = new Set(messages.map((m) => m.requestId));
      expect(requests.size).toBeLessThanOrEqual(1);
      expect(messages.length).toBeLessThanOrEqual(5);
    },
  );

  it('email readers get their broadcasts in the one mail of the day, with the subject as a heading', async () => {
    const mails = await sesEmails(stack.endpoints.ses);
    for (const seed of SEEDS.filter((s) => s.channel === 'email')) {
      const mine = mails.filter((m) => m.destination.to.includes(addresses.get(seed.label)!));
      expect([seed.label, mine.length]).toEqual([seed.label, 1]);
      const text = mine[0]!.body.text ?? '';
      for (const key of ['A', 'E', 'C'] as const)
        expect([seed.label, key, text.includes(`■ 件名${key}`)]).toEqual([
          seed.label,
          key,
          seed.gets.includes(key as Key),
        ]);
    }
  });

  it('the second run sent nothing more; every request held at most 5 messages', async () => {
    const channelId = stack.channels.get(tenantId)!.channelId;
    const requests = (await stack.line.requests({ channelId })).slice(lineBefore);
    const sends = requests.filter((r) => /\/v2\/bot\/message\/(push|multicast)$/.test(r.path));
    // Every request, retries included, held at most 5 messages; the accepted ones reached each reader once.
    for (const r of sends) expect((r.body as { messages: unknown[] }).messages.length).toBeLessThanOrEqual(5);
    const expectedReaders = SEEDS.filter((s) => s.channel === 'line' && s.gets.length > 0).length;
    // Each LINE reader with something due is in exactly one accepted send (multicasts share one).
    const recipients = sends
      .filter((r) => r.status === 200)
      .flatMap((r) => {
        const to = (r.body as { to: string | string[] }).to;
        return Array.isArray(to) ? to : [to];
      });
    expect(new Set(recipients).size).toBe(recipients.length);
    expect(recipients.length).toBeGreaterThanOrEqual(expectedReaders);
  });

  const planHeaders = async (date: IsoDate) => {
    const res = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.delivery,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': deliveryKeys.pk(tenantId, date) },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).filter((i) => String(i.sk).endsWith('#PLAN'));
  };

  it('the plans record each broadcast with its recipients; the cancelled one is in none', async () => {
    const headers = await planHeaders(D);
    expect(headers.length).toBe(stack.tenants[0]!.shardCount);
    const sums: Record<string, number> = {};
    for (const h of headers)
      for (const [id, n] of Object.entries((h.broadcasts ?? {}) as Record<string, number>))
        sums[id] = (sums[id] ?? 0) + n;
    const expected = (key: Key) => SEEDS.filter((s) => s.gets.includes(key)).length;
    expect(sums).toEqual({
      [created.A!.id]: expected('A'),
      [created.B!.id]: expected('B'),
      [created.E!.id]: expected('E'),
    });
  });

  it('cancelled after the plans are fixed: the send-time check drops it from every send not made yet', async () => {
    const next = addDays(D, 1);
    const tenant = stack.tenants[0]!;
    const broadcasts = new BroadcastRepository(stack.db, stack.tables.content);
    const F = await createBroadcast(
      tenant,
      {
        date: next,
        line: { text: '【F】取り消されるお知らせ' },
        email: { subject: '件名F', body: '取り消されるお知らせ' },
        segment: {},
      },
      'test',
      { broadcasts, clock: { now: () => new Date(`${D}T10:00:00+09:00`) }, newId: newBroadcastId },
    );
    // The real worker, with less time left than its deadline margin: it commits each shard's plan (with F in it)
    // and stops before the first send, as a timeout would.
    const worker = loadHandler<SQSEvent, SQSBatchResponse>('shard-worker');
    for (let shard = 0; shard < tenant.shardCount; shard++) {
      const body = JSON.stringify({
        tenantId,
        date: next,
        shard,
        shardCount: tenant.shardCount,
        issuedAt: new Date().toISOString(),
      });
      const record = {
        messageId: `plan-only-${shard}`,
        receiptHandle: 'r',
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'test',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:ap-northeast-1:000000000000:shards',
        awsRegion: 'ap-northeast-1',
      };
      // A shard with sends stops short of them (a failed record: SQS would retry it); an empty one completes.
      await worker({ Records: [record] }, lambdaContext('shard-worker', 1_000));
    }
    const planned = await planHeaders(next);
    const inPlans = planned.reduce(
      (n, h) => n + ((h.broadcasts as Record<string, number> | undefined)?.[F.id] ?? 0),
      0,
    );
    // Everyone due on D is due on D+1 too (no seed crosses a track's edge); the everyone broadcast went into each plan.
    const everyone = SEEDS.filter((s) => s.gets.includes('E')).length;
    expect(inPlans).toBe(everyone);
    const withF = planned.filter((h) => ((h.broadcasts as Record<string, number> | undefined)?.[F.id] ?? 0) > 0);
    expect(withF.length).toBeGreaterThan(0);
    expect(withF.every((h) => h.completedAt === undefined)).toBe(true);

    expect(await broadcasts.cancel(tenantId, F.id, 'test', Date.now())).toBe('cancelled');
    const channelId = stack.channels.get(tenantId)!.channelId;
    const before = (await stack.line.requests({ channelId })).length;
    await runDelivery(stack, { date: next });
    const sent = (await stack.line.requests({ channelId })).slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(JSON.stringify(sent.map((r) => r.body))).not.toContain('【F】');
    const mails = await sesEmails(stack.endpoints.ses);
    expect(mails.some((m) => (m.body.text ?? '').includes('件名F'))).toBe(false);
    // Each reader who had F in a plan got their messages afresh without it (revised), or nothing at all when F was
    // all they had that day (withheld: a child between periodic messages).
    const done = await planHeaders(next);
    const count = (key: 'revised' | 'withheld') =>
      done.reduce((n, h) => n + ((h.counters as Record<string, number> | undefined)?.[key] ?? 0), 0);
    expect(count('revised') + count('withheld')).toBe(everyone);
    expect(count('revised')).toBeGreaterThan(0);
  });
});
