import type { IsoDate } from '../../schemas/common';

export class InvalidDateError extends Error {
  override readonly name = 'InvalidDateError';
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

export function parseIsoDate(date: IsoDate): CivilDate {
  const match = ISO_DATE.exec(date);
  if (!match) throw new InvalidDateError(`not a date as YYYY-MM-DD: ${JSON.stringify(date)}`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new InvalidDateError(`not a real calendar date: ${date}`);
  }
  return { year, month, day };
}

export function formatIsoDate({ year, month, day }: CivilDate): IsoDate {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

// Integer day arithmetic (H. Hinnant's days_from_civil) instead of Date: no time zone or DST can leak in,
// and it is several times faster than constructing Dates for every subscription of a shard.
function epochDay({ year, month, day }: CivilDate): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromEpochDay(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** `to - from` in whole calendar days. */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return epochDay(parseIsoDate(to)) - epochDay(parseIsoDate(from));
}

export function addDays(date: IsoDate, n: number): IsoDate {
  if (!Number.isInteger(n)) throw new InvalidDateError(`can only add whole days, got ${n}`);
  return formatIsoDate(civilFromEpochDay(epochDay(parseIsoDate(date)) + n));
}

// Building an Intl.DateTimeFormat costs far more than formatting with one; zones are few.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    } catch (cause) {
      throw new InvalidDateError(`unknown IANA time zone: ${timeZone}`, { cause });
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The calendar date at `instant` in the IANA zone `timeZone`. */
export function localDate(instant: Date, timeZone: string): IsoDate {
  if (Number.isNaN(instant.getTime())) throw new InvalidDateError('invalid instant');
  const parts = formatterFor(timeZone).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  return formatIsoDate({ year: part('year'), month: part('month'), day: part('day') });
}
