import { z } from 'zod';

/** One answer a municipality gives to a frequent question, shown to a reader before an inquiry goes to staff. */
export const FaqEntrySchema = z.strictObject({
  /** Stable id (reports count which entries resolved an inquiry). */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and hyphens, at most 40'),
  question: z.string().min(1).max(200),
  /** The answer as the reader sees it (a LINE message: at most 1,000 characters leaves room for the buttons). */
  answer: z.string().min(1).max(1000),
  /** Other words residents use for the same thing (e.g. 補助券 for 受診票), weighted like the question. */
  keywords: z.array(z.string().min(1).max(40)).max(20).default([]),
});
export type FaqEntry = z.infer<typeof FaqEntrySchema>;

export const FaqSchema = z.array(FaqEntrySchema).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    if (seen.has(e.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate FAQ id "${e.id}"` });
    seen.add(e.id);
  });
});
