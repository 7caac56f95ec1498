import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidContentFileError, loadContentLibraryFile } from '../../../lib/content-file';
import { InvalidTenantFileError, loadTenants } from '../../../lib/tenants';
import { validateTenants } from '../../../bin/tenants';
import { TENANT_JSON_SCHEMA_FILE, tenantJsonSchema } from '../../../schemas/tenant-json-schema';

const REPO = path.join(__dirname, '..', '..', '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function dirWith(files: Record<string, string | object>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hagukumi-validate-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files))
    fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return dir;
}

const tenant = (id: string, overrides: Record<string, unknown> = {}) => ({
  tenantId: id,
  name: `${id} (test)`,
  deliveryTime: '07:30',
  shardCount: 2,
  library: 'sample-ja',
  line: { enabled: true, secretName: `hagukumi/${id}/line` },
  birthdayMessages: { '1': '{nickname}、1歳', '2': '2歳', '3': '3歳' },
  ...overrides,
});

/** `file: field: reason` per problem, the file relative to its directory. */
function problemsOf(dir: string): string[] {
  try {
    loadTenants(dir);
  } catch (err) {
    if (!(err instanceof InvalidTenantFileError)) throw err;
    return err.problems.map((p) => `${path.basename(p.file)}: ${p.field}: ${p.reason}`);
  }
  return [];
}

// The same tenant written by hand in YAML: comments, no quotes where YAML needs none.
const YAML_TENANT = `# yaml-language-server: $schema=../schemas/tenant.schema.json
tenantId: town
name: town (test)
deliveryTime: "07:30"
shardCount: 2
library: sample-ja
line:
  enabled: true
  secretName: hagukumi/town/line
birthdayMessages:
  "1": "{nickname}、1歳"
  "2": 2歳
  "3": 3歳
overlays:
  - track: maternity
    day: 140
    mode: append
    text: 健診のお知らせ
`;

describe('tenant files in YAML beside JSON', () => {
  it('reads a YAML file as the same configuration as its JSON twin', () => {
    const fromYaml = loadTenants(dirWith({ 'town.yaml': YAML_TENANT }));
    const fromJson = loadTenants(
      dirWith({
        'town.json': tenant('town', {
          overlays: [{ track: 'maternity', day: 140, mode: 'append', text: '健診のお知らせ' }],
        }),
      }),
    );
    expect(fromYaml.map((t) => t.config)).toEqual(fromJson.map((t) => t.config));
    expect(fromYaml[0]!.config.overlays[0]).toEqual({
      track: 'maternity',
      day: 140,
      mode: 'append',
      text: '健診のお知らせ',
    });
  });

  it('takes .yml too and finds a tenant defined twice across formats', () => {
    const dir = dirWith({ 'town.yml': YAML_TENANT, 'sub.json': '{}' });
    fs.mkdirSync(path.join(dir, 'x'));
    fs.writeFileSync(path.join(dir, 'x', 'town.json'), JSON.stringify(tenant('town')));
    expect(problemsOf(dir)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^town\.(json|yml): tenantId: duplicate tenant id "town"/)]),
    );
  });

  it('names the line of a YAML syntax error and a key given twice', () => {
    expect(problemsOf(dirWith({ 'town.yaml': 'tenantId: town\nname: [unclosed\n' }))).toEqual([
      expect.stringMatching(/^town\.yaml: : not valid YAML \(.* at line \d+, column \d+\)$/),
    ]);
    expect(problemsOf(dirWith({ 'town.yaml': `${YAML_TENANT}shardCount: 3\n` }))).toEqual([
      expect.stringMatching(/^town\.yaml: : not valid YAML \(.*unique/i),
    ]);
  });
});

describe('tenants validate: every problem at once, by file and field', () => {
  it.each([
    [
      'an overlay before 4w0d',
      { overlays: [{ track: 'maternity', day: 27, mode: 'append', text: 'x' }] },
      'overlays.0.day: day 27 is outside the maternity track (28-293)',
    ],
    [
      'an overlay after 41w6d',
      { overlays: [{ track: 'maternity', day: 294, mode: 'append', text: 'x' }] },
      'overlays.0.day: day 294 is outside the maternity track (28-293)',
    ],
    [
      'a childcare overlay after the 3rd birthday',
      { overlays: [{ track: 'childcare', day: 1097, mode: 'replace', text: 'x' }] },
      'overlays.0.day: day 1097 is outside the childcare track (0-1096)',
    ],
    [
      'an unknown placeholder in an overlay',
      { overlays: [{ track: 'childcare', day: 30, mode: 'append', text: '{name}さん、{nickname}' }] },
      'overlays.0.text: unknown placeholder {name} (known: {nickname})',
    ],
    [
      'a mistyped placeholder in a birthday message',
      { birthdayMessages: { '1': '{nick_name}、1歳', '2': 'b', '3': 'c' } },
      'birthdayMessages.1: unknown placeholder {nick_name} (known: {nickname})',
    ],
    [
      'a spaced placeholder, which the renderer would not fill',
      { birthdayMessages: { '1': 'a', '2': '{ nickname }', '3': 'c' } },
      'birthdayMessages.2: unknown placeholder { nickname } (known: {nickname})',
    ],
    [
      'a survey stage outside its track',
      {
        surveys: [
          {
            id: 'late',
            title: 't',
            questions: [{ kind: 'text', id: 'q1', text: 'どうですか？' }],
            trigger: { kind: 'stage', stages: [{ track: 'maternity', day: 300 }] },
          },
        ],
      },
      'surveys.0.trigger.stages.0.day: day 300 is outside the maternity track (28-293)',
    ],
    [
      'an inquiry notification sender that is no address',
      {
        inquiries: {
          enabled: true,
          answerTime: '3営業日以内',
          notifyTo: ['staff@town.example.jp'],
          notifyFrom: 'town',
        },
      },
      'inquiries.notifyFrom: Invalid email address',
    ],
    [
      'inquiries with nobody to notify',
      { inquiries: { enabled: true, answerTime: '3営業日以内', notifyTo: [], notifyFrom: 'noreply@town.example.jp' } },
      'inquiries.notifyTo: at least one staff mailbox to notify',
    ],
  ])('%s', (_label, overrides, expected) => {
    expect(problemsOf(dirWith({ 'town.json': tenant('town', overrides) }))).toEqual([`town.json: ${expected}`]);
  });

  it('accepts the edges of every track', () => {
    const overlays = [
      { track: 'maternity', day: 28, mode: 'append', text: '{nickname}' },
      { track: 'maternity', day: 293, mode: 'append', text: 'x' },
      { track: 'childcare', day: 0, mode: 'append', text: 'x' },
      { track: 'childcare', day: 1096, mode: 'append', text: 'x' },
    ];
    expect(problemsOf(dirWith({ 'town.json': tenant('town', { overlays }) }))).toEqual([]);
  });

  it('reports the problems of every file and every field together, schema and cross-field checks alike', () => {
    const dir = dirWith({
      'north.json': tenant('nörth', {
        deliveryTime: '7:30',
        colour: 'blue',
        overlays: [
          { track: 'maternity', day: 10, mode: 'append', text: 'x' },
          { track: 'childcare', day: 5, mode: 'append', text: '{date}' },
        ],
      }),
      'south.yaml': 'tenantId: south\nname: [',
      'west.json': tenant('west'),
    });
    const found = problemsOf(dir);
    expect(found).toEqual(
      expect.arrayContaining([
        'north.json: tenantId: tenant id: lower-case letters, digits and hyphens, 2-40 characters',
        'north.json: deliveryTime: expected a time as HH:MM (24 h)',
        'north.json: line.secretName: Invalid string: must match pattern /^[A-Za-z0-9/_+=.@-]{1,512}$/',
        'north.json: overlays.0.day: day 10 is outside the maternity track (28-293)',
        'north.json: overlays.1.text: unknown placeholder {date} (known: {nickname})',
        'north.json: colour: unknown field',
        'north.json: tenantId: "nörth" must equal the file name "north"',
        expect.stringMatching(/^south\.yaml: : not valid YAML/),
      ]),
    );
    expect(found).toHaveLength(8);
  });

  it('is what `hagukumi tenants validate` prints for good files', async () => {
    const dir = dirWith({ 'town.json': tenant('town'), 'town2.yaml': YAML_TENANT.replace(/town/g, 'town2') });
    const out = await validateTenants(dir);
    expect(out).toContain('town (town (test)), 0 overlays, LINE');
    expect(out).toContain('town2 (town2 (test)), 1 overlays, LINE');
    expect(out.split('\n').at(-1)).toBe('2 tenant files valid (the same checks as cdk synth)');
  });
});

describe('content library items', () => {
  const library = (items: object[]) => ({ libraryId: 'lib-test', sample: true, notice: 'sample', items });
  function contentProblems(items: object[]): string[] {
    const file = path.join(dirWith({ 'lib.json': library(items) }), 'lib.json');
    try {
      loadContentLibraryFile(file);
    } catch (err) {
      if (err instanceof InvalidContentFileError) return err.problems.map((p) => `${p.field}: ${p.reason}`);
      throw err;
    }
    return [];
  }

  it.each([
    [{ track: 'maternity', day: 20, text: 'x' }, 'items.0.day: day 20 is outside the maternity track (28-293)'],
    [{ track: 'support', day: 91, text: 'x' }, 'items.0.day: day 91 is outside the support track (0-90)'],
    [
      { track: 'childcare', day: 3, text: '{tenantName}から' },
      'items.0.text: unknown placeholder {tenantName} (known: {nickname})',
    ],
  ])('%j', (item, expected) => {
    expect(contentProblems([item])).toEqual([expected]);
  });
});

describe('the JSON Schema of tenant files', () => {
  const committed = JSON.parse(fs.readFileSync(path.join(REPO, TENANT_JSON_SCHEMA_FILE), 'utf8')) as Record<
    string,
    unknown
  >;

  it('is what the zod schema generates now (run `npm run schemas` after changing schemas/)', () => {
    expect(committed).toEqual(tenantJsonSchema());
  });

  it('describes the fields a tenant file has, with the limits synth enforces', () => {
    const properties = committed.properties as Record<string, { pattern?: string; maximum?: number }>;
    expect(properties.deliveryTime?.pattern).toBe('^([01]\\d|2[0-3]):[0-5]\\d$');
    expect(properties.shardCount?.maximum).toBe(256);
    expect(committed.required).toEqual(
      expect.arrayContaining(['tenantId', 'name', 'deliveryTime', 'shardCount', 'library', 'line', 'birthdayMessages']),
    );
    // Defaults make a field optional in the file.
    expect(committed.required).not.toContain('overlays');
  });

  it('is referenced from every tenant file in tenants/', () => {
    const dir = path.join(REPO, 'tenants');
    const files = fs.readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      if (f.endsWith('.json'))
        expect([f, (JSON.parse(text) as { $schema?: string }).$schema]).toEqual([f, '../schemas/tenant.schema.json']);
      else
        expect([f, text.split('\n')[0]]).toEqual([f, '# yaml-language-server: $schema=../schemas/tenant.schema.json']);
    }
  });
});
