import * as fs from 'node:fs';
import { ContentLibrarySchema, type ContentLibrary } from '../schemas/content';
import { describeProblems, displayPath, unknownFields, type TenantFileProblem } from './tenants';

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
export function loadContentLibraryFile(file: string): ContentLibrary {
  const shown = displayPath(file);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new InvalidContentFileError(
      [{ file: shown, field: '', reason: `not readable JSON (${(cause as Error).message})` }],
      {
        cause,
      },
    );
  }
  const parsed = ContentLibrarySchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidContentFileError(
      parsed.error.issues.map((issue) => ({
        file: shown,
        field: issue.path.map(String).join('.'),
        reason: issue.message,
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
