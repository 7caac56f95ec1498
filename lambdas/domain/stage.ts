import { TRACK_DAYS, type IsoDate, type Track } from '../../schemas/common';
import { daysBetween, daysInMonth, formatIsoDate, isLeapYear, parseIsoDate } from './dates';

/** 4w0d: the first maternity slot. */
export const MATERNITY_FIRST_DAY = TRACK_DAYS.maternity.first;
/** 41w6d: the last maternity slot. */
export const MATERNITY_LAST_DAY = TRACK_DAYS.maternity.last;
/** Daily childcare messages run to this age in days, labelled by day; afterwards by years and months. */
export const CHILDCARE_DAILY_LAST_DAY = 100;
export const CHILDCARE_YEARS = 3;

/** Pregnancy day counted from the due date, which is day 280 (40w0d). */
export function gestationalDay(dueDate: IsoDate, today: IsoDate): number {
  return 280 - daysBetween(today, dueDate);
}

export function childAgeDays(birthday: IsoDate, today: IsoDate): number {
  return daysBetween(birthday, today);
}

/**
 * The birthday as celebrated in `year`. A Feb 29 birthday falls on Feb 28 in non-leap years, the day on which
 * the child has completed the year in Japanese practice.
 */
export function anniversary(birthday: IsoDate, year: number): IsoDate {
  const { month, day } = parseIsoDate(birthday);
  const celebratedDay = month === 2 && day === 29 && !isLeapYear(year) ? 28 : day;
  return formatIsoDate({ year, month, day: celebratedDay });
}

/** The 3rd birthday: the last day of the childcare track. */
export function childcareEndDate(birthday: IsoDate): IsoDate {
  return anniversary(birthday, parseIsoDate(birthday).year + CHILDCARE_YEARS);
}

export function isInChildcareRange(birthday: IsoDate, today: IsoDate): boolean {
  return today >= birthday && today <= childcareEndDate(birthday);
}

export function isInMaternityRange(dueDate: IsoDate, today: IsoDate): boolean {
  const day = gestationalDay(dueDate, today);
  return day >= MATERNITY_FIRST_DAY && day <= MATERNITY_LAST_DAY;
}

/** 1, 2 or 3 when today is that birthday; each is greeted exactly once. */
export function birthdayAge(birthday: IsoDate, today: IsoDate): 1 | 2 | 3 | undefined {
  const age = parseIsoDate(today).year - parseIsoDate(birthday).year;
  if (age !== 1 && age !== 2 && age !== 3) return undefined;
  return anniversary(birthday, parseIsoDate(today).year) === today ? age : undefined;
}

/** Completed calendar months since the birthday; a month ending before the birth day-of-month completes on its last day. */
function completedMonths(birthday: IsoDate, today: IsoDate): number {
  const b = parseIsoDate(birthday);
  const t = parseIsoDate(today);
  const months = (t.year - b.year) * 12 + (t.month - b.month);
  return t.day < Math.min(b.day, daysInMonth(t.year, t.month)) ? months - 1 : months;
}

/** The bereavement-support series runs for this many days after the loss was reported (day 0). */
export const SUPPORT_LAST_DAY = TRACK_DAYS.support.last;

export function isInSupportRange(reportedOn: IsoDate, today: IsoDate): boolean {
  const day = daysBetween(reportedOn, today);
  return day >= 0 && day <= SUPPORT_LAST_DAY;
}

/**
 * The track is over on `today`: after 41w6d (a birth not reported), after the 3rd birthday, after the support
 * series. Such a subscription is marked `ended` and leaves the index; its data is erased after retention.
 */
export function trackEnded(track: Track, anchorDate: IsoDate, today: IsoDate): boolean {
  switch (track) {
    case 'maternity':
      return gestationalDay(anchorDate, today) > MATERNITY_LAST_DAY;
    case 'childcare':
      return today > childcareEndDate(anchorDate);
    case 'support':
      return daysBetween(anchorDate, today) > SUPPORT_LAST_DAY;
  }
}

/** Human label of the stage for logs, previews and operators: `13w1d`, `day 45`, `1y2m`. */
export function stageLabel(track: Track, anchorDate: IsoDate, today: IsoDate): string {
  if (track === 'support') return `support day ${daysBetween(anchorDate, today)}`;
  if (track === 'maternity') {
    const day = gestationalDay(anchorDate, today);
    const weeks = Math.floor(day / 7);
    return `${weeks}w${day - weeks * 7}d`;
  }
  const ageDays = childAgeDays(anchorDate, today);
  if (ageDays <= CHILDCARE_DAILY_LAST_DAY) return `day ${ageDays}`;
  const months = completedMonths(anchorDate, today);
  return `${Math.floor(months / 12)}y${months % 12}m`;
}
