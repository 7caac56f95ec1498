import { z } from 'zod';
import { IsoDateSchema, TenantIdSchema } from './common';

/** Input of the fan-out Lambda, set by EventBridge Scheduler (one schedule per delivery time). */
export const FanOutEventSchema = z.object({
  /** `HH:MM`: tenants whose deliveryTime equals this are due. */
  deliveryTime: z.string().regex(/^\d{2}:\d{2}$/),
  /** IANA zone of the schedule; tenants of another zone are not due. */
  timeZone: z.string().default('Asia/Tokyo'),
  /** `<aws.scheduler.scheduled-time>`: the delivery date follows from it, not from the invocation time. */
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
  /** Force a date (operators' re-run, local stack). */
  date: IsoDateSchema.optional(),
  /** Restrict to these tenants (operators' re-run). */
  tenantIds: z.array(TenantIdSchema).optional(),
});
export type FanOutEvent = z.infer<typeof FanOutEventSchema>;

/** Body of one SQS message: deliver one shard of one tenant on one date. */
export const ShardTaskSchema = z.object({
  tenantId: TenantIdSchema,
  date: IsoDateSchema,
  shard: z.number().int().min(0),
  /** The day's shard layout (fixed by the first fan-out of the date): buckets with `bucket % shardCount === shard`. */
  shardCount: z.number().int().min(1).max(256),
  /**
   * When the fan-out issued the task. A task older than a working day (a DLQ redrive, a very late retry) is
   * refused: it must not deliver yesterday's messages today, and LINE honours a retry key for 24 hours only.
   */
  issuedAt: z.iso.datetime({ offset: true }),
});
export type ShardTask = z.infer<typeof ShardTaskSchema>;

export const LineTextMessageSchema = z.object({ type: z.literal('text'), text: z.string().min(1).max(5000) });
export type LineTextMessage = z.infer<typeof LineTextMessageSchema>;

/** A survey run a daily mail invites to (its signed link is made at send time, never stored in the plan). */
export const SurveyRunRefSchema = z.object({ surveyId: z.string().min(1).max(64), runId: z.string().min(1).max(40) });
export type SurveyRunRef = z.infer<typeof SurveyRunRefSchema>;

const MulticastSendSchema = z.object({
  kind: z.literal('multicast'),
  to: z.array(z.string()).min(1).max(500),
  /** The reader key of each recipient, in the order of `to`: the send-time check works on reader keys. */
  readerKeys: z.array(z.string()).min(1).max(500),
  messages: z.array(LineTextMessageSchema).min(1).max(5),
});
const PushSendSchema = z.object({
  kind: z.literal('push'),
  to: z.string(),
  readerKey: z.string(),
  messages: z.array(LineTextMessageSchema).min(1).max(5),
});
const EmailSendSchema = z.object({
  kind: z.literal('email'),
  to: z.string(),
  readerKey: z.string(),
  subject: z.string(),
  texts: z.array(z.string()).min(1),
  unsubscribeToken: z.string().optional(),
  /** The reader's token version at planning: the mail's signed links are made with it. */
  tokenVersion: z.string().optional(),
  /** Survey invitations in this mail (their texts are the last of `texts`): each gets a signed survey link. */
  surveys: z.array(SurveyRunRefSchema).max(10).optional(),
});

/** One send of a plan: one LINE request (multicast or push) or one email. */
export const PlannedSendSchema = z.discriminatedUnion('kind', [MulticastSendSchema, PushSendSchema, EmailSendSchema]);
/**
 * A send as the plan store keeps it: the readers by reader key (a keyed hash), never their LINE ids or email
 * addresses, so erasing a reader leaves nothing of theirs in the Delivery table (issue 6, promise 10). The
 * addresses come from the subscriptions when a stored plan is resumed (services/plan-addresses.ts).
 * Written before this: batches with `to`, which parsing drops.
 */
export const SavedSendSchema = z.discriminatedUnion('kind', [
  MulticastSendSchema.omit({ to: true }),
  PushSendSchema.omit({ to: true }),
  EmailSendSchema.omit({ to: true }),
]);
export type SavedSend = z.infer<typeof SavedSendSchema>;
export type PlannedSend = z.infer<typeof PlannedSendSchema>;

/** Per tenant, date and shard: what happened. Summed per tenant and date for reports. */
export const ShardCountersSchema = z.object({
  subscriptionsDue: z.number().int(),
  recipients: z.number().int(),
  multicastRequests: z.number().int(),
  pushRequests: z.number().int(),
  emails: z.number().int(),
  failures: z.number().int(),
  monthlyLimitHits: z.number().int(),
  /** Recipients LINE refused for good (a 4xx other than 409/429): recorded, not retried. Part of `failures`. */
  rejected: z.number().int().default(0),
  /** Readers whose stored data could not be read or resolved: left out and counted. Part of `failures`. */
  corrupt: z.number().int().default(0),
  /** Readers withheld at send time because they stopped, paused, lost or were deleted after planning. */
  withheld: z.number().int().default(0),
  /** Readers whose planned messages changed after planning and who got the fresh ones instead. */
  revised: z.number().int().default(0),
  /** Readers due today that the plan had not seen (a change just before planning), delivered after the plan. */
  late: z.number().int().default(0),
  /**
   * Emails whose fate is unknown: a claim was written but SES's answer never arrived (a crash or a timeout
   * between claim and answer). Never resent (at most once); counted apart from what SES accepted.
   */
  emailsUncertain: z.number().int().default(0),
  /** Subscriptions whose track ended on this date: marked `ended`, out of the index, erased after retention. */
  ended: z.number().int().default(0),
  /** Email readers due today whose address is suppressed (bounces, complaints): skipped, never mailed. */
  suppressed: z.number().int().default(0),
  /** 1 when the task was refused as stale (nothing sent for it). */
  stale: z.number().int().default(0),
});
export type ShardCounters = z.infer<typeof ShardCountersSchema>;
