// `hagukumi tenants ...`: check tenant files offline (the same checks as synth), write a new one, and print the
// AWS CLI commands that store a tenant's LINE credentials.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command, type Option } from 'commander';
import type { TenantConfig, TenantConfigInput } from '../schemas/tenant';

export class TenantCommandError extends Error {
  override readonly name = 'TenantCommandError';
}

export interface TenantCommandsContext {
  tenantsDir: () => Option;
  repoRoot: string;
}

/** `hagukumi tenants validate`: one line per valid tenant, or InvalidTenantFileError listing every problem. */
export async function validateTenants(dir: string): Promise<string> {
  const { loadTenants, displayPath } = await import('../lib/tenants');
  const loaded = loadTenants(dir);
  return [
    ...loaded.map(
      ({ file, config }) =>
        `  ${displayPath(file)}: ${config.tenantId} (${config.name}), ${config.overlays.length} overlays, ${[
          config.line.enabled ? 'LINE' : undefined,
          config.email?.enabled ? 'email' : undefined,
        ]
          .filter(Boolean)
          .join(' + ')}`,
    ),
    `${loaded.length} tenant file${loaded.length === 1 ? '' : 's'} valid (the same checks as cdk synth)`,
  ].join('\n');
}

/** The answers `tenants new` needs; every one is also a flag, so scripts and tests run it without a terminal. */
export interface NewTenantAnswers {
  id: string;
  name: string;
  deliveryTime: string;
  shardCount: number;
  library: string;
  line: boolean;
  friendUrl?: string;
  emailFrom?: string;
  unsubscribeBaseUrl?: string;
  consultationName?: string;
  consultationPhone?: string;
}

const QUESTIONS: {
  key: keyof NewTenantAnswers;
  flag: string;
  ask: string;
  default?: (a: Partial<NewTenantAnswers>) => string | undefined;
  when?: (a: Partial<NewTenantAnswers>) => boolean;
  optional?: boolean;
}[] = [
  { key: 'id', flag: '--id', ask: 'Tenant id (lower-case letters, digits, hyphens; the file name)' },
  { key: 'name', flag: '--name', ask: 'Municipality name as readers see it (e.g. みなと市)' },
  {
    key: 'deliveryTime',
    flag: '--delivery-time',
    ask: 'Daily delivery time, HH:MM Asia/Tokyo',
    default: () => '07:30',
  },
  { key: 'shardCount', flag: '--shards', ask: 'Shards (1 per ~5,000 subscribers)', default: () => '4' },
  { key: 'library', flag: '--library', ask: 'Content library id', default: () => 'sample-ja' },
  { key: 'line', flag: '--line / --no-line', ask: 'Deliver over LINE? (y/n)', default: () => 'y' },
  {
    key: 'friendUrl',
    flag: '--friend-url',
    ask: 'LINE add-friend URL (https://line.me/R/ti/p/@...; empty: none)',
    when: (a) => a.line === true,
    optional: true,
  },
  { key: 'emailFrom', flag: '--email-from', ask: 'Sender address for email (empty: no email)', optional: true },
  {
    key: 'unsubscribeBaseUrl',
    flag: '--unsubscribe-base-url',
    ask: 'Public API base URL for unsubscribe links (https://...)',
    when: (a) => a.emailFrom !== undefined,
  },
  { key: 'consultationName', flag: '--consultation-name', ask: 'Consultation desk (empty: none)', optional: true },
  {
    key: 'consultationPhone',
    flag: '--consultation-phone',
    ask: 'Consultation phone (empty: none)',
    when: (a) => a.consultationName !== undefined,
    optional: true,
  },
];

function coerce(key: keyof NewTenantAnswers, value: string): NewTenantAnswers[keyof NewTenantAnswers] {
  if (key === 'shardCount') {
    if (!/^\d+$/.test(value)) throw new TenantCommandError(`shards: expected a whole number, got "${value}"`);
    return Number(value);
  }
  if (key === 'line') {
    if (/^(y|yes|はい)$/i.test(value)) return true;
    if (/^(n|no|いいえ)$/i.test(value)) return false;
    throw new TenantCommandError(`LINE: answer y or n, got "${value}"`);
  }
  return value;
}

/**
 * Fills what the flags left open: asks on a terminal (`ask` given), otherwise takes the defaults and refuses
 * when an answer without a default is missing, naming its flag.
 */
export async function collectAnswers(
  given: Partial<NewTenantAnswers>,
  ask?: (question: string) => Promise<string>,
): Promise<NewTenantAnswers> {
  const answers: Partial<NewTenantAnswers> = { ...given };
  for (const q of QUESTIONS) {
    if (answers[q.key] !== undefined || (q.when && !q.when(answers))) continue;
    const fallback = q.default?.(answers);
    let value: string | undefined;
    if (ask) value = (await ask(`${q.ask}${fallback ? ` [${fallback}]` : ''}: `)).trim() || fallback;
    else value = fallback;
    if (value === undefined || value === '') {
      if (q.optional) continue;
      throw new TenantCommandError(`missing ${q.flag} (${q.ask})`);
    }
    Object.assign(answers, { [q.key]: coerce(q.key, value) });
  }
  return answers as NewTenantAnswers;
}

/** A minimal tenant file: only what has no default, in the shape an operator would write by hand. */
export function tenantFromAnswers(a: NewTenantAnswers): TenantConfigInput {
  return {
    tenantId: a.id,
    name: a.name,
    timeZone: 'Asia/Tokyo',
    deliveryTime: a.deliveryTime,
    shardCount: a.shardCount,
    library: a.library,
    line: {
      enabled: a.line,
      // The CDK stack and the workers read the channel's credentials under this name (tenants secrets prints how to store them).
      secretName: `hagukumi/${a.id}/line`,
      ...(a.friendUrl ? { friendUrl: a.friendUrl } : {}),
    },
    ...(a.emailFrom
      ? { email: { enabled: true, from: a.emailFrom, unsubscribeBaseUrl: a.unsubscribeBaseUrl ?? '' } }
      : {}),
    birthdayMessages: {
      '1': `{nickname}、1歳のお誕生日おめでとうございます！${a.name}からお祝い申し上げます。`,
      '2': `{nickname}、2歳のお誕生日おめでとうございます！${a.name}はこれからも子育てを応援しています。`,
      '3': `{nickname}、3歳のお誕生日おめでとうございます！${a.name}からのメッセージはこれで終わりです。ありがとうございました。`,
    },
    overlays: [],
    consultation: a.consultationName
      ? [{ name: a.consultationName, ...(a.consultationPhone ? { phone: a.consultationPhone } : {}) }]
      : [],
  };
}

/** The file's text: JSON with `$schema`, or YAML with the yaml-language-server modeline, both pointing at the schema. */
export async function renderTenantFile(
  tenant: TenantConfigInput,
  format: 'json' | 'yaml',
  schemaPath: string,
): Promise<string> {
  if (format === 'json') return `${JSON.stringify({ $schema: schemaPath, ...tenant }, null, 2)}\n`;
  const { Document, Scalar } = await import('yaml');
  const doc = new Document(tenant);
  // 07:30 unquoted is a string in YAML 1.2 but a number (450) to YAML 1.1 readers: quote it for every reader.
  const time = doc.get('deliveryTime', true);
  if (time instanceof Scalar) time.type = Scalar.QUOTE_DOUBLE;
  return `# yaml-language-server: $schema=${schemaPath}\n${doc.toString({ lineWidth: 0 })}`;
}

/**
 * Writes a new tenant file after checking it exactly as synth will, together with the files already in `dir`
 * (a duplicate id or LINE secret name is refused). Nothing is written when anything is wrong.
 */
export async function writeNewTenant(
  answers: NewTenantAnswers,
  o: { dir: string; format: 'json' | 'yaml'; repoRoot: string },
): Promise<string> {
  const { loadTenants, listTenantFiles, InvalidTenantFileError } = await import('../lib/tenants');
  const { mkdtempSync, rmSync, copyFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const file = join(o.dir, `${answers.id}.${o.format}`);
  const existing = listTenantFiles(o.dir);
  const clash = existing.find((f) => f.replace(/\.(json|ya?ml)$/i, '') === join(o.dir, answers.id));
  if (clash || existsSync(file)) throw new TenantCommandError(`${clash ?? file} already exists; nothing written`);
  const schemaPath = relative(o.dir, join(o.repoRoot, 'schemas', 'tenant.schema.json')) || 'tenant.schema.json';
  const text = await renderTenantFile(tenantFromAnswers(answers), o.format, schemaPath);

  // The real loader on a copy of the directory plus the new file: the same messages synth would print.
  const scratch = mkdtempSync(join(tmpdir(), 'hagukumi-tenants-new-'));
  try {
    for (const f of existing) {
      const target = join(scratch, relative(o.dir, f));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(f, target);
    }
    writeFileSync(join(scratch, `${answers.id}.${o.format}`), text);
    try {
      loadTenants(scratch);
    } catch (err) {
      if (!(err instanceof InvalidTenantFileError)) throw err;
      const mine = err.problems.filter((p) => p.file.endsWith(`${answers.id}.${o.format}`));
      if (mine.length > 0 || existing.length === 0)
        throw new TenantCommandError(
          `the new tenant would not pass validation; nothing written:\n${(mine.length ? mine : err.problems)
            .map((p) => `  ${p.field ? `${p.field}: ` : ''}${p.reason}`)
            .join('\n')}`,
          { cause: err },
        );
      // Only the existing files are broken: still write ours, validate says what else to fix.
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  mkdirSync(o.dir, { recursive: true });
  writeFileSync(file, text, { flag: 'wx' });
  return file;
}

/** Single-quoted for a POSIX shell, so names with any character paste safely. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The commands that store a tenant's LINE credentials in Secrets Manager, under the name the stack reads
 * (`line.secretName`). Values go through a file only the operator can read, never the command line (the
 * process list and shell history would keep them), and never through this tool.
 */
export function secretCommands(tenant: TenantConfig, o: { region?: string; profile?: string } = {}): string {
  const name = shellQuote(tenant.line.secretName);
  const flags = `${o.region ? ` --region ${shellQuote(o.region)}` : ''}${o.profile ? ` --profile ${shellQuote(o.profile)}` : ''}`;
  const tmp = `${tenant.tenantId}-line-secret.json`;
  if (!tenant.line.enabled)
    return `# ${tenant.tenantId} (${tenant.name}) does not use LINE (line.enabled is false): no secret to store.\n`;
  return [
    `# LINE channel of ${tenant.name} (tenant ${tenant.tenantId}); the stack reads the secret ${tenant.line.secretName}.`,
    `# 1. Put the channel secret and a long-lived channel access token (LINE Developers console, Messaging API tab)`,
    `#    into a file only you can read; replace the two <...> with the values in your editor:`,
    `( umask 077 && printf '%s\\n' '{"channelSecret":"<channel secret>","channelAccessToken":"<channel access token>"}' > ${tmp} )`,
    `"\${EDITOR:-vi}" ${tmp}`,
    `# 2. The first time (the stack only reads this secret; it does not create it):`,
    `aws secretsmanager create-secret --name ${name} --description ${shellQuote(`hagukumi LINE channel of ${tenant.tenantId}`)} --secret-string file://${tmp}${flags}`,
    `#    Later, to change the token (workers pick it up within 5 minutes, no deploy):`,
    `aws secretsmanager put-secret-value --secret-id ${name} --secret-string file://${tmp}${flags}`,
    `# 3. Remove the file:`,
    `rm -f ${tmp}`,
    '',
  ].join('\n');
}

const wholeNumber = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
};

export function addTenantCommands(program: Command, ctx: TenantCommandsContext): void {
  const tenants = program.command('tenants').description('tenant (municipality) files: validate, create, secrets');
  const defaultDir = join(ctx.repoRoot, 'tenants');

  tenants
    .command('validate')
    .description(
      'check tenant files offline with the same checks as cdk synth; every problem at once, by file and field',
    )
    .argument('[dir]', 'directory of tenant files (*.json, *.yaml, *.yml)', defaultDir)
    .action(async (dir: string) => {
      process.stdout.write(`${await validateTenants(dir)}\n`);
    });

  tenants
    .command('new')
    .description('write a new, valid tenant file: asks on a terminal, or takes every answer as a flag')
    .option('--id <id>', 'tenant id, also the file name')
    .option('--name <name>', 'municipality name')
    .option('--delivery-time <HH:MM>', 'daily delivery time (Asia/Tokyo)')
    .option('--shards <n>', 'shard count', wholeNumber)
    .option('--library <id>', 'content library id')
    .option('--line', 'deliver over LINE')
    .option('--no-line', 'no LINE channel')
    .option('--friend-url <url>', "the LINE account's add-friend URL")
    .option('--email-from <address>', 'sender address for email delivery (none: no email)')
    .option('--unsubscribe-base-url <url>', 'public API base URL for the unsubscribe links')
    .option('--consultation-name <name>', 'consultation desk shown after a loss')
    .option('--consultation-phone <phone>', "the desk's phone")
    .option('--format <format>', 'json or yaml', 'json')
    .option('--dir <dir>', 'where tenant files live', defaultDir)
    .option('--yes', 'never ask: take the defaults for what the flags leave open')
    .action(async (o: Record<string, unknown>) => {
      if (o.format !== 'json' && o.format !== 'yaml') throw new TenantCommandError('--format: json or yaml');
      const given: Partial<NewTenantAnswers> = {
        id: o.id as string | undefined,
        name: o.name as string | undefined,
        deliveryTime: o.deliveryTime as string | undefined,
        shardCount: o.shards as number | undefined,
        library: o.library as string | undefined,
        // Defining --line before --no-line leaves it undefined unless given, so the question is still asked.
        line: o.line as boolean | undefined,
        friendUrl: o.friendUrl as string | undefined,
        emailFrom: o.emailFrom as string | undefined,
        unsubscribeBaseUrl: o.unsubscribeBaseUrl as string | undefined,
        consultationName: o.consultationName as string | undefined,
        consultationPhone: o.consultationPhone as string | undefined,
      };
      const interactive = !o.yes && process.stdin.isTTY;
      const rl = interactive ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
      try {
        const answers = await collectAnswers(given, rl ? (q) => rl.question(q) : undefined);
        const file = await writeNewTenant(answers, {
          dir: o.dir as string,
          format: o.format,
          repoRoot: ctx.repoRoot,
        });
        process.stdout.write(
          `wrote ${file}\nnext: npm run hagukumi -- tenants secrets --tenant ${answers.id}   (then npx cdk deploy --all)\n`,
        );
      } finally {
        rl?.close();
      }
    });

  tenants
    .command('secrets')
    .description("print the AWS CLI commands that store a tenant's LINE channel secret and token (never a value)")
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--region <region>', 'AWS region of the stack (default: your AWS configuration)')
    .option('--profile <profile>', 'AWS CLI profile')
    .addOption(ctx.tenantsDir())
    .action(async (o: { tenant: string; region?: string; profile?: string; tenantsDir?: string }) => {
      const { loadTenants } = await import('../lib/tenants');
      const all = loadTenants(o.tenantsDir ?? defaultDir).map((t) => t.config);
      const tenant = all.find((t) => t.tenantId === o.tenant);
      if (!tenant)
        throw new TenantCommandError(
          `unknown tenant ${JSON.stringify(o.tenant)}; known: ${all.map((t) => t.tenantId).join(', ')}`,
        );
      process.stdout.write(secretCommands(tenant, o));
    });
}
