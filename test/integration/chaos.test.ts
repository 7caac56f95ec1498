import { LineEmulatorClient } from '../../local/line-emulator/client';
import { runChaosSeed, startChaosStack, totals, type ChaosStack, type RunReport } from '../../local/chaos/runner';
import { testEndpoints, uniquePrefix } from './helpers';

jest.setTimeout(240_000);

// The short version of `npm run chaos`: seeded delivery days whose schedules between them kill the worker at
// every step, throttle DynamoDB, make a secret unreadable, make LINE fail and lag, redeliver tasks, fire the
// fan-out twice and let readers stop, report a loss, unfollow or delete their data while their shard runs.
// Seeds are chosen for what their schedules inject; the oracle is local/chaos/oracle.ts.
const SEEDS = [5, 9, 12, 13, 17, 18, 22];
const READERS = 80;

describe('seeded fault injection over the local stack', () => {
  let stack: ChaosStack;
  const reports: RunReport[] = [];
  beforeAll(async () => {
    const endpoints = testEndpoints();
    stack = await startChaosStack({
      endpoints,
      line: new LineEmulatorClient(endpoints.line),
      prefix: uniquePrefix('chaos'),
      seeds: SEEDS,
    });
    for (const seed of SEEDS) reports.push(await runChaosSeed(stack, seed, { readers: READERS }));
  });
  afterAll(() => stack.close());

  /**
   * One counter gap is known (README, "Fault injection"): LINE accepted a send, the worker was killed before the
   * batch's outcome, the reader then stopped and the retry withheld them, so the accepted send is counted as
   * withheld. It is a gap in the counters, never a send after the stop; a ledger difference is excused only in a
   * run where both a kill before the ledger write and a change of mind were injected.
   */
  const excused = (r: RunReport, p: string) =>
    p.startsWith('ledger:') &&
    'kill-before-ledger' in r.faultKinds &&
    Object.keys(r.faultKinds).some((k) => k.startsWith('reader-'));
  const problems = (r: RunReport) => r.verdict.problems.filter((p) => !excused(r, p));

  // Which invocation meets which fault shifts when a loaded machine turns a slow LINE answer into a timeout (one
  // more retry, one more invocation), so only a broad coverage is asserted here; `npm run chaos --verbose` lists
  // each run's faults.
  it('injects many kinds of fault, the worker killed at several steps and readers changing their mind', () => {
    const kinds = new Set(reports.flatMap((r) => Object.keys(r.faultKinds)));
    expect(kinds.size).toBeGreaterThanOrEqual(12);
    expect([...kinds].filter((k) => k.startsWith('kill-')).length).toBeGreaterThanOrEqual(2);
    expect([...kinds].filter((k) => k.startsWith('reader-')).length).toBeGreaterThanOrEqual(3);
  });

  it('sends nothing twice, loses nothing and sends every due reader exactly their messages', () => {
    const t = totals(reports);
    expect({ duplicates: t.duplicates, lost: t.lost }).toEqual({ duplicates: 0, lost: 0 });
    expect(reports.map((r) => ({ seed: r.seed, problems: problems(r) }))).toEqual(
      SEEDS.map((seed) => ({ seed, problems: [] })),
    );
    expect(reports.every((r) => r.verdict.due > 0)).toBe(true);
  });

  it('leaves an email uncertain only where the worker was killed between its claim and SES', () => {
    for (const r of reports)
      if (r.verdict.emailUncertain > 0)
        expect(Object.keys(r.faultKinds).filter((k) => k.startsWith('kill-')).length).toBeGreaterThan(0);
  });

  // The send-time check runs right before each send, so a stop, loss, unfollow or deletion whose webhook has
  // answered is honoured by every send that starts afterwards, in this batch or a later one.
  it('sends nothing after a stop, a loss, an unfollow or a deletion', () => {
    expect(reports.flatMap((r) => r.verdict.problems.filter((p) => p.startsWith('sent after stop')))).toEqual([]);
  });

  it('keeps a ledger that reconciles with what LINE and SES accepted', () => {
    expect(reports.flatMap((r) => r.verdict.problems.filter((p) => p.startsWith('ledger:') && !excused(r, p)))).toEqual(
      [],
    );
  });
});
