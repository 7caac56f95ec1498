import type { Channel, IsoDate } from '../../schemas/common';
import { gestationalDayOf, type Broadcast, type BroadcastSegment } from '../../schemas/broadcast';
import type { Subscription } from '../../schemas/subscription';
import { daysInMonth, parseIsoDate } from './dates';
import { childAgeDays, gestationalDay, isInChildcareRange, isInMaternityRange } from './stage';

/**
 * Segment matching of broadcasts: pure, no clock (the delivery date is a parameter). The planner, the send-time
 * check, `hagukumi preview` and `hagukumi broadcast create --dry-run` all decide with these functions.
 */

/**
 * Completed months of a child's age: 0 until the first monthly birthday. A child born on the 31st completes a
 * month on the last day of a shorter month (born Jan 31: 1 month old on Feb 28 or 29).
 */
export function childAgeMonths(birthday: IsoDate, today: IsoDate): number {
  const b = parseIsoDate(birthday);
  const t = parseIsoDate(today);
  let months = (t.year - b.year) * 12 + (t.month - b.month);
  const monthEnd = t.day === daysInMonth(t.year, t.month);
  if (t.day < b.day && !monthEnd) months -= 1;
  return months;
}

/**
 * Whether this subscription is in the segment on `date`: an active, delivered subscription (as the daily message:
 * not paused that day, registered by then, inside its track) of a track, stage, channel and audience the segment
 * names. A lost, stopped or ended subscription, and the support series after a loss, never are.
 */
export function subscriptionInSegment(sub: Subscription, segment: BroadcastSegment, date: IsoDate): boolean {
  if (sub.status !== 'active' || date < sub.registeredOn) return false;
  if (sub.pausedUntil !== undefined && date < sub.pausedUntil) return false;
  if (!segment.channels.includes(sub.channel)) return false;
  if (segment.audience !== 'both' && segment.audience !== sub.audience) return false;
  switch (sub.track) {
    case 'support':
      return false;
    case 'maternity': {
      if (!segment.tracks.includes('maternity') || !isInMaternityRange(sub.anchorDate, date)) return false;
      const range = segment.maternity;
      if (!range) return true;
      const day = gestationalDay(sub.anchorDate, date);
      return day >= gestationalDayOf(range.from) && day <= gestationalDayOf(range.to);
    }
    case 'childcare': {
      if (!segment.tracks.includes('childcare') || !isInChildcareRange(sub.anchorDate, date)) return false;
      const range = segment.childcare;
      if (!range) return true;
      const age = range.unit === 'days' ? childAgeDays(sub.anchorDate, date) : childAgeMonths(sub.anchorDate, date);
      return age >= range.from && age <= range.to;
    }
  }
}

/** The broadcasts that go out on `date`: scheduled ones of that date, in a stable order (creation, then id). */
export function broadcastsOn(broadcasts: readonly Broadcast[], date: IsoDate): Broadcast[] {
  return broadcasts
    .filter((b) => b.date === date && b.status === 'scheduled')
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A broadcast's text on a channel: LINE's text; in the day's mail, the subject as a heading above the body. */
export function broadcastText(b: Broadcast, channel: Channel): string | undefined {
  if (channel === 'line') return b.line?.text;
  return b.email && `■ ${b.email.subject}\n${b.email.body}`;
}

/**
 * Readers (by reader key) who get the broadcast on its date, from all the tenant's subscriptions: at least one of
 * their subscriptions is in its segment and none is suppressed (a bounced or complained address is never mailed).
 */
export function broadcastRecipients(b: Broadcast, subs: readonly Subscription[]): Set<string> {
  const out = new Set<string>();
  if (b.status !== 'scheduled') return out;
  const suppressed = new Set(subs.filter((s) => s.suppressed).map((s) => s.readerKey));
  for (const s of subs)
    if (
      !suppressed.has(s.readerKey) &&
      broadcastText(b, s.channel) !== undefined &&
      subscriptionInSegment(s, b.segment, b.date)
    )
      out.add(s.readerKey);
  return out;
}
