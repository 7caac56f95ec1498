import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { addHagukumiStacks, InvalidAppOptionsError } from '../../lib/hagukumi-app';
import { InvalidTenantFileError, loadTenants, NoTenantFilesError } from '../../lib/tenants';
import { makeTempDir, REAL_TENANTS_DIR, removeTempDirs, validTenant, writeTenantFiles } from './helpers';

afterAll(removeTempDirs);

const { shardCount: _shardCount, ...withoutShardCount } = validTenant('no-shards');

/** Each case: the files of a tenants dir, the file that must be named, and what must be said about it. */
const invalidCases: {
  label: string;
  files: Record<string, unknown>;
  badFile: string;
  expected: string;
}[] = [
  {
    label: 'bad JSON',
    files: { 'broken.json': '{ "tenantId": "broken", ' },
    badFile: 'broken.json',
    expected: ': not valid JSON',
  },
  {
    label: 'bad deliveryTime',
    files: { 'late.json': validTenant('late', { deliveryTime: '7:30' }) },
    badFile: 'late.json',
    expected: ': deliveryTime: expected a time as HH:MM (24 h)',
  },
  {
    label: 'deliveryTime out of range',
    files: { 'late.json': validTenant('late', { deliveryTime: '24:00' }) },
    badFile: 'late.json',
    expected: ': deliveryTime: expected a time as HH:MM (24 h)',
  },
  {
    label: 'unknown time zone',
    files: { 'tokio.json': validTenant('tokio', { timeZone: 'Asia/Tokio' }) },
    badFile: 'tokio.json',
    expected: ': timeZone: unknown IANA time zone',
  },
  {
    label: 'time zone in the wrong letter case',
    files: { 'lower.json': validTenant('lower', { timeZone: 'asia/tokyo' }) },
    badFile: 'lower.json',
    expected: ': timeZone: write the time zone as "Asia/Tokyo"',
  },
  {
    label: 'tenantId not matching the file name',
    files: { 'other-name.json': validTenant('town') },
    badFile: 'other-name.json',
    expected: ': tenantId: "town" must equal the file name "other-name"',
  },
  {
    label: 'duplicate tenant in two folders',
    files: { 'east/dup.json': validTenant('dup'), 'west/dup.json': validTenant('dup') },
    badFile: 'west/dup.json',
    expected: ': tenantId: duplicate tenant id "dup", already defined in ',
  },
  {
    label: 'missing field',
    files: { 'no-shards.json': withoutShardCount },
    badFile: 'no-shards.json',
    expected: ': shardCount: ',
  },
  {
    label: 'missing nested field',
    files: { 'no-secret.json': validTenant('no-secret', { line: { enabled: true } as never }) },
    badFile: 'no-secret.json',
    expected: ': line.secretName: ',
  },
  {
    label: 'a secret value pasted into the file',
    files: {
      'leaky.json': validTenant('leaky', {
        line: { enabled: true, secretName: 'hagukumi/leaky/line', channelAccessToken: 'FAKE-TOKEN' } as never,
      }),
    },
    badFile: 'leaky.json',
    expected: ': line.channelAccessToken: unknown field; tenant files hold only the NAME of a Secrets Manager secret',
  },
  {
    label: 'misspelt optional field',
    files: { 'typo.json': { ...validTenant('typo'), overlay: [] } },
    badFile: 'typo.json',
    expected: ': overlay: unknown field',
  },
];

describe('loadTenants', () => {
  it('loads the real tenant files, each named after its tenant', () => {
    const tenants = loadTenants(REAL_TENANTS_DIR);
    expect(tenants.length).toBeGreaterThan(0);
    for (const { file, config } of tenants) {
      expect(path.basename(file, '.json')).toBe(config.tenantId);
    }
  });

  it('applies the schema defaults', () => {
    const dir = makeTempDir('defaults');
    const { timeZone: _tz, ...tenant } = validTenant('plain');
    writeTenantFiles(dir, { 'plain.json': tenant });
    const [loaded] = loadTenants(dir);
    expect(loaded?.config).toMatchObject({ timeZone: 'Asia/Tokyo', overlays: [], consultation: [] });
  });

  it.each(invalidCases)('rejects $label, naming the file (and the field)', ({ files, badFile, expected }) => {
    const dir = makeTempDir('invalid');
    const written = writeTenantFiles(dir, { 'good.json': validTenant('good'), ...files });
    let error: unknown;
    try {
      loadTenants(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidTenantFileError);
    const message = (error as Error).message;
    expect(message).toContain(`${written[badFile]}${expected}`);
    expect(message).not.toContain(written['good.json']);
  });

  it.each([
    {
      label: 'one LINE secret name',
      files: {
        'first.json': validTenant('first', { line: { enabled: true, secretName: 'hagukumi/shared/line' } }),
        'second.json': validTenant('second', { line: { enabled: false, secretName: 'hagukumi/shared/line' } }),
      },
      second: 'second.json',
      first: 'first.json',
      expected: ': line.secretName: LINE secret name "hagukumi/shared/line" is also used by ',
    },
    {
      label: 'one webhook path',
      files: { 'east/same.json': validTenant('same'), 'west/same.json': validTenant('same') },
      second: 'west/same.json',
      first: 'east/same.json',
      expected: ': tenantId: webhook path "/line/same/webhook" is also used by ',
    },
  ])('rejects two tenants sharing $label, naming both files', ({ files, first, second, expected }) => {
    const dir = makeTempDir('shared');
    const written = writeTenantFiles(dir, { 'good.json': validTenant('good'), ...files });
    expect(() => loadTenants(dir)).toThrow(`${written[second]}${expected}${written[first]}; each tenant needs its own`);
  });

  it('accepts tenants that share an email sender and a delivery time', () => {
    const dir = makeTempDir('shared-ok');
    const email = { enabled: true, from: 'info@example.jp', unsubscribeBaseUrl: 'https://api.example.jp' };
    writeTenantFiles(dir, { 'one.json': validTenant('one', { email }), 'two.json': validTenant('two', { email }) });
    expect(loadTenants(dir).map((t) => t.config.tenantId)).toEqual(['one', 'two']);
  });

  it('reports the problems of every invalid file at once', () => {
    const dir = makeTempDir('several');
    const written = writeTenantFiles(dir, {
      'one.json': validTenant('one', { deliveryTime: 'noon' }),
      'two.json': validTenant('two', { shardCount: 0, library: 'X' }),
    });
    expect(() => loadTenants(dir)).toThrow(
      expect.objectContaining({
        problems: [
          expect.objectContaining({ file: written['one.json'], field: 'deliveryTime' }),
          expect.objectContaining({ file: written['two.json'], field: 'shardCount' }),
          expect.objectContaining({ file: written['two.json'], field: 'library' }),
        ],
      }),
    );
  });

  it.each([
    { label: 'an empty directory', dir: () => makeTempDir('empty') },
    {
      label: 'a directory without JSON',
      dir: () => path.dirname(writeTenantFiles(makeTempDir('txt'), { 'README.md': '# no' })['README.md']!),
    },
    { label: 'a missing directory', dir: () => path.join(makeTempDir('missing'), 'nope') },
  ])('fails on $label', ({ dir }) => {
    expect(() => loadTenants(dir())).toThrow(NoTenantFilesError);
  });

  it('shows paths inside the working directory relative to it', () => {
    const dir = makeTempDir('relative');
    writeTenantFiles(dir, { 'late.json': validTenant('late', { deliveryTime: '7:30' }) });
    const cwd = process.cwd();
    process.chdir(path.dirname(dir));
    try {
      expect(() => loadTenants(dir)).toThrow(
        `\n  ${path.basename(dir)}/late.json: deliveryTime: expected a time as HH:MM (24 h)`,
      );
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('the app on an invalid tenants dir', () => {
  it('fails before creating any stack, naming the file and the field', () => {
    const dir = makeTempDir('app');
    const written = writeTenantFiles(dir, { 'bad.json': validTenant('bad', { deliveryTime: '25:00' }) });
    const app = new App();
    expect(() => addHagukumiStacks(app, { tenantsDir: dir, stage: 'test' })).toThrow(
      `${written['bad.json']}: deliveryTime: expected a time as HH:MM (24 h)`,
    );
    expect(app.node.children).toHaveLength(0);
  });

  it('rejects a stage that cannot be part of a stack name', () => {
    expect(() => addHagukumiStacks(new App(), { tenantsDir: REAL_TENANTS_DIR, stage: 'Prod_1' })).toThrow(
      expect.objectContaining({
        constructor: InvalidAppOptionsError,
        message: expect.stringContaining('stage: lower-case letters, digits and hyphens, at most 20'),
      }),
    );
  });
});
