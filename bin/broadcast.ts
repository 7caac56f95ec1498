// `hagukumi broadcast create|list|cancel --tenant T`: segment broadcasts, against the running local stack (its
// endpoints.json) by default or `--local`, against AWS with --content-table (and --data-table for --dry-run).
// The use cases are the console's (lambdas/services/broadcasts.ts); `--dry-run` counts the recipients with the
// planner's segment code over the stored subscriptions.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Broadcast } from '../schemas/broadcast';

export class BroadcastCommandError extends Error {
  override readonly name = 'BroadcastCommandError';
}

interface Target {
  db: DynamoDBDocumentClient;
  content: string;
  data?: string;
  where: string;
}

async function target(
  o: { contentTable?: string; dataTable?: string; local?: boolean },
  state: string,
): Promise<Target> {
  if (o.local && (o.contentTable || o.dataTable))
    throw new BroadcastCommandError('--local is the local stack, --content-table a deployed one: give one');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createDocumentClient } = await import('../lambdas/adapters/dynamo-client');
  if (o.contentTable)
    return {
      db: createDocumentClient(new DynamoDBClient({})),
      content: o.contentTable,
      ...(o.dataTable && { data: o.dataTable }),
      where: `table ${o.contentTable}`,
    };
  if (o.dataTable) throw new BroadcastCommandError('--data-table goes with --content-table');
  const { runningLocalStack, LocalStackNotRunningError, LOCAL_AWS } = await import('../local/endpoints-file');
  try {
    const local = await runningLocalStack(state);
    return {
      db: createDocumentClient(
        new DynamoDBClient({
          endpoint: local.dynamodb,
          ...LOCAL_AWS,
        }),
      ),
      content: local.tables.content,
      data: local.tables.data,
      where: `the local stack's table ${local.tables.content}`,
    };
  } catch (err) {
    if (err instanceof LocalStackNotRunningError && !o.local)
      throw new BroadcastCommandError(
        `${err.message}; for a deployed stack give --content-table CONTENT_TABLE (and --data-table DATA_TABLE for --dry-run), the stack outputs, with your AWS credentials`,
      );
    throw err;
  }
}

const targetOptions = (cmd: Command) =>
  cmd
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--content-table <name>', 'the Content table of a deployed stack (stack output; your AWS credentials)')
    .option('--data-table <name>', 'with --content-table: the Data table, for --dry-run')
    .option('--local', 'the running local stack (found from its endpoints.json); the default without --content-table');

const list = (value: string) => value.split(',').map((v) => v.trim());
/** `20w0d-30w6d` */
const weeks = (value: string) => {
  const m = /^(\S+?)-(\S+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected FROM-TO in pregnancy weeks and days, e.g. 20w0d-30w6d');
  return { from: m[1]!, to: m[2]! };
};
/** `0-11months`, `0-100days` */
const age = (value: string) => {
  const m = /^(\d+)-(\d+) ?(days?|months?)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected FROM-TO with a unit, e.g. 0-11months or 0-100days');
  return { unit: m[3]!.startsWith('day') ? 'days' : 'months', from: Number(m[1]), to: Number(m[2]) };
};

/** The flag behind a field of the input, so an error names what the user typed. */
const FLAGS: [RegExp, string][] = [
  [/^date/, '--date'],
  [/^line/, '--line-text'],
  [/^email\.subject/, '--email-subject'],
  [/^email/, '--email-body'],
  [/^segment\.tracks/, '--tracks'],
  [/^segment\.maternity/, '--weeks'],
  [/^segment\.childcare/, '--age'],
  [/^segment\.channels/, '--channels'],
  [/^segment\.audience/, '--audience'],
];

interface CreateOptions {
  tenant: string;
  file?: string;
  date?: string;
  lineText?: string;
  emailSubject?: string;
  emailBody?: string;
  tracks?: string[];
  weeks?: { from: string; to: string };
  age?: { unit: string; from: number; to: number };
  channels?: string[];
  audience?: string;
  by: string;
  dryRun?: boolean;
  contentTable?: string;
  dataTable?: string;
  local?: boolean;
}

function inputOf(o: CreateOptions): { input: unknown; source: string } {
  if (o.file) {
    let input: unknown;
    try {
      input = JSON.parse(readFileSync(o.file, 'utf8'));
    } catch (err) {
      throw new BroadcastCommandError(`${o.file}: not a readable JSON file (${(err as Error).message})`);
    }
    return { input, source: o.file };
  }
  const segment = {
    ...(o.tracks && { tracks: o.tracks }),
    ...(o.weeks && { maternity: o.weeks }),
    ...(o.age && { childcare: o.age }),
    ...(o.channels && { channels: o.channels }),
    ...(o.audience && { audience: o.audience }),
  };
  const input = {
    date: o.date,
    ...(o.lineText !== undefined && { line: { text: o.lineText } }),
    ...((o.emailSubject !== undefined || o.emailBody !== undefined) && {
      email: { subject: o.emailSubject, body: o.emailBody },
    }),
    segment,
  };
  return { input, source: 'options' };
}

function describe(b: Broadcast): string {
  const s = b.segment;
  const parts = [
    s.tracks.join('+'),
    s.maternity && `${s.maternity.from}-${s.maternity.to}`,
    s.childcare && `${s.childcare.from}-${s.childcare.to} ${s.childcare.unit}`,
    s.channels.join('+'),
    s.audience,
  ].filter(Boolean);
  const text = (b.line?.text ?? b.email?.subject ?? '').replace(/\s+/g, ' ');
  return `${b.id}  ${b.date}  ${b.status.padEnd(9)}  ${parts.join(' ')}  ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

/** A tenant's broadcasts for `hagukumi preview`: from the running local stack, or a deployed Content table. */
export async function previewBroadcasts(
  o: { tenant: string; contentTable?: string; local?: boolean },
  state: string,
): Promise<Broadcast[]> {
  const t = await target(o, state);
  const { BroadcastRepository } = await import('../lambdas/adapters/broadcast-repository');
  return new BroadcastRepository(t.db, t.content).list(o.tenant);
}

export interface BroadcastCommandsContext {
  state: (cmd: Command) => string;
  awsCall: <T>(call: () => Promise<T>, what: string) => Promise<T>;
}

export function addBroadcastCommands(program: Command, ctx: BroadcastCommandsContext): void {
  const broadcast = program
    .command('broadcast')
    .description("segment broadcasts: a tenant's message on a date to a segment, merged into that day's send");

  async function tenantOf(t: Target, tenantId: string) {
    const { ContentRepository } = await import('../lambdas/adapters/content-repository');
    const tenant = await ctx.awsCall(
      () => new ContentRepository(t.db, t.content, { cacheTtlMs: 0 }).getTenant(tenantId),
      t.where,
    );
    if (!tenant) throw new BroadcastCommandError(`unknown tenant ${JSON.stringify(tenantId)} in ${t.where}`);
    return tenant;
  }

  targetOptions(
    broadcast
      .command('create')
      .description('schedule a broadcast for a later date (or, with --dry-run, count its recipients only)')
      .option(
        '--file <file>',
        'the broadcast as JSON ({date, line: {text}, email: {subject, body}, segment}) instead of the options below',
      )
      .option('--date <YYYY-MM-DD>', 'the delivery date (after today in the tenant time zone)')
      .option('--line-text <text>', 'the LINE message (at most 5,000 characters; {nickname} allowed)')
      .option('--email-subject <text>', "the heading of the broadcast's part of the day's mail")
      .option('--email-body <text>', "the broadcast's part of the day's mail")
      .option('--tracks <list>', 'maternity, childcare or both (default: both)', list)
      .option('--weeks <from-to>', 'pregnancy weeks, both included, e.g. 20w0d-30w6d', weeks)
      .option('--age <from-to+unit>', "the child's age, both included: 0-11months (completed months) or 0-100days", age)
      .option('--channels <list>', 'line, email or both (default: both)', list)
      .addOption(new Option('--audience <who>', 'who reads it (default: both)').choices(['parent', 'partner', 'both']))
      .option('--by <name>', 'who schedules it (recorded with the broadcast)', process.env.USER ?? 'cli')
      .option('--dry-run', 'print the number of recipients; store nothing'),
  ).action(async (o: CreateOptions, cmd: Command) => {
    const t = await target(o, ctx.state(cmd));
    const tenant = await tenantOf(t, o.tenant);
    const { createBroadcast, countRecipients, draftBroadcast, BroadcastInputError } =
      await import('../lambdas/services/broadcasts');
    const { BroadcastRepository, newBroadcastId } = await import('../lambdas/adapters/broadcast-repository');
    const { input, source } = inputOf(o);
    const store = new BroadcastRepository(t.db, t.content);
    const deps = { broadcasts: store, clock: { now: () => new Date() }, newId: newBroadcastId };
    let b: Broadcast;
    try {
      b = o.dryRun
        ? draftBroadcast(tenant, input, o.by, new Date(), newBroadcastId)
        : await ctx.awsCall(() => createBroadcast(tenant, input, o.by, deps), t.where);
    } catch (err) {
      if (!(err instanceof BroadcastInputError)) throw err;
      const named = err.problems.map((p) => {
        const flag = source === 'options' ? FLAGS.find(([re]) => re.test(p))?.[1] : undefined;
        return `${source}: ${flag ? `${flag} ` : ''}${p}`;
      });
      throw new BroadcastCommandError(`the broadcast is not valid, nothing was stored: ${named.join('; ')}`);
    }
    if (o.dryRun) {
      if (!t.data) throw new BroadcastCommandError('--dry-run against AWS needs --data-table DATA_TABLE');
      const { SubscriptionRepository } = await import('../lambdas/adapters/subscription-repository');
      const data = t.data;
      const n = await ctx.awsCall(() => countRecipients(tenant, b, new SubscriptionRepository(t.db, data)), data);
      process.stdout.write(`dry run: ${n} recipients on ${b.date} (readers as stored now); nothing stored\n`);
      return;
    }
    process.stdout.write(`scheduled ${describe(b)}\n`);
  });

  targetOptions(
    broadcast
      .command('list')
      .description("the tenant's broadcasts by date")
      .option('--from <YYYY-MM-DD>', 'from this date on (default: all)')
      .option('--json', 'as JSON'),
  ).action(
    async (
      o: { tenant: string; from?: string; json?: boolean; contentTable?: string; local?: boolean },
      cmd: Command,
    ) => {
      const t = await target(o, ctx.state(cmd));
      const { BroadcastRepository } = await import('../lambdas/adapters/broadcast-repository');
      const all = await ctx.awsCall(() => new BroadcastRepository(t.db, t.content).list(o.tenant, o.from), t.where);
      if (o.json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
      else if (all.length === 0) process.stdout.write(`no broadcasts of ${o.tenant} in ${t.where}\n`);
      else process.stdout.write(`${all.map(describe).join('\n')}\n`);
    },
  );

  targetOptions(
    broadcast
      .command('cancel')
      .description('cancel a broadcast: before its day nothing is sent; on its day, sends not made yet leave it out')
      .requiredOption('--id <id>', 'the id broadcast list shows')
      .option('--by <name>', 'who cancels it', process.env.USER ?? 'cli'),
  ).action(
    async (o: { tenant: string; id: string; by: string; contentTable?: string; local?: boolean }, cmd: Command) => {
      const t = await target(o, ctx.state(cmd));
      const { BroadcastRepository } = await import('../lambdas/adapters/broadcast-repository');
      const outcome = await ctx.awsCall(
        () => new BroadcastRepository(t.db, t.content).cancel(o.tenant, o.id, o.by, Date.now()),
        t.where,
      );
      if (outcome === 'not-found') throw new BroadcastCommandError(`--id: ${o.tenant} has no broadcast ${o.id}`);
      process.stdout.write(outcome === 'cancelled' ? `cancelled ${o.id}\n` : `${o.id} was cancelled already\n`);
    },
  );
}
