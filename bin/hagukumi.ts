#!/usr/bin/env -S npx tsx
// The hagukumi command line: `local` runs the system on the embedded emulators (npm start); `preview` shows
// what a stage receives; `content import` and `report` work against a deployed stack with your AWS credentials
// (`report --local` against the running local stack). Heavy modules are imported inside each command, so
// `--help` answers at once.
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { IsoDateSchema } from '../schemas/common';
import { InvalidTenantFileError, NoTenantFilesError } from '../lib/tenants';
import { addEmailCommands } from './email';
import { addLineCommands } from './line';
import { addBroadcastCommands } from './broadcast';
import { addContentCommands } from './content';
import { addSurveyCommands } from './surveys';
import { addTenantCommands } from './tenants';

const REPO_ROOT = join(__dirname, '..');

/** A mistake in how the command was called: the message is all the user needs. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const isoDate = (value: string): string => {
  const parsed = IsoDateSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'expected YYYY-MM-DD');
  return parsed.data;
};

export const yearMonth = (value: string): string => {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) throw new InvalidArgumentError('expected YYYY-MM, e.g. 2026-11');
  return value;
};

const wholeNumber = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new InvalidArgumentError(`expected a whole number from ${min} to ${max.toLocaleString('en')}`);
  return n;
};

const todayInTokyo = async () => (await import('../lambdas/domain')).localDate(new Date(), 'Asia/Tokyo');

/** Global options every command sees. */
export interface GlobalOptions {
  verbose?: boolean;
  state: string;
}
const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

function tenantsDirOption() {
  return new Option('--tenants-dir <dir>', 'tenant files to use (default: tenants/ of the repository)');
}

export function buildProgram(): Command {
  const program = new Command('hagukumi')
    .description(
      'Stage-based messages for municipalities over LINE and email: run the system locally, preview content, report on deliveries.',
    )
    .option('--verbose', 'on an error, show the whole error with its stack trace')
    .option('--state <dir>', 'where the local stack keeps its state and endpoints.json', join(REPO_ROOT, '.local'))
    .showSuggestionAfterError()
    .configureOutput({
      // One line per error; the hint says where the rest is.
      outputError: (str, write) => write(`hagukumi: ${str.replace(/^error: /, '').trim()} (see --help)\n`),
    })
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

  program
    .command('local')
    .description(
      'run the whole system on embedded emulators (what `npm start` runs): seed demo subscribers, deliver the day, check the result, then keep delivering at each tenant delivery time',
    )
    .option('--date <YYYY-MM-DD>', 'the first delivery date (default: today in Tokyo)', isoDate)
    .option(
      '--from <YYYY-MM-DD>',
      'the first delivery date, with simulated readers acting between the deliveries (--date D --simulate)',
      isoDate,
    )
    .option(
      '--simulate',
      'simulated readers register, report births, pause, stop, answer surveys and ask questions between the deliveries (through the webhook and the email pages), on a simulated clock; needs --days or --once',
    )
    .option(
      '--seed <n>',
      'with --from/--simulate: the seed of the simulated activity (default 1)',
      wholeNumber(0, 2 ** 31),
    )
    .option('--subscribers <n>', 'demo subscribers to seed into an empty state', wholeNumber(0, 1_000_000), 1000)
    .option('--once', 'exit after the deliveries: the first one, or with --days N the N days')
    .option(
      '--clock <mode>',
      'when the running stack delivers: real (at each tenant delivery time) or fast:N (one simulated day every N seconds; fast:0 runs days back to back)',
    )
    .option(
      '--days <n>',
      'deliver this many days, the first included, then exit (with no --clock: back to back)',
      wholeNumber(1, 3650),
    )
    .option('--json <file>', 'write the summary of every delivery as JSON')
    .option('--record-line <file>', 'write every LINE API request the emulator served (JSON lines, no Authorization)')
    .option('--reset', 'forget the kept state and start over')
    .addOption(tenantsDirOption())
    .action(async (o, cmd: Command) => {
      if (o.date && o.from) throw new UsageError('--from is --date with --simulate: give one of them');
      const simulate = o.simulate === true || o.from !== undefined || o.seed !== undefined;
      if (simulate && o.clock) throw new UsageError('a simulated run sets its own clock: leave out --clock');
      if (simulate && !o.once && o.days === undefined)
        throw new UsageError('a simulated run needs --days N (or --once for one day)');
      const { parseClock, InvalidClockError } = await import('../local/local-clock');
      let clock;
      try {
        clock = parseClock(o.clock ?? (o.days !== undefined ? 'fast:0' : 'real'));
      } catch (err) {
        if (err instanceof InvalidClockError) throw new UsageError(`--clock: ${err.message}`);
        throw err;
      }
      await runLocalCommand({
        ...o,
        date: o.from ?? o.date,
        days: o.days ?? (o.once ? 1 : undefined),
        clock,
        state: globals(cmd).state,
        simulate: simulate ? { seed: o.seed ?? 1, strict: false } : undefined,
      });
    });

  program
    .command('preview')
    .description(
      "day by day, the stage and exactly what a reader would be sent (the worker's code: library, overlays, announcements, birthday greetings)",
    )
    .requiredOption('--tenant <id>', 'tenant id (a file in tenants/)')
    .option('--due-date <YYYY-MM-DD>', 'a pregnancy with this due date', isoDate)
    .option('--birthday <YYYY-MM-DD>', 'a child born on this date', isoDate)
    .option('--from <YYYY-MM-DD>', 'the first day to show (default: today in Tokyo)', isoDate)
    .option('--days <n>', 'how many days to show', wholeNumber(1, 1200), 1)
    .option('--json', 'the days as JSON: [{date, stage, messages}]')
    .addOption(
      new Option(
        '--track <track>',
        'with --anchor: maternity (anchor = due date) or childcare (anchor = birthday)',
      ).choices(['maternity', 'childcare']),
    )
    .option('--anchor <YYYY-MM-DD>', 'with --track: the due date or the birthday', isoDate)
    .option('--date <YYYY-MM-DD>', 'the same as --from', isoDate)
    .option('--nickname <name>', 'fills {nickname} (default: the tenant default)')
    .addOption(new Option('--audience <who>', 'who reads it').choices(['parent', 'partner']).default('parent'))
    .option('--library-file <file>', 'the content library file (default: content/<the tenant library>.json)')
    .option('--local', "the tenant's broadcasts from the running local stack (the default when it runs)")
    .option('--content-table <name>', "the tenant's broadcasts from a deployed Content table (your AWS credentials)")
    .option('--no-broadcasts', 'leave broadcasts out')
    .addOption(tenantsDirOption())
    .action(async (o, cmd: Command) => preview({ ...o, state: globals(cmd).state }));

  addContentCommands(program, { state: (cmd) => globals(cmd).state, awsCall });
  addBroadcastCommands(program, { state: (cmd) => globals(cmd).state, awsCall });

  program
    .command('report')
    .description(
      "a tenant's delivery counters for a date (--date), or its KPI report for a month (--month YYYY-MM --out DIR: CSV and an HTML report with charts)",
    )
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--date <YYYY-MM-DD>', 'delivery date (default: today in Tokyo)', isoDate)
    .option(
      '--month <YYYY-MM>',
      "the month's KPI report (registrants, users, notifications, surveys, inquiries, screening)",
      yearMonth,
    )
    .option('--out <dir>', 'with --month: where to write <tenant>-<month>.csv and .html', '.')
    .option('--table <name>', 'the Delivery table of a deployed stack (stack output; uses your AWS credentials)')
    .option('--data-table <name>', 'with --month and --table: the Data table of the deployed stack (stack output)')
    .option('--local', 'read the running local stack (found from its endpoints.json); the default without --table')
    .addOption(tenantsDirOption())
    .action(async (o, cmd: Command) => report({ ...o, state: globals(cmd).state }));

  addTenantCommands(program, { tenantsDir: tenantsDirOption, repoRoot: REPO_ROOT });
  addSurveyCommands(program, {
    state: (cmd) => globals(cmd).state,
    tenantsDir: tenantsDirOption,
    repoRoot: REPO_ROOT,
  });
  addLineCommands(program, {
    state: (cmd) => globals(cmd).state,
    tenantsDir: tenantsDirOption,
    repoRoot: REPO_ROOT,
  });
  addEmailCommands(program, { state: (cmd) => globals(cmd).state });
  return program;
}

async function runLocalCommand(o: {
  date?: string;
  subscribers: number;
  days?: number;
  clock: import('../local/local-clock').ClockMode;
  json?: string;
  recordLine?: string;
  reset?: boolean;
  tenantsDir?: string;
  state: string;
  simulate?: { seed: number; strict: boolean };
}) {
  const { startLocal, keepDelivering, formatSimulationSummary } = await import('../local/run-local');
  const { writeEndpointsFile, removeEndpointsFile, runningLocalStack, LocalStackNotRunningError } =
    await import('../local/endpoints-file');
  // Two stacks on one state directory would share DynamoDB Local's files; a stale file is removed on the way.
  const running = await runningLocalStack(o.state).catch((err: unknown) => {
    if (err instanceof LocalStackNotRunningError) return undefined;
    throw err;
  });
  if (running)
    throw new UsageError(
      `the local stack is already running (pid ${running.pid}, since ${running.startedAt}): stop it first, or give another --state directory`,
    );
  const date = o.date ?? (await todayInTokyo());
  const t0 = performance.now();
  const local = await startLocal({
    date,
    subscribers: o.subscribers,
    reset: o.reset ?? false,
    json: o.json,
    recordLine: o.recordLine,
    dataDir: o.state,
    tenantsDir: o.tenantsDir,
    simulate: o.simulate,
  });
  const stopping = new AbortController();
  const onSignal = () => stopping.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (local.simulation && local.simulateDay) {
      const { addDays } = await import('../lambdas/domain');
      const { activeReaders } = await import('../local/simulation/simulate');
      for (let i = 1; i < (o.days ?? 1) && !stopping.signal.aborted; i++) {
        const day = addDays(date, i);
        await local.deliver(day);
        await local.simulateDay(day);
      }
      process.stdout.write(
        formatSimulationSummary(
          local.simulation,
          local.result.days,
          await activeReaders(local.stack),
          (performance.now() - t0) / 1000,
        ),
      );
      return;
    }
    if (o.days === 1) return;
    const e = local.emulators.endpoints;
    const api = local.stack.api?.url ?? '';
    writeEndpointsFile(o.state, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ...e,
      api,
      tables: local.stack.tables,
      channels: Object.fromEntries([...local.stack.channels].map(([t, c]) => [t, c.channelId])),
    });
    process.stdout.write(
      `\nThe local stack is running (Ctrl-C to stop):\n  DynamoDB ${e.dynamodb}\n  SQS      ${e.sqs}\n  SES      ${e.ses} (sent mail: ${e.ses}/store)\n  LINE     ${e.line} (requests: ${e.line}/_emulator/requests)\n  webhook  ${api}/line/<tenant>/webhook\n` +
        `  clock    ${o.clock.kind === 'real' ? 'real: delivers at each tenant delivery time' : `simulated, one day every ${o.clock.secondsPerDay} s`}${o.days ? `, ${o.days} days` : ''}\n\n` +
        `Talk to it as a LINE user from another terminal:  npm run hagukumi -- line chat --tenant ${local.tenants[0]?.tenantId ?? '<tenant>'}\n`,
    );
    await keepDelivering(local, { clock: o.clock, startDate: date, days: o.days, signal: stopping.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    removeEndpointsFile(o.state);
    await local.stop();
    // A delivery that could not be verified fails the command (CI and scripts see it).
    if (local.result.days.some((d) => d.tenants.some((t) => t.problems.length > 0))) process.exitCode = 1;
  }
}

async function preview(o: {
  tenant: string;
  dueDate?: string;
  birthday?: string;
  from?: string;
  days: number;
  json?: boolean;
  track?: 'maternity' | 'childcare';
  anchor?: string;
  date?: string;
  nickname?: string;
  audience: 'parent' | 'partner';
  libraryFile?: string;
  tenantsDir?: string;
  local?: boolean;
  contentTable?: string;
  broadcasts: boolean;
  state: string;
}) {
  const given = [o.dueDate && 'due-date', o.birthday && 'birthday', o.anchor && 'anchor'].filter(Boolean);
  if (given.length !== 1) throw new UsageError('give one of --due-date D, --birthday D (or --track T --anchor D)');
  if (o.anchor && !o.track) throw new UsageError('--anchor needs --track maternity|childcare');
  if (o.date && o.from) throw new UsageError('--date is --from: give one of them');
  const track = o.dueDate ? 'maternity' : o.birthday ? 'childcare' : o.track!;
  const anchorDate = (o.dueDate ?? o.birthday ?? o.anchor)!;
  const { loadRepoTenants } = await import('../local/stack');
  const { loadContentLibraryFile } = await import('../lib/content-file');
  const { previewDays, formatPreview } = await import('./preview');
  const tenants = loadRepoTenants(o.tenantsDir);
  const tenant = tenants.find((t) => t.tenantId === o.tenant);
  if (!tenant)
    throw new UsageError(
      `unknown tenant ${JSON.stringify(o.tenant)}; known: ${tenants.map((t) => t.tenantId).join(', ')}`,
    );
  const library = loadContentLibraryFile(o.libraryFile ?? join(REPO_ROOT, 'content', `${tenant.library}.json`));
  const from = o.from ?? o.date ?? (await todayInTokyo());
  let broadcasts: import('../schemas/broadcast').Broadcast[] = [];
  if (o.broadcasts) {
    const { previewBroadcasts } = await import('./broadcast');
    try {
      // awsCall only for a deployed table: the local stack's absence is no credentials problem.
      broadcasts = o.contentTable
        ? await awsCall(() => previewBroadcasts(o, o.state), o.contentTable)
        : await previewBroadcasts(o, o.state);
    } catch (err) {
      // Without a running local stack (and no table named) the preview shows the daily messages only.
      if (o.local || o.contentTable || !(err instanceof Error && err.name === 'BroadcastCommandError')) throw err;
      process.stderr.write('hagukumi: no local stack running: broadcasts are not shown (--content-table for AWS)\n');
    }
  }
  const days = await previewDays(
    tenant,
    library.items,
    {
      track,
      anchorDate,
      from,
      days: o.days,
      audience: o.audience,
      nickname: o.nickname,
    },
    broadcasts,
  );
  process.stdout.write(o.json ? `${JSON.stringify(days, null, 2)}\n` : `${formatPreview(tenant, days)}\n`);
}

/** What is missing when a command meets AWS unprepared, in words an operator can act on. */
export class AwsSetupError extends Error {
  override readonly name = 'AwsSetupError';
}

async function awsCall<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    const message = err instanceof Error ? err.message : String(err);
    if (name === 'CredentialsProviderError' || /credential/i.test(message))
      throw new AwsSetupError(
        'no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for the account of the stack, or use --local for the local stack',
        { cause: err },
      );
    if (/region is missing/i.test(message))
      throw new AwsSetupError('no AWS region: set AWS_REGION (e.g. ap-northeast-1), or use --local', { cause: err });
    if (name === 'ResourceNotFoundException')
      throw new AwsSetupError(
        `${what} does not exist in ${process.env.AWS_REGION ?? 'the configured region'}: take the name from the stack outputs`,
        { cause: err },
      );
    if (name === 'UnrecognizedClientException' || name === 'ExpiredTokenException' || name === 'AccessDeniedException')
      throw new AwsSetupError(`AWS refused the credentials for ${what} (${name}): ${message}`, { cause: err });
    throw err;
  }
}

interface ReportOptions {
  tenant: string;
  date?: string;
  month?: string;
  out: string;
  table?: string;
  dataTable?: string;
  local?: boolean;
  tenantsDir?: string;
  state: string;
}

async function report(o: ReportOptions) {
  if (o.local && o.table) throw new UsageError('--local reads the local stack, --table a deployed one: give one');
  if (o.month && o.date) throw new UsageError('--date reports one delivery day, --month a month: give one');
  if (o.month && o.table && !o.dataTable)
    throw new UsageError('--month with --table needs --data-table DATA_TABLE too (the stack output)');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createDocumentClient } = await import('../lambdas/adapters/dynamo-client');
  let client: InstanceType<typeof DynamoDBClient>;
  let tables: { data?: string; delivery: string };
  let where: string;
  if (o.table) {
    client = new DynamoDBClient({});
    tables = { delivery: o.table, data: o.dataTable };
    where = `table ${o.table}`;
  } else {
    const { runningLocalStack, LocalStackNotRunningError, LOCAL_AWS } = await import('../local/endpoints-file');
    try {
      const local = await runningLocalStack(o.state);
      client = new DynamoDBClient({
        endpoint: local.dynamodb,
        ...LOCAL_AWS,
      });
      tables = local.tables;
      where = `the local stack's table ${tables.delivery}`;
    } catch (err) {
      if (err instanceof LocalStackNotRunningError && !o.local)
        throw new UsageError(
          `${err.message}; for a deployed stack give --table DELIVERY_TABLE (the stack output) with your AWS credentials`,
        );
      throw err;
    }
  }
  const db = createDocumentClient(client);
  if (o.month) return monthReport(o, o.month, db, { data: tables.data!, delivery: tables.delivery }, where);
  const { PlanRepository } = await import('../lambdas/adapters/plan-repository');
  const { addCounters, zeroCounters } = await import('../lambdas/services/deliver-shard');
  const day = o.date ?? (await todayInTokyo());
  const shards = await awsCall(() => new PlanRepository(db, tables.delivery).listCounters(o.tenant, day), where);
  process.stdout.write(
    `${JSON.stringify({ tenantId: o.tenant, date: day, shards: shards.length, ...shards.reduce(addCounters, zeroCounters()) }, null, 2)}\n`,
  );
  if (shards.length === 0)
    process.stderr.write(`hagukumi: nothing recorded for ${o.tenant} on ${day} in ${where} (not delivered yet?)\n`);
}

async function monthReport(
  o: ReportOptions,
  month: string,
  db: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient,
  tables: { data: string; delivery: string },
  where: string,
) {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { loadRepoTenants } = await import('../local/stack');
  const { KpiRepository } = await import('../lambdas/adapters/kpi-repository');
  const { buildKpiReport } = await import('../lambdas/services/kpi-report');
  const { kpiCsv } = await import('../lambdas/domain/kpi-report');
  const { kpiReportDocument } = await import('../lambdas/web/kpi-report-html');
  const { renderKpiCharts } = await import('../lambdas/web/kpi-charts');
  const tenants = loadRepoTenants(o.tenantsDir);
  const tenant = tenants.find((t) => t.tenantId === o.tenant);
  if (!tenant)
    throw new UsageError(
      `--tenant: unknown tenant ${JSON.stringify(o.tenant)}; known: ${tenants.map((t) => t.tenantId).join(', ')}`,
    );
  const { localDate } = await import('../lambdas/domain/dates');
  const today = localDate(new Date(), tenant.timeZone);
  const r = await awsCall(() => buildKpiReport(tenant, month, new KpiRepository(db, tables), today), where);
  const charts = await renderKpiCharts(r);
  mkdirSync(o.out, { recursive: true });
  const base = join(o.out, `${tenant.tenantId}-${month}`);
  writeFileSync(`${base}.csv`, kpiCsv(r));
  writeFileSync(`${base}.html`, kpiReportDocument(r, charts));
  const s = r.surveys.map((x) => `${x.id} ${x.rate} %`).join(', ');
  process.stdout.write(
    `${tenant.tenantId} ${month}: registrants ${r.registrants.atMonthEnd.total} (new ${r.registrants.newInMonth}), active at month end ${r.activeAtMonthEnd.total}, ` +
      `notifications sent ${r.notifications.sent} failed ${r.notifications.failed}, surveys ${s || 'none'}, ` +
      `inquiries ${r.inquiries.received} answered ${r.inquiries.answered} (median ${r.inquiries.medianHours} h, p90 ${r.inquiries.p90Hours} h)\n` +
      `wrote ${base}.csv and ${base}.html\n`,
  );
}

/** Errors the user can act on without a stack trace, with the exit code they get. */
function expected(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err instanceof UsageError) return 2;
  if (err instanceof InvalidTenantFileError || err instanceof NoTenantFilesError) return 1;
  if (
    [
      'LineCommandError',
      'BroadcastCommandError',
      'EmailCommandError',
      'TenantCommandError',
      'SurveyCommandError',
      'LocalStackNotRunningError',
      'AwsSetupError',
      'InvalidContentFileError',
      'InvalidMonthError',
    ].includes(err.name)
  )
    return 1;
  return undefined;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const verbose = program.opts<GlobalOptions>().verbose === true || argv.includes('--verbose');
    const code = expected(err);
    if (
      err instanceof InvalidTenantFileError ||
      err instanceof NoTenantFilesError ||
      (err instanceof Error && err.name === 'InvalidContentFileError')
    ) {
      // Exactly what synth prints for the same files; a content file's problems, one line each, likewise.
      process.stderr.write(`${err.message}\n`);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      const [first, ...rest] = message.split('\n');
      const more = rest.length > 0 || code === undefined;
      process.stderr.write(`hagukumi: ${first}${more && !verbose ? ' (--verbose shows the details)' : ''}\n`);
    }
    if (verbose) process.stderr.write(`${err instanceof Error ? inspectError(err) : String(err)}\n`);
    process.exitCode = code ?? 1;
  }
}

function inspectError(err: Error): string {
  let text = err.stack ?? err.message;
  for (let cause = err.cause; cause; cause = cause instanceof Error ? cause.cause : undefined)
    text += `\ncaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : JSON.stringify(cause)}`;
  return text;
}

if (require.main === module || resolve(process.argv[1] ?? '') === __filename)
  void main(process.argv.slice(2)).then(() => {
    // Emulators, sockets and timers are closed by the commands; nothing should keep the process.
    if (process.exitCode && process.exitCode !== 0) process.exit(process.exitCode);
  });
