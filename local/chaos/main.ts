// `npm run chaos -- --runs N [--seed S] [--readers R]`: N seeded delivery days under faults (runner.ts), judged
// by an independent oracle (oracle.ts). Run i uses seed S + i; `--seed <a failing run's seed> --runs 1` replays it.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startEmulators } from '../emulators';
import { runChaosSeed, startChaosStack, summaryLine, totals, type RunReport } from './runner';

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      seed: { type: 'string' },
      readers: { type: 'string', default: '200' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const readers = Number(values.readers);
  const base = values.seed !== undefined ? Number(values.seed) : randomBytes(4).readUInt32BE() >>> 1;
  if (!Number.isInteger(runs) || runs < 1 || runs > 100_000) throw new Error('--runs must be a whole number >= 1');
  if (!Number.isInteger(readers) || readers < 10 || readers > 20_000) throw new Error('--readers must be 10..20000');
  if (!Number.isSafeInteger(base) || base < 0) throw new Error('--seed must be a whole number >= 0');
  const seeds = Array.from({ length: runs }, (_, i) => base + i);

  const emulators = await startEmulators();
  const reports: RunReport[] = [];
  const stack = await startChaosStack({
    endpoints: emulators.endpoints,
    line: emulators.line,
    prefix: `chaos-${randomBytes(3).toString('hex')}`,
    seeds,
  });
  // Ctrl-C must not leave DynamoDB Local or the webhook process behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      console.log(`interrupted after ${reports.length} runs`);
      void stack
        .close()
        .then(() => emulators.stop())
        .finally(() => process.exit(130));
    });
  console.log(`chaos: ${runs} runs from seed ${base}, ${readers} readers each, delivery date ${stack.date}`);
  const started = Date.now();
  try {
    for (const seed of seeds) {
      const report = await runChaosSeed(stack, seed, { readers, clearEmulators: true });
      reports.push(report);
      const { verdict: v } = report;
      if (v.problems.length > 0 || values.verbose)
        console.log(
          `${v.problems.length ? 'FAILED' : 'ok'} seed ${seed}: ${report.readers} readers, ${v.due} due, ` +
            `${report.faults} faults (${Object.entries(report.faultKinds)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')}), ` +
            `${report.invocations} invocations, ${report.ms} ms (${Object.entries(report.phases)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')})${v.emailUncertain ? `, ${v.emailUncertain} email-uncertain` : ''}` +
            v.problems.map((p) => `\n    ${p}`).join(''),
        );
      if (reports.length % 50 === 0)
        console.log(`  ${reports.length} runs, ${rate(reports.length, started)} runs/minute`);
    }
  } finally {
    await stack.close();
    await emulators.stop();
  }
  const t = totals(reports);
  const minutes = (Date.now() - started) / 60_000;
  console.log(
    `${(minutes * 60).toFixed(1)} s, ${rate(reports.length, started)} runs/minute; ` +
      `${t.emailUncertain} email-uncertain (a kill between the email claim and SES: the documented at-most-once window)`,
  );
  if (t.failed.length) console.log(`failing seeds: ${t.failed.map((r) => r.seed).join(' ')}`);
  console.log(summaryLine(t));
  process.exitCode = t.failed.length ? 1 : 0;
}

const rate = (runs: number, started: number) => ((runs / (Date.now() - started)) * 60_000).toFixed(1);

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(2);
});
