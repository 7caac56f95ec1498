import { z } from 'zod';

/**
 * SES event records as EventBridge delivers them (`source: aws.ses`, the record in `detail`), after the
 * shapes in the SES developer guide ("Contents of event data", "Examples of event data"). Parsed leniently:
 * only the fields we act on are required, every object keeps the fields SES adds later (`looseObject`),
 * and an unknown event type or bounce type is read, not refused.
 */
const RecipientSchema = z.looseObject({ emailAddress: z.string().min(3) });

export const SesMailSchema = z.looseObject({
  /** When the mail was sent: events for a mail sent before a reader signed up anew are ignored. */
  timestamp: z.iso.datetime({ offset: true }),
  messageId: z.string().optional(),
  /** `Name <address>` or a bare address: the sender. */
  source: z.string().optional(),
  destination: z.array(z.string()).optional(),
  /** The message tags, values as lists (`{"tenant": ["demo-minato"]}`), plus SES's own (`ses:...`). */
  tags: z.record(z.string(), z.array(z.string())).optional(),
});

export const SesBounceSchema = z.looseObject({
  /** `Permanent`, `Transient` or `Undetermined` today; anything else is treated like `Undetermined`. */
  bounceType: z.string(),
  bounceSubType: z.string().optional(),
  bouncedRecipients: z.array(RecipientSchema).min(1),
  timestamp: z.iso.datetime({ offset: true }).optional(),
  feedbackId: z.string().min(1),
});

export const SesComplaintSchema = z.looseObject({
  complainedRecipients: z.array(RecipientSchema).min(1),
  timestamp: z.iso.datetime({ offset: true }).optional(),
  feedbackId: z.string().min(1),
  complaintFeedbackType: z.string().optional(),
});

export const SesEventRecordSchema = z.discriminatedUnion('eventType', [
  z.looseObject({ eventType: z.literal('Bounce'), mail: SesMailSchema, bounce: SesBounceSchema }),
  z.looseObject({ eventType: z.literal('Complaint'), mail: SesMailSchema, complaint: SesComplaintSchema }),
]);
export type SesEventRecord = z.infer<typeof SesEventRecordSchema>;

/** The EventBridge envelope; `detail` is checked on its own so that other detail types are merely skipped. */
export const SesEventBridgeEventSchema = z.looseObject({
  id: z.string().optional(),
  source: z.string(),
  'detail-type': z.string(),
  time: z.string().optional(),
  detail: z.unknown(),
});
export type SesEventBridgeEvent = z.infer<typeof SesEventBridgeEventSchema>;

export const SES_EVENT_SOURCE = 'aws.ses';
export const SES_DETAIL_TYPES = ['Email Bounced', 'Email Complaint Received'] as const;
