import { z } from 'zod';
import { ChannelSchema, TenantIdSchema } from './common';

/**
 * Inquiries: a reader's questions to the municipality and the staff's answers, as one thread per question.
 * Stored items are parsed with these schemas when read back (a corrupt item is refused, never trusted).
 */

/** Longest inquiry or reply text, in characters (code points). */
export const INQUIRY_TEXT_MAX = 2000;
/** A thread stops taking messages at this many; the reader starts a new one (keeps one partition small). */
export const INQUIRY_MESSAGES_MAX = 200;

/**
 * `new`: nobody answered yet. `answered`: staff replied, the reader may write again. `open`: the reader wrote
 * again after an answer, staff are due again. `closed`: staff closed the thread; a new question starts a new one.
 */
export const INQUIRY_STATUSES = ['new', 'open', 'answered', 'closed'] as const;
export const InquiryStatusSchema = z.enum(INQUIRY_STATUSES);
export type InquiryStatus = z.infer<typeof InquiryStatusSchema>;

/** Opaque: random, or derived from a LINE event id; never a reader's identifier. Safe in console URLs. */
export const InquiryIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'not an inquiry id');

export const InquiryMessageSchema = z.object({
  seq: z.number().int().min(1),
  author: z.enum(['reader', 'staff']),
  /** The staff member who wrote it (their user name in the console); absent for the reader's messages. */
  staffRef: z.string().min(1).max(128).optional(),
  text: z.string().min(1).max(INQUIRY_TEXT_MAX),
  /** Epoch milliseconds. */
  at: z.number().int(),
  /** For a staff reply: whether it reached the reader's channel (LINE push accepted, SES accepted the mail). */
  delivery: z.enum(['pending', 'sent', 'failed']).optional(),
});
export type InquiryMessage = z.infer<typeof InquiryMessageSchema>;

/** The thread's header: who asked on which channel, where it stands, and its times. */
export const InquiryHeaderSchema = z.object({
  inquiryId: InquiryIdSchema,
  tenantId: TenantIdSchema,
  /** The reader's keyed hash (services/reader-keys.ts): the console's reader reference. */
  readerKey: z.string().min(3),
  channel: ChannelSchema,
  /** LINE user id or email address the answer goes to (an attribute, never a key). */
  address: z.string().min(1),
  status: InquiryStatusSchema,
  /** Optimistic lock: every change is conditional on the version read, and increments it. */
  version: z.number().int().min(0),
  createdAt: z.number().int(),
  /** The last message's time: the inbox sorts by it. */
  lastMessageAt: z.number().int(),
  messageCount: z.number().int().min(1),
  /** The first staff answer: time to first answer = firstAnsweredAt - createdAt. */
  firstAnsweredAt: z.number().int().optional(),
  closedAt: z.number().int().optional(),
  closedBy: z.string().optional(),
});
export type InquiryHeader = z.infer<typeof InquiryHeaderSchema>;

export interface Inquiry extends InquiryHeader {
  /** Oldest first. */
  messages: InquiryMessage[];
}

/** A LINE reader's text waiting for "send this to the municipality?" (kept a day, then forgotten). */
export const InquiryDraftSchema = z.object({
  draftId: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/),
  text: z.string().min(1).max(INQUIRY_TEXT_MAX),
  /** Where the draft is: FAQ answers shown, or "send it?" asked. */
  step: z.enum(['faq', 'confirm', 'write']),
  at: z.number().int(),
});
export type InquiryDraft = z.infer<typeof InquiryDraftSchema>;

/** The tenant's inquiry settings (tenant file `inquiries`). */
export const InquiryConfigSchema = z.strictObject({
  enabled: z.boolean(),
  /** What readers are told to expect, e.g. `3営業日以内` ("within 3 working days"). */
  answerTime: z.string().min(1).max(60),
  /** Staff mailboxes told of each new inquiry or new message (the mail holds only a console link). */
  notifyTo: z.array(z.email()).min(1, 'at least one staff mailbox to notify').max(10),
  /** Sender of the staff notification; a verified SES identity. */
  notifyFrom: z.email(),
});
export type InquiryConfig = z.infer<typeof InquiryConfigSchema>;

/** The console's thread page for an inquiry (the staff notification links to it; ids are opaque). */
export const inquiryConsolePath = (inquiryId: string) => `/console/inquiries/${encodeURIComponent(inquiryId)}`;
