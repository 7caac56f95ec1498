import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compactRanges, coverage, diffLibraries, formatDiff } from '../../../bin/content';
import { versionId } from '../../../lambdas/adapters/content-writer';
import { InvalidContentFileError, loadContentLibraryFile } from '../../../lib/content-file';
import type { ContentItem } from '../../../schemas/content';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function file(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hagukumi-content-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
}
function problems(f: string, meta = {}): string[] {
  try {
    loadContentLibraryFile(f, meta);
  } catch (err) {
    if (err instanceof InvalidContentFileError) return err.problems.map((p) => `${p.field}: ${p.reason}`);
    throw err;
  }
  return [];
}

const item = (
  track: ContentItem['track'],
  day: number,
  text = `t${day}`,
  audience: ContentItem['audience'] = 'parent',
) => ({
  track,
  day,
  audience,
  text,
});

describe('content files in JSON, YAML and CSV', () => {
  const expected = {
    libraryId: 'town-lib',
    language: 'ja',
    sample: false,
    notice: 'town library',
    items: [item('maternity', 28, '{nickname}さん、こんにちは'), item('childcare', 3, 'パートナーの方へ', 'partner')],
  };

  it('reads the same library from each format', () => {
    const json = file('lib.json', JSON.stringify(expected));
    const yaml = file(
      'lib.yaml',
      `libraryId: town-lib\nsample: false\nnotice: town library\nitems:\n  - { track: maternity, day: 28, text: "{nickname}さん、こんにちは" }\n  - track: childcare\n    day: 3\n    audience: partner\n    text: パートナーの方へ\n`,
    );
    const csv = file(
      'lib.csv',
      `track,day,audience,text\nmaternity,28,,"{nickname}さん、こんにちは"\nchildcare,3,partner,パートナーの方へ\n`,
    );
    expect(loadContentLibraryFile(json)).toEqual(expected);
    expect(loadContentLibraryFile(yaml)).toEqual(expected);
    expect(loadContentLibraryFile(csv, { libraryId: 'town-lib', notice: 'town library' })).toEqual(expected);
  });

  it('names the field and the CSV line of every bad row at once', () => {
    const csv = file(
      'bad.csv',
      'track,day,audience,text\nmaternity,20,,早すぎ\nchildcare,abc,,x\nchildcare,4,grandparent,x\nmaternity,30,,{name}さん\nsupport,91,,x\n',
    );
    expect(problems(csv, { libraryId: 'town-lib' })).toEqual([
      'items.0.day: day 20 is outside the maternity track (28-293) (line 2)',
      'items.1.day: Invalid input: expected number, received string (line 3)',
      'items.2.audience: Invalid option: expected one of "parent"|"partner" (line 4)',
      'items.3.text: unknown placeholder {name} (known: {nickname}) (line 5)',
      'items.4.day: day 91 is outside the support track (0-90) (line 6)',
    ]);
  });

  it('refuses a CSV without the library id or with unknown columns', () => {
    expect(problems(file('a.csv', 'track,day,text\nmaternity,28,x\n'))).toEqual([
      'libraryId: a CSV library needs --library ID',
    ]);
    expect(problems(file('b.csv', 'track,day,text,colour\nmaternity,28,x,red\n'), { libraryId: 'x-lib' })).toEqual([
      ': CSV columns must be track,day,audience,text (audience may be empty); found track,day,text,colour',
    ]);
  });

  it('rejects a text too long for LINE once a nickname is filled in', () => {
    const long = file('long.json', JSON.stringify({ ...expected, items: [item('maternity', 28, 'あ'.repeat(4801))] }));
    expect(problems(long)).toEqual(['items.0.text: Too big: expected string to have <=4800 characters']);
  });
});

describe('coverage', () => {
  it('lists the empty daily slots per track and audience, and the longest gap after the daily range', () => {
    const items = [
      ...Array.from({ length: 266 }, (_, k) => item('maternity', 28 + k)).filter(
        (i) => ![30, 31, 32, 100].includes(i.day),
      ),
      item('maternity', 28, 'p', 'partner'),
      ...Array.from({ length: 101 }, (_, d) => item('childcare', d)),
      item('childcare', 110),
      item('childcare', 130),
    ];
    const rows = coverage(items);
    expect(rows.find((r) => r.track === 'maternity' && r.audience === 'parent')).toMatchObject({
      items: 262,
      emptyDaily: '30-32, 100',
      emptyDailyCount: 4,
    });
    expect(rows.find((r) => r.track === 'maternity' && r.audience === 'partner')).toMatchObject({
      items: 1,
      emptyDailyCount: 265,
      emptyDaily: '29-293',
    });
    // Days 101-109 (9), 111-129 (19), then 131 to the 3rd birthday (day 1096): 966.
    expect(rows.find((r) => r.track === 'childcare' && r.audience === 'parent')).toMatchObject({
      emptyDailyCount: 0,
      longestGapAfterDaily: 966,
    });
    expect(rows.some((r) => r.track === 'support')).toBe(false);
  });

  it('compacts consecutive days', () => {
    expect(compactRanges([1, 2, 3, 5, 7, 8])).toBe('1-3, 5, 7-8');
    expect(compactRanges([])).toBe('');
  });
});

describe('diff and version ids', () => {
  it('shows added, removed and changed slots', () => {
    const a = [item('maternity', 28, 'old'), item('maternity', 29, 'same'), item('childcare', 5, 'gone')];
    const b = [item('maternity', 29, 'same'), item('maternity', 28, 'new'), item('childcare', 6, 'added')];
    const d = diffLibraries(a, b);
    expect(d).toEqual({
      added: [item('childcare', 6, 'added')],
      removed: [item('childcare', 5, 'gone')],
      changed: [{ before: item('maternity', 28, 'old'), after: item('maternity', 28, 'new') }],
    });
    expect(formatDiff('A', 'B', d).split('\n')).toEqual([
      'A -> B: 1 added, 1 removed, 1 changed',
      '+ childcare/6/parent: added',
      '- childcare/5/parent: gone',
      '~ maternity/28/parent',
      '    was: old',
      '    now: new',
    ]);
  });

  it('names a version by its import time and content hash, sortable by time', () => {
    expect(versionId(new Date('2026-12-02T01:20:03.456Z'), 'abcdef0123456789')).toBe('20261202T012003Z-abcdef01');
  });
});
