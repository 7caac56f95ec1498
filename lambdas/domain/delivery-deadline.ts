/**
 * A tenant's delivery is due to be finished one hour after its delivery time (issue 11). The fan-out issues the
 * day's shard tasks at the delivery time, so a shard that completes more than this after its task was issued
 * finished late. Pure: the completion time is a parameter.
 */
export const DELIVERY_DEADLINE_MINUTES = 60;

export function finishedLate(issuedAt: string, finishedAt: Date, minutes = DELIVERY_DEADLINE_MINUTES): boolean {
  return finishedAt.getTime() - Date.parse(issuedAt) > minutes * 60_000;
}
