import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointsFile, writeEndpointsFile } from '../../local/endpoints-file';
import { REPO, runCli } from './cli-run';
import { startTestStack, testEndpoints, type TestStack } from './helpers';

jest.setTimeout(120_000);

const root = mkdtempSync(join(tmpdir(), 'hagukumi-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const state = (name: string) => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const oneLine = (s: string) => s.trim().split('\n');

/** Every command and each of its options, as the README documents them. */
const COMMANDS: Record<string, string[]> = {
  local: [
    '--date',
    '--from',
    '--simulate',
    '--seed',
    '--subscribers',
    '--once',
    '--clock',
    '--days',
    '--json',
    '--record-line',
    '--reset',
    '--tenants-dir',
  ],
  preview: [
    '--tenant',
    '--due-date',
    '--birthday',
    '--from',
    '--days',
    '--json',
    '--track',
    '--anchor',
    '--date',
    '--nickname',
    '--audience',
    '--library-file',
    '--tenants-dir',
  ],
  'content import': ['--table', '--local', '--file', '--library', '--notice', '--sample', '--check'],
  'content versions': ['--library', '--table', '--local'],
  'content activate': ['--library', '--table', '--local'],
  'content diff': ['--library', '--json', '--table', '--local'],
  'tenants validate': [],
  'tenants new': [
    '--id',
    '--name',
    '--delivery-time',
    '--shards',
    '--line',
    '--no-line',
    '--email-from',
    '--format',
    '--yes',
  ],
  'tenants secrets': ['--tenant', '--region', '--profile', '--tenants-dir'],
  report: ['--tenant', '--date', '--month', '--out', '--table', '--data-table', '--local', '--tenants-dir'],
  'line chat': ['--tenant', '--user'],
  'line simulate': ['--tenant', '--user'],
  'line richmenu': ['--tenant', '--image', '--local', '--tenants-dir'],
};

describe('hagukumi --help', () => {
  it('lists every command with a description', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    for (const top of ['local', 'preview', 'content', 'tenants', 'report', 'line'])
      expect(res.stdout).toMatch(new RegExp(`\\n  ${top}( \\[options\\])? +\\S`));
    for (const global of ['--verbose', '--state']) expect(res.stdout).toMatch(new RegExp(`${global}[^\\n]* {2,}\\S`));
  });

  it.each(Object.entries(COMMANDS))('%s --help lists each option with a description', async (command, options) => {
    const res = await runCli([...command.split(' '), '--help']);
    expect(res.code).toBe(0);
    for (const option of options) expect(res.stdout).toMatch(new RegExp(`\\n  ${option}( <[^>]+>)? {2,}\\S`));
  });
});

describe('errors', () => {
  it('an invalid date is one line, exit 2, no stack trace', async () => {
    const res = await runCli(['preview', '--tenant', 'demo-minato', '--track', 'maternity', '--anchor', '2027-02-30']);
    expect(res.code).toBe(2);
    expect(oneLine(res.stderr)).toHaveLength(1);
    expect(res.stderr).toMatch(/^hagukumi: option '--anchor <YYYY-MM-DD>' argument '2027-02-30' is invalid/);
  });

  it('an unexpected error is one line; --verbose shows the stack', async () => {
    // Nothing listens on port 9: the SDK's connection error is not one the CLI explains.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: state('home-unexpected'),
      AWS_REGION: 'ap-northeast-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
    };
    const args = ['report', '--table', 'T', '--tenant', 'demo-minato'];
    const plain = await runCli(args, { env });
    expect(plain.code).toBe(1);
    expect(oneLine(plain.stderr)).toEqual([
      expect.stringMatching(/^hagukumi: connect ECONNREFUSED.*\(--verbose shows the details\)$/),
    ]);
    const verbose = await runCli(['--verbose', ...args], { env });
    expect(verbose.stderr).toMatch(/\n +at /);
  });

  it('a broken tenant file gives the same message in npm start, preview and synth', async () => {
    const dir = join(root, 'broken-tenants');
    mkdirSync(dir, { recursive: true });
    const good = JSON.parse(readFileSync(join(REPO, 'tenants', 'demo-minato.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'demo-minato.json'), JSON.stringify({ ...good, deliveryTime: '7:30' }));
    const start = await runCli(['--state', state('broken'), 'local', '--once', '--tenants-dir', dir]);
    const preview = await runCli([
      'preview',
      '--tenant',
      'demo-minato',
      '--track',
      'childcare',
      '--anchor',
      '2026-01-01',
      '--tenants-dir',
      dir,
    ]);
    const synth = spawnSync(
      process.execPath,
      [join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO, 'lib', 'app.ts')],
      {
        cwd: REPO,
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ tenantsDir: dir }) },
        encoding: 'utf8',
      },
    );
    expect(synth.status).toBe(1);
    expect(synth.stderr).toContain(`${dir}/demo-minato.json: deliveryTime: expected a time as HH:MM (24 h)`);
    expect(start.stderr).toBe(synth.stderr);
    expect(preview.stderr).toBe(synth.stderr);
    expect([start.code, preview.code]).toEqual([1, 1]);
    // Nothing was started for the broken files.
    expect(existsSync(join(root, 'broken', 'dynamodb'))).toBe(false);
  });
});

describe('line chat and report without a running local stack', () => {
  it('says the stack is not running when there is no endpoints file', async () => {
    const res = await runCli(['--state', state('none'), 'line', 'chat']);
    expect(res.code).toBe(1);
    expect(oneLine(res.stderr)).toEqual([expect.stringContaining('the local stack is not running')]);
  });

  it('detects an endpoints file left behind by a crash, and removes it', async () => {
    const dir = state('stale');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const e = testEndpoints();
    writeEndpointsFile(dir, {
      pid: dead,
      startedAt: new Date().toISOString(),
      ...e,
      api: 'http://127.0.0.1:9',
      tables: { data: 'd', delivery: 'v', content: 'c' },
      channels: { 'demo-minato': '1' },
    });
    const res = await runCli(['--state', dir, 'line', 'chat']);
    expect(res.code).toBe(1);
    expect(oneLine(res.stderr)).toEqual([
      expect.stringMatching(/the local stack is not running \(.*left behind by a run that ended/),
    ]);
    expect(existsSync(endpointsFile(dir))).toBe(false);
  });

  it('a malformed --user is one line', async () => {
    const res = await runCli(['line', 'chat', '--user', 'U123']);
    expect(res.code).toBe(2);
    expect(oneLine(res.stderr)).toEqual([expect.stringContaining("option '--user <id>' argument 'U123' is invalid")]);
  });

  it('report without --table or a local stack says what to give', async () => {
    const res = await runCli(['--state', state('report-none'), 'report', '--tenant', 'demo-minato']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('the local stack is not running');
    expect(res.stderr).toContain('--table DELIVERY_TABLE');
  });

  it('report against AWS without credentials says so', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: state('home'),
      AWS_REGION: 'ap-northeast-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const res = await runCli(['report', '--table', 'Delivery', '--tenant', 'demo-minato', '--date', '2026-12-01'], {
      env,
    });
    expect(res.code).toBe(1);
    expect(oneLine(res.stderr)).toEqual([
      expect.stringMatching(/^hagukumi: no AWS credentials found: set AWS_PROFILE/),
    ]);
  });

  it('report against AWS without a region says so', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: state('home2'),
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    };
    const res = await runCli(['report', '--table', 'Delivery', '--tenant', 'demo-minato'], { env });
    expect(oneLine(res.stderr)).toEqual([expect.stringMatching(/^hagukumi: no AWS region: set AWS_REGION/)]);
  });

  it('report on a table that does not exist says so', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: state('home3'),
      AWS_REGION: 'ap-northeast-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: testEndpoints().dynamodb,
    };
    const res = await runCli(['report', '--table', 'no-such-table', '--tenant', 'demo-minato'], { env });
    expect(oneLine(res.stderr)).toEqual([
      expect.stringMatching(/^hagukumi: table no-such-table does not exist in ap-northeast-1/),
    ]);
  });
});

describe('against a running local stack (endpoints.json written as npm start does)', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startTestStack('cli', { webhook: true });
    dir = state('running');
    writeEndpointsFile(dir, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ...stack.endpoints,
      api: stack.api!.url,
      tables: stack.tables,
      channels: Object.fromEntries([...stack.channels].map(([t, c]) => [t, c.channelId])),
    });
  });
  afterAll(() => stack.api?.close());

  it('line chat: an empty line does not quit, a number taps a button of the latest reply only', async () => {
    const user = `U${'c'.repeat(32)}`;
    const tenant = stack.tenants[0]!.tenantId;
    const channelId = stack.channels.get(tenant)!.channelId;
    // follow (automatic) -> greeting with buttons; "" -> nothing; "1" -> taps the greeting's first button;
    // then "9": the latest reply has no ninth button, so it is sent as the text "9".
    const res = await runCli(['--state', dir, 'line', 'chat', '--tenant', tenant, '--user', user], {
      input: '\n1\n9\n/quit\n',
    });
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    const said = (await stack.line.chat(channelId, user)).flatMap((e) => (e.from === 'user' ? [e] : []));
    expect(said.map((e) => e.action)).toEqual(['follow', 'postback', 'text']);
    expect(said[2]).toMatchObject({ text: '9' });
    expect(res.stdout.match(/you> /g)?.length).toBe(4);
  });

  it('npm start refuses to start a second stack on the same state directory', async () => {
    const res = await runCli(['--state', dir, 'local', '--once']);
    expect(res.code).toBe(2);
    expect(oneLine(res.stderr)).toEqual([
      expect.stringMatching(/^hagukumi: the local stack is already running \(pid \d+, since .*\): stop it first/),
    ]);
    expect(existsSync(join(dir, 'dynamodb'))).toBe(false);
  });

  it('report --local reads the running stack', async () => {
    const res = await runCli([
      '--state',
      dir,
      'report',
      '--local',
      '--tenant',
      stack.tenants[0]!.tenantId,
      '--date',
      '2026-12-01',
    ]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      tenantId: stack.tenants[0]!.tenantId,
      date: '2026-12-01',
      shards: 0,
      recipients: 0,
    });
    expect(res.stderr).toContain('nothing recorded');
  });
});
