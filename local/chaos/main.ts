// `npm run chaos -- --runs N [--seed S] [--readers R] [--jobs J]`: N seeded delivery days under faults (runner.ts),
// judged by an independent oracle (oracle.ts). Run i uses seed S + i; `--seed <a failing run's seed> --runs 1`
// replays it, whatever --jobs was. With J > 1 the seeds are dealt to J child processes, each with its own
// emulators and stack, all sharing one DynamoDB Local: a run spends most of its time waiting (LINE's timeouts and
// slow answers, back-offs, the emulators' answers), so several runs at once use the machine's cores.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startDynamoDbLocal } from '../dynamodb-local';
import { startEmulators } from '../emulators';
import { runChaosSeed, startChaosStack, summaryLine, totals, type RunReport } from './runner';

/** A child's line on stdout that carries one run's report; every other line is passed through. */
const REPORT_TAG = '@@chaos-report ';
const DYNAMODB_ENV = 'CHAOS_DYNAMODB_ENDPOINT';

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      seed: { type: 'string' },
      readers: { type: 'string', default: '200' },
      jobs: { type: 'string', default: String(availableParallelism() + 1) },
      verbose: { type: 'boolean', default: false },
      // Internal: the seeds of one child process (comma-separated), set by the parent.
      child: { type: 'string' },
    },
  });
  const readers = Number(values.readers);
  if (!Number.isInteger(readers) || readers < 10 || readers > 20_000) throw new Error('--readers must be 10..20000');
  if (values.child !== undefined) {
    await runSeeds(values.child.split(',').map(Number), readers, (r) => console.log(REPORT_TAG + JSON.stringify(r)));
    return;
  }
  const runs = Number(values.runs);
  const jobs = Number(values.jobs);
  const base = values.seed !== undefined ? Number(values.seed) : randomBytes(4).readUInt32BE() >>> 1;
  if (!Number.isInteger(runs) || runs < 1 || runs > 100_000) throw new Error('--runs must be a whole number >= 1');
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16) throw new Error('--jobs must be 1..16');
  if (!Number.isSafeInteger(base) || base < 0) throw new Error('--seed must be a whole number >= 0');
  const seeds = Array.from({ length: runs }, (_, i) => base + i);

  console.log(`chaos: ${runs} runs from seed ${base}, ${readers} readers each, ${Math.min(jobs, runs)} at a time`);
  const reports: RunReport[] = [];
  const started = Date.now();
  const onReport = (report: RunReport) => {
    reports.push(report);
    const { verdict: v } = report;
    if (v.problems.length > 0 || values.verbose) console.log(describe(report));
    if (reports.length % 50 === 0)
      console.log(`  ${reports.length} runs, ${rate(reports.length, started)} runs/minute`);
  };
  if (jobs === 1 || runs === 1) await runSeeds(seeds, readers, onReport);
  else await runInChildren(seeds, readers, Math.min(jobs, runs), onReport);

  const t = totals(reports);
  console.log(
    `${((Date.now() - started) / 1000).toFixed(1)} s, ${rate(reports.length, started)} runs/minute; ` +
      `${t.emailUncertain} email-uncertain (a kill between the email claim and SES: the documented at-most-once window)`,
  );
  if (reports.length < runs) console.log(`${runs - reports.length} runs did not report (see the errors above)`);
  if (t.failed.length) console.log(`failing seeds: ${t.failed.map((r) => r.seed).join(' ')}`);
  console.log(summaryLine(t));
  process.exitCode = t.failed.length || reports.length < runs ? 1 : 0;
}

/** Runs seeds one after another on emulators of this process (DynamoDB Local shared when the parent runs one). */
async function runSeeds(seeds: number[], readers: number, onReport: (r: RunReport) => void) {
  const emulators = await startEmulators({ dynamodbEndpoint: process.env[DYNAMODB_ENV] });
  const stack = await startChaosStack({
    endpoints: emulators.endpoints,
    line: emulators.line,
    prefix: `chaos-${randomBytes(3).toString('hex')}`,
    seeds,
  });
  // Ctrl-C must not leave DynamoDB Local or the webhook process behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      void stack
        .close()
        .then(() => emulators.stop())
        .finally(() => process.exit(130));
    });
  try {
    for (const seed of seeds) onReport(await runChaosSeed(stack, seed, { readers, clearEmulators: true }));
  } finally {
    await stack.close();
    await emulators.stop();
  }
}

/** Deals the seeds round-robin to `jobs` children of this script and gathers their reports as they come. */
async function runInChildren(seeds: number[], readers: number, jobs: number, onReport: (r: RunReport) => void) {
  const dynamo = await startDynamoDbLocal();
  const children = Array.from({ length: jobs }, (_, k) => seeds.filter((_, i) => i % jobs === k));
  const running = children.map((mine) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, __filename, '--readers', String(readers), '--child', mine.join(',')],
      {
        env: { ...process.env, [DYNAMODB_ENV]: dynamo.endpoint },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(REPORT_TAG)) onReport(JSON.parse(line.slice(REPORT_TAG.length)) as RunReport);
      else console.log(line);
    });
    return { child, done: new Promise<number | null>((r) => child.once('exit', r)) };
  });
  const stopAll = () => running.forEach(({ child }) => child.kill('SIGTERM'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      console.log('interrupted');
      stopAll();
      void dynamo.stop().finally(() => process.exit(130));
    });
  try {
    const codes = await Promise.all(running.map((r) => r.done));
    codes.forEach((code, k) => code !== 0 && console.log(`chaos job ${k + 1} exited with ${code}`));
  } finally {
    await dynamo.stop();
  }
}

function describe(report: RunReport): string {
  const { verdict: v } = report;
  const list = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  return (
    `${v.problems.length ? 'FAILED' : 'ok'} seed ${report.seed}: ${report.readers} readers, ${v.due} due, ` +
    `${report.faults} faults (${list(report.faultKinds)}), ${report.invocations} invocations, ` +
    `${report.ms} ms (${list(report.phases)})${v.emailUncertain ? `, ${v.emailUncertain} email-uncertain` : ''}` +
    v.problems.map((p) => `\n    ${p}`).join('')
  );
}

const rate = (runs: number, started: number) => ((runs / (Date.now() - started)) * 60_000).toFixed(1);

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(2);
});
