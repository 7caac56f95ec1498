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
  afterAll(() => stack?.close());

  const problems = (r: RunReport) => r.verdict.problems.filter((p) => !p.startsWith('sent after stop'));

  it('injects every kind of fault the schedules name', () => {
    const kinds = new Set(reports.flatMap((r) => Object.keys(r.faultKinds)));
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining([
        'kill-after-plan',
        'kill-mid-batch',
        'kill-before-ledger',
        'kill-after-email-claim',
        'dynamodb-ProvisionedThroughputExceededException',
        'secret-unreadable',
        'webhook-TransactionConflict',
        'line-429',
        'line-500',
        'line-slow',
        'sqs-redelivery',
        'fan-out-twice',
        'schedule-fired-again',
        'reader-stop',
        'reader-loss',
        'reader-delete',
        'reader-unfollow',
      ]),
    );
  });

  it('sends nothing twice, loses nothing and sends every due reader exactly their messages', () => {
    const t = totals(reports);
    expect({ duplicates: t.duplicates, lost: t.lost }).toEqual({ duplicates: 0, lost: 0 });
    expect(reports.map((r) => ({ seed: r.seed, problems: problems(r) }))).toEqual(
      SEEDS.map((seed) => ({ seed, problems: [] })),
    );
    expect(reports.every((r) => r.verdict.due > 0)).toBe(true);
  });

  it('leaves an email uncertain only where the worker was killed right after its claim', () => {
    for (const r of reports)
      if (r.verdict.emailUncertain > 0) expect(r.faultKinds['kill-after-email-claim']).toBeGreaterThan(0);
  });

  // A stop made between batches (before planning, before the plan is committed, before a batch's outcome) is
  // honoured by the send-time check. Known gap (issue 6, promise 1): the check runs before each batch, so a stop
  // that lands while a batch is being sent (held before a LINE request or an email claim) does not stop that
  // batch's later sends; those are printed by `npm run chaos` and left out here.
  it('sends nothing after a stop, a loss, an unfollow or a deletion made between batches', () => {
    const late = reports.flatMap((r) => r.verdict.problems.filter((p) => p.startsWith('sent after stop')));
    expect(late.filter((p) => !/before (LINE request|email claim)/.test(p))).toEqual([]);
  });

  it('keeps a ledger that reconciles with what LINE and SES accepted', () => {
    expect(reports.flatMap((r) => r.verdict.problems.filter((p) => p.startsWith('ledger:')))).toEqual([]);
  });
});
