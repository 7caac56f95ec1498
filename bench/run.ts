// `npm run bench [-- --subscribers 20000 --registrations 200]`: prints throughput and latency figures, measured
// on this machine against the local emulators. Figures, not assertions: nothing here fails on a slow machine.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IsoDate } from '../schemas/common';
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
import { startEmulators } from '../local/emulators';
import { loadHandler } from '../local/handlers';
import { demoSubscriptions } from '../local/seed';
import { loadRepoTenants, loadSampleLibrary, provision, seedDemo } from '../local/stack';
import { lambdaContext } from '../local/lambda-context';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '20000' },
    registrations: { type: 'string', default: '200' },
    date: { type: 'string', default: '2026-12-01' },
  },
});
const N = Number(values.subscribers);
const REGISTRATIONS = Number(values.registrations);
const DATE = values.date as IsoDate;

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
      webhook: REGISTRATIONS > 0,
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
      pacing: { multicastPerSecond: 200, pushPerSecond: 2000 },
    });
    const deps: DeliverShardDeps = {
      tenants: content,
      content: timed('content', content, totals),
      subscriptions: timed('subscriptions', new SubscriptionRepository(db, stack.tables.data), totals),
      changes: timed('changes', new ChangeMarkerFeed(db, stack.tables.delivery), totals),
      clock: { now: () => new Date() },
      plans: timed('plans', new PlanRepository(db, stack.tables.delivery), totals),
      line: { forTenant: async (tenant) => timed('line', await line.forTenant(tenant), totals) },
      email: timed('ses', new SesEmailSender(), totals),
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

    if (REGISTRATIONS > 0) await benchWebhook(emulators.line, stack.channels.get(tenants[0]!.tenantId)!.channelId);
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

(async () => {
  benchDomain();
  await benchDelivery();
  // Keep-alive sockets of the SDK clients would hold the process open for their idle timeout.
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
