import { z } from 'zod';

/** A calendar date (no time, no zone): `YYYY-MM-DD`, checked to be a real date. */
export const IsoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a real calendar date');
export type IsoDate = z.infer<typeof IsoDateSchema>;

export const TenantIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,39}$/, 'tenant id: lower-case letters, digits and hyphens, 2-40 characters');
export type TenantId = z.infer<typeof TenantIdSchema>;

/** `support`: the optional bereavement-support series offered after a loss is reported. */
export const TrackSchema = z.enum(['maternity', 'childcare', 'support']);
export type Track = z.infer<typeof TrackSchema>;

export const AudienceSchema = z.enum(['parent', 'partner']);
export type Audience = z.infer<typeof AudienceSchema>;

export const ChannelSchema = z.enum(['line', 'email']);
export type Channel = z.infer<typeof ChannelSchema>;

/** LINE's documented limit for one text message, in UTF-16 code units (JS string length). */
export const LINE_TEXT_MAX = 5000;
/** LINE's documented limits for multicast. */
export const LINE_MULTICAST_MAX_RECIPIENTS = 500;
export const LINE_MAX_MESSAGES_PER_REQUEST = 5;
export const LINE_QUICK_REPLY_MAX_ITEMS = 13;
