import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectAnswers, secretCommands, writeNewTenant, type NewTenantAnswers } from '../../../bin/tenants';
import { loadTenants } from '../../../lib/tenants';
import { TenantConfigSchema } from '../../../schemas/tenant';

const REPO = path.join(__dirname, '..', '..', '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hagukumi-new-'));
  dirs.push(dir);
  return dir;
};

const answers: NewTenantAnswers = {
  id: 'sakura-city',
  name: 'さくら市',
  deliveryTime: '08:15',
  shardCount: 3,
  library: 'sample-ja',
  line: true,
  emailFrom: 'kosodate@sakura.example.jp',
  unsubscribeBaseUrl: 'https://api.sakura.example.jp',
  consultationName: 'さくら市 保健センター',
  consultationPhone: '000-0000-0009',
};

describe('tenants new', () => {
  it.each(['json', 'yaml'] as const)('writes a %s file that synth accepts, with the answers given', async (format) => {
    const dir = tempDir();
    const file = await writeNewTenant(answers, { dir, format, repoRoot: REPO });
    expect(path.basename(file)).toBe(`sakura-city.${format}`);
    const [loaded] = loadTenants(dir);
    const config = loaded!.config;
    expect(config).toMatchObject({
      tenantId: 'sakura-city',
      name: 'さくら市',
      timeZone: 'Asia/Tokyo',
      deliveryTime: '08:15',
      shardCount: 3,
      line: { enabled: true, secretName: 'hagukumi/sakura-city/line' },
      email: { enabled: true, from: 'kosodate@sakura.example.jp', unsubscribeBaseUrl: 'https://api.sakura.example.jp' },
      consultation: [{ name: 'さくら市 保健センター', phone: '000-0000-0009' }],
    });
    expect(config.birthdayMessages['1']).toContain('さくら市');
    const text = fs.readFileSync(file, 'utf8');
    const schemaRef = path.relative(dir, path.join(REPO, 'schemas', 'tenant.schema.json'));
    expect(text).toContain(
      format === 'json' ? `"$schema": "${schemaRef}"` : `# yaml-language-server: $schema=${schemaRef}`,
    );
  });

  it('refuses a tenant that already exists (in either format) and writes nothing', async () => {
    const dir = tempDir();
    await writeNewTenant(answers, { dir, format: 'json', repoRoot: REPO });
    await expect(writeNewTenant(answers, { dir, format: 'yaml', repoRoot: REPO })).rejects.toThrow('already exists');
    expect(fs.readdirSync(dir)).toEqual(['sakura-city.json']);
  });

  it('refuses answers that would not validate, naming the field, and writes nothing', async () => {
    const dir = tempDir();
    await expect(
      writeNewTenant(
        { ...answers, deliveryTime: '8:15', emailFrom: 'not an address' },
        { dir, format: 'json', repoRoot: REPO },
      ),
    ).rejects.toThrow(/deliveryTime: expected a time as HH:MM[\s\S]*email\.from/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('takes defaults without a terminal and names the flag of a missing answer', async () => {
    await expect(collectAnswers({ id: 'x-town' })).rejects.toThrow('missing --name');
    const filled = await collectAnswers({ id: 'x-town', name: 'X町' });
    expect(filled).toEqual({
      id: 'x-town',
      name: 'X町',
      deliveryTime: '07:30',
      shardCount: 4,
      library: 'sample-ja',
      line: true,
    });
  });

  it('asks what the flags leave open, in order, and uses the answers typed', async () => {
    const typed = ['みどり町', '', '2', '', 'n', '', '', ''];
    const asked: string[] = [];
    const filled = await collectAnswers({ id: 'midori' }, (q) => {
      asked.push(q);
      return Promise.resolve(typed.shift() ?? '');
    });
    expect(filled).toEqual({
      id: 'midori',
      name: 'みどり町',
      deliveryTime: '07:30',
      shardCount: 2,
      library: 'sample-ja',
      line: false,
    });
    expect(asked[0]).toMatch(/^Municipality name/);
    // No LINE: the add-friend URL is not asked; no email: the unsubscribe URL is not either.
    expect(asked.some((q) => q.startsWith('LINE add-friend URL'))).toBe(false);
    expect(asked.some((q) => q.startsWith('Public API base URL'))).toBe(false);
  });
});

describe('tenants secrets', () => {
  const tenant = TenantConfigSchema.parse({
    tenantId: 'sakura-city',
    name: 'さくら市',
    deliveryTime: '08:15',
    shardCount: 1,
    library: 'sample-ja',
    line: { enabled: true, secretName: 'hagukumi/sakura-city/line' },
    birthdayMessages: { '1': 'a', '2': 'b', '3': 'c' },
  });

  it('prints create and put commands for the secret name the stack reads, values only as placeholders in a private file', () => {
    const out = secretCommands(tenant, { region: 'ap-northeast-1' });
    const commands = out.split('\n').filter((l) => l.startsWith('aws '));
    expect(commands).toEqual([
      `aws secretsmanager create-secret --name 'hagukumi/sakura-city/line' --description 'hagukumi LINE channel of sakura-city' --secret-string file://sakura-city-line-secret.json --region 'ap-northeast-1'`,
      `aws secretsmanager put-secret-value --secret-id 'hagukumi/sakura-city/line' --secret-string file://sakura-city-line-secret.json --region 'ap-northeast-1'`,
    ]);
    expect(out).toContain('umask 077');
    expect(out).toContain('{"channelSecret":"<channel secret>","channelAccessToken":"<channel access token>"}');
    expect(out.trim().split('\n').at(-1)).toBe('rm -f sakura-city-line-secret.json');
  });

  it('says there is nothing to store for a tenant without LINE', () => {
    const out = secretCommands({ ...tenant, line: { ...tenant.line, enabled: false } });
    expect(out).not.toContain('aws ');
    expect(out).toContain('does not use LINE');
  });
});
