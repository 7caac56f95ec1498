import { z } from 'zod';

/**
 * LINE webhook request body (Messaging API reference, "Webhook Event Objects"). Only what hagukumi reads is
 * checked strictly; other event types pass through and are ignored.
 */
const SourceSchema = z.object({
  type: z.string(),
  userId: z
    .string()
    .regex(/^U[0-9a-f]{32}$/)
    .optional(),
});

/**
 * How long webhook event ids are kept for dedupe (the event items' TTL). An event older than this could be a
 * replay the dedupe no longer recognises, so it changes nothing.
 */
export const WEBHOOK_DEDUPE_WINDOW_SECONDS = 7 * 24 * 3600;

export const LineEventSchema = z.object({
  type: z.string(),
  mode: z.enum(['active', 'standby']),
  /** Milliseconds since the epoch: events are applied in this order per reader. */
  timestamp: z.number().int(),
  source: SourceSchema.optional(),
  webhookEventId: z.string().min(1).max(64),
  deliveryContext: z.object({ isRedelivery: z.boolean() }),
  replyToken: z.string().optional(),
  follow: z.object({ isUnblocked: z.boolean() }).optional(),
  message: z.object({ type: z.string(), id: z.string().optional(), text: z.string().optional() }).optional(),
  postback: z
    .object({
      data: z.string().max(300),
      params: z
        .object({ date: z.string().optional(), time: z.string().optional(), datetime: z.string().optional() })
        .optional(),
    })
    .optional(),
});
export type LineEvent = z.infer<typeof LineEventSchema>;

export const LineWebhookBodySchema = z.object({
  destination: z.string(),
  events: z.array(LineEventSchema).max(100),
});
export type LineWebhookBody = z.infer<typeof LineWebhookBodySchema>;

/** What a reader did, as the conversation sees it (independent of LINE's event shape). */
export type ReaderAction =
  | { kind: 'follow'; unblocked: boolean }
  | { kind: 'unfollow' }
  | { kind: 'text'; text: string }
  | { kind: 'postback'; data: string; date?: string };
