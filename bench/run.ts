// `npm run bench [-- --subscribers 20000 --registrations 200 --webhook-seconds 60 --quick]`: prints throughput and
// latency figures, measured on this machine against the local emulators. Figures, not assertions: nothing here
// fails on a slow machine. `--quick` shrinks every part (2,000 subscribers, 20 registrations, 10 s of webhook load).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ShardTaskSchema } from '../schemas/delivery';
import {
  buildLibraryIndex,
  emailSubject,
  groupByReader,
  planSends,
  resolveReader,
  type ReaderDelivery,
} from '../lambdas/domain';
import { ContentRepository } from '../lambdas/adapters/content-repository';
import { createDocumentClient } from '../lambdas/adapters/dynamo-client';
import { SesEmailSender } from '../lambdas/adapters/email-sender';
import { SecretsManagerLineCredentials } from '../lambdas/adapters/line-credentials';
import { BotSdkLineSenderFactory } from '../lambdas/adapters/line-sender';
import { PlanRepository } from '../lambdas/adapters/plan-repository';
import { ChangeMarkerFeed } from '../lambdas/adapters/change-feed';
import { SubscriptionRepository } from '../lambdas/adapters/subscription-repository';
import { deliverShard, type DeliverShardDeps } from '../lambdas/services/deliver-shard';
import { readerKeys } from '../lambdas/services/reader-keys';
import { mapLimit } from '../lambdas/services/concurrency';
import { dataKeys } from '../lambdas/adapters/keys';
import { startEmulators } from '../local/emulators';
import { loadHandler } from '../local/handlers';
import { demoSubscriptions } from '../local/seed';
import { SignedEmailLinks } from '../lambdas/services/email-links';
import { loadRepoTenants, loadSampleLibrary, provision, seedDemo } from '../local/stack';
import { lambdaContext } from '../local/lambda-context';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string' },
    registrations: { type: 'string' },
    'webhook-seconds': { type: 'string' },
    'webhook-rate': { type: 'string', default: '200' },
    date: { type: 'string', default: '2026-12-01' },
    quick: { type: 'boolean', default: false },
  },
});
const N = Number(values.subscribers ?? (values.quick ? 2000 : 20000));
const REGISTRATIONS = Number(values.registrations ?? (values.quick ? 20 : 200));
const WEBHOOK_SECONDS = Number(values['webhook-seconds'] ?? (values.quick ? 10 : 60));
const WEBHOOK_RATE = Number(values['webhook-rate']);
const DATE = values.date;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

function benchDomain() {
  const tenant = loadRepoTenants()[0]!;
  const library = loadSampleLibrary();
  const subs = demoSubscriptions(
    { ...tenant, shardCount: 1 },
    100_000,
    DATE,
    readerKeys(randomBytes(32).toString('hex')),
  );
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const ctx = { tenant, library: buildLibraryIndex(library.items) };
  const readers: ReaderDelivery[] = [];
  for (const group of groupByReader(subs)) {
    const texts = resolveReader(group, DATE, ctx);
    const f = group[0]!;
    if (texts.length) readers.push({ readerKey: f.readerKey, channel: f.channel, address: f.address, texts });
  }
  const sends = planSends(readers, { emailSubject: emailSubject(tenant, DATE) });
  const ms = performance.now() - t0;
  console.log(
    `domain: resolved and planned ${subs.length.toLocaleString()} subscriptions in ${ms.toFixed(0)} ms (${Math.round(subs.length / (ms / 1000)).toLocaleString()} subscriptions/s); ${readers.length.toLocaleString()} readers due, ${sends.length.toLocaleString()} sends; heap +${mb(process.memoryUsage().heapUsed - heapBefore)}`,
  );
}

/** Wraps every method of a port so that the time spent in it is summed under `name`. */
function timed<T extends object>(name: string, target: T, totals: Map<string, number>): T {
  return new Proxy(target, {
    get(obj, prop, recv) {
      const v = Reflect.get(obj, prop, recv);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const t = performance.now();
        try {
          return await (v as (...a: unknown[]) => unknown).apply(obj, args);
        } finally {
          const key = `${name}.${String(prop)}`;
          totals.set(key, (totals.get(key) ?? 0) + performance.now() - t);
        }
      };
    },
  });
}

async function benchDelivery() {
  const emulators = await startEmulators();
  try {
    const tenants = loadRepoTenants();
    const stack = await provision({
      prefix: 'bench',
      endpoints: emulators.endpoints,
      line: emulators.line,
      tenants,
      libraries: [loadSampleLibrary()],
      webhook: REGISTRATIONS > 0 || WEBHOOK_SECONDS > 0,
    });
    let t = performance.now();
    await seedDemo(stack, N, DATE);
    const seedSeconds = (performance.now() - t) / 1000;

    // Fan-out through the real handler, then the shard worker's service with real adapters wrapped in timers.
    await loadHandler<unknown, unknown>('fan-out')(
      {
        deliveryTime: tenants[0]!.deliveryTime,
        timeZone: 'Asia/Tokyo',
        date: DATE,
        tenantIds: tenants.map((x) => x.tenantId),
      },
      lambdaContext('fan-out'),
    );
    const totals = new Map<string, number>();
    const db = createDocumentClient(new DynamoDBClient({}));
    const content = new ContentRepository(db, stack.tables.content);
    // One process plays every worker, so one pacer per channel: LINE's full per-channel limits.
    const line = new BotSdkLineSenderFactory(new SecretsManagerLineCredentials(), {
      baseURL: emulators.endpoints.line,
      maxWorkers: 1,
    });
    const deps: DeliverShardDeps = {
      tenants: content,
      content: timed('content', content, totals),
      subscriptions: timed('subscriptions', new SubscriptionRepository(db, stack.tables.data), totals),
      changes: timed('changes', new ChangeMarkerFeed(db, stack.tables.delivery), totals),
      clock: { now: () => new Date() },
      plans: timed('plans', new PlanRepository(db, stack.tables.delivery), totals),
      line: { forTenant: async (tenant, shards) => timed('line', await line.forTenant(tenant, shards), totals) },
      email: timed('ses', new SesEmailSender(), totals),
      emailLinks: new SignedEmailLinks({ get: () => Promise.resolve(stack.emailTokenKeys) }, { now: () => new Date() }),
      concurrency: 16,
    };
    const sqs = new SQSClient({});
    const before = emulators.line.requests().length;
    const heapBefore = process.memoryUsage().rss;
    t = performance.now();
    let recipients = 0;
    const tasks: Promise<void>[] = [];
    for (;;) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues.shardQueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 600,
        }),
      );
      if (!res.Messages?.length) break;
      for (const m of res.Messages) {
        tasks.push(
          deliverShard(ShardTaskSchema.parse(JSON.parse(m.Body!)), deps).then(async (r) => {
            if (r.status === 'delivered') recipients += r.counters.recipients;
            await sqs.send(
              new DeleteMessageCommand({ QueueUrl: stack.queues.shardQueueUrl, ReceiptHandle: m.ReceiptHandle! }),
            );
          }),
        );
      }
    }
    await Promise.all(tasks);
    const seconds = (performance.now() - t) / 1000;
    const requests = emulators.line.requests().slice(before);
    const lineRequests = requests.filter((r) => r.status === 200).length;
    const lineRecipients = requests.reduce(
      (n, r) => n + (Array.isArray((r.body as { to?: unknown }).to) ? (r.body as { to: unknown[] }).to.length : 1),
      0,
    );
    console.log(
      `delivery: ${N.toLocaleString()} subscriptions seeded in ${seedSeconds.toFixed(1)} s; ${recipients.toLocaleString()} recipients delivered in ${seconds.toFixed(2)} s (${Math.round(recipients / seconds).toLocaleString()}/s)`,
    );
    console.log(
      `  LINE: ${lineRequests} requests (${requests.filter((r) => r.path.endsWith('/multicast')).length} multicast, ${requests.filter((r) => r.path.endsWith('/push')).length} push) for ${lineRecipients} LINE recipients = ${(lineRequests / Math.max(1, lineRecipients)).toFixed(3)} requests per recipient; peak RSS growth ${mb(process.memoryUsage().rss - heapBefore)}`,
    );
    const sum = [...totals.values()].reduce((a, b) => a + b, 0);
    console.log(
      `  time inside ports, summed over ${deps.concurrency} sends in flight per shard and all shards at once (waits for the pacer included):`,
    );
    for (const [k, v] of [...totals].sort((a, b) => b[1] - a[1]))
      console.log(
        `    ${k.padEnd(28)} ${(v / 1000).toFixed(2).padStart(7)} s  ${((100 * v) / sum).toFixed(0).padStart(3)} %`,
      );

    const channelId = stack.channels.get(tenants[0]!.tenantId)!.channelId;
    if (REGISTRATIONS > 0) await benchWebhook(emulators.line, channelId);
    if (WEBHOOK_SECONDS > 0) await benchWebhookLoad(emulators.line, stack, tenants[0]!.tenantId, channelId);
    await stack.api?.close();
  } finally {
    await emulators.stop();
  }
}

async function benchWebhook(line: Awaited<ReturnType<typeof startEmulators>>['line'], channelId: string) {
  const steps: Record<string, number[]> = { follow: [], track: [], date: [], nickname: [] };
  const due = new Date(Date.now() + 120 * 86_400_000).toISOString().slice(0, 10);
  for (let i = 0; i < REGISTRATIONS; i++) {
    const u = line.user(channelId, `U${i.toString(16).padStart(32, '0')}`);
    steps.follow!.push((await u.follow()).durationMs);
    steps.track!.push((await u.postback('a=track&t=maternity')).durationMs);
    steps.date!.push((await u.postback('a=date', { date: due })).durationMs);
    steps.nickname!.push((await u.sendText('はな')).durationMs);
  }
  const all = Object.values(steps).flat();
  console.log(
    `webhook: ${REGISTRATIONS} registrations (4 signed events each, end to end through the local API, the bundled handler and DynamoDB Local)`,
  );
  for (const [k, v] of Object.entries(steps))
    console.log(`    ${k.padEnd(9)} p50 ${pct(v, 50).toFixed(1)} ms  p99 ${pct(v, 99).toFixed(1)} ms`);
  console.log(`    all       p50 ${pct(all, 50).toFixed(1)} ms  p99 ${pct(all, 99).toFixed(1)} ms`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Open-loop registration traffic: a new reader every 4/rate seconds, each sending follow, track, date and
 * nickname as fast as the replies come, so the webhook sees about `rate` signed requests per second for the
 * duration. Then the stored subscriptions and the emulator's reply log say whether any event was lost or doubled.
 */
async function benchWebhookLoad(
  line: Awaited<ReturnType<typeof startEmulators>>['line'],
  stack: Awaited<ReturnType<typeof provision>>,
  tenantId: string,
  channelId: string,
) {
  const registrations = Math.round((WEBHOOK_RATE * WEBHOOK_SECONDS) / 4);
  const intervalMs = (4 * 1000) / WEBHOOK_RATE;
  const due = new Date(Date.now() + 150 * 86_400_000).toISOString().slice(0, 10);
  const userId = (i: number) => `Uf${i.toString(16).padStart(31, '0')}`;
  const latencies: number[] = [];
  const replyTokens: string[] = [];
  const errors = new Map<string, number>();
  const error = (kind: string) => errors.set(kind, (errors.get(kind) ?? 0) + 1);
  const repliesBefore = line.requests({ channelId }).length;

  const register = async (i: number) => {
    const u = line.user(channelId, userId(i));
    const steps = [
      () => u.follow(),
      () => u.postback('a=track&t=maternity'),
      () => u.postback('a=date', { date: due }),
      () => u.sendText('はな'),
    ];
    for (const step of steps) {
      try {
        const r = await step();
        latencies.push(r.durationMs);
        if (r.status !== 200) error(`HTTP ${r.status}`);
        if (r.replyToken) replyTokens.push(r.replyToken);
      } catch (e) {
        error(e instanceof Error ? e.name : 'unknown');
      }
    }
  };

  const t0 = performance.now();
  const running: Promise<void>[] = [];
  // At most this many readers mid-registration: on an overloaded machine the arrivals wait (the achieved rate
  // shows it) instead of piling up thousands of sockets that then fail on their own.
  const MAX_IN_FLIGHT = 32;
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < registrations; i++) {
    const wait = t0 + i * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const p = register(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
    running.push(p);
  }
  await Promise.all(running);
  const seconds = (performance.now() - t0) / 1000;

  // Lost or doubled registrations: each reader must hold exactly one subscription, the one they asked for.
  let lost = 0;
  let doubled = 0;
  await mapLimit(
    Array.from({ length: registrations }, (_, i) => i),
    16,
    async (i) => {
      const res = await stack.db.send(
        new QueryCommand({
          TableName: stack.tables.data,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
          ExpressionAttributeValues: {
            ':pk': dataKeys.readerPk(tenantId, stack.readerKeys.line(userId(i))),
            ':s': 'SUB#',
          },
          ConsistentRead: true,
        }),
      );
      const subs = res.Items ?? [];
      const wanted = subs.filter(
        (s) => s.track === 'maternity' && s.anchorDate === due && s.nickname === 'はな' && s.status === 'active',
      );
      if (wanted.length === 0) lost++;
      if (subs.length > 1) doubled++;
    },
  );
  // Lost or doubled replies: every reply token the emulator handed out, answered how many times.
  const answered = new Map<string, number>();
  for (const r of line.requests({ channelId }).slice(repliesBefore)) {
    const token = (r.body as { replyToken?: string } | undefined)?.replyToken;
    if (r.path.endsWith('/reply') && token) answered.set(token, (answered.get(token) ?? 0) + 1);
  }
  const unanswered = replyTokens.filter((t) => !answered.has(t)).length;
  const answeredTwice = replyTokens.filter((t) => (answered.get(t) ?? 0) > 1).length;

  console.log(
    `webhook load: ${latencies.length.toLocaleString()} signed registration events (${registrations.toLocaleString()} readers × follow, track, date, nickname, at most ${MAX_IN_FLIGHT} at once) aimed at ${WEBHOOK_RATE}/s for ${WEBHOOK_SECONDS} s; achieved ${(latencies.length / seconds).toFixed(0)}/s over ${seconds.toFixed(1)} s`,
  );
  console.log(
    `    p50 ${pct(latencies, 50).toFixed(1)} ms  p99 ${pct(latencies, 99).toFixed(1)} ms  max ${pct(latencies, 100).toFixed(1)} ms`,
  );
  console.log(
    `    errors ${[...errors.values()].reduce((a, b) => a + b, 0)}${errors.size ? ` (${[...errors].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}; registrations lost ${lost}, doubled ${doubled}; replies missing ${unanswered}, doubled ${answeredTwice} (of ${replyTokens.length.toLocaleString()} reply tokens)`,
  );
}

(async () => {
  benchDomain();
  await benchDelivery();
  // Keep-alive sockets of the SDK clients would hold the process open for their idle timeout.
  process.exit(0);
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
