import { addDays, daysBetween, InvalidDateError, isLeapYear, localDate } from '../../../lambdas/domain/dates';

describe('daysBetween', () => {
  it.each([
    { label: 'same day', from: '2026-12-01', to: '2026-12-01', want: 0 },
    { label: 'next day', from: '2026-12-01', to: '2026-12-02', want: 1 },
    { label: 'backwards is negative', from: '2026-12-02', to: '2026-12-01', want: -1 },
    { label: 'across a month end', from: '2026-04-30', to: '2026-05-01', want: 1 },
    { label: 'across a year end', from: '2026-12-31', to: '2027-01-01', want: 1 },
    { label: 'Feb 28 to Mar 1 in a non-leap year', from: '2027-02-28', to: '2027-03-01', want: 1 },
    { label: 'Feb 28 to Mar 1 in a leap year', from: '2028-02-28', to: '2028-03-01', want: 2 },
    { label: 'a non-leap year', from: '2026-01-01', to: '2027-01-01', want: 365 },
    { label: 'a leap year', from: '2028-01-01', to: '2029-01-01', want: 366 },
    { label: '1900 is not a leap year', from: '1900-02-28', to: '1900-03-01', want: 1 },
    { label: '2000 is a leap year', from: '2000-02-28', to: '2000-03-01', want: 2 },
    // Dates where other zones switch DST: calendar arithmetic must not notice.
    { label: 'across the EU spring DST switch', from: '2026-03-28', to: '2026-03-30', want: 2 },
    { label: 'across the US autumn DST switch', from: '2026-10-31', to: '2026-11-02', want: 2 },
    { label: 'a pregnancy: due date minus 280 days', from: '2026-03-03', to: '2026-12-08', want: 280 },
    { label: 'three years with a leap day', from: '2027-06-01', to: '2030-06-01', want: 1096 },
  ])('$label', ({ from, to, want }) => {
    expect(daysBetween(from, to)).toBe(want);
  });

  it.each([
    { label: 'not a date', date: 'tomorrow' },
    { label: 'Feb 29 of a non-leap year', date: '2027-02-29' },
    { label: 'month 13', date: '2026-13-01' },
    { label: 'day 0', date: '2026-01-00' },
  ])('rejects $label', ({ date }) => {
    expect(() => daysBetween(date, '2026-01-01')).toThrow(InvalidDateError);
  });
});

describe('addDays', () => {
  it.each([
    { label: 'zero', date: '2026-12-01', n: 0, want: '2026-12-01' },
    { label: 'into the next month', date: '2026-11-30', n: 1, want: '2026-12-01' },
    { label: 'into the next year', date: '2026-12-31', n: 1, want: '2027-01-01' },
    { label: 'back over a year end', date: '2027-01-01', n: -1, want: '2026-12-31' },
    { label: 'onto a leap day', date: '2028-02-28', n: 1, want: '2028-02-29' },
    { label: 'over a missing leap day', date: '2027-02-28', n: 1, want: '2027-03-01' },
    { label: 'conception-ish: due date - 280', date: '2026-12-08', n: -280, want: '2026-03-03' },
    { label: 'a long way', date: '1970-01-01', n: 20454, want: '2026-01-01' },
  ])('$label', ({ date, n, want }) => {
    expect(addDays(date, n)).toBe(want);
  });

  it('rejects a fraction of a day', () => {
    expect(() => addDays('2026-12-01', 0.5)).toThrow(InvalidDateError);
  });
});

describe('localDate', () => {
  it.each([
    {
      label: 'JST midnight is already the next day',
      instant: '2026-11-30T15:00:00Z',
      zone: 'Asia/Tokyo',
      want: '2026-12-01',
    },
    {
      label: 'one ms before JST midnight',
      instant: '2026-11-30T14:59:59.999Z',
      zone: 'Asia/Tokyo',
      want: '2026-11-30',
    },
    { label: '07:30 JST delivery', instant: '2026-11-30T22:30:00Z', zone: 'Asia/Tokyo', want: '2026-12-01' },
    { label: 'JST new year', instant: '2026-12-31T15:00:00Z', zone: 'Asia/Tokyo', want: '2027-01-01' },
    { label: 'JST leap day', instant: '2028-02-28T15:00:00Z', zone: 'Asia/Tokyo', want: '2028-02-29' },
    { label: 'UTC', instant: '2026-11-30T15:00:00Z', zone: 'UTC', want: '2026-11-30' },
    { label: 'a zone behind UTC', instant: '2026-12-01T03:00:00Z', zone: 'America/Los_Angeles', want: '2026-11-30' },
  ])('$label', ({ instant, zone, want }) => {
    expect(localDate(new Date(instant), zone)).toBe(want);
  });

  it.each([
    { label: 'an unknown zone', instant: new Date('2026-12-01T00:00:00Z'), zone: 'Mars/Olympus' },
    { label: 'an invalid instant', instant: new Date('nope'), zone: 'Asia/Tokyo' },
  ])('rejects $label', ({ instant, zone }) => {
    expect(() => localDate(instant, zone)).toThrow(InvalidDateError);
  });
});

describe('isLeapYear', () => {
  it.each([
    { label: 'divisible by 4', year: 2028, want: true },
    { label: 'not divisible by 4', year: 2027, want: false },
    { label: 'century', year: 1900, want: false },
    { label: 'divisible by 400', year: 2000, want: true },
  ])('$label', ({ year, want }) => {
    expect(isLeapYear(year)).toBe(want);
  });
});
