import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { TenantConfigSchema, type TenantConfig } from '../schemas/tenant';

export interface LoadedTenant {
  /** Path of the tenant file, as found under the directory given to `loadTenants`. */
  readonly file: string;
  readonly config: TenantConfig;
}

export interface TenantFileProblem {
  readonly file: string;
  /** Dotted path of the offending field; empty when the problem is the file as a whole. */
  readonly field: string;
  readonly reason: string;
}

/** A title, then one line per problem: `<file>: <field>: <reason>`. */
export const describeProblems = (title: string, problems: readonly TenantFileProblem[]) =>
  `${title}:\n${problems.map((p) => `  ${p.file}: ${p.field ? `${p.field}: ` : ''}${p.reason}`).join('\n')}`;

/** One or more tenant files are unusable; the message has one line per problem: `<file>: <field>: <reason>`. */
export class InvalidTenantFileError extends Error {
  override readonly name = 'InvalidTenantFileError';
  constructor(
    readonly problems: readonly TenantFileProblem[],
    options?: { cause?: unknown },
  ) {
    super(describeProblems('Invalid tenant configuration', problems), options);
  }
}

export class NoTenantFilesError extends Error {
  override readonly name = 'NoTenantFilesError';
  constructor(readonly dir: string) {
    super(`No tenant files (*.json, *.yaml, *.yml) found under ${dir}: at least one tenant is needed to deploy`);
  }
}

/**
 * Reads and validates every `*.json`, `*.yaml` and `*.yml` under `dir` (recursively). Collects the problems of all files before
 * throwing, so one synth shows everything an operator has to fix.
 */
export function loadTenants(dir: string): LoadedTenant[] {
  const files = listTenantFiles(dir);
  if (files.length === 0) throw new NoTenantFilesError(dir);

  const problems: TenantFileProblem[] = [];
  const loaded: LoadedTenant[] = [];
  for (const file of files) {
    const result = loadTenantFile(file);
    if ('problems' in result) problems.push(...result.problems);
    else loaded.push(result);
  }

  const byTenantId = new Map<string, string>();
  for (const { file, config } of loaded) {
    const earlier = byTenantId.get(config.tenantId);
    if (earlier !== undefined) {
      problems.push({
        file,
        field: 'tenantId',
        reason: `duplicate tenant id "${config.tenantId}", already defined in ${displayPath(earlier)}`,
      });
    } else {
      byTenantId.set(config.tenantId, file);
    }
  }

  // One LINE channel per tenant: a shared secret would make one municipality send with another's token, and a
  // shared webhook path would route one channel's events to the other tenant.
  problems.push(
    ...shared(loaded, 'line.secretName', (t) => t.line.secretName, 'LINE secret name'),
    ...shared(
      loaded.filter((t) => t.config.line.enabled),
      'tenantId',
      (t) => webhookPath(t.tenantId),
      'webhook path',
    ),
  );

  if (problems.length > 0) throw new InvalidTenantFileError(problems);
  return loaded;
}

/** The path LINE posts a tenant's webhook events to (one HTTP API route per LINE-enabled tenant). */
export function webhookPath(tenantId: string): string {
  return `/line/${tenantId}/webhook`;
}

function shared(
  tenants: readonly LoadedTenant[],
  field: string,
  key: (t: TenantConfig) => string,
  what: string,
): TenantFileProblem[] {
  const owners = new Map<string, string>();
  const problems: TenantFileProblem[] = [];
  for (const { file, config } of tenants) {
    const value = key(config);
    const earlier = owners.get(value);
    if (earlier === undefined) owners.set(value, file);
    else
      problems.push({
        file: displayPath(file),
        field,
        reason: `${what} "${value}" is also used by ${displayPath(earlier)}; each tenant needs its own`,
      });
  }
  return problems;
}

/** Editors' JSON Schema reference (schemas/tenant.schema.json); not part of the configuration. */
const SCHEMA_REFERENCE = '$schema';

/**
 * Reads a JSON or YAML data file (by extension). YAML is read as plain data (core schema, no custom tags), so
 * a tenant file in YAML means exactly what the same file in JSON means.
 */
export function readDataFile(file: string): { data: unknown } | { reason: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    return { reason: `not readable (${(cause as Error).message})` };
  }
  if (/\.ya?ml$/i.test(file)) {
    try {
      return { data: parseYaml(text, { prettyErrors: true, uniqueKeys: true }) as unknown };
    } catch (cause) {
      const message =
        cause instanceof YAMLParseError ? cause.message.split('\n')[0]!.replace(/:$/, '') : (cause as Error).message;
      return { reason: `not valid YAML (${message})` };
    }
  }
  try {
    return { data: JSON.parse(text) as unknown };
  } catch (cause) {
    return { reason: `not valid JSON (${(cause as Error).message})` };
  }
}

function loadTenantFile(file: string): LoadedTenant | { problems: TenantFileProblem[] } {
  const shown = displayPath(file);
  const read = readDataFile(file);
  if ('reason' in read) return { problems: [{ file: shown, field: '', reason: read.reason }] };
  const raw = withoutSchemaReference(read.data);
  const referenceProblems: TenantFileProblem[] =
    isPlainObject(read.data) && SCHEMA_REFERENCE in read.data && typeof read.data[SCHEMA_REFERENCE] !== 'string'
      ? [{ file: shown, field: SCHEMA_REFERENCE, reason: 'expected the path of the JSON Schema (a string)' }]
      : [];
  const baseName = tenantFileBaseName(file);
  const nameProblem = (tenantId: unknown): TenantFileProblem[] =>
    typeof tenantId === 'string' && tenantId !== baseName
      ? [{ file: shown, field: 'tenantId', reason: `"${tenantId}" must equal the file name "${baseName}"` }]
      : [];

  const parsed = TenantConfigSchema.safeParse(raw);
  if (!parsed.success) {
    // Everything at once: the schema's issues, and what is checked beside them where it can be without parsed data.
    const topLevel = isPlainObject(raw)
      ? Object.keys(raw)
          .filter((key) => !(key in TenantConfigSchema.shape))
          .map((field) => ({ file: shown, field, reason: 'unknown field' }))
      : [];
    return {
      problems: [
        ...parsed.error.issues.map((issue) => ({
          file: shown,
          field: issue.path.map(String).join('.'),
          reason: issue.message,
        })),
        ...topLevel,
        ...referenceProblems,
        ...nameProblem(isPlainObject(raw) ? raw.tenantId : undefined),
      ],
    };
  }

  const problems: TenantFileProblem[] = [...referenceProblems];
  // zod drops unknown keys silently; a misspelt optional field or a pasted channel secret must not pass unnoticed.
  for (const field of unknownFields(raw, parsed.data)) {
    const looksSecret = /secret|token|password|key/i.test(field.split('.').pop() ?? '');
    problems.push({
      file: shown,
      field,
      reason: looksSecret
        ? 'unknown field; tenant files hold only the NAME of a Secrets Manager secret (line.secretName), never secret values'
        : 'unknown field',
    });
  }

  const config = parsed.data;
  problems.push(...nameProblem(config.tenantId));

  // Intl accepts any letter case, EventBridge Scheduler and the fan-out's string comparison do not.
  const canonicalZone = new Intl.DateTimeFormat('en-US', { timeZone: config.timeZone }).resolvedOptions().timeZone;
  if (canonicalZone !== config.timeZone && canonicalZone.toLowerCase() === config.timeZone.toLowerCase()) {
    problems.push({ file: shown, field: 'timeZone', reason: `write the time zone as "${canonicalZone}"` });
  }

  return problems.length > 0 ? { problems } : { file, config };
}

export function unknownFields(raw: unknown, parsed: unknown, prefix = ''): string[] {
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    return raw.flatMap((item, i) => unknownFields(item, parsed[i], `${prefix}${i}.`));
  }
  if (isPlainObject(raw) && isPlainObject(parsed)) {
    return Object.keys(raw).flatMap((key) =>
      key in parsed ? unknownFields(raw[key], parsed[key], `${prefix}${key}.`) : [`${prefix}${key}`],
    );
  }
  return [];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TENANT_FILE = /\.(json|ya?ml)$/i;

/** The tenant id a file must declare: its name without the extension. */
export function tenantFileBaseName(file: string): string {
  return path.basename(file).replace(TENANT_FILE, '');
}

function withoutSchemaReference(raw: unknown): unknown {
  if (!isPlainObject(raw) || !(SCHEMA_REFERENCE in raw)) return raw;
  const { [SCHEMA_REFERENCE]: _reference, ...rest } = raw;
  return rest;
}

export function listTenantFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && TENANT_FILE.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** Relative to the working directory when inside it, so messages read `tenants/foo.json`. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
