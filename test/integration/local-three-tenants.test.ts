import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalRunResult } from '../../local/run-local';
import { REPO, runCli, type CliResult } from './cli-run';

jest.setTimeout(300_000);

const DATE = '2026-12-01';

/** What a new operator does: copy a demo file and change its id, name, secret name and delivery time only. */
function writeTenantsWithACopy(dir: string) {
  mkdirSync(dir, { recursive: true });
  for (const id of ['demo-minato', 'demo-yamabe'])
    writeFileSync(join(dir, `${id}.json`), readFileSync(join(REPO, 'tenants', `${id}.json`)));
  const copy = JSON.parse(readFileSync(join(REPO, 'tenants', 'demo-minato.json'), 'utf8')) as Record<string, unknown>;
  Object.assign(copy, {
    tenantId: 'demo-kawabe',
    name: 'かわべ村（デモ）',
    deliveryTime: '18:00',
    line: { enabled: true, secretName: 'hagukumi/demo-kawabe/line' },
  });
  writeFileSync(join(dir, 'demo-kawabe.json'), JSON.stringify(copy, null, 2));
}

describe('npm start with a third tenant copied from a demo file (same email sender as demo-minato)', () => {
  const root = mkdtempSync(join(tmpdir(), 'hagukumi-three-'));
  let run: CliResult;
  let result: LocalRunResult;

  beforeAll(async () => {
    writeTenantsWithACopy(join(root, 'tenants'));
    // Two days back to back on the simulated clock: the second day is delivered by the schedules, one
    // delivery time after the other, as the running stack does.
    run = await runCli(
      [
        '--state',
        join(root, 'state'),
        'local',
        '--date',
        DATE,
        '--days',
        '2',
        '--subscribers',
        '600',
        '--tenants-dir',
        join(root, 'tenants'),
        '--json',
        join(root, 'out.json'),
      ],
      { timeoutMs: 280_000 },
    );
    result = JSON.parse(readFileSync(join(root, 'out.json'), 'utf8')) as LocalRunResult;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('exits 0 and passes its own check for every tenant on both days', () => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).not.toContain('NOT VERIFIED');
    const checked = result.days.flatMap((d) =>
      d.tenants.map((t) => ({ date: d.date, tenant: t.tenantId, problems: t.problems })),
    );
    expect(checked.map(({ date, tenant }) => `${date} ${tenant}`).sort()).toEqual([
      '2026-12-01 demo-kawabe',
      '2026-12-01 demo-minato',
      '2026-12-01 demo-yamabe',
      '2026-12-02 demo-kawabe',
      '2026-12-02 demo-minato',
      '2026-12-02 demo-yamabe',
    ]);
    for (const c of checked) expect(c.problems).toEqual([]);
  });

  it('checked real sends in each tenant on each day, LINE and email', () => {
    for (const d of result.days)
      for (const t of d.tenants) {
        expect(t.dueReaders).toBeGreaterThan(20);
        expect(t.thisRun.emails).toBeGreaterThan(0);
        expect(t.thisRun.lineMulticast + t.thisRun.linePush).toBeGreaterThan(0);
        // Each tenant's ledger accounts for exactly the readers the check found due.
        expect(t.ledger.recipients + t.ledger.failures).toBe(t.dueReaders);
      }
  });

  it('delivers the second day schedule by schedule, in the order of the delivery times', () => {
    const second = result.days.filter((d) => d.date === '2026-12-02').map((d) => d.tenants.map((t) => t.tenantId));
    expect(second).toEqual([['demo-minato'], ['demo-yamabe'], ['demo-kawabe']]);
  });

  it('logs one plain line per phase when not on a terminal', () => {
    expect(run.stdout).not.toMatch(/\r|\u001b\[/);
    const lines = run.stdout.split('\n');
    for (const start of [
      'emulators ready in ',
      'tables, queues, content and 3 tenants',
      'seeded 600 demo subscriptions',
    ])
      expect(lines.filter((l) => l.startsWith(start))).toHaveLength(1);
    expect(
      lines.filter((l) =>
        l.startsWith(`delivered ${DATE} for demo-kawabe (18:00), demo-minato (07:30), demo-yamabe (09:00)`),
      ),
    ).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('delivered 2026-12-02 for '))).toHaveLength(3);
  });

  it('explains the summary columns', () => {
    expect(run.stdout).toMatch(/subs due +subscriptions with a message on this date/);
    expect(run.stdout).toMatch(/readers due +people those belong to/);
  });
});
