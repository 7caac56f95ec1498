// The oracle's own date arithmetic (calendar dates as UTC day numbers), written apart from lambdas/domain so that
// a mistake there cannot hide itself by agreeing with itself here.
import type { IsoDate } from '../../schemas/common';

const DAY_MS = 86_400_000;

export function dayNumber(date: IsoDate): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

export const fromDayNumber = (n: number): IsoDate => new Date(n * DAY_MS).toISOString().slice(0, 10);
export const addDays = (date: IsoDate, days: number): IsoDate => fromDayNumber(dayNumber(date) + days);
export const daysFromTo = (from: IsoDate, to: IsoDate): number => dayNumber(to) - dayNumber(from);

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** The birthday as kept in `year`: Feb 29 is kept on Feb 28 in common years. */
export function birthdayIn(birthday: IsoDate, year: number): IsoDate {
  const [, m, d] = birthday.split('-').map(Number) as [number, number, number];
  const day = m === 2 && d === 29 && !isLeap(year) ? 28 : d;
  return `${String(year).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Today in an IANA zone, from the wall clock: the only clock reading of a chaos run (its delivery date). */
export function todayIn(timeZone: string, now = new Date()): IsoDate {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
