// `hagukumi surveys list` (from the tenant files, offline) and `hagukumi surveys results` (from the running local
// stack or a deployed Data table): counts, means, distributions, response rates, small cells suppressed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';

export class SurveyCommandError extends Error {
  override readonly name = 'SurveyCommandError';
}

export interface SurveyCommandsContext {
  state: (cmd: Command) => string;
  tenantsDir: () => Option;
  repoRoot: string;
}

async function tenantConfigs(dir: string | undefined, repoRoot: string) {
  const { loadTenants } = await import('../lib/tenants');
  return loadTenants(dir ?? join(repoRoot, 'tenants')).map((t) => t.config);
}

export function addSurveyCommands(program: Command, ctx: SurveyCommandsContext): void {
  const surveys = program.command('surveys').description('surveys and screening: what is asked, and the results');

  surveys
    .command('list')
    .description('every survey the tenants ask: id, kind (own, shared, screening), trigger, tenants')
    .option('--json', 'print JSON instead of a table')
    .addOption(ctx.tenantsDir())
    .action(async (o: { json?: boolean; tenantsDir?: string }) => {
      const { askedSurveys } = await import('../lambdas/domain/surveys');
      const rows = new Map<
        string,
        { id: string; kind: string; trigger: unknown; questions: number; tenants: string[] }
      >();
      for (const tenant of await tenantConfigs(o.tenantsDir, ctx.repoRoot))
        for (const s of askedSurveys(tenant)) {
          const kind = s.instrument ? 'screening' : s.pooled ? 'shared' : 'own';
          const key = s.pooled ? s.id : `${tenant.tenantId}/${s.id}`;
          const row = rows.get(key) ?? {
            id: s.id,
            kind,
            trigger: s.trigger,
            questions: s.questions.length,
            tenants: [],
          };
          row.tenants.push(tenant.tenantId);
          rows.set(key, row);
        }
      const list = [...rows.values()];
      if (o.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      for (const r of list)
        process.stdout.write(
          `${r.id.padEnd(24)}${r.kind.padEnd(11)}${describeTrigger(r.trigger).padEnd(46)}${r.tenants.join(', ')}\n`,
        );
    });

  surveys
    .command('results')
    .description(
      'results of one survey for a tenant, or pooled over every tenant (shared surveys); cells under 5 show <5',
    )
    .requiredOption('--survey <id>', 'survey id (see surveys list)')
    .option('--tenant <id>', 'one tenant (free-text answers included)')
    .option('--all', 'every tenant that asks it (shared surveys only; no free text; small municipalities not named)')
    .option('--csv <file>', 'also write the figures as CSV')
    .option('--json', 'print JSON instead of the table')
    .option(
      '--table <name>',
      'the Data table of a deployed stack (uses your AWS credentials); default: the local stack',
    )
    .addOption(ctx.tenantsDir())
    .action(async (o: ResultsOptions, cmd: Command) => results(o, ctx, cmd));
}

interface ResultsOptions {
  survey: string;
  tenant?: string;
  all?: boolean;
  csv?: string;
  json?: boolean;
  table?: string;
  tenantsDir?: string;
}

function describeTrigger(t: unknown): string {
  const trigger = t as {
    kind: string;
    stages?: { track: string; day: number }[];
    from?: string;
    to?: string;
    on?: string;
  };
  switch (trigger.kind) {
    case 'stage':
      return `stage ${trigger.stages!.map((s) => `${s.track} day ${s.day}`).join(', ')}`;
    case 'campaign':
      return `campaign ${trigger.from}..${trigger.to}`;
    case 'date':
      return `date ${trigger.on}`;
    default:
      return 'on request';
  }
}

async function results(o: ResultsOptions, ctx: SurveyCommandsContext, cmd: Command) {
  if (!o.tenant === !o.all) throw new SurveyCommandError('give --tenant ID or --all');
  const { askedSurveys } = await import('../lambdas/domain/surveys');
  const { surveyResults, formatResults, resultsCsv } = await import('../lambdas/domain/survey-results');
  const { loadResultItems } = await import('../lambdas/adapters/survey-repository');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createDocumentClient } = await import('../lambdas/adapters/dynamo-client');

  const all = await tenantConfigs(o.tenantsDir, ctx.repoRoot);
  const tenants = o.all ? all : all.filter((t) => t.tenantId === o.tenant);
  if (tenants.length === 0) throw new SurveyCommandError(`no tenant "${o.tenant}" in the tenant files`);
  const asking = tenants.flatMap((t) =>
    askedSurveys(t)
      .filter((s) => s.id === o.survey)
      .map((s) => ({ t, s })),
  );
  const first = asking[0];
  if (!first) throw new SurveyCommandError(`no tenant here asks a survey "${o.survey}" (see surveys list)`);
  if (o.all && !first.s.pooled)
    throw new SurveyCommandError(`"${o.survey}" is not a shared survey: only shared surveys are pooled (use --tenant)`);

  let client: InstanceType<typeof DynamoDBClient>;
  let table: string;
  if (o.table) {
    client = new DynamoDBClient({});
    table = o.table;
  } else {
    const { runningLocalStack, LOCAL_AWS } = await import('../local/endpoints-file');
    const local = await runningLocalStack(ctx.state(cmd));
    client = new DynamoDBClient({
      endpoint: local.dynamodb,
      ...LOCAL_AWS,
    });
    table = local.tables.data;
  }
  const db = createDocumentClient(client);
  const items = (await Promise.all(asking.map(({ t }) => loadResultItems(db, table, t.tenantId, o.survey)))).flat();
  const res = surveyResults(first.s, items, {
    scope: o.all ? `all tenants (${asking.length})` : `${first.t.tenantId} (${first.t.name})`,
    pooled: Boolean(o.all),
    tenantNames: new Map(all.map((t) => [t.tenantId, t.name])),
  });
  if (o.csv) writeFileSync(o.csv, resultsCsv(res));
  process.stdout.write(o.json ? `${JSON.stringify(res, null, 2)}\n` : formatResults(res));
}
