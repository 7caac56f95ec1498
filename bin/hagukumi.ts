#!/usr/bin/env -S npx tsx
// The hagukumi command line: `local` runs the system on the embedded emulators (npm start); `preview` shows
// what a stage receives; `content import` and `report` work against a deployed stack with your AWS credentials.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IsoDateSchema, TrackSchema, AudienceSchema } from '../schemas/common';
import { ContentLibrarySchema } from '../schemas/content';
import { createDocumentClient } from '../lambdas/adapters/dynamo-client';
import { writeLibrary } from '../lambdas/adapters/content-writer';
import { PlanRepository } from '../lambdas/adapters/plan-repository';
import { buildLibraryIndex, localDate, resolveSubscription, stageLabel } from '../lambdas/domain';
import { addCounters, zeroCounters } from '../lambdas/services/deliver-shard';
import { loadRepoTenants, loadSampleLibrary } from '../local/stack';

class UsageError extends Error {}

const USAGE = `usage:
  hagukumi local [--date YYYY-MM-DD] [--subscribers N] [--once] [--json FILE] [--record-line FILE] [--reset]
  hagukumi preview --tenant ID --track maternity|childcare --anchor YYYY-MM-DD [--date YYYY-MM-DD] [--nickname NAME] [--audience parent|partner]
  hagukumi content import --table CONTENT_TABLE [--file content/sample-ja.json]
  hagukumi report --table DELIVERY_TABLE --tenant ID --date YYYY-MM-DD
  hagukumi line chat [--tenant ID] [--user U...]            (talk to the running local stack as a LINE user)
  hagukumi line simulate --tenant ID --user U... follow|unfollow|TEXT|N|/date YYYY-MM-DD
  hagukumi line richmenu --tenant ID [--image menu.png] [--local]`;

const todayInTokyo = () => localDate(new Date(), 'Asia/Tokyo');

function date(value: string | undefined, flag: string): string {
  if (value === undefined) return todayInTokyo();
  const parsed = IsoDateSchema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${flag} ${JSON.stringify(value)}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

async function local(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      date: { type: 'string' },
      subscribers: { type: 'string', default: '1000' },
      once: { type: 'boolean', default: false },
      json: { type: 'string' },
      'record-line': { type: 'string' },
      reset: { type: 'boolean', default: false },
    },
  });
  const subscribers = Number(values.subscribers);
  if (!Number.isInteger(subscribers) || subscribers < 0 || subscribers > 1_000_000)
    throw new UsageError(`--subscribers must be a whole number from 0 to 1,000,000`);
  const { runLocal } = await import('../local/run-local');
  const { emulators, stack, result } = await runLocal({
    date: date(values.date, '--date'),
    subscribers,
    once: values.once,
    reset: values.reset,
    json: values.json,
    recordLine: values['record-line'],
  });
  const stop = async () => {
    await stack.api?.close();
    await emulators.stop();
  };
  // A delivery that could not be verified fails the command (CI and scripts see it).
  if (result.tenants.some((t) => t.problems.length > 0)) process.exitCode = 1;
  if (values.once) return stop();
  const e = emulators.endpoints;
  const { ENDPOINTS_FILE } = await import('./line');
  writeFileSync(
    ENDPOINTS_FILE,
    JSON.stringify({
      line: e.line,
      secretsManager: e.secretsManager,
      channels: Object.fromEntries([...stack.channels].map(([t, c]) => [t, c.channelId])),
    }),
  );
  process.stdout.write(
    `\nThe local stack is running (Ctrl-C to stop):\n  DynamoDB ${e.dynamodb}\n  SQS      ${e.sqs}\n  SES      ${e.ses} (sent mail: ${e.ses}/store)\n  LINE     ${e.line} (requests: ${e.line}/_emulator/requests)\n  webhook  ${stack.api?.webhookUrl('<tenant>')}\n\nTalk to it as a LINE user from another terminal:  npm run hagukumi -- line chat --tenant demo-minato\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  rmSync(ENDPOINTS_FILE, { force: true });
  await stop();
}

function preview(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      track: { type: 'string' },
      anchor: { type: 'string' },
      date: { type: 'string' },
      nickname: { type: 'string' },
      audience: { type: 'string', default: 'parent' },
    },
  });
  const tenant = loadRepoTenants().find((t) => t.tenantId === values.tenant);
  if (!tenant) throw new UsageError(`unknown tenant ${JSON.stringify(values.tenant)} (see tenants/)`);
  const track = TrackSchema.safeParse(values.track);
  if (!track.success) throw new UsageError('--track must be maternity or childcare');
  const audience = AudienceSchema.safeParse(values.audience);
  if (!audience.success) throw new UsageError('--audience must be parent or partner');
  if (!values.anchor) throw new UsageError('--anchor (due date or birthday) is required');
  const anchorDate = date(values.anchor, '--anchor');
  const today = date(values.date, '--date');
  const library = buildLibraryIndex(loadSampleLibrary().items);
  const texts = resolveSubscription(
    {
      tenantId: tenant.tenantId,
      readerKey: 'preview',
      subscriptionId: 'preview',
      channel: 'line',
      address: 'preview',
      track: track.data,
      anchorDate,
      audience: audience.data,
      nickname: values.nickname,
      status: 'active',
      registeredOn: today,
      familyId: 'preview',
      bucket: 0,
      version: 0,
    },
    today,
    { tenant, library },
  );
  process.stdout.write(`${tenant.name} · ${track.data} ${stageLabel(track.data, anchorDate, today)} on ${today}\n\n`);
  process.stdout.write(texts.length ? `${texts.join('\n\n---\n\n')}\n` : '(nothing is sent on this day)\n');
}

async function contentImport(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { table: { type: 'string' }, file: { type: 'string', default: 'content/sample-ja.json' } },
  });
  if (!values.table) throw new UsageError('--table is required (the Content table name from the stack outputs)');
  const library = ContentLibrarySchema.parse(JSON.parse(readFileSync(values.file, 'utf8')));
  const n = await writeLibrary(createDocumentClient(new DynamoDBClient({})), values.table, library);
  process.stdout.write(`imported ${n} items of library ${library.libraryId} into ${values.table}\n`);
}

async function report(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { table: { type: 'string' }, tenant: { type: 'string' }, date: { type: 'string' } },
  });
  if (!values.table || !values.tenant) throw new UsageError('--table and --tenant are required');
  const day = date(values.date, '--date');
  const shards = await new PlanRepository(createDocumentClient(new DynamoDBClient({})), values.table).listCounters(
    values.tenant,
    day,
  );
  process.stdout.write(
    `${JSON.stringify({ tenantId: values.tenant, date: day, shards: shards.length, ...shards.reduce(addCounters, zeroCounters()) }, null, 2)}\n`,
  );
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'local':
      return local(rest);
    case 'preview':
      return preview(rest);
    case 'content':
      if (rest[0] === 'import') return contentImport(rest.slice(1));
      throw new UsageError('content: the only subcommand is import');
    case 'report':
      return report(rest);
    case 'line':
      return (await import('./line')).lineCommand(rest);
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (
    err instanceof UsageError ||
    (err instanceof Error && err.name === 'LineCommandError') ||
    (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
  ) {
    process.stderr.write(`hagukumi: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`hagukumi: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
