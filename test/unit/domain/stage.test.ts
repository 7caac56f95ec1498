import fc from 'fast-check';
import { addDays } from '../../../lambdas/domain/dates';
import {
  anniversary,
  birthdayAge,
  childAgeDays,
  childcareEndDate,
  gestationalDay,
  MATERNITY_FIRST_DAY,
  MATERNITY_LAST_DAY,
  stageLabel,
} from '../../../lambdas/domain/stage';

describe('gestationalDay', () => {
  it.each([
    { label: 'due date today is day 280 (40w0d)', dueDate: '2026-12-08', today: '2026-12-08', want: 280 },
    { label: '4w0d, the first slot', dueDate: '2026-12-08', today: '2026-03-31', want: MATERNITY_FIRST_DAY },
    { label: 'the day before the first slot', dueDate: '2026-12-08', today: '2026-03-30', want: 27 },
    { label: '41w6d, the last slot', dueDate: '2026-12-08', today: '2026-12-21', want: MATERNITY_LAST_DAY },
    { label: 'one past the last slot', dueDate: '2026-12-08', today: '2026-12-22', want: 294 },
    { label: 'day 0 is 280 days before the due date', dueDate: '2026-12-08', today: '2026-03-03', want: 0 },
    { label: 'across a leap day', dueDate: '2028-03-10', today: '2028-02-28', want: 269 },
  ])('$label', ({ dueDate, today, want }) => {
    expect(gestationalDay(dueDate, today)).toBe(want);
  });
});

describe('childAgeDays', () => {
  it.each([
    { label: 'the birthday is day 0', birthday: '2026-06-15', today: '2026-06-15', want: 0 },
    { label: 'day 100', birthday: '2026-06-15', today: '2026-09-23', want: 100 },
    { label: 'before birth is negative', birthday: '2026-06-15', today: '2026-06-14', want: -1 },
    { label: 'the 3rd birthday over a leap year', birthday: '2026-06-15', today: '2029-06-15', want: 1096 },
  ])('$label', ({ birthday, today, want }) => {
    expect(childAgeDays(birthday, today)).toBe(want);
  });
});

describe('stageLabel', () => {
  it.each([
    { label: 'maternity 4w0d', track: 'maternity', anchor: '2026-12-08', today: '2026-03-31', want: '4w0d' },
    { label: 'maternity 4w1d', track: 'maternity', anchor: '2026-12-08', today: '2026-04-01', want: '4w1d' },
    { label: 'maternity 13w1d', track: 'maternity', anchor: '2026-12-08', today: '2026-06-03', want: '13w1d' },
    { label: 'maternity due date 40w0d', track: 'maternity', anchor: '2026-12-08', today: '2026-12-08', want: '40w0d' },
    { label: 'maternity 41w6d', track: 'maternity', anchor: '2026-12-08', today: '2026-12-21', want: '41w6d' },
    {
      label: 'maternity out of range still labelled',
      track: 'maternity',
      anchor: '2026-12-08',
      today: '2026-03-30',
      want: '3w6d',
    },
    {
      label: 'maternity past the last slot',
      track: 'maternity',
      anchor: '2026-12-08',
      today: '2026-12-22',
      want: '42w0d',
    },
    { label: 'childcare birthday', track: 'childcare', anchor: '2026-06-15', today: '2026-06-15', want: 'day 0' },
    { label: 'childcare day 45', track: 'childcare', anchor: '2026-06-15', today: '2026-07-30', want: 'day 45' },
    { label: 'childcare day 100', track: 'childcare', anchor: '2026-06-15', today: '2026-09-23', want: 'day 100' },
    {
      label: 'childcare day 101 in months',
      track: 'childcare',
      anchor: '2026-06-15',
      today: '2026-09-24',
      want: '0y3m',
    },
    { label: 'childcare 0y4m on the day', track: 'childcare', anchor: '2026-06-15', today: '2026-10-15', want: '0y4m' },
    {
      label: 'childcare still 0y4m the day before 5m',
      track: 'childcare',
      anchor: '2026-06-15',
      today: '2026-11-14',
      want: '0y4m',
    },
    { label: 'childcare 1y2m', track: 'childcare', anchor: '2026-06-15', today: '2027-08-20', want: '1y2m' },
    { label: 'childcare 2y11m', track: 'childcare', anchor: '2026-06-15', today: '2029-06-14', want: '2y11m' },
    { label: 'childcare 3rd birthday', track: 'childcare', anchor: '2026-06-15', today: '2029-06-15', want: '3y0m' },
    {
      label: 'month-end birthday completes on a shorter month end',
      track: 'childcare',
      anchor: '2026-10-31',
      today: '2027-02-28',
      want: '0y4m',
    },
    {
      label: 'leap-day birthday is 1y0m on Feb 28',
      track: 'childcare',
      anchor: '2028-02-29',
      today: '2029-02-28',
      want: '1y0m',
    },
    {
      label: 'before birth still labelled',
      track: 'childcare',
      anchor: '2026-06-15',
      today: '2026-06-12',
      want: 'day -3',
    },
  ] as const)('$label', ({ track, anchor, today, want }) => {
    expect(stageLabel(track, anchor, today)).toBe(want);
  });
});

describe('birthdayAge', () => {
  it.each([
    { label: 'the day of birth is no birthday', birthday: '2026-06-15', today: '2026-06-15', want: undefined },
    { label: '1st birthday', birthday: '2026-06-15', today: '2027-06-15', want: 1 },
    { label: 'day after the 1st birthday', birthday: '2026-06-15', today: '2027-06-16', want: undefined },
    { label: '2nd birthday', birthday: '2026-06-15', today: '2028-06-15', want: 2 },
    { label: '3rd birthday', birthday: '2026-06-15', today: '2029-06-15', want: 3 },
    { label: '4th birthday is out of the track', birthday: '2026-06-15', today: '2030-06-15', want: undefined },
    { label: 'Feb 29 birthday greeted on Feb 28 2027', birthday: '2024-02-29', today: '2027-02-28', want: 3 },
    {
      label: 'Feb 29 birthday: the 4th, Feb 29 2032, is past the track',
      birthday: '2028-02-29',
      today: '2032-02-29',
      want: undefined,
    },
    { label: 'Feb 29 birthday: 1st on Feb 28 2029', birthday: '2028-02-29', today: '2029-02-28', want: 1 },
    { label: 'Feb 29 birthday: not Mar 1 2029', birthday: '2028-02-29', today: '2029-03-01', want: undefined },
    {
      label: 'Feb 29 2024 birthday: 2nd not on Feb 27 2026',
      birthday: '2024-02-29',
      today: '2026-02-27',
      want: undefined,
    },
    { label: 'Feb 28 birthday in a leap year stays Feb 28', birthday: '2027-02-28', today: '2028-02-28', want: 1 },
    { label: 'Feb 28 birthday: not on Feb 29', birthday: '2027-02-28', today: '2028-02-29', want: undefined },
    { label: 'Dec 31 birthday on Jan 1 is nothing', birthday: '2026-12-31', today: '2028-01-01', want: undefined },
  ])('$label', ({ birthday, today, want }) => {
    expect(birthdayAge(birthday, today)).toBe(want);
  });

  it.each([
    { label: 'born Feb 29 2024: Feb 28 2025 (non-leap)', birthday: '2024-02-29', year: 2025, want: ['2025-02-28'] },
    { label: 'born Feb 29 2024: Feb 28 2027 (non-leap)', birthday: '2024-02-29', year: 2027, want: ['2027-02-28'] },
    { label: 'born Feb 29 2028: Feb 29 2032 is past the track', birthday: '2028-02-29', year: 2032, want: [] },
    { label: 'born Feb 29 2024: Feb 29 2028 is past the track', birthday: '2024-02-29', year: 2028, want: [] },
    { label: 'born Feb 29 2028: Feb 28 2031 (non-leap)', birthday: '2028-02-29', year: 2031, want: ['2031-02-28'] },
    {
      label: 'born Feb 28 2027: Feb 28 2028 only, not Feb 29',
      birthday: '2027-02-28',
      year: 2028,
      want: ['2028-02-28'],
    },
  ])('greets exactly once a year: $label', ({ birthday, year, want }) => {
    const days: string[] = [];
    for (let d = `${year}-01-01`; d <= `${year}-12-31`; d = addDays(d, 1)) {
      if (birthdayAge(birthday, d) !== undefined) days.push(d);
    }
    expect(days).toEqual(want);
  });
});

// A child born on Feb 29 has its 1st-3rd birthdays in non-leap years only, so the leap-year half of the rule
// (Feb 29, and not Feb 28 as well) shows in the anniversary itself.
describe('anniversary', () => {
  it.each([
    {
      label: 'Feb 29 birthday in a non-leap year: Feb 28 2027',
      birthday: '2024-02-29',
      year: 2027,
      want: '2027-02-28',
    },
    { label: 'Feb 29 birthday in a leap year: Feb 29 2028', birthday: '2024-02-29', year: 2028, want: '2028-02-29' },
    { label: 'Feb 29 birthday in 2100 (not leap): Feb 28', birthday: '2096-02-29', year: 2100, want: '2100-02-28' },
    { label: 'Feb 28 birthday in a leap year stays Feb 28', birthday: '2027-02-28', year: 2028, want: '2028-02-28' },
    { label: 'Mar 1 birthday stays Mar 1', birthday: '2027-03-01', year: 2028, want: '2028-03-01' },
  ])('$label', ({ birthday, year, want }) => {
    expect(anniversary(birthday, year)).toBe(want);
  });
});

describe('childcareEndDate', () => {
  it.each([
    { label: 'plain birthday', birthday: '2026-06-15', want: '2029-06-15' },
    { label: 'Feb 29 birthday, non-leap 3rd birthday', birthday: '2024-02-29', want: '2027-02-28' },
    { label: 'Dec 31 birthday', birthday: '2026-12-31', want: '2029-12-31' },
  ])('$label', ({ birthday, want }) => {
    expect(childcareEndDate(birthday)).toBe(want);
  });
});

describe('properties', () => {
  const isoDate = fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));

  it('every birthday is greeted exactly three times, once per year of the track', () => {
    fc.assert(
      fc.property(isoDate, (birthday) => {
        const greeted: number[] = [];
        for (let d = birthday; d <= childcareEndDate(birthday); d = addDays(d, 1)) {
          const age = birthdayAge(birthday, d);
          if (age !== undefined) greeted.push(age);
        }
        expect(greeted).toEqual([1, 2, 3]);
      }),
      { numRuns: 30 },
    );
  });

  it('the gestational day moves with today, one a day', () => {
    fc.assert(
      fc.property(isoDate, fc.integer({ min: -400, max: 400 }), (dueDate, offset) => {
        const today = addDays(dueDate, offset);
        expect(gestationalDay(dueDate, today)).toBe(280 + offset);
        expect(gestationalDay(dueDate, addDays(today, 1))).toBe(281 + offset);
      }),
    );
  });
});
