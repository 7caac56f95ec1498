import * as fs from 'node:fs';
import { ContentLibrarySchema, type ContentLibrary } from '../schemas/content';
import { parse as parseCsv } from 'csv-parse/sync';
import { describeProblems, displayPath, readDataFile, unknownFields, type TenantFileProblem } from './tenants';

/** The same shape as a tenant file's problem: file, dotted field path (`items.12.day`), reason. */
export type ContentFileProblem = TenantFileProblem;

/** A content library file is unusable; the message has one line per problem: `<file>: <field>: <reason>`. */
export class InvalidContentFileError extends Error {
  override readonly name = 'InvalidContentFileError';
  constructor(
    readonly problems: readonly ContentFileProblem[],
    options?: { cause?: unknown },
  ) {
    super(describeProblems('Invalid content library', problems), options);
  }
}

/**
 * Reads and validates a content library file (what `content import` loads and the local stack seeds).
 * Every problem is reported at once, by file and field; nothing is written anywhere before this passes.
 */
export interface CsvLibraryMeta {
  libraryId?: string;
  notice?: string;
  sample?: boolean;
}

/**
 * Reads and validates a content library file (what `content import` loads and the local stack seeds): JSON or
 * YAML holding the whole library, or CSV with a header `track,day,audience,text` (audience may be left empty
 * for the parent) whose library id, notice and sample flag come from `meta`. Every problem is reported at
 * once, by file and field (`items.12.day`; for CSV also the line); nothing is written anywhere before this passes.
 */
export function loadContentLibraryFile(file: string, meta: CsvLibraryMeta = {}): ContentLibrary {
  const shown = displayPath(file);
  const csv = /\.csv$/i.test(file);
  let raw: unknown;
  if (csv) raw = readCsvLibrary(file, shown, meta);
  else {
    const read = readDataFile(file);
    if ('reason' in read)
      throw new InvalidContentFileError([
        { file: shown, field: '', reason: read.reason.replace(/^not valid/, 'not readable') },
      ]);
    raw = read.data;
  }
  const parsed = ContentLibrarySchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidContentFileError(
      parsed.error.issues.map((issue) => ({
        file: shown,
        field: issue.path.map(String).join('.'),
        reason:
          csv && issue.path[0] === 'items' ? `${issue.message} (line ${Number(issue.path[1]) + 2})` : issue.message,
      })),
      { cause: parsed.error },
    );
  }
  // zod drops unknown keys: a misspelt `audience` would silently send a partner's text to the parent.
  const unknown = unknownFields(raw, parsed.data);
  if (unknown.length > 0) {
    throw new InvalidContentFileError(unknown.map((field) => ({ file: shown, field, reason: 'unknown field' })));
  }
  return parsed.data;
}

const CSV_COLUMNS = ['track', 'day', 'audience', 'text'];

function readCsvLibrary(file: string, shown: string, meta: CsvLibraryMeta): unknown {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, bom: true, trim: false });
  } catch (cause) {
    throw new InvalidContentFileError(
      [{ file: shown, field: '', reason: `not readable CSV (${(cause as Error).message})` }],
      {
        cause,
      },
    );
  }
  const header = rows[0] ? Object.keys(rows[0]) : [];
  const unknownColumns = header.filter((c) => !CSV_COLUMNS.includes(c));
  if (unknownColumns.length > 0 || !header.includes('text'))
    throw new InvalidContentFileError([
      {
        file: shown,
        field: '',
        reason: `CSV columns must be ${CSV_COLUMNS.join(',')} (audience may be empty); found ${header.join(',') || 'none'}`,
      },
    ]);
  if (!meta.libraryId)
    throw new InvalidContentFileError([
      { file: shown, field: 'libraryId', reason: 'a CSV library needs --library ID' },
    ]);
  return {
    libraryId: meta.libraryId,
    sample: meta.sample ?? false,
    notice: meta.notice ?? `imported from ${shown}`,
    items: rows.map((r) => ({
      track: r.track,
      // A number where it reads as one, so a bad cell is reported as what it is ("abc" is not a number).
      day: /^\s*\d+\s*$/.test(r.day ?? '') ? Number(r.day) : r.day,
      ...(r.audience ? { audience: r.audience } : {}),
      text: r.text,
    })),
  };
}
