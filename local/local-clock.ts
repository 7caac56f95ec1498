// When the running local stack delivers: at each tenant's delivery time, like the deployed EventBridge
// schedules, on the real clock or on a simulated one that runs whole days in seconds.
import { Cron } from 'croner';
import type { IsoDate } from '../schemas/common';
import { addDays, localDate } from '../lambdas/domain';

export type ClockMode = { kind: 'real' } | { kind: 'fast'; secondsPerDay: number };

export class InvalidClockError extends Error {
  override readonly name = 'InvalidClockError';
}

/** `real`, or `fast:N`: one simulated day every N real seconds (`fast:0`: days back to back). */
export function parseClock(value: string): ClockMode {
  if (value === 'real') return { kind: 'real' };
  const m = /^fast:(\d+(?:\.\d+)?)$/.exec(value);
  if (!m) throw new InvalidClockError(`expected real or fast:SECONDS_PER_DAY (e.g. fast:60), got ${value}`);
  return { kind: 'fast', secondsPerDay: Number(m[1]) };
}

export interface Schedule {
  timeZone: string;
  deliveryTime: string;
}

export interface DeliveryMoment extends Schedule {
  at: Date;
  /** The delivery date in the schedule's time zone. */
  date: IsoDate;
}

/** One schedule per distinct (time zone, delivery time), as the CDK stack creates them. */
export function schedulesOf(tenants: readonly Schedule[]): Schedule[] {
  const seen = new Map<string, Schedule>();
  for (const t of tenants)
    seen.set(`${t.timeZone} ${t.deliveryTime}`, { timeZone: t.timeZone, deliveryTime: t.deliveryTime });
  return [...seen.values()];
}

// croner, a maintained cron library with time zones, computes the instants (daylight saving included) so
// the local schedule fires when EventBridge Scheduler's cron(MM HH * * ? *) in that zone would.
const cronOf = (s: Schedule) => {
  const [hh, mm] = s.deliveryTime.split(':');
  return new Cron(`${Number(mm)} ${Number(hh)} * * *`, { timezone: s.timeZone, paused: true });
};

/** The first firing of any schedule strictly after `after`. */
export function nextMoment(schedules: readonly Schedule[], after: Date): DeliveryMoment {
  let best: DeliveryMoment | undefined;
  for (const s of schedules) {
    const at = cronOf(s).nextRun(after);
    if (at && (!best || at < best.at)) best = { ...s, at, date: localDate(at, s.timeZone) };
  }
  if (!best) throw new InvalidClockError('no schedule fires');
  return best;
}

/** The instant a schedule fires on a given local date. */
export function momentOn(s: Schedule, date: IsoDate): Date {
  // Local midnight of `date` lies within a day and a half of UTC midnight in every time zone.
  let at = new Date(Date.parse(`${addDays(date, -2)}T00:00:00Z`));
  for (let i = 0; i < 5; i++) {
    const next = cronOf(s).nextRun(at);
    if (!next) break;
    if (localDate(next, s.timeZone) === date) return next;
    at = next;
  }
  throw new InvalidClockError(`${s.deliveryTime} ${s.timeZone} does not occur on ${date}`);
}

/** Time as the running stack sees it: the real clock, or a simulated one that started at `simulatedStart`. */
export interface Clock {
  now(): Date;
  /** Real milliseconds until the clock shows `at`. */
  realMsUntil(at: Date): number;
}

export function makeClock(mode: ClockMode, simulatedStart: Date, realNow: () => number = Date.now): Clock {
  if (mode.kind === 'real') return { now: () => new Date(realNow()), realMsUntil: (at) => at.getTime() - realNow() };
  const realStart = realNow();
  // fast:0 never waits: every moment is due at once, in order.
  const speed = mode.secondsPerDay === 0 ? Infinity : 86_400 / mode.secondsPerDay;
  return {
    now: () =>
      speed === Infinity ? simulatedStart : new Date(simulatedStart.getTime() + (realNow() - realStart) * speed),
    realMsUntil: (at) =>
      speed === Infinity ? 0 : (at.getTime() - simulatedStart.getTime()) / speed - (realNow() - realStart),
  };
}
