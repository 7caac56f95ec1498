import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { writeFileSync } from 'node:fs';
import { BroadcastRepository } from '../../lambdas/adapters/broadcast-repository';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { addDays, localDate } from '../../lambdas/domain';
import { bucketOf } from '../../lambdas/domain/shard';
import { writeEndpointsFile } from '../../local/endpoints-file';
import type { Subscription } from '../../schemas/subscription';
import { newUserId } from './chat';
import { runCli } from './cli-run';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(180_000);

// `hagukumi broadcast` as a user runs it, against a local stack found from its endpoints file (the test's own
// tables on the shared emulators). The recipients of --dry-run follow from the seeded readers: the broadcast's
// date D is 3 days from today in Tokyo; a due date 280 - g days after D is gestational day g on D.
describe('hagukumi broadcast against the local stack', () => {
  let stack: TestStack;
  let state: string;
  let tenantId: string;
  const D = addDays(localDate(new Date(), 'Asia/Tokyo'), 3);
  const due = (g: number) => addDays(D, 280 - g);

  beforeAll(async () => {
    stack = await startTestStack('bc-cli', { tenants: (px) => [testTenants(px)[0]!] });
    tenantId = stack.tenants[0]!.tenantId;
    state = mkdtempSync(join(tmpdir(), 'hagukumi-bc-cli-'));
    const { audit: _audit, ...tables } = stack.tables;
    writeEndpointsFile(state, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ...stack.endpoints,
      api: '',
      tables,
      channels: { [tenantId]: stack.channels.get(tenantId)!.channelId },
    });
    // In 20w0d-30w6d on D (days 140-216), LINE parents: 140, 216, and a reader with a pregnancy at 180 beside a
    // child. Out: day 139, day 217, a lost pregnancy at 180, a partner at 180 (audience parent), an email reader.
    const seeds: [string, Partial<Subscription>[]][] = [
      ['in-140', [{ anchorDate: due(140) }]],
      ['in-216', [{ anchorDate: due(216) }]],
      ['in-180-with-child', [{ anchorDate: due(180) }, { track: 'childcare', anchorDate: addDays(D, -200) }]],
      ['out-139', [{ anchorDate: due(139) }]],
      ['out-217', [{ anchorDate: due(217) }]],
      ['out-lost', [{ anchorDate: due(180), status: 'lost' }]],
      ['out-partner', [{ anchorDate: due(180), audience: 'partner' }]],
      ['out-email', [{ anchorDate: due(180), channel: 'email' }]],
    ];
    let n = 0;
    for (const [, subs] of seeds) {
      const userId = newUserId();
      for (const over of subs) {
        const channel = over.channel ?? 'line';
        const address = channel === 'line' ? userId : `cli-${n}@example.jp`;
        const readerKey = channel === 'line' ? stack.readerKeys.line(address) : stack.readerKeys.email(address);
        const sub: Subscription = {
          tenantId,
          readerKey,
          subscriptionId: `s${n++}`,
          channel,
          address,
          track: 'maternity',
          anchorDate: D,
          audience: 'parent',
          status: 'active',
          registeredOn: '2026-01-01',
          familyId: `f${n}`,
          bucket: bucketOf(readerKey),
          version: 1,
          ...over,
        };
        await stack.db.send(new PutCommand({ TableName: stack.tables.data, Item: subscriptionItem(sub) }));
      }
    }
  });

  const cli = (...args: string[]) => runCli(['--state', state, 'broadcast', ...args, '--tenant', tenantId]);
  const segmentArgs = ['--tracks', 'maternity', '--weeks', '20w0d-30w6d', '--channels', 'line', '--audience', 'parent'];
  const stored = () => new BroadcastRepository(stack.db, stack.tables.content).list(tenantId);

  it('--dry-run prints the recipients of the segment and stores nothing', async () => {
    const res = await cli('create', '--date', D, ...segmentArgs, '--line-text', '両親学級のご案内', '--dry-run');
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe(`dry run: 3 recipients on ${D} (readers as stored now); nothing stored\n`);
    expect(await stored()).toEqual([]);
  });

  it('bad input names the option and the field, or the file and the field; nothing is stored', async () => {
    const res = await cli('create', '--date', D, '--weeks', '20w9d-30w6d', '--channels', 'line', '--line-text', 'x');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('--weeks segment.maternity.from: expected weeks and days like 20w0d');
    const today = await cli('create', '--date', addDays(D, -3), '--channels', 'line', '--line-text', 'x');
    expect(today.code).toBe(1);
    expect(today.stderr).toContain('--date date: ');
    const file = join(state, 'broadcast.json');
    writeFileSync(file, JSON.stringify({ date: D, segment: { channels: ['line'], audience: 'grandparents' } }));
    const fromFile = await cli('create', '--file', file);
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr).toContain(`${file}: segment.audience`);
    writeFileSync(file, JSON.stringify({ date: D, segment: { channels: ['line'] } }));
    const noText = await cli('create', '--file', file);
    expect(noText.stderr).toContain(`${file}: line: the segment reaches line readers: give the line text`);
    expect(await stored()).toEqual([]);
  });

  it('create, list and cancel; an unknown id is an error that changes nothing', async () => {
    const created = await cli(
      'create',
      '--date',
      D,
      ...segmentArgs,
      '--line-text',
      '両親学級のご案内',
      '--by',
      'tester',
    );
    expect(created.code).toBe(0);
    const id = /^scheduled (\S+)/.exec(created.stdout)?.[1];
    expect(id).toMatch(new RegExp(`^${D}-[0-9a-f]{16}$`));
    expect(await stored()).toEqual([expect.objectContaining({ id, status: 'scheduled', createdBy: 'tester' })]);
    const listed = await cli('list');
    expect(listed.stdout).toContain(`${id}  ${D}  scheduled  maternity 20w0d-30w6d line parent  両親学級のご案内`);
    // Preview shows it on its day to a pregnancy in the range, not the day before, nor to one outside the range.
    const preview = (dueDate: string) =>
      runCli([
        '--state',
        state,
        'preview',
        '--tenant',
        tenantId,
        '--due-date',
        dueDate,
        '--from',
        addDays(D, -1),
        '--days',
        '2',
        '--json',
      ]).then((r) => JSON.parse(r.stdout) as { date: string; messages: string[] }[]);
    const inRange = await preview(due(180));
    expect(inRange.map((d) => d.messages.some((m) => m.includes('両親学級のご案内')))).toEqual([false, true]);
    expect((await preview(due(230)))[1]!.messages.some((m) => m.includes('両親学級のご案内'))).toBe(false);
    const unknown = await cli('cancel', '--id', `${D}-ffffffffffffffff`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--id: ');
    expect((await cli('cancel', '--id', id!)).stdout).toBe(`cancelled ${id}\n`);
    expect((await cli('cancel', '--id', id!)).stdout).toBe(`${id} was cancelled already\n`);
    expect(await stored()).toEqual([
      expect.objectContaining({ id, status: 'cancelled', cancelledBy: expect.any(String) }),
    ]);
  });
});
