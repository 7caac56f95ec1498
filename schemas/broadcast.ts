import { z } from 'zod';
import { ChannelSchema, checkPlaceholders, IsoDateSchema, LINE_TEXT_MAX, TenantIdSchema, TRACK_DAYS } from './common';

/**
 * Segment broadcasts (issue 11): a tenant's message on one date to the readers of a segment, merged into that
 * day's one send per reader by the daily pipeline (lambdas/domain/broadcasts.ts).
 */

/** `20w0d`: a pregnancy week and day, as staff write them (gestational day = 7 x weeks + days). */
export const PregnancyWeekSchema = z
  .string()
  .regex(/^(\d{1,2})w([0-6])d$/, 'expected weeks and days like 20w0d (days 0-6)')
  .refine((s) => {
    const day = gestationalDayOf(s);
    return day >= TRACK_DAYS.maternity.first && day <= TRACK_DAYS.maternity.last;
  }, 'outside the maternity track (4w0d-41w6d)');

export const gestationalDayOf = (week: string): number => {
  const m = /^(\d{1,2})w([0-6])d$/.exec(week);
  return m ? Number(m[1]) * 7 + Number(m[2]) : Number.NaN;
};

/** Maternity: from one pregnancy week and day to another, both included (`20w0d`-`30w6d`). */
export const MaternityRangeSchema = z
  .object({ from: PregnancyWeekSchema, to: PregnancyWeekSchema })
  .refine((r) => gestationalDayOf(r.from) <= gestationalDayOf(r.to), {
    path: ['to'],
    error: 'must not be before from',
  });

/**
 * Childcare: the child's age in days since the birthday, or in completed months (a child is 0 months old until
 * the first monthly birthday), both ends included: `0-11 months` is the first year, `0-100 days` the daily series.
 */
export const ChildcareRangeSchema = z
  .object({
    unit: z.enum(['days', 'months']),
    from: z.number().int().min(0),
    to: z.number().int().min(0),
  })
  .refine((r) => r.from <= r.to, { path: ['to'], error: 'must not be below from' })
  .refine((r) => r.to <= (r.unit === 'days' ? TRACK_DAYS.childcare.last : 35), {
    path: ['to'],
    error: 'beyond the childcare track (to the 3rd birthday: 1096 days, 35 months)',
  });

export const BROADCAST_TRACKS = ['maternity', 'childcare'] as const;
export const BroadcastAudienceSchema = z.enum(['parent', 'partner', 'both']);

export const BroadcastSegmentSchema = z
  .object({
    /** The support series after a loss is never in a segment. */
    tracks: z
      .array(z.enum(BROADCAST_TRACKS))
      .min(1)
      .default([...BROADCAST_TRACKS]),
    maternity: MaternityRangeSchema.optional(),
    childcare: ChildcareRangeSchema.optional(),
    channels: z.array(ChannelSchema).min(1).default(['line', 'email']),
    audience: BroadcastAudienceSchema.default('both'),
  })
  .superRefine((s, ctx) => {
    for (const track of ['maternity', 'childcare'] as const)
      if (s[track] && !s.tracks.includes(track))
        ctx.addIssue({ code: 'custom', path: [track], message: `a ${track} range needs ${track} in tracks` });
  });
export type BroadcastSegment = z.infer<typeof BroadcastSegmentSchema>;

/** What staff write: the date, the texts per channel, the segment. */
export const BroadcastInputSchema = z
  .object({
    date: IsoDateSchema,
    /** LINE: one text message. */
    line: z.object({ text: z.string().trim().min(1).max(LINE_TEXT_MAX) }).optional(),
    /** Email: a heading (the subject) and the body, as a part of the day's mail. */
    email: z
      .object({ subject: z.string().trim().min(1).max(100), body: z.string().trim().min(1).max(LINE_TEXT_MAX) })
      .optional(),
    segment: BroadcastSegmentSchema,
  })
  .superRefine((b, ctx) => {
    for (const channel of b.segment.channels)
      if (!b[channel])
        ctx.addIssue({
          code: 'custom',
          path: [channel],
          message: `the segment reaches ${channel} readers: give the ${channel} text`,
        });
    if (b.line) checkPlaceholders(b.line.text, ctx, ['line', 'text']);
    if (b.email) {
      checkPlaceholders(b.email.subject, ctx, ['email', 'subject']);
      checkPlaceholders(b.email.body, ctx, ['email', 'body']);
    }
  });
export type BroadcastInput = z.infer<typeof BroadcastInputSchema>;

export const BroadcastStatusSchema = z.enum(['scheduled', 'cancelled']);

/** A stored broadcast. Its id is random (no personal data); who created or cancelled it is staff, not a reader. */
export const BroadcastSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'a broadcast id: letters, digits and hyphens'),
  tenantId: TenantIdSchema,
  date: IsoDateSchema,
  line: z.object({ text: z.string().min(1).max(LINE_TEXT_MAX) }).optional(),
  email: z.object({ subject: z.string().min(1), body: z.string().min(1) }).optional(),
  segment: BroadcastSegmentSchema,
  status: BroadcastStatusSchema,
  createdAt: z.number().int(),
  createdBy: z.string().min(1),
  cancelledAt: z.number().int().optional(),
  cancelledBy: z.string().min(1).optional(),
});
export type Broadcast = z.infer<typeof BroadcastSchema>;
