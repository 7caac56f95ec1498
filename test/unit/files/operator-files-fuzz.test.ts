// Random mutations of valid operator files (tenant files, content library files): loading either succeeds or
// throws the project's named error, whose message names the file and a field at or near what was changed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { InvalidContentFileError, loadContentLibraryFile } from '../../../lib/content-file';
import { InvalidTenantFileError, loadTenants } from '../../../lib/tenants';

const ROOT = path.join(__dirname, '..', '..', '..');
const validTenant = JSON.parse(fs.readFileSync(path.join(ROOT, 'tenants', 'demo-minato.json'), 'utf8')) as Json;
const sampleLibrary = JSON.parse(fs.readFileSync(path.join(ROOT, 'content', 'sample-ja.json'), 'utf8')) as {
  items: Json[];
} & Record<string, Json>;
// A slice keeps each run fast; 40 items still have partner and parent slots and both tracks.
const validLibrary = { ...sampleLibrary, items: sampleLibrary.items.slice(0, 40) } as Json;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Segment = string | number;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hagukumi-fuzz-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every path into a JSON value, the root included. */
function paths(value: Json, prefix: Segment[] = []): Segment[][] {
  const here = [prefix];
  if (Array.isArray(value)) return here.concat(value.flatMap((v, i) => paths(v, [...prefix, i])));
  if (value !== null && typeof value === 'object')
    return here.concat(Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k])));
  return here;
}

function at(value: Json, p: Segment[]): Json {
  return p.reduce<Json>((v, s) => (v as Record<string, Json>)[s as string]!, value);
}

type Mutation =
  | { kind: 'replace'; path: Segment[]; value: Json }
  | { kind: 'delete'; path: Segment[] }
  | { kind: 'add'; path: Segment[]; key: string; value: Json }
  | { kind: 'text'; cut: number; insert: string };

function mutationOf(valid: Json): fc.Arbitrary<Mutation> {
  const all = paths(valid);
  const containers = all.filter((p) => {
    const v = at(valid, p);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  });
  const pathArb = fc.constantFrom(...all);
  return fc.oneof(
    fc.record({
      kind: fc.constant('replace' as const),
      path: pathArb,
      value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
    }),
    fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...all.filter((p) => p.length > 0)) }),
    fc.record({
      kind: fc.constant('add' as const),
      path: fc.constantFrom(...containers),
      key: fc.string({ minLength: 1, maxLength: 12 }),
      value: fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>,
    }),
    fc.record({ kind: fc.constant('text' as const), cut: fc.nat(), insert: fc.string({ maxLength: 4 }) }),
  );
}

/** The mutated file's text. */
function apply(valid: Json, m: Mutation): string {
  if (m.kind === 'text') {
    const text = JSON.stringify(valid, null, 2);
    const i = m.cut % (text.length + 1);
    return text.slice(0, i) + m.insert + text.slice(i + (m.insert.length === 0 ? 1 : 0));
  }
  const copy = structuredClone(valid);
  if (m.path.length === 0 && m.kind === 'replace') return JSON.stringify(m.value);
  const parentPath = m.kind === 'add' ? m.path : m.path.slice(0, -1);
  const parent = at(copy, parentPath) as Record<string, Json> & Json[];
  const last = m.path.at(-1)!;
  if (m.kind === 'replace') parent[last as string] = m.value;
  else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else Reflect.deleteProperty(parent, last);
  } else Object.defineProperty(parent, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  return JSON.stringify(copy, null, 2);
}

/** A problem's field is near the mutation when both lie under the same top-level field (cross-field rules). */
function nearMutation(field: string, m: Mutation): boolean {
  if (m.kind === 'text' || m.path.length === 0) return true;
  const top = String(m.path[0]);
  return field === top || field.startsWith(`${top}.`);
}

function checkRefusal(
  error: unknown,
  ErrorClass: typeof InvalidTenantFileError | typeof InvalidContentFileError,
  file: string,
  m: Mutation,
  text: string,
) {
  expect(error).toBeInstanceOf(ErrorClass);
  const { problems, message } = error as InvalidTenantFileError;
  expect(problems.length).toBeGreaterThan(0);
  for (const p of problems) {
    expect(p.file).toBe(file);
    expect(message).toContain(`${file}: ${p.field ? `${p.field}: ` : ''}${p.reason}`);
  }
  let parses = true;
  try {
    JSON.parse(text);
  } catch {
    parses = false;
  }
  if (!parses) {
    expect(problems).toEqual([expect.objectContaining({ field: '', reason: expect.stringMatching(/JSON/) })]);
  } else {
    // Only a file that is not an object at all has a problem with no field.
    const wholeFile = m.kind === 'replace' && m.path.length === 0;
    if (!wholeFile) expect(problems.every((p) => p.field !== '')).toBe(true);
    expect(problems.some((p) => nearMutation(p.field, m))).toBe(true);
  }
}

describe('tenant files under random mutation', () => {
  it('load, or fail with InvalidTenantFileError naming the file and the field', () => {
    const file = path.join(dir, 'tenants', 'demo-minato.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fc.assert(
      fc.property(mutationOf(validTenant), (m) => {
        const text = apply(validTenant, m);
        fs.writeFileSync(file, text);
        let error: unknown;
        try {
          loadTenants(path.dirname(file));
        } catch (e) {
          error = e;
        }
        if (error !== undefined) checkRefusal(error, InvalidTenantFileError, file, m, text);
      }),
      { numRuns: 400 },
    );
  });

  it('refuse a leaf of the wrong type at exactly its path', () => {
    const file = path.join(dir, 'typed', 'demo-minato.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const leaves = paths(validTenant).filter((p) => p.length > 0 && typeof at(validTenant, p) !== 'object');
    fc.assert(
      fc.property(fc.constantFrom(...leaves), (p) => {
        const original = at(validTenant, p);
        // A value of another JSON type: no field of a tenant file takes two types.
        const wrong: Json = typeof original === 'string' ? 7 : typeof original === 'number' ? 'seven' : 'yes';
        fs.writeFileSync(file, apply(validTenant, { kind: 'replace', path: p, value: wrong }));
        expect(() => loadTenants(path.dirname(file))).toThrow(InvalidTenantFileError);
        try {
          loadTenants(path.dirname(file));
        } catch (e) {
          expect((e as InvalidTenantFileError).message).toContain(`${file}: ${p.join('.')}: `);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('content library files under random mutation', () => {
  it('load, or fail with InvalidContentFileError naming the file and the field', () => {
    const file = path.join(dir, 'library.json');
    fc.assert(
      fc.property(mutationOf(validLibrary), (m) => {
        const text = apply(validLibrary, m);
        fs.writeFileSync(file, text);
        let error: unknown;
        try {
          loadContentLibraryFile(file);
        } catch (e) {
          error = e;
        }
        if (error !== undefined) checkRefusal(error, InvalidContentFileError, file, m, text);
      }),
      { numRuns: 400 },
    );
  });

  it('refuse a misspelt field instead of dropping it (its default would apply silently)', () => {
    const file = path.join(dir, 'misspelt.json');
    const { language, ...rest } = validLibrary as Record<string, Json>;
    fs.writeFileSync(file, JSON.stringify({ ...rest, langauge: language ?? 'en' }));
    expect(() => loadContentLibraryFile(file)).toThrow(`${file}: langauge: unknown field`);
  });

  it('refuse a file that is not there, naming it', () => {
    const missing = path.join(dir, 'nope.json');
    expect(() => loadContentLibraryFile(missing)).toThrow(InvalidContentFileError);
    expect(() => loadContentLibraryFile(missing)).toThrow(missing);
  });
});
