import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContentLibrarySchema, type ContentItem } from '../../../schemas/content';
import { buildSampleLibrary } from '../../../content/build-sample';

const JSON_PATH = join(__dirname, '..', '..', '..', 'content', 'sample-ja.json');
const raw: unknown = JSON.parse(readFileSync(JSON_PATH, 'utf8'));
const library = ContentLibrarySchema.parse(raw);
const items = library.items;

const MATERNITY_DAYS = Array.from({ length: 293 - 28 + 1 }, (_, i) => 28 + i);

/** The childcare cadence, written out independently of the builder. */
function expectedChildcareDays(): number[] {
  const days: number[] = [];
  for (let d = 0; d <= 100; d++) days.push(d);
  for (let d = 103; d <= 365; d += 3) days.push(d);
  for (let d = 372; d <= 730; d += 7) days.push(d);
  for (let d = 744; d <= 1094; d += 14) days.push(d);
  return days;
}
const CHILDCARE_DAYS = expectedChildcareDays();

function parentItems(track: ContentItem['track']): ContentItem[] {
  return items.filter((i) => i.track === track && i.audience === 'parent');
}

function countAt(track: ContentItem['track'], day: number, audience: ContentItem['audience']): number {
  return items.filter((i) => i.track === track && i.day === day && i.audience === audience).length;
}

describe('sample content library (content/sample-ja.json)', () => {
  it('validates against ContentLibrarySchema', () => {
    expect(ContentLibrarySchema.safeParse(raw).success).toBe(true);
  });

  it('is marked as sample text with the notice', () => {
    expect(library.libraryId).toBe('sample-ja');
    expect(library.language).toBe('ja');
    expect(library.sample).toBe(true);
    expect(library.notice).toContain('サンプル');
    expect(library.notice).toContain('医学的助言ではありません');
  });

  it('deep-equals buildSampleLibrary() (regenerate with `npx tsx content/build-sample.ts`)', () => {
    expect(raw).toEqual(buildSampleLibrary());
  });

  it('is sorted by track (maternity first), day, audience (parent first)', () => {
    const rank = (i: ContentItem) =>
      [{ maternity: 0, childcare: 1, support: 2 }[i.track], i.day, i.audience === 'parent' ? 0 : 1] as const;
    for (let n = 1; n < items.length; n++) {
      const [a, b] = [rank(items[n - 1]!), rank(items[n]!)];
      const cmp = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
      expect(cmp).toBeLessThan(0);
    }
  });

  it.each(MATERNITY_DAYS.map((day) => [`maternity day ${day}`, day] as const))(
    '%s has exactly one parent item',
    (_label, day) => {
      expect(countAt('maternity', day, 'parent')).toBe(1);
    },
  );

  it('has no maternity item outside days 28..293', () => {
    expect(items.filter((i) => i.track === 'maternity' && (i.day < 28 || i.day > 293))).toEqual([]);
  });

  it('has parent items on exactly the childcare cadence days', () => {
    const days = parentItems('childcare').map((i) => i.day);
    expect(days).toEqual(CHILDCARE_DAYS);
  });

  it.each([
    ['day 0 (birthday)', 0],
    ['day 6 (お七夜)', 6],
    ['day 30 (1か月健診)', 30],
    ['day 60 (予防接種)', 60],
    ['day 100 (お食い初め)', 100],
    ['first periodic day 103', 103],
    ['last 3-day step 364', 364],
    ['first weekly day 372', 372],
    ['last weekly day 729', 729],
    ['first fortnightly day 744', 744],
    ['last day 1094', 1094],
  ] as const)('childcare %s has exactly one parent item', (_label, day) => {
    expect(countAt('childcare', day, 'parent')).toBe(1);
  });

  it.each([
    ['day 101', 101],
    ['day 102', 102],
    ['day 366', 366],
    ['day 730', 730],
    ['day 731', 731],
    ['day 1095', 1095],
  ] as const)('childcare %s has no item', (_label, day) => {
    expect(items.filter((i) => i.track === 'childcare' && i.day === day)).toEqual([]);
  });

  it.each([
    ['お七夜', 6, 'お七夜'],
    ['1か月健診', 30, '1か月健診'],
    ['お宮参り', 30, 'お宮参り'],
    ['予防接種', 60, '予防接種'],
    ['お食い初め', 100, 'お食い初め'],
  ] as const)('childcare special day text mentions %s', (_label, day, word) => {
    const item = items.find((i) => i.track === 'childcare' && i.day === day && i.audience === 'parent');
    expect(item?.text).toContain(word);
  });

  it('has no empty text and none over 4,800 UTF-16 units', () => {
    for (const item of items) {
      expect(item.text.trim().length).toBeGreaterThan(0);
      expect(item.text.length).toBeLessThanOrEqual(4800);
    }
  });

  it.each([
    ['maternity parent', 'maternity', 'parent'],
    ['maternity partner', 'maternity', 'partner'],
    ['childcare parent', 'childcare', 'parent'],
    ['childcare partner', 'childcare', 'partner'],
  ] as const)('%s: no two consecutive items have identical text or body', (_label, track, audience) => {
    const list = items.filter((i) => i.track === track && i.audience === audience);
    expect(list.length).toBeGreaterThan(0);
    // The body is the text after the heading (e.g. 「妊娠4週1日。」), so the check is not satisfied by headings alone.
    const body = (text: string) => text.slice(text.indexOf('。') + 1);
    for (let n = 1; n < list.length; n++) {
      expect(list[n]!.text).not.toBe(list[n - 1]!.text);
      expect(body(list[n]!.text)).not.toBe(body(list[n - 1]!.text));
    }
  });

  it('uses {nickname} in at least 10% of parent items, on both tracks', () => {
    const parents = items.filter((i) => i.audience === 'parent');
    const withNickname = parents.filter((i) => i.text.includes('{nickname}'));
    expect(withNickname.length / parents.length).toBeGreaterThanOrEqual(0.1);
    expect(withNickname.some((i) => i.track === 'maternity')).toBe(true);
    expect(withNickname.some((i) => i.track === 'childcare')).toBe(true);
  });

  it('uses no placeholder other than {nickname}', () => {
    for (const item of items) {
      const others = (item.text.match(/\{[^}]*\}/g) ?? []).filter((p) => p !== '{nickname}');
      expect(others).toEqual([]);
      expect(item.text.replace(/\{nickname\}/g, '')).not.toMatch(/[{}]/);
    }
  });

  it('has partner items on both tracks, on the first day of each pregnancy week and weekly to day 100', () => {
    const partner = (track: ContentItem['track']) =>
      items.filter((i) => i.track === track && i.audience === 'partner').map((i) => i.day);
    expect(partner('maternity')).toEqual(MATERNITY_DAYS.filter((d) => d % 7 === 0));
    expect(partner('childcare')).toEqual(Array.from({ length: 15 }, (_, i) => i * 7));
    for (const item of items.filter((i) => i.audience === 'partner')) {
      expect(item.text).toContain('パートナーの方へ');
    }
  });

  it('has a short, sparse support series after a loss, without nickname or municipal wording', () => {
    const support = items.filter((i) => i.track === 'support');
    expect(support.map((i) => i.day)).toEqual([1, 3, 7, 14, 30, 60, 90]);
    for (const i of support) expect(i.text).not.toContain('{nickname}');
  });

  it('starts each message with its heading (the support series has none)', () => {
    for (const item of items) {
      if (item.track === 'support') {
        expect(item.text).not.toMatch(/^(妊娠|生後|[0-2]歳)/);
      } else if (item.track === 'maternity') {
        expect(item.text.startsWith(`妊娠${Math.floor(item.day / 7)}週${item.day % 7}日。`)).toBe(true);
      } else if (item.day <= 100) {
        expect(item.text.startsWith(`生後${item.day}日。`)).toBe(true);
      } else {
        expect(item.text).toMatch(/^[0-2]歳(?:[0-9]|1[01])か月。/);
      }
    }
  });
});
