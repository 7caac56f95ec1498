// `hagukumi content ...`: versioned content libraries. An import validates every item, reports coverage, writes
// a new version and switches the live pointer; diff, activate (rollback) and versions work on what was imported.
// Against the running local stack (its endpoints.json) by default, against AWS with --table.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { TRACK_DAYS, type Audience, type Track } from '../schemas/common';
import type { ContentItem, ContentLibrary } from '../schemas/content';

export class ContentCommandError extends Error {
  override readonly name = 'ContentCommandError';
}

/** The days of a track on which every reader gets a library message (afterwards the cadence thins out). */
const DAILY_DAYS: Readonly<Record<Track, { first: number; last: number }>> = {
  maternity: TRACK_DAYS.maternity,
  childcare: { first: 0, last: 100 },
  // The support series is a few quiet messages over 90 days: no daily range, only the gaps.
  support: { first: 0, last: -1 },
};

export interface CoverageRow {
  track: Track;
  audience: Audience;
  items: number;
  /** Days of the daily range with no item, as compact ranges (`28-30, 45`). */
  emptyDaily: string;
  emptyDailyCount: number;
  /** After the daily range (childcare from day 101): the longest run of days without an item. */
  longestGapAfterDaily?: number;
}

/** `28-30, 45, 50-52`: consecutive days merged. */
export function compactRanges(days: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < days.length;) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j]! + 1) j++;
    parts.push(i === j ? `${days[i]}` : `${days[i]}-${days[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/**
 * Which slots of each track are empty, per audience. A partner's empty slot is not a silent day (partners get
 * the parent text there), so partner rows count what has a partner variant. Tracks without any item are left out.
 */
export function coverage(items: readonly ContentItem[]): CoverageRow[] {
  const rows: CoverageRow[] = [];
  for (const track of ['maternity', 'childcare', 'support'] as const) {
    for (const audience of ['parent', 'partner'] as const) {
      const days = new Set(items.filter((i) => i.track === track && i.audience === audience).map((i) => i.day));
      if (days.size === 0 && (audience === 'partner' || !items.some((i) => i.track === track))) continue;
      const { first, last } = DAILY_DAYS[track];
      const empty: number[] = [];
      for (let d = first; d <= last; d++) if (!days.has(d)) empty.push(d);
      const row: CoverageRow = {
        track,
        audience,
        items: days.size,
        emptyDaily: compactRanges(empty),
        emptyDailyCount: empty.length,
      };
      if (last < TRACK_DAYS[track].last) {
        const after = [...days].filter((d) => d > last).sort((a, b) => a - b);
        let gap = 0;
        let prev = last;
        for (const d of [...after, TRACK_DAYS[track].last + 1]) {
          gap = Math.max(gap, d - prev - 1);
          prev = d;
        }
        row.longestGapAfterDaily = gap;
      }
      rows.push(row);
    }
  }
  return rows;
}

export function formatCoverage(library: ContentLibrary): string {
  const lines = [`coverage of ${library.libraryId} (${library.items.length} items):`];
  for (const r of coverage(library.items)) {
    const { first, last } = DAILY_DAYS[r.track];
    const daily =
      last < first
        ? 'not daily'
        : r.emptyDailyCount === 0
          ? `every day ${first}-${last} filled`
          : `${r.emptyDailyCount} of days ${first}-${last} empty${r.audience === 'partner' ? ' (partners get the parent text there)' : ''}: ${r.emptyDaily}`;
    const after =
      r.longestGapAfterDaily !== undefined
        ? `; after day ${last} the longest gap is ${r.longestGapAfterDaily} days`
        : '';
    lines.push(`  ${r.track} ${r.audience}: ${r.items} items, ${daily}${after}`);
  }
  return lines.join('\n');
}

export interface LibraryDiff {
  added: ContentItem[];
  removed: ContentItem[];
  changed: { before: ContentItem; after: ContentItem }[];
}

const slot = (i: ContentItem) => `${i.track}/${i.day}/${i.audience}`;

/** What changes from `a` to `b`, slot by slot (track, day, audience), in slot order. */
export function diffLibraries(a: readonly ContentItem[], b: readonly ContentItem[]): LibraryDiff {
  const before = new Map(a.map((i) => [slot(i), i]));
  const after = new Map(b.map((i) => [slot(i), i]));
  const order = (x: ContentItem, y: ContentItem) =>
    x.track.localeCompare(y.track) || x.day - y.day || x.audience.localeCompare(y.audience);
  return {
    added: b.filter((i) => !before.has(slot(i))).sort(order),
    removed: a.filter((i) => !after.has(slot(i))).sort(order),
    changed: b
      .filter((i) => before.has(slot(i)) && before.get(slot(i))!.text !== i.text)
      .sort(order)
      .map((i) => ({ before: before.get(slot(i))!, after: i })),
  };
}

export function formatDiff(a: string, b: string, d: LibraryDiff): string {
  const one = (line: string) => (line.length > 100 ? `${line.slice(0, 99)}…` : line).replace(/\n/g, ' ');
  const lines = [
    `${a} -> ${b}: ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed`,
    ...d.added.map((i) => `+ ${slot(i)}: ${one(i.text)}`),
    ...d.removed.map((i) => `- ${slot(i)}: ${one(i.text)}`),
    ...d.changed.flatMap(({ before, after }) => [
      `~ ${slot(after)}`,
      `    was: ${one(before.text)}`,
      `    now: ${one(after.text)}`,
    ]),
  ];
  return lines.join('\n');
}

interface Target {
  db: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient;
  table: string;
  where: string;
}

async function target(o: { table?: string; local?: boolean }, state: string): Promise<Target> {
  if (o.local && o.table) throw new ContentCommandError('--local is the local stack, --table a deployed one: give one');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createDocumentClient } = await import('../lambdas/adapters/dynamo-client');
  if (o.table) return { db: createDocumentClient(new DynamoDBClient({})), table: o.table, where: `table ${o.table}` };
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
      table: local.tables.content,
      where: `the local stack's table ${local.tables.content}`,
    };
  } catch (err) {
    if (err instanceof LocalStackNotRunningError && !o.local)
      throw new ContentCommandError(
        `${err.message}; for a deployed stack give --table CONTENT_TABLE (the stack output) with your AWS credentials`,
      );
    throw err;
  }
}

/** A progress bar on a terminal (stderr), nothing otherwise, so scripts and logs stay clean. */
async function progressBar(what: string): Promise<{ update: (n: number, total: number) => void; stop: () => void }> {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    { format: `${what} [{bar}] {value}/{total} items`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update: (n, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(n);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export interface ContentCommandsContext {
  state: (cmd: Command) => string;
  awsCall: <T>(call: () => Promise<T>, what: string) => Promise<T>;
}

const targetOptions = (cmd: Command) =>
  cmd
    .option('--table <name>', 'the Content table of a deployed stack (stack output; uses your AWS credentials)')
    .option('--local', 'the running local stack (found from its endpoints.json); the default without --table');

const versionArg = (value: string) => {
  if (!/^[0-9TZ]{16}-[0-9a-f]{8}$|^unversioned$/.test(value))
    throw new InvalidArgumentError('expected a version as content versions lists it (e.g. 20261202T012000Z-3fa2c1d0)');
  return value;
};

export function addContentCommands(program: Command, ctx: ContentCommandsContext): void {
  const content = program.command('content').description('content libraries: versioned imports, diff, rollback');

  targetOptions(
    content
      .command('import')
      .description(
        'validate a library file (JSON, YAML or CSV), print its coverage, write it as a new version and make that live',
      )
      .argument('[file]', 'the library file', 'content/sample-ja.json')
      .option('--file <file>', 'the library file (the same as the argument; kept for older scripts)')
      .option('--library <id>', 'library id of a CSV file (JSON and YAML name their own)')
      .option('--notice <text>', 'notice of a CSV library')
      .option('--sample', 'mark a CSV library as sample text')
      .option('--check', 'validate and print the coverage only; write nothing'),
  ).action(
    async (
      file: string,
      o: {
        file?: string;
        library?: string;
        notice?: string;
        sample?: boolean;
        check?: boolean;
        table?: string;
        local?: boolean;
      },
      cmd: Command,
    ) => {
      const { loadContentLibraryFile } = await import('../lib/content-file');
      const { displayPath } = await import('../lib/tenants');
      const path = o.file ?? file;
      // Validated before anything is written: InvalidContentFileError names the file and every bad field.
      const library = loadContentLibraryFile(path, { libraryId: o.library, notice: o.notice, sample: o.sample });
      process.stdout.write(`${formatCoverage(library)}\n`);
      if (o.check) return;
      const t = await target(o, ctx.state(cmd));
      const { importLibraryVersion } = await import('../lambdas/adapters/content-writer');
      const bar = await progressBar(`importing ${library.libraryId}`);
      try {
        const { version, previous } = await ctx.awsCall(
          () => importLibraryVersion(t.db, t.table, library, { source: displayPath(path), onProgress: bar.update }),
          t.where,
        );
        bar.stop();
        process.stdout.write(
          `imported ${library.items.length} items of ${library.libraryId} as version ${version} into ${t.where}; live now (was ${previous ?? 'unversioned'})\n` +
            `a delivery already running keeps the version its day started with; roll back with: content activate ${previous ?? '<version>'} --library ${library.libraryId}\n`,
        );
      } finally {
        bar.stop();
      }
    },
  );

  targetOptions(
    content
      .command('versions')
      .description("a library's imported versions, oldest first, the live one marked")
      .requiredOption('--library <id>', 'library id'),
  ).action(async (o: { library: string; table?: string; local?: boolean }, cmd: Command) => {
    const t = await target(o, ctx.state(cmd));
    const { listVersions } = await import('../lambdas/adapters/content-writer');
    const versions = await ctx.awsCall(() => listVersions(t.db, t.table, o.library), t.where);
    if (versions.length === 0) {
      process.stdout.write(`no imported versions of ${o.library} in ${t.where}\n`);
      return;
    }
    for (const v of versions)
      process.stdout.write(
        `${v.live ? '*' : ' '} ${v.version}  ${v.importedAt}  ${v.items} items${v.source ? `  from ${v.source}` : ''}\n`,
      );
  });

  targetOptions(
    content
      .command('activate')
      .description('make an imported version live again (rollback); deliveries already running keep theirs')
      .argument('<version>', 'a version from content versions', versionArg)
      .requiredOption('--library <id>', 'library id'),
  ).action(async (version: string, o: { library: string; table?: string; local?: boolean }, cmd: Command) => {
    const t = await target(o, ctx.state(cmd));
    const { activateVersion } = await import('../lambdas/adapters/content-writer');
    const { previous } = await ctx.awsCall(() => activateVersion(t.db, t.table, o.library, version), t.where);
    process.stdout.write(`${o.library}: ${version} is live (was ${previous ?? 'unversioned'})\n`);
  });

  targetOptions(
    content
      .command('diff')
      .description('what changes between two versions, slot by slot')
      .argument('<a>', 'the older version', versionArg)
      .argument('<b>', 'the newer version', versionArg)
      .requiredOption('--library <id>', 'library id')
      .addOption(new Option('--json', 'the difference as JSON')),
  ).action(
    async (
      a: string,
      b: string,
      o: { library: string; json?: boolean; table?: string; local?: boolean },
      cmd: Command,
    ) => {
      const t = await target(o, ctx.state(cmd));
      const { ContentRepository } = await import('../lambdas/adapters/content-repository');
      const { listVersions } = await import('../lambdas/adapters/content-writer');
      const repo = new ContentRepository(t.db, t.table, { cacheTtlMs: 0 });
      const known = new Set(
        (await ctx.awsCall(() => listVersions(t.db, t.table, o.library), t.where)).map((v) => v.version),
      );
      for (const v of [a, b])
        if (v !== 'unversioned' && !known.has(v))
          throw new ContentCommandError(`library ${o.library} has no version ${v} (see content versions)`);
      const [before, after] = await Promise.all([
        repo.getLibraryVersion(o.library, a),
        repo.getLibraryVersion(o.library, b),
      ]);
      const d = diffLibraries(before, after);
      process.stdout.write(o.json ? `${JSON.stringify(d, null, 2)}\n` : `${formatDiff(a, b, d)}\n`);
    },
  );
}
