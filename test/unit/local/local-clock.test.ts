import { makeClock, momentOn, nextMoment, parseClock, schedulesOf } from '../../../local/local-clock';

const tokyo730 = { timeZone: 'Asia/Tokyo', deliveryTime: '07:30' };
const tokyo1800 = { timeZone: 'Asia/Tokyo', deliveryTime: '18:00' };
const newYork730 = { timeZone: 'America/New_York', deliveryTime: '07:30' };

describe('parseClock', () => {
  it.each([
    ['real', { kind: 'real' }],
    ['fast:60', { kind: 'fast', secondsPerDay: 60 }],
    ['fast:0', { kind: 'fast', secondsPerDay: 0 }],
    ['fast:0.5', { kind: 'fast', secondsPerDay: 0.5 }],
  ])('reads %s', (text, mode) => expect(parseClock(text)).toEqual(mode));

  it.each(['fast', 'fast:-1', 'slow:3', '60', ''])('rejects %j', (text) =>
    expect(() => parseClock(text)).toThrow('expected real or fast:SECONDS_PER_DAY'),
  );
});

describe('schedules', () => {
  it('one per distinct time zone and delivery time', () => {
    expect(schedulesOf([tokyo730, { ...tokyo730 }, tokyo1800])).toEqual([tokyo730, tokyo1800]);
  });

  // 07:30 JST is 22:30 UTC of the day before; 18:00 JST is 09:00 UTC.
  it.each([
    ['2026-12-01T09:00:00Z', '2026-12-01T22:30:00.000Z', '2026-12-02', '07:30'],
    ['2026-11-30T23:00:00Z', '2026-12-01T09:00:00.000Z', '2026-12-01', '18:00'],
    ['2026-12-01T09:00:00.001Z', '2026-12-01T22:30:00.000Z', '2026-12-02', '07:30'],
  ])('after %s the next is %s (%s %s)', (after, at, date, time) => {
    const m = nextMoment([tokyo730, tokyo1800], new Date(after));
    expect({ at: m.at.toISOString(), date: m.date, time: m.deliveryTime }).toEqual({ at, date, time });
  });

  it('follows daylight saving time in New York (EST -5, EDT -4)', () => {
    expect(momentOn(newYork730, '2027-01-15').toISOString()).toBe('2027-01-15T12:30:00.000Z');
    expect(momentOn(newYork730, '2027-07-15').toISOString()).toBe('2027-07-15T11:30:00.000Z');
  });

  it('finds the instant of a late delivery time on its own local date', () => {
    expect(momentOn({ timeZone: 'Asia/Tokyo', deliveryTime: '23:45' }, '2026-12-01').toISOString()).toBe(
      '2026-12-01T14:45:00.000Z',
    );
  });
});

describe('makeClock', () => {
  const start = new Date('2026-12-01T09:00:00Z');
  it('fast:60 runs a simulated day in 60 real seconds', () => {
    let real = 1_000_000;
    const clock = makeClock({ kind: 'fast', secondsPerDay: 60 }, start, () => real);
    const inSixHours = new Date(start.getTime() + 6 * 3600_000);
    expect(clock.realMsUntil(inSixHours)).toBe(15_000);
    real += 15_000;
    expect(clock.now().toISOString()).toBe(inSixHours.toISOString());
    expect(clock.realMsUntil(inSixHours)).toBe(0);
  });

  it('fast:0 never waits', () => {
    const clock = makeClock({ kind: 'fast', secondsPerDay: 0 }, start, () => 5);
    expect(clock.realMsUntil(new Date('2030-01-01T00:00:00Z'))).toBe(0);
  });

  it('real is the wall clock', () => {
    const clock = makeClock({ kind: 'real' }, start, () => Date.parse('2026-12-01T22:00:00Z'));
    expect(clock.realMsUntil(new Date('2026-12-01T22:30:00Z'))).toBe(1_800_000);
  });
});
