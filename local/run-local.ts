import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { IsoDate } from '../schemas/common';
import { startEmulators, type Emulators } from './emulators';
import {
  loadRepoTenants,
  loadSampleLibrary,
  provision,
  REPO_ROOT,
  runDelivery,
  seedDemo,
  type Provisioned,
  type TenantRunSummary,
  persistentReaderKeySecret,
} from './stack';

export interface LocalRunOptions {
  date: IsoDate;
  subscribers: number;
  once: boolean;
  reset: boolean;
  json?: string;
  recordLine?: string;
  dataDir?: string;
  /** Progress and summary go here; tests pass a sink. */
  out?: NodeJS.WritableStream;
}

export interface LocalRunResult {
  date: IsoDate;
  seeded: Record<string, number>;
  tenants: TenantRunSummary[];
  seconds: number;
}

/** `npm start`: the whole system on the emulators, one day's delivery through the real handlers. */
export async function runLocal(
  o: LocalRunOptions,
): Promise<{ result: LocalRunResult; emulators: Emulators; stack: Provisioned }> {
  const out = o.out ?? process.stdout;
  const dataDir = o.dataDir ?? join(REPO_ROOT, '.local');
  if (o.reset) rmSync(dataDir, { recursive: true, force: true });
  const t0 = Date.now();
  const emulators = await startEmulators({ dynamoDataDir: join(dataDir, 'dynamodb') });
  try {
    const tenants = loadRepoTenants();
    const stack = await provision({
      prefix: 'hagukumi-local',
      endpoints: emulators.endpoints,
      line: emulators.line,
      tenants,
      libraries: [loadSampleLibrary()],
      // Four workers (containers) drain the queue here, so each may use a quarter of LINE's per-channel limits.
      handlerEnv: {
        LINE_RETRY_BASE_MS: '50',
        SEND_CONCURRENCY: '16',
        LINE_MULTICAST_PER_SECOND: '50',
        LINE_PUSH_PER_SECOND: '500',
      },
      webhook: true,
      // Longer than a shard takes here, so a slow shard is not handed to a second worker while it runs; a
      // failed one comes back within a minute (AWS: 6 x the worker timeout).
      queue: { visibilityTimeoutSeconds: 60 },
      // The kept tables hold reader keys made with this secret.
      readerKeySecret: persistentReaderKeySecret(join(dataDir, 'reader-key')),
    });
    out.write(`emulators and tables ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const tSeed = Date.now();
    const seeded = await seedDemo(stack, o.subscribers, o.date);
    const seededTotal = [...seeded.values()].reduce((a, b) => a + b, 0);
    out.write(
      seededTotal > 0
        ? `seeded ${seededTotal} demo subscriptions for ${o.date} in ${((Date.now() - tSeed) / 1000).toFixed(1)} s\n`
        : 'kept the existing subscribers (--reset starts over)\n',
    );

    const shards = tenants.reduce((n, t) => n + t.shardCount, 0);
    const bar = new SingleBar(
      {
        format: 'delivering {date} |{bar}| {value}/{total} shards | {failed} retried',
        stream: out,
        noTTYOutput: false,
      },
      Presets.shades_classic,
    );
    let failed = 0;
    bar.start(shards, 0, { date: o.date, failed });
    const started = Date.now();
    const summaries = await runDelivery(stack, {
      date: o.date,
      onShardDone: (_t, f) => {
        if (f) bar.update({ failed: ++failed });
        else bar.increment();
      },
    });
    bar.stop();
    out.write(`delivered in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const result: LocalRunResult = {
      date: o.date,
      seeded: Object.fromEntries(seeded),
      tenants: summaries,
      seconds: (Date.now() - started) / 1000,
    };
    out.write(formatSummary(result));
    const problems = summaries.flatMap((t) => t.problems.map((m) => `${t.tenantId}: ${m}`));
    out.write(
      problems.length
        ? `NOT VERIFIED:\n  ${problems.join('\n  ')}\n`
        : `verified: each of the ${summaries.reduce((n, t) => n + t.dueReaders, 0)} due readers has exactly one send for ${o.date} (${summaries.some((t) => t.thisRun.lineMulticast + t.thisRun.linePush + t.thisRun.emails > 0) ? 'sent now' : 'sent by an earlier run'}), nobody else got one\n`,
    );
    out.write(`total ${((Date.now() - t0) / 1000).toFixed(1)} s including emulator start-up\n`);
    if (o.json) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    if (o.recordLine) {
      const lines = emulators.line
        .requests()
        .map((r) =>
          JSON.stringify({ method: r.method, path: r.path, status: r.status, headers: r.headers, body: r.body }),
        );
      writeFileSync(o.recordLine, lines.length ? `${lines.join('\n')}\n` : '');
    }
    return { result, emulators, stack };
  } catch (err) {
    await emulators.stop();
    throw err;
  }
}

export function formatSummary(r: LocalRunResult): string {
  const rows = r.tenants.map((t) => [
    t.tenantId,
    t.ledger.subscriptionsDue,
    t.ledger.recipients,
    t.ledger.multicastRequests,
    t.ledger.pushRequests,
    t.ledger.emails,
    t.ledger.failures,
    `${t.thisRun.lineMulticast}/${t.thisRun.linePush}/${t.thisRun.emails}`,
    `${t.thisRun.lineErrors}/${t.thisRun.lineDuplicates}`,
    t.seconds.toFixed(2),
  ]);
  const head = [
    'tenant',
    'due',
    'recipients',
    'multicast',
    'push',
    'emails',
    'failures',
    'sent now (mc/push/mail)',
    'LINE 4xx-5xx/409',
    'seconds',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const fmt = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  ');
  return `\nDelivery for ${r.date} (ledger figures; "sent now" is what this run sent)\n${fmt(head)}\n${rows.map(fmt).join('\n')}\n`;
}
