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
});
export type ShardTask = z.infer<typeof ShardTaskSchema>;

export const LineTextMessageSchema = z.object({ type: z.literal('text'), text: z.string().min(1).max(5000) });
export type LineTextMessage = z.infer<typeof LineTextMessageSchema>;

/** One send of a plan: one LINE request (multicast or push) or one email. */
export const PlannedSendSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('multicast'),
    to: z.array(z.string()).min(1).max(500),
    messages: z.array(LineTextMessageSchema).min(1).max(5),
  }),
  z.object({ kind: z.literal('push'), to: z.string(), messages: z.array(LineTextMessageSchema).min(1).max(5) }),
  z.object({
    kind: z.literal('email'),
    to: z.string(),
    readerKey: z.string(),
    subject: z.string(),
    texts: z.array(z.string()).min(1),
    unsubscribeToken: z.string().optional(),
  }),
]);
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
});
export type ShardCounters = z.infer<typeof ShardCountersSchema>;
