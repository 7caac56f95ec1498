// `npm run bench [-- --quick]`: national-scale figures measured on this machine against the local emulators, with a
// typical LINE bot as the baseline in the same run; writes bench/results.json and BENCHMARKS.md (with a chart).
// Figures, not assertions: the bench fails only when a correctness check fails (every due reader delivered once,
// no registration or reply lost or doubled). `--quick` runs the same parts smaller (about 2 minutes).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IsoDate } from '../schemas/common';
import { addDays, buildLibraryIndex, emailSubject, groupByReader, planSends, resolveReader } from '../lambdas/domain';
import type { ReaderDelivery } from '../lambdas/domain';
import { readerKeys } from '../lambdas/services/reader-keys';
import { SHARD_WORKER_MAX_CONCURRENCY } from '../lib/stateless-stack';
import { startEmulators } from '../local/emulators';
import { demoSubscriptions, seedDemoSubscribers } from '../local/seed';
import { loadRepoTenants, loadSampleLibrary, provision, type Provisioned } from '../local/stack';
import type { LineEmulator } from '../local/line-emulator';
import { measureBundles } from './bundles';
import { zeroCounts } from './counting';
import { baselineDay, benchTenants, deliverDay, type BaselineFigures, type DayFigures } from './delivery';
import { projectNation, sendsBySize } from './national';
import { writeChart } from './chart';
import { writeReport } from './report';
import { webhookLoad, type WebhookFigures } from './webhook';
import { startWebhookProcess } from './webhook-process';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    date: { type: 'string', default: '2026-12-01' },
    'webhook-seconds': { type: 'string' },
    workers: { type: 'string', default: '16' },
    /** Only the webhook load (printed, nothing written), e.g. to profile it with --webhook-profile DIR. */
    'webhook-only': { type: 'boolean', default: false },
    'webhook-profile': { type: 'string' },
    'webhook-rates': { type: 'string', default: '50,200' },
  },
});
const QUICK = values.quick;
const DATE: IsoDate = values.date;
/** Issue 6: 200 requests/s for 60 s; the 50/s step runs half as long. */
const WEBHOOK_SECONDS = Number(values['webhook-seconds'] ?? (QUICK ? 8 : 60));
/** Shard workers at once in this process, each like its own Lambda container. */
const WORKERS = Number(values.workers);

export interface ScenarioSpec {
  name: string;
  label: string;
  tenants: number;
  subscriptionsPerTenant: number;
  shardCount: number;
  baseline?: boolean;
  webhook?: boolean;
  /** The tenant `sendsOverFloor` is reported for (50,000 readers, 10+ shards). */
  floorGoal?: boolean;
}

const SCENARIOS: ScenarioSpec[] = QUICK
  ? [
      {
        name: 's2k',
        label: '2,000 readers, 1 tenant',
        tenants: 1,
        subscriptionsPerTenant: 2_000,
        shardCount: 2,
        baseline: true,
        webhook: true,
      },
      {
        name: 's10k',
        label: '10,000 readers, 1 tenant, 16 shards',
        tenants: 1,
        subscriptionsPerTenant: 10_000,
        shardCount: 16,
        floorGoal: true,
      },
      {
        name: 's5k10',
        label: '5,000 readers over 10 tenants',
        tenants: 10,
        subscriptionsPerTenant: 500,
        shardCount: 1,
      },
    ]
  : [
      {
        name: 's10k',
        label: '10,000 readers, 1 tenant',
        tenants: 1,
        subscriptionsPerTenant: 10_000,
        shardCount: 4,
        baseline: true,
        webhook: true,
      },
      {
        name: 's50k',
        label: '50,000 readers, 1 tenant, 16 shards',
        tenants: 1,
        subscriptionsPerTenant: 50_000,
        shardCount: 16,
        floorGoal: true,
      },
      {
        name: 's100k',
        label: '100,000 readers, 1 tenant, 32 shards',
        tenants: 1,
        subscriptionsPerTenant: 100_000,
        shardCount: 32,
      },
      {
        name: 's100k50',
        label: '100,000 readers over 50 tenants',
        tenants: 50,
        subscriptionsPerTenant: 2_000,
        shardCount: 1,
      },
    ];

export interface ScenarioResult {
  spec: ScenarioSpec;
  seedSeconds: number;
  limited: DayFigures;
  lifted: DayFigures;
  baseline?: BaselineFigures;
  webhook?: WebhookFigures[];
}

function benchDomain(count: number) {
  const tenant = loadRepoTenants()[0]!;
  const library = loadSampleLibrary();
  const subs = demoSubscriptions(
    { ...tenant, shardCount: 1 },
    count,
    DATE,
    readerKeys(randomBytes(32).toString('hex')),
  );
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
  return {
    subscriptions: subs.length,
    ms,
    perSecond: subs.length / (ms / 1000),
    readersDue: readers.length,
    sends: sends.length,
  };
}

/** The webhook load at each rate, against the webhook in its own process. */
async function webhookRuns(line: LineEmulator, stack: Provisioned): Promise<WebhookFigures[]> {
  const tenantId = stack.tenants[0]!.tenantId;
  const channelId = stack.channels.get(tenantId)!.channelId;
  const server = await startWebhookProcess([tenantId], {
    ...(values['webhook-profile'] && { cpuProfileDir: values['webhook-profile'] }),
  });
  line.setWebhookUrl(channelId, server.webhookUrl(tenantId));
  const out: WebhookFigures[] = [];
  try {
    for (const [i, rate] of values['webhook-rates'].split(',').map(Number).entries()) {
      const seconds = rate >= 200 ? WEBHOOK_SECONDS : Math.max(1, Math.round(WEBHOOK_SECONDS / 2));
      const w = await webhookLoad(line, stack, tenantId, channelId, {
        rate,
        seconds,
        userPrefix: `f${i}`,
        serverCpuMs: () => server.cpuMs(),
      });
      out.push(w);
      console.log(
        `  webhook at ${rate}/s for ${seconds} s: achieved ${w.achievedPerSecond.toFixed(0)}/s, p50 ${w.p50Ms.toFixed(0)} ms, p99 ${w.p99Ms.toFixed(0)} ms, our CPU ${w.cpuMsPerRequest?.toFixed(2) ?? '?'} ms/request, errors ${Object.values(w.errors).reduce((a, b) => a + b, 0)}, lost ${w.registrationsLost}, doubled ${w.registrationsDoubled}`,
      );
    }
  } finally {
    await server.close();
  }
  return out;
}

/** Where the bench's time goes: each part's wall seconds, in order. */
const phases: { part: string; seconds: number }[] = [];
async function timed<T>(part: string, run: () => Promise<T> | T): Promise<T> {
  const t = performance.now();
  try {
    return await run();
  } finally {
    phases.push({ part, seconds: (performance.now() - t) / 1000 });
  }
}

async function main() {
  const started = performance.now();
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: Number(loadavg()[0]!.toFixed(1)),
  };
  console.log(
    `machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGB} GB, Node ${machine.node}, load ${machine.loadAverageAtStart}`,
  );
  const domain = await timed('domain (resolve and plan, one core)', () =>
    benchDomain(values['webhook-only'] ? 1_000 : QUICK ? 20_000 : 100_000),
  );
  console.log(
    `domain: ${domain.subscriptions.toLocaleString()} subscriptions resolved and planned in ${domain.ms.toFixed(0)} ms (${Math.round(domain.perSecond).toLocaleString()}/s)`,
  );
  const bundles = values['webhook-only'] ? [] : await timed('bundles (build and cold import)', () => measureBundles());
  for (const b of bundles)
    console.log(`bundle ${b.name}: ${(b.bytes / 1024).toFixed(0)} KiB, cold import ${b.coldImportMs.toFixed(0)} ms`);

  const emulators = await timed('emulators (start)', () => startEmulators());
  const results: ScenarioResult[] = [];
  try {
    const counts = zeroCounts();
    for (const spec of SCENARIOS) {
      const tenants = benchTenants(`bench-${spec.name}`, spec.tenants, spec.shardCount);
      const stack = await provision({
        prefix: `bench-${spec.name}`,
        endpoints: emulators.endpoints,
        line: emulators.line,
        tenants,
        libraries: [loadSampleLibrary()],
        // The webhook runs in a process of its own (bench/webhook-server.ts), not in this one.
        webhook: false,
      });
      if (values['webhook-only']) {
        await webhookRuns(emulators.line, stack);
        break;
      }
      const t = performance.now();
      await timed(`${spec.label}: seed`, async () => {
        for (const tenant of tenants)
          await seedDemoSubscribers(
            stack.db,
            stack.tables.data,
            tenant,
            spec.subscriptionsPerTenant,
            DATE,
            stack.readerKeys,
          );
      });
      const seedSeconds = (performance.now() - t) / 1000;
      const day = { workers: WORKERS, counts, seedDate: DATE, seeded: spec.subscriptionsPerTenant };
      const limited = await timed(`${spec.label}: day at LINE's limits`, () =>
        deliverDay(stack, emulators.line, { ...day, date: DATE, lifted: false }),
      );
      const lifted = await timed(`${spec.label}: day with the limits lifted`, () =>
        deliverDay(stack, emulators.line, { ...day, date: addDays(DATE, 1), lifted: true }),
      );
      const result: ScenarioResult = { spec, seedSeconds, limited, lifted };
      console.log(
        `${spec.label}: seeded in ${seedSeconds.toFixed(0)} s; ${limited.deliveries.toLocaleString()} deliveries in ${limited.wallSeconds.toFixed(1)} s (LINE's time floor ${limited.timeFloorSeconds.toFixed(1)} s), ${limited.sends} sends / floor ${limited.floor} = ${(limited.sends / limited.floor).toFixed(3)}; limits lifted ${lifted.wallSeconds.toFixed(1)} s; missing ${limited.missing + lifted.missing}, doubled ${limited.doubled + lifted.doubled}`,
      );
      if (spec.baseline) {
        result.baseline = await timed(`${spec.label}: baseline day`, () =>
          baselineDay(stack, { date: addDays(DATE, 2), counts }),
        );
        console.log(
          `  baseline: ${result.baseline.deliveries.toLocaleString()} pushes in ${result.baseline.wallSeconds.toFixed(1)} s (time floor ${result.baseline.timeFloorSeconds.toFixed(1)} s)`,
        );
      }
      if (spec.webhook) result.webhook = await timed('webhook load', () => webhookRuns(emulators.line, stack));
      results.push(result);
      // DynamoDB Local keeps every table in memory: the next scenario starts with room.
      const ddb = new DynamoDBClient({});
      for (const table of Object.values(stack.tables) as string[])
        await ddb.send(new DeleteTableCommand({ TableName: table }));
    }
  } finally {
    await emulators.stop();
  }
  if (values['webhook-only']) return;

  const goal = results.find((r) => r.spec.floorGoal)!;
  const liftedAll = results.map((r) => r.lifted);
  const deliveriesPerWorkerSecond =
    liftedAll.reduce((n, d) => n + d.deliveries, 0) /
    (liftedAll.reduce((n, d) => n + d.taskMs.reduce((a, b) => a + b, 0), 0) / 1000);
  const limitedAll = results.map((r) => r.limited);
  const writeUnitsPerDelivery =
    limitedAll.reduce((n, d) => n + d.counts.writeUnits, 0) / limitedAll.reduce((n, d) => n + d.deliveries, 0);
  const demo = loadRepoTenants().find((t) => t.tenantId === 'demo-yamabe')!;
  const grid = sendsBySize(
    demo,
    loadSampleLibrary(),
    DATE,
    QUICK ? [300, 1_000, 5_000, 20_000] : [200, 500, 1_000, 3_000, 10_000, 30_000, 100_000],
  );
  const national = projectNation(
    {
      municipalities: 1741,
      readers: 5_000_000,
      deliveriesPerWorkerSecond,
      coldStartSeconds: (bundles.find((b) => b.name === 'shard-worker')?.coldImportMs ?? 500) / 1000,
      writeUnitsPerDelivery,
      sendsOverFloor: goal.limited.sends / goal.limited.floor,
      maxConcurrency: SHARD_WORKER_MAX_CONCURRENCY,
      readersPerShard: 5_000,
    },
    grid,
  );
  console.log(`national: ${national.minutes.toFixed(1)} minutes, binding: ${national.bindingLimit}`);
  const report = writeReport({
    quick: QUICK,
    machine,
    benchMinutes: (performance.now() - started) / 60_000,
    phases,
    domain,
    bundles,
    scenarios: results,
    national,
    nationalInputs: { deliveriesPerWorkerSecond, writeUnitsPerDelivery, workers: WORKERS },
    root: join(__dirname, '..'),
  });
  // In the house format, so `prettier --check .` in npm test passes on the committed figures.
  const prettier = await import('prettier');
  const format = async (file: string, text: string) =>
    writeFileSync(file, await prettier.format(text, { ...(await prettier.resolveConfig(file)), filepath: file }));
  await format(join(__dirname, 'results.json'), JSON.stringify(report.results, null, 2));
  await format(join(__dirname, '..', 'BENCHMARKS.md'), report.markdown);
  await writeChart(
    join(__dirname, 'chart.svg'),
    report.results.scenarios.flatMap((x) => [
      { run: x.label, measure: 'measured', seconds: x.limited.wallSeconds },
      { run: x.label, measure: "LINE's time floor", seconds: x.limited.timeFloorSeconds },
      { run: x.label, measure: 'limits lifted', seconds: x.lifted.wallSeconds },
    ]),
    [
      { who: 'ours', dollars: report.results.awsDollarsPerMillion },
      { who: 'baseline', dollars: report.results.baselineDollarsPerMillion },
    ],
  );
  console.log(
    `wrote bench/results.json, BENCHMARKS.md and bench/chart.svg in ${((performance.now() - started) / 60_000).toFixed(1)} min`,
  );
  const failed = report.correctnessFailures;
  if (failed.length) {
    console.error(`correctness check failed:\n  ${failed.join('\n  ')}`);
    process.exit(1);
  }
}

main()
  .then(() => process.exit(0)) // keep-alive sockets of the SDK clients would hold the process open
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
