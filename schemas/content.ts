import { z } from 'zod';
import { AudienceSchema, checkPlaceholders, TrackSchema, trackDayProblem } from './common';

/**
 * One expert-written message of the library for a slot (track + day number).
 * `day` is the gestational day (maternity, 28..293) or the child's age in days (childcare, 0..1095).
 * Cadence is data: a day without an item carries no library message.
 */
export const ContentItemSchema = z
  .object({
    track: TrackSchema,
    day: z.number().int().min(0).max(1100),
    audience: AudienceSchema.default('parent'),
    /** May contain `{nickname}`; at most 4,800 UTF-16 units so a filled nickname stays under LINE's 5,000. */
    text: z.string().min(1).max(4800),
  })
  .superRefine((item, ctx) => {
    const problem = trackDayProblem(item.track, item.day);
    if (problem) ctx.addIssue({ code: 'custom', path: ['day'], message: problem });
    checkPlaceholders(item.text, ctx, ['text']);
  });
export type ContentItem = z.infer<typeof ContentItemSchema>;

export const ContentLibrarySchema = z
  .object({
    libraryId: z.string().regex(/^[a-z0-9-]{2,40}$/),
    language: z.string().default('ja'),
    /** Required to be true for the sample library: it is sample text, not medical advice. */
    sample: z.boolean(),
    notice: z.string().min(1),
    items: z.array(ContentItemSchema).min(1),
  })
  .superRefine((lib, ctx) => {
    const seen = new Set<string>();
    lib.items.forEach((item, i) => {
      const key = `${item.track}/${item.day}/${item.audience}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['items', i], message: `duplicate slot ${key}` });
      seen.add(key);
    });
  });
export type ContentLibrary = z.infer<typeof ContentLibrarySchema>;
