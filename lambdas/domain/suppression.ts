import type { SesEventRecord } from '../../schemas/ses-event';
import type { Subscription } from '../../schemas/subscription';

/**
 * What an SES event means for our own suppression list. A permanent bounce and any complaint stop the
 * address at once; transient bounces (a full mailbox, a server down for days) only after `threshold` distinct
 * ones, counted by feedback id so a redelivered event counts once. `Undetermined` (or a bounce type SES
 * adds later) is counted like a transient one: never suppress on a guess, never ignore a pattern.
 */
export type SuppressionVerdict =
  { action: 'suppress'; reason: SuppressionReason } | { action: 'count-transient'; feedbackId: string };
export type SuppressionReason = 'bounce' | 'complaint';

export interface SesEffect {
  verdict: SuppressionVerdict;
  /** Every address the event names (one event can name several), trimmed, duplicates removed. */
  addresses: string[];
  /** When the mail was sent (epoch ms): it orders the event against a reader's new sign-up. */
  mailSentAt: number;
  /** The tenant the mail was tagged with, when it was. */
  tenantId: string | undefined;
  /** The sender's bare address, to find the tenant of an untagged mail. */
  sender: string | undefined;
}

export function sesEffect(record: SesEventRecord): SesEffect {
  const recipients =
    record.eventType === 'Bounce' ? record.bounce.bouncedRecipients : record.complaint.complainedRecipients;
  const verdict: SuppressionVerdict =
    record.eventType === 'Complaint'
      ? { action: 'suppress', reason: 'complaint' }
      : record.bounce.bounceType === 'Permanent'
        ? { action: 'suppress', reason: 'bounce' }
        : { action: 'count-transient', feedbackId: record.bounce.feedbackId };
  return {
    verdict,
    addresses: [...new Set(recipients.map((r) => r.emailAddress.trim()))],
    mailSentAt: Date.parse(record.mail.timestamp),
    tenantId: record.mail.tags?.tenant?.[0],
    sender: record.mail.source && bareAddress(record.mail.source),
  };
}

/** `"Name" <a@b>` or `=?UTF-8?B?...?= <a@b>` -> `a@b`. */
export function bareAddress(source: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(source);
  return (angle?.[1] ?? source).trim().toLowerCase();
}

export const isSuppressed = (s: Pick<Subscription, 'suppressed'>): boolean => s.suppressed !== undefined;

/**
 * A reader who signs up anew (a confirmed sign-up on the email pages) is mailed again: this is the one way a
 * suppression ends. The sign-up also resets the reader's suppression record (see SuppressionStore.clear),
 * so a late event about a mail from before it changes nothing.
 */
export function clearSuppression(s: Subscription): Subscription {
  const { suppressed: _, ...rest } = s;
  return rest;
}
