import type { Channel, IsoDate, Track } from '../../schemas/common';
import type { Invite } from '../../schemas/dialog';
import type { Subscription } from '../../schemas/subscription';
import { addDays, parseIsoDate } from './dates';
import { bucketFieldsForNewSubscription } from './shard';

/**
 * The subscription lifecycle as pure functions: register, join a family, change a date or nickname, add a child,
 * report a birth, pause and resume, stop, report a loss, delete. Every channel (the LINE chat, the email pages)
 * decides what the reader asked for and words the answer itself; what that does to the stored subscriptions is
 * decided here, once, so that both channels keep the same rules.
 */

/** Due dates up to ~10 months ahead; birthdays within the last 3 years (the childcare track's range). */
export const DUE_DATE_MAX_DAYS = 300;
export const BIRTHDAY_MAX_DAYS = 1095;
/** A birth is reported within half a year of it. */
export const BIRTH_REPORT_MAX_DAYS = 180;
export const NICKNAME_MAX = 20;
export const INVITE_VALID_DAYS = 7;

export type RegistrableTrack = Exclude<Track, 'support'>;
export type PausePeriod = 'week' | 'month' | 'resumed';

/** What one lifecycle step changes; the service stores all of one step's changes in one transaction. */
export type LifecycleChange =
  | { type: 'put'; subscription: Subscription }
  /** Apply to every other reader's subscription of the family (the partner's): a birth, a date change, a loss. */
  | { type: 'family'; familyId: string; set: Partial<Pick<Subscription, 'track' | 'anchorDate' | 'status'>> }
  | { type: 'invite'; invite: Invite }
  | { type: 'delete-reader' };

/** The reader the step is for, and everything we hold about them. */
export interface Reader {
  tenantId: string;
  readerKey: string;
  channel: Channel;
  /** The LINE user id or the email address. */
  address: string;
  today: IsoDate;
  /** All of this reader's subscriptions, whatever their status. */
  subscriptions: Subscription[];
  newId: () => string;
}

export const live = (s: Subscription) => s.status === 'active' || s.status === 'paused';

/** Paused, or on a pause with an end date that has not come yet. */
export const onPause = (s: Subscription, today: IsoDate) =>
  s.status === 'paused' || (s.pausedUntil !== undefined && s.pausedUntil > today);

export function liveSubscription(r: Reader, subscriptionId: string): Subscription | undefined {
  return r.subscriptions.find((s) => s.subscriptionId === subscriptionId && live(s));
}

/** Trims, folds white space and drops control characters; undefined when nothing usable remains. */
export function sanitizeNickname(raw: string): string | undefined {
  const cleaned = raw
    .normalize('NFKC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (cleaned.length === 0 || [...cleaned].length > NICKNAME_MAX) return undefined;
  // Braces would read as placeholders in templates.
  return cleaned.replace(/[{}]/g, '');
}

/** What a date is asked for: a due date, a child's birthday, or the day a pregnancy ended in a birth. */
export type DateKind = 'due-date' | 'birthday' | 'birth-date';

export function dateKindOf(track: Track | undefined): DateKind {
  return track === 'maternity' ? 'due-date' : 'birthday';
}

export function dateRange(today: IsoDate, kind: DateKind): { min: IsoDate; max: IsoDate; initial: IsoDate } {
  if (kind === 'birth-date') return { min: addDays(today, -BIRTH_REPORT_MAX_DAYS), max: today, initial: today };
  if (kind === 'due-date') return { min: today, max: addDays(today, DUE_DATE_MAX_DAYS), initial: addDays(today, 140) };
  return { min: addDays(today, -BIRTHDAY_MAX_DAYS), max: today, initial: today };
}

/** A day the calendar does not have (a forged postback, 2027-02-30 typed) is not "out of range". */
export function checkDate(
  today: IsoDate,
  kind: DateKind,
  date: string | undefined,
): 'ok' | 'not-a-date' | 'out-of-range' {
  if (!date || !isIsoDate(date)) return 'not-a-date';
  const range = dateRange(today, kind);
  return date < range.min || date > range.max ? 'out-of-range' : 'ok';
}

export function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The same day next month, or the month's last day when it has no such day. */
export function addMonths(date: IsoDate, months: number): IsoDate {
  const { year, month, day } = parseIsoDate(date);
  const m0 = year * 12 + (month - 1) + months;
  const y = Math.floor(m0 / 12);
  const m = (m0 % 12) + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return `${y}-${String(m).padStart(2, '0')}-${String(Math.min(day, last)).padStart(2, '0')}`;
}

/** A new active subscription of this reader; the daily delivery starts tomorrow (today's part is in the reply). */
export function newSubscription(
  r: Reader,
  fields: Pick<Subscription, 'track' | 'anchorDate' | 'audience' | 'nickname'> & { familyId?: string },
): Subscription {
  return {
    tenantId: r.tenantId,
    readerKey: r.readerKey,
    subscriptionId: r.newId(),
    channel: r.channel,
    address: r.address,
    status: 'active',
    registeredOn: addDays(r.today, 1),
    ...bucketFieldsForNewSubscription(r.subscriptions, fields.anchorDate),
    version: 0,
    ...fields,
    familyId: fields.familyId ?? r.newId(),
  };
}

/** A first registration, or another child (twins, a sibling) or a new pregnancy of the same reader. */
export function register(
  r: Reader,
  track: RegistrableTrack,
  anchorDate: IsoDate,
  nickname: string | undefined,
): Subscription {
  return newSubscription(r, { track, anchorDate, audience: 'parent', nickname });
}

/**
 * A partner joins the family an invite names, as the family is now. Undefined when the invite is unknown,
 * expired, or names a family this reader is in already.
 */
export function joinFamily(r: Reader, invite: Invite | null | undefined): Subscription | undefined {
  if (!invite || invite.expiresOn < r.today || r.subscriptions.some((s) => s.familyId === invite.familyId))
    return undefined;
  return newSubscription(r, {
    track: invite.track,
    anchorDate: invite.anchorDate,
    audience: 'partner',
    nickname: invite.nickname,
    familyId: invite.familyId,
  });
}

/** Either member may correct the family's date; the other member's subscription follows. */
export function changeDate(sub: Subscription, anchorDate: IsoDate): LifecycleChange[] {
  return [
    { type: 'put', subscription: { ...sub, anchorDate } },
    { type: 'family', familyId: sub.familyId, set: { anchorDate } },
  ];
}

export function changeNickname(sub: Subscription, nickname: string | undefined): Subscription {
  return { ...sub, nickname };
}

/** Delivery (re)starts on `date`; the day of the first registration stays. */
const deliveredFrom = (sub: Subscription, date: IsoDate): Subscription => ({
  ...sub,
  registeredOn: date,
  firstRegisteredOn: sub.firstRegisteredOn ?? sub.registeredOn,
});

/** A birth: the pregnancy becomes a child, and the partner's linked subscription follows. */
export function birth(
  r: Reader,
  sub: Subscription,
  birthday: IsoDate,
): { born: Subscription; changes: LifecycleChange[] } {
  const born: Subscription = { ...deliveredFrom(sub, addDays(r.today, 1)), track: 'childcare', anchorDate: birthday };
  return {
    born,
    changes: [
      { type: 'put', subscription: born },
      { type: 'family', familyId: sub.familyId, set: { track: 'childcare', anchorDate: birthday } },
    ],
  };
}

export function invitable(r: Reader): Subscription[] {
  return r.subscriptions.filter((x) => live(x) && x.track !== 'support');
}

export function pregnancies(r: Reader): Subscription[] {
  return r.subscriptions.filter((x) => live(x) && x.track === 'maternity');
}

/** An invite for a partner to join this subscription's family, valid for INVITE_VALID_DAYS days. */
export function invite(r: Reader, sub: Subscription, code: string): Invite {
  return {
    code,
    familyId: sub.familyId,
    track: sub.track as RegistrableTrack,
    anchorDate: sub.anchorDate,
    nickname: sub.nickname,
    expiresOn: addDays(r.today, INVITE_VALID_DAYS - 1),
  };
}

export type PauseResult =
  | { outcome: 'nothing-to-pause' | 'paused-already' }
  | { outcome: 'paused'; until: IsoDate | undefined; puts: Subscription[] };

/** Pauses every active subscription for a week, a month, or until the reader resumes. */
export function pause(r: Reader, period: PausePeriod): PauseResult {
  const subs = r.subscriptions.filter((s) => s.status === 'active');
  if (subs.length === 0)
    return { outcome: r.subscriptions.some((s) => s.status === 'paused') ? 'paused-already' : 'nothing-to-pause' };
  if (period === 'resumed')
    return {
      outcome: 'paused',
      until: undefined,
      puts: subs.map((s) => ({ ...s, status: 'paused', pausedUntil: undefined })),
    };
  const until = period === 'week' ? addDays(r.today, 7) : addMonths(r.today, 1);
  return { outcome: 'paused', until, puts: subs.map((s) => ({ ...s, pausedUntil: until })) };
}

/**
 * Resumes what is paused and what the reader stopped; an empty list when nothing is. Missed days are not sent
 * afterwards: the next delivery is tomorrow's slot.
 */
export function resume(r: Reader): { resumable: boolean; puts: Subscription[] } {
  const subs = r.subscriptions.filter(
    (s) =>
      s.status === 'paused' ||
      (s.status === 'active' && s.pausedUntil !== undefined && s.pausedUntil > r.today) ||
      (s.status === 'stopped' && s.stoppedReason === 'reader'),
  );
  const puts = oneSupportSeries(r, subs).map((s): Subscription => ({
    ...deliveredFrom(s, addDays(r.today, 1)),
    status: 'active',
    pausedUntil: undefined,
    stoppedReason: undefined,
  }));
  return { resumable: subs.length > 0, puts };
}

/** The reader stops everything (a LINE stop, an email unsubscribe). */
export function stop(r: Reader): Subscription[] {
  return r.subscriptions.filter(live).map((s) => ({ ...s, status: 'stopped', stoppedReason: 'reader' }));
}

/**
 * Blocked: nothing can reach the reader any more, so every active subscription stops at once (one paused until
 * resumed stays paused, and stays so after following again).
 */
export function stopOnUnfollow(r: Reader): Subscription[] {
  return r.subscriptions
    .filter((x) => x.status === 'active')
    .map((s) => ({ ...s, status: 'stopped', stoppedReason: 'unfollow' }));
}

/** Following again after a block resumes what the block stopped; an empty list when nothing is. */
export function resumeOnRefollow(r: Reader): Subscription[] {
  return oneSupportSeries(
    r,
    r.subscriptions.filter((s) => s.status === 'stopped' && s.stoppedReason === 'unfollow'),
  ).map((s) => ({ ...deliveredFrom(s, addDays(r.today, 1)), status: 'active', stoppedReason: undefined }));
}

/** Stops at once for this reader and every linked reader: nothing stage-timed, no birthday, no survey follows. */
export function loss(sub: Subscription): LifecycleChange[] {
  return [
    { type: 'put', subscription: { ...sub, status: 'lost' } },
    { type: 'family', familyId: sub.familyId, set: { status: 'lost' } },
  ];
}

/** Whether a support series may be offered for this family: the reader's loss, or the one they were told of. */
export function supportOffered(r: Reader, familyId: string | null): boolean {
  return familyId !== null && r.subscriptions.some((s) => s.familyId === familyId && s.status === 'lost');
}

export function hasLiveSupport(r: Reader): boolean {
  return r.subscriptions.some((s) => live(s) && s.track === 'support');
}

/** The optional support series after a loss; accepting twice must not start two series. */
export function startSupport(r: Reader): Subscription | undefined {
  if (hasLiveSupport(r)) return undefined;
  return newSubscription(r, { track: 'support', anchorDate: r.today, audience: 'parent', nickname: undefined });
}

/** Erases the reader and everything they hold (their subscriptions, dialog, tokens). */
export function deleteReader(): LifecycleChange[] {
  return [{ type: 'delete-reader' }];
}

/**
 * The subscriptions about to become active again, with at most one support series among them and none when
 * one is active already (the offer can be accepted again while an older series is stopped).
 */
function oneSupportSeries(r: Reader, resuming: Subscription[]): Subscription[] {
  const active = r.subscriptions.some((s) => s.track === 'support' && s.status === 'active' && !resuming.includes(s));
  const [newest] = resuming
    .filter((s) => s.track === 'support')
    .sort((a, b) => (a.anchorDate < b.anchorDate ? 1 : a.anchorDate > b.anchorDate ? -1 : 0));
  return resuming.filter((s) => s.track !== 'support' || (!active && s === newest));
}
