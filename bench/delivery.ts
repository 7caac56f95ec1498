// One delivery day through the real services and adapters on the local emulators, measured: LINE requests per
// channel against the floor, the time floor LINE's limits impose, DynamoDB units and SQS requests as AWS would
// bill them, and each shard task's duration (what Lambda bills). Also the baseline a typical LINE bot would be.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { messagingApi } from '@line/bot-sdk';
import { ShardTaskSchema } from '../schemas/delivery';
import type { IsoDate } from '../schemas/common';
import { TenantConfigSchema, type TenantConfig } from '../schemas/tenant';
import { groupByReader, resolveReader, buildLibraryIndex } from '../lambdas/domain';
import { ChangeMarkerFeed } from '../lambdas/adapters/change-feed';
import { ContentRepository } from '../lambdas/adapters/content-repository';
import { DayLayoutRepository } from '../lambdas/adapters/day-layouts';
import { createDocumentClient } from '../lambdas/adapters/dynamo-client';
import { SesEmailSender } from '../lambdas/adapters/email-sender';
import { SecretsManagerLineCredentials } from '../lambdas/adapters/line-credentials';
import {
  BotSdkLineSender,
  BotSdkLineSenderFactory,
  DEFAULT_LINE_RETRY,
  LINE_CHANNEL_LIMITS,
} from '../lambdas/adapters/line-sender';
import { PlanRepository } from '../lambdas/adapters/plan-repository';
import { SqsShardQueue } from '../lambdas/adapters/shard-queue';
import { SubscriptionRepository } from '../lambdas/adapters/subscription-repository';
import { mapLimit } from '../lambdas/services/concurrency';
import { SignedEmailLinks } from '../lambdas/services/email-links';
import { deliverShard, type DeliverShardDeps } from '../lambdas/services/deliver-shard';
import { fanOut } from '../lambdas/services/fan-out';
import type { LineEmulator } from '../local/line-emulator';
import type { RecordedRequest } from '../local/line-emulator/types';
import { demoSubscriptions } from '../local/seed';
import { loadRepoTenants, type Provisioned } from '../local/stack';
import { countDynamo, countSqs, minus, snapshot, type Counts } from './counting';

/** LINE-only towns made from the demo tenant: the scale question is LINE's (email has its own account rate). */
export function benchTenants(prefix: string, n: number, shardCount: number): TenantConfig[] {
  const demo = loadRepoTenants().find((t) => t.tenantId === 'demo-yamabe')!;
  return Array.from({ length: n }, (_, i) => {
    const tenantId = `${prefix}-${String(i + 1).padStart(2, '0')}`;
    const { email: _email, ...rest } = demo;
    return TenantConfigSchema.parse({
      ...rest,
      tenantId,
      name: `${demo.name} ${i + 1}`,
      shardCount,
      line: { ...demo.line, secretName: `hagukumi/${tenantId}/line` },
    });
  });
}

export interface ChannelFigures {
  channelId: string;
  multicast: number;
  push: number;
  recipients: number;
  /** Every distinct message list once per 500 of its recipients (a list of one is a push). */
  floor: number;
  /** LINE's limits for this channel's requests: multicast / 200 + push / 2,000 seconds. */
  timeFloorSeconds: number;
}

export interface DayFigures {
  date: IsoDate;
  lifted: boolean;
  tasks: number;
  wallSeconds: number;
  deliveries: number;
  sends: number;
  floor: number;
  multicast: number;
  push: number;
  timeFloorSeconds: number;
  /** Each shard task's duration: what Lambda bills (waits for the pacer included). */
  taskMs: number[];
  /** This process's CPU over the day: our code plus the in-process LINE, SQS and Secrets emulators. */
  processCpuMs: number;
  counts: Counts;
  missing: number;
  doubled: number;
  channels: ChannelFigures[];
}

/** The floor and the counts of one channel's accepted sends, from the emulator's record alone. */
export function channelFigures(channelId: string, requests: readonly RecordedRequest[]): ChannelFigures {
  const lists = new Map<string, number>();
  let multicast = 0;
  let push = 0;
  let recipients = 0;
  for (const r of requests) {
    const body = r.body as { to?: string | string[]; messages?: unknown } | undefined;
    const to = Array.isArray(body?.to) ? body.to : [body?.to];
    if (r.path.endsWith('/multicast')) multicast++;
    else push++;
    recipients += to.length;
    const key = JSON.stringify(body?.messages);
    lists.set(key, (lists.get(key) ?? 0) + to.length);
  }
  let floor = 0;
  for (const n of lists.values()) floor += Math.ceil(n / 500);
  return {
    channelId,
    multicast,
    push,
    recipients,
    floor,
    timeFloorSeconds: multicast / LINE_CHANNEL_LIMITS.multicastPerSecond + push / LINE_CHANNEL_LIMITS.pushPerSecond,
  };
}

const isSend = (r: RecordedRequest) => r.status === 200 && /\/v2\/bot\/message\/(multicast|push)$/.test(r.path);

/** Clients whose every DynamoDB and SQS request is counted into `counts`. */
export function countedClients(counts: Counts) {
  const ddb = new DynamoDBClient({});
  countDynamo(ddb, counts);
  const sqs = new SQSClient({});
  countSqs(sqs, counts);
  return { db: createDocumentClient(ddb), sqs };
}

/**
 * Fan-out, then `workers` concurrent shard workers, each like its own Lambda container (its own pacers, pacing
 * at its tenant's share of its channel), polling the shard queue one message at a time as the event source
 * would. `lifted`: the emulator's rate limits off and the pacers unbounded, so what remains is ours.
 */
export async function deliverDay(
  stack: Provisioned,
  line: LineEmulator,
  opts: { date: IsoDate; lifted: boolean; workers: number; counts: Counts; seedDate: IsoDate; seeded: number },
): Promise<DayFigures> {
  const { counts } = opts;
  const { db, sqs } = countedClients(counts);
  const content = new ContentRepository(db, stack.tables.content);
  line.setRateLimited(!opts.lifted);
  const unbounded = { multicastPerSecond: 1e9, pushPerSecond: 1e9 };
  const depsOfWorker = (): DeliverShardDeps => ({
    tenants: content,
    content,
    subscriptions: new SubscriptionRepository(db, stack.tables.data),
    changes: new ChangeMarkerFeed(db, stack.tables.delivery),
    clock: { now: () => new Date() },
    plans: new PlanRepository(db, stack.tables.delivery),
    line: new BotSdkLineSenderFactory(new SecretsManagerLineCredentials(), {
      baseURL: line.url,
      channelLimits: opts.lifted ? unbounded : LINE_CHANNEL_LIMITS,
      maxWorkers: opts.workers,
    }),
    email: new SesEmailSender(),
    emailLinks: new SignedEmailLinks({ get: () => Promise.resolve(stack.emailTokenKeys) }, { now: () => new Date() }),
    concurrency: 8,
  });
  const before = snapshot(counts);
  const requestsBefore = line.requests().length;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const fanned = await fanOut(
    {
      deliveryTime: stack.tenants[0]!.deliveryTime,
      timeZone: 'Asia/Tokyo',
      date: opts.date,
      tenantIds: stack.tenants.map((t) => t.tenantId),
    },
    {
      tenants: content,
      layouts: new DayLayoutRepository(db, stack.tables.delivery),
      queue: new SqsShardQueue(stack.queues.shardQueueUrl, sqs),
      clock: { now: () => new Date() },
    },
  );
  const taskMs: number[] = [];
  let done = 0;
  const worker = async () => {
    const deps = depsOfWorker();
    while (done < fanned.tasks) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues.shardQueueUrl,
          MaxNumberOfMessages: 1,
          VisibilityTimeout: 120,
        }),
      );
      const m = res.Messages?.[0];
      if (!m) {
        await sleep(50);
        continue;
      }
      const t = performance.now();
      try {
        await deliverShard(ShardTaskSchema.parse(JSON.parse(m.Body!)), deps);
      } catch (err) {
        // Left on the queue: it comes back after the visibility timeout, as in AWS.
        console.error(`  shard task failed (retried): ${err instanceof Error ? err.name : String(err)}`);
        continue;
      } finally {
        taskMs.push(performance.now() - t);
      }
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: stack.queues.shardQueueUrl, ReceiptHandle: m.ReceiptHandle! }),
      );
      done++;
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, worker));
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  line.setRateLimited(true);

  const sent = line.requests().slice(requestsBefore).filter(isSend);
  const check = verifyDeliveries(stack, opts.date, opts.seedDate, opts.seeded, sent);
  const channels = stack.tenants.map((t) => {
    const channelId = stack.channels.get(t.tenantId)!.channelId;
    return channelFigures(
      channelId,
      sent.filter((r) => r.channelId === channelId),
    );
  });
  const sum = (f: (c: ChannelFigures) => number) => channels.reduce((n, c) => n + f(c), 0);
  return {
    date: opts.date,
    lifted: opts.lifted,
    tasks: fanned.tasks,
    wallSeconds,
    deliveries: sum((c) => c.recipients),
    sends: sum((c) => c.multicast + c.push),
    floor: sum((c) => c.floor),
    multicast: sum((c) => c.multicast),
    push: sum((c) => c.push),
    timeFloorSeconds: Math.max(...channels.map((c) => c.timeFloorSeconds)),
    taskMs,
    processCpuMs: (cpu.user + cpu.system) / 1000,
    counts: minus(counts, before),
    ...check,
    channels,
  };
}

/**
 * Every reader due on the date got exactly one send: the expectation from the seeded population (regenerated
 * from its seed) and the domain's rules, the outcome from the emulator's record of accepted requests.
 */
function verifyDeliveries(
  stack: Provisioned,
  date: IsoDate,
  seedDate: IsoDate,
  seeded: number,
  sent: readonly RecordedRequest[],
): { missing: number; doubled: number } {
  const ctx = (t: TenantConfig) => ({ tenant: t, library: buildLibraryIndex(stack.libraries[0]!.items) });
  let missing = 0;
  let doubled = 0;
  for (const tenant of stack.tenants) {
    const channelId = stack.channels.get(tenant.tenantId)!.channelId;
    const got = new Map<string, number>();
    for (const r of sent.filter((x) => x.channelId === channelId)) {
      const to = (r.body as { to: string | string[] }).to;
      for (const id of Array.isArray(to) ? to : [to]) got.set(id, (got.get(id) ?? 0) + 1);
    }
    const c = ctx(tenant);
    const due = new Set<string>();
    for (const group of groupByReader(demoSubscriptions(tenant, seeded, seedDate, stack.readerKeys))) {
      if (group[0]!.channel === 'line' && resolveReader(group, date, c).length > 0) due.add(group[0]!.address);
    }
    for (const id of due) if (!got.has(id)) missing++;
    for (const [id, n] of got) if (n > 1 || !due.has(id)) doubled += due.has(id) ? n - 1 : n;
  }
  return { missing, doubled };
}

export interface BaselineFigures {
  wallSeconds: number;
  deliveries: number;
  sends: number;
  timeFloorSeconds: number;
  /** This process's CPU over the baseline's day (the in-process LINE emulator included). */
  processCpuMs: number;
  counts: Counts;
}

/**
 * What a typical LINE bot does with the same readers: one push per reader (no grouping), paced at the
 * channel's push limit, and one ledger item per delivery as its idempotency store, written before the push.
 */
export async function baselineDay(
  stack: Provisioned,
  opts: { date: IsoDate; counts: Counts },
): Promise<BaselineFigures> {
  const { db } = countedClients(opts.counts);
  const before = snapshot(opts.counts);
  const subscriptions = new SubscriptionRepository(db, stack.tables.data);
  const credentials = new SecretsManagerLineCredentials();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let deliveries = 0;
  let slowest = 0;
  for (const tenant of stack.tenants) {
    const { channelAccessToken } = await credentials.get(tenant);
    const sender = new BotSdkLineSender(
      new messagingApi.MessagingApiClient({ channelAccessToken, baseURL: stack.line.url }),
      DEFAULT_LINE_RETRY,
      LINE_CHANNEL_LIMITS,
    );
    const ctx = { tenant, library: buildLibraryIndex(stack.libraries[0]!.items) };
    let pushes = 0;
    for (let shard = 0; shard < tenant.shardCount; shard++) {
      const { subscriptions: subs } = await subscriptions.listShard(tenant.tenantId, shard, tenant.shardCount);
      const due = groupByReader(subs).flatMap((g) => {
        const texts = resolveReader(g, opts.date, ctx);
        return texts.length && g[0]!.channel === 'line' ? [{ reader: g[0]!, texts }] : [];
      });
      await mapLimit(due, 32, async ({ reader, texts }) => {
        await db.send(
          new PutCommand({
            TableName: stack.tables.delivery,
            Item: { pk: `BASELINE#${tenant.tenantId}#${opts.date}`, sk: reader.readerKey, at: Date.now() },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        await sender.push(
          reader.address,
          texts.map((text) => ({ type: 'text' as const, text })),
          randomUUID(),
        );
      });
      pushes += due.length;
    }
    deliveries += pushes;
    slowest = Math.max(slowest, pushes / LINE_CHANNEL_LIMITS.pushPerSecond);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    wallSeconds: (performance.now() - t0) / 1000,
    processCpuMs: (cpu.user + cpu.system) / 1000,
    deliveries,
    sends: deliveries,
    timeFloorSeconds: slowest,
    counts: minus(opts.counts, before),
  };
}
