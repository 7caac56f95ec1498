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

/**
 * The day numbers a track's slots can have: gestational days 4w0d-41w6d, the child's age in days up to the
 * 3rd birthday (3 x 365 + a leap day), the support series' 90 days. Overlays, library items and survey stages
 * outside them would never be sent, so the files are refused instead.
 */
export const TRACK_DAYS: Readonly<Record<Track, { first: number; last: number }>> = {
  maternity: { first: 28, last: 293 },
  childcare: { first: 0, last: 1096 },
  support: { first: 0, last: 90 },
};

/** A problem with a slot's day for the track, or undefined when the day can be sent. */
export function trackDayProblem(track: Track, day: number): string | undefined {
  const { first, last } = TRACK_DAYS[track];
  return day < first || day > last ? `day ${day} is outside the ${track} track (${first}-${last})` : undefined;
}

/** The placeholders the renderer fills in message texts (lambdas/domain/resolve.ts); any other is an error. */
export const MESSAGE_PLACEHOLDERS = ['nickname'] as const;

/** `{name}`-shaped placeholders in a text that the renderer does not know (they would be sent verbatim). */
export function unknownPlaceholders(text: string): string[] {
  const known: readonly string[] = MESSAGE_PLACEHOLDERS;
  return [...text.matchAll(/\{\s*([A-Za-z_][\w.]*)\s*\}/g)]
    .map((m) => m[0])
    .filter((p) => !known.includes(p.slice(1, -1)));
}

/** Adds a zod issue for each unknown placeholder of `text` (used by every schema holding a message text). */
export function checkPlaceholders(
  text: string,
  ctx: { addIssue: (issue: { code: 'custom'; message: string; path: (string | number)[] }) => void },
  path: (string | number)[],
) {
  const unknown = unknownPlaceholders(text);
  if (unknown.length > 0)
    ctx.addIssue({
      code: 'custom',
      path,
      message: `unknown placeholder ${unknown.join(', ')} (known: ${MESSAGE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
    });
}
