import { z } from 'zod';
import { IsoDateSchema } from './common';

/**
 * The stored state of a reader's LINE dialog and of a partner invite. Both are read back from DynamoDB, so
 * they are parsed like every other item: a corrupt or outdated item is refused, never trusted.
 */
const RegistrableTrackSchema = z.enum(['maternity', 'childcare']);

export const DialogSchema = z.discriminatedUnion('step', [
  z.object({ step: z.literal('track') }),
  z.object({ step: z.literal('date'), track: RegistrableTrackSchema }),
  z.object({ step: z.literal('nickname'), track: RegistrableTrackSchema, anchorDate: IsoDateSchema }),
  z.object({ step: z.literal('invite-code') }),
  z.object({ step: z.literal('change-date'), subscriptionId: z.string().min(1) }),
  z.object({ step: z.literal('change-nickname'), subscriptionId: z.string().min(1) }),
  z.object({ step: z.literal('birth-date'), subscriptionId: z.string().min(1) }),
  z.object({ step: z.literal('stop') }),
  z.object({ step: z.literal('delete') }),
  z.object({ step: z.literal('loss'), subscriptionId: z.string().min(1) }),
  z.object({ step: z.literal('loss-support') }),
]);
export type Dialog = z.infer<typeof DialogSchema>;

/** Letters and digits a person can read aloud without confusion (no 0/O, 1/I/L). */
export const INVITE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export const InviteSchema = z.object({
  code: z.string().regex(/^[A-Z0-9]{4,12}$/),
  familyId: z.string().min(1),
  track: RegistrableTrackSchema,
  anchorDate: IsoDateSchema,
  nickname: z.string().max(20).optional(),
  /** The last tenant-local date on which the code can be used. */
  expiresOn: IsoDateSchema,
});
export type Invite = z.infer<typeof InviteSchema>;
