import { z } from 'zod';
import { AudienceSchema, ChannelSchema, IsoDateSchema, TenantIdSchema, TrackSchema } from './common';

/**
 * `active`: in the shard index, delivered (unless `pausedUntil` is after the delivery date).
 * `paused`: paused until resumed (out of the shard index). `stopped`: the reader stopped or unfollowed.
 * `lost`: a pregnancy or child was lost; never delivered again. `ended`: the track is over.
 */
export const SubscriptionStatusSchema = z.enum(['active', 'paused', 'stopped', 'lost', 'ended']);
export type SubscriptionStatus = z.infer<typeof SubscriptionStatusSchema>;

export const SubscriptionSchema = z.object({
  tenantId: TenantIdSchema,
  /** `line:<userId>` or `email:<address>`: one person on one channel. */
  readerKey: z.string().min(3),
  subscriptionId: z.string().min(1),
  channel: ChannelSchema,
  /** LINE user id or email address. */
  address: z.string().min(1),
  track: TrackSchema,
  /** Due date (maternity) or birthday (childcare). */
  anchorDate: IsoDateSchema,
  audience: AudienceSchema,
  nickname: z.string().max(20).optional(),
  status: SubscriptionStatusSchema,
  /**
   * First delivery date: nothing is sent for dates before it. Moves on a birth, a resume or a follow after a
   * block (delivery starts again the next day), so it is not the registration date: see `firstRegisteredOn`.
   */
  registeredOn: IsoDateSchema,
  /**
   * The day this pregnancy or child was first registered, kept when `registeredOn` moves (the KPI report counts
   * registrants by it). Absent until `registeredOn` first moves: then `registeredOn` is that day.
   */
  firstRegisteredOn: IsoDateSchema.optional(),
  /** Paused for a while: nothing is sent on dates before this one. */
  pausedUntil: IsoDateSchema.optional(),
  /** Shared by the parent's and the partner's subscriptions to the same pregnancy or child. */
  familyId: z.string().min(1),
  /** The reader's (all their subscriptions share it: domain/shard.ts); the day's layout groups buckets into shards. */
  bucket: z.number().int().min(0).max(255),
  /**
   * A move to `bucket` (to the readers of the reader's latest anchor date, domain/shard.ts): through this date the
   * reader is still delivered from `previousBucket`, so no shard sends twice on the day of the move.
   */
  movedThrough: IsoDateSchema.optional(),
  previousBucket: z.number().int().min(0).max(255).optional(),
  /** Optimistic lock: every write is conditional on the version it read, and increments it. */
  version: z.number().int().min(0),
  /** Why a `stopped` subscription stopped: an unfollow is undone by following again, a reader's own stop is not. */
  stoppedReason: z.enum(['unfollow', 'reader']).optional(),
  /**
   * Set when the subscription stops, is lost or ends (that date + the tenant's `retentionDays`); cleared when it
   * becomes active again. The item (and its family link) carries the matching TTL, so nothing outlives its purpose.
   */
  eraseOn: IsoDateSchema.optional(),
  /**
   * For email readers: SES reported the address undeliverable (a permanent bounce, or transient ones past the
   * threshold) or a complaint. Stays in the shard index so the pipeline counts it (`suppressed`); never mailed
   * again until the reader signs up anew (domain/suppression.ts `clearSuppression`).
   */
  suppressed: z.object({ reason: z.enum(['bounce', 'complaint']), at: z.number().int() }).optional(),
  /** For email readers: the opaque token of the one-click unsubscribe link. */
  unsubscribeToken: z.string().optional(),
  /**
   * For email readers: the reader's token version (the same on all their subscriptions). Signed links carry it;
   * a stop, a deletion or "revoke my links" gives the reader a new one, and every older link is revoked.
   */
  tokenVersion: z.string().min(1).max(40).optional(),
});
export type Subscription = z.infer<typeof SubscriptionSchema>;
