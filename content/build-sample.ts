/**
 * Builds the hagukumi sample content library (`sample-ja`) from the hand-written texts in `content/sample-ja/`.
 * Run directly (`npx tsx content/build-sample.ts`) to write `content/sample-ja.json`, which the runtime reads.
 * Sample text written for this project: not medical advice.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContentItem, ContentLibrary } from '../schemas/content';
import { MATERNITY_WEEK_THEMES_EARLY } from './sample-ja/maternity-weeks-early';
import { MATERNITY_WEEK_THEMES_MID } from './sample-ja/maternity-weeks-mid';
import { MATERNITY_WEEK_THEMES_LATE } from './sample-ja/maternity-weeks-late';
import { MATERNITY_TIPS_EARLY, MATERNITY_TIPS_MID, MATERNITY_TIPS_LATE } from './sample-ja/maternity-tips';
import { MATERNITY_PARTNER_BY_WEEK } from './sample-ja/maternity-partner';
import { CHILDCARE_PARTNER_BY_DAY, CHILDCARE_SPECIAL_DAYS, CHILDCARE_WEEK_THEMES } from './sample-ja/childcare-newborn';
import { NEWBORN_TIPS_EARLY, NEWBORN_TIPS_LATE } from './sample-ja/childcare-newborn-tips';
import { CHILDCARE_MONTH_THEMES } from './sample-ja/childcare-months';
import { SUPPORT_BY_DAY } from './sample-ja/support';
import { INFANT_TIPS_3_5, INFANT_TIPS_6_11, TODDLER_TIPS_12_23, TODDLER_TIPS_24_35 } from './sample-ja/childcare-tips';

export const SAMPLE_NOTICE =
  'このメッセージはhagukumiのサンプル文です。医学的助言ではありません。気になることは医師・助産師・保健センターにご相談ください。';

/** Gestational days with a daily maternity message: 4w0d .. 41w6d. */
export const MATERNITY_FIRST_DAY = 28;
export const MATERNITY_LAST_DAY = 293;

/** Deterministic pick: walks the pool with a step coprime to its length, so neighbours never repeat. */
export function pick(pool: readonly string[], k: number): string {
  if (pool.length === 0) throw new Error('empty pool');
  let step = 7;
  while (gcd(step, pool.length) !== 1) step += 1;
  const text = pool[(k * step) % pool.length];
  if (text === undefined) throw new Error('pool index out of range');
  return text;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing sample text: ${what}`);
  return value;
}

const MATERNITY_THEMES: Readonly<Record<number, string>> = {
  ...MATERNITY_WEEK_THEMES_EARLY,
  ...MATERNITY_WEEK_THEMES_MID,
  ...MATERNITY_WEEK_THEMES_LATE,
};

function maternityTipPool(week: number): { pool: readonly string[]; firstWeek: number } {
  if (week <= 15) return { pool: MATERNITY_TIPS_EARLY, firstWeek: 4 };
  if (week <= 27) return { pool: MATERNITY_TIPS_MID, firstWeek: 16 };
  return { pool: MATERNITY_TIPS_LATE, firstWeek: 28 };
}

export function buildMaternityItems(): ContentItem[] {
  const items: ContentItem[] = [];
  for (let day = MATERNITY_FIRST_DAY; day <= MATERNITY_LAST_DAY; day++) {
    const week = Math.floor(day / 7);
    const dow = day % 7;
    const heading = `妊娠${week}週${dow}日。`;
    let body: string;
    if (dow === 0) {
      body = required(MATERNITY_THEMES[week], `maternity theme week ${week}`);
    } else {
      const { pool, firstWeek } = maternityTipPool(week);
      body = pick(pool, (week - firstWeek) * 6 + (dow - 1));
    }
    items.push({ track: 'maternity', day, audience: 'parent', text: heading + body });
    if (dow === 0) {
      const partner = required(MATERNITY_PARTNER_BY_WEEK[week], `maternity partner week ${week}`);
      items.push({ track: 'maternity', day, audience: 'partner', text: `${heading}パートナーの方へ。${partner}` });
    }
  }
  return items;
}

/**
 * Childcare days with a library message: daily for days 0..100, then every 3 days to day 365,
 * every 7 days to day 730 and every 14 days to day 1094 (the day before the 3rd birthday).
 */
export function isChildcareDay(day: number): boolean {
  if (!Number.isInteger(day) || day < 0) return false;
  if (day <= 100) return true;
  if (day <= 365) return (day - 100) % 3 === 0;
  if (day <= 730) return (day - 365) % 7 === 0;
  if (day <= 1094) return (day - 730) % 14 === 0;
  return false;
}

/** Days of childcare partner messages: every 7 days from the birthday up to day 100. */
export function isChildcarePartnerDay(day: number): boolean {
  return Number.isInteger(day) && day >= 0 && day <= 100 && day % 7 === 0;
}

/** Whole months of age for a day number (average month length), used for headings after day 100. */
export function ageInMonths(day: number): number {
  return Math.floor((day * 12) / 365.25);
}

function childcarePeriodicPool(month: number): readonly string[] {
  if (month <= 5) return INFANT_TIPS_3_5;
  if (month <= 11) return INFANT_TIPS_6_11;
  if (month <= 23) return TODDLER_TIPS_12_23;
  return TODDLER_TIPS_24_35;
}

export function buildChildcareItems(): ContentItem[] {
  const items: ContentItem[] = [];
  const counters = new Map<readonly string[], number>();
  const nextTip = (pool: readonly string[]): string => {
    const k = counters.get(pool) ?? 0;
    counters.set(pool, k + 1);
    return pick(pool, k);
  };
  const monthsWithTheme = new Set<number>();
  for (let day = 0; day <= 1094; day++) {
    if (!isChildcareDay(day)) continue;
    let text: string;
    if (day <= 100) {
      const heading = `生後${day}日。`;
      const special = CHILDCARE_SPECIAL_DAYS[day];
      let body: string;
      if (special !== undefined) body = special;
      else if (day % 7 === 0) body = required(CHILDCARE_WEEK_THEMES[day / 7], `childcare theme week ${day / 7}`);
      else body = nextTip(day <= 49 ? NEWBORN_TIPS_EARLY : NEWBORN_TIPS_LATE);
      text = heading + body;
    } else {
      const month = ageInMonths(day);
      const heading = `${Math.floor(month / 12)}歳${month % 12}か月。`;
      let body: string;
      if (!monthsWithTheme.has(month)) {
        monthsWithTheme.add(month);
        body = required(CHILDCARE_MONTH_THEMES[month], `childcare theme month ${month}`);
      } else {
        body = nextTip(childcarePeriodicPool(month));
      }
      text = heading + body;
    }
    items.push({ track: 'childcare', day, audience: 'parent', text });
    if (isChildcarePartnerDay(day)) {
      const partner = required(CHILDCARE_PARTNER_BY_DAY[day], `childcare partner day ${day}`);
      items.push({ track: 'childcare', day, audience: 'partner', text: `生後${day}日。パートナーの方へ。${partner}` });
    }
  }
  return items;
}

/** The bereavement-support series: a few quiet messages after a loss; no nickname, no headings. */
export function buildSupportItems(): ContentItem[] {
  return Object.entries(SUPPORT_BY_DAY).map(([day, text]) => ({
    track: 'support',
    day: Number(day),
    audience: 'parent',
    text,
  }));
}

const TRACK_ORDER = { maternity: 0, childcare: 1, support: 2 } as const;
const AUDIENCE_ORDER = { parent: 0, partner: 1 } as const;

export function buildSampleLibrary(): ContentLibrary {
  const items = [...buildMaternityItems(), ...buildChildcareItems(), ...buildSupportItems()].sort(
    (a, b) =>
      TRACK_ORDER[a.track] - TRACK_ORDER[b.track] ||
      a.day - b.day ||
      AUDIENCE_ORDER[a.audience] - AUDIENCE_ORDER[b.audience],
  );
  return { libraryId: 'sample-ja', language: 'ja', sample: true, notice: SAMPLE_NOTICE, items };
}

export function writeSampleLibrary(file = join(__dirname, 'sample-ja.json')): ContentLibrary {
  const library = buildSampleLibrary();
  writeFileSync(file, `${JSON.stringify(library, null, 2)}\n`, 'utf8');
  return library;
}

if (require.main === module) {
  const library = writeSampleLibrary();
  console.log(`wrote ${library.items.length} items to content/sample-ja.json`);
}
