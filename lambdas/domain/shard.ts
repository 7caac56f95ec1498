import type { IsoDate } from '../../schemas/common';
import { daysBetween } from './dates';

/**
 * A tenant's readers sit in a fixed number of buckets; a tenant's `shardCount` only groups buckets into shards,
 * each a contiguous range of buckets (so a shard reads its subscriptions with one range query of the index,
 * however few readers the tenant has). The bucket is stored on each subscription and never changes, so all
 * subscriptions of a reader always sit in one shard whatever the shard count, and changing the count regroups
 * buckets instead of moving readers. The shard layout of a delivery date is fixed once by the fan-out (see
 * `DayLayout`), so a change of `shardCount` takes effect on the next day and never splits a day's work between
 * two layouts.
 *
 * Which bucket: readers of one anchor date get the same stage message on every day, so they are put in one
 * bucket (days since 1970-01-01 of the anchor date of the reader's first subscription, mod 256) and a stage's
 * multicast is sent once per tenant instead of once per shard. A reader's later subscriptions reuse the
 * reader's bucket (a reader never spans shards), and a later change of the date keeps it: at most one
 * extra send a day for that reader, never a move between shards in the middle of a day.
 */
export const BUCKETS = 256;

const EPOCH: IsoDate = '1970-01-01';

/** The bucket of a reader whose first subscription has this anchor date (due date or birthday). */
export function bucketOfAnchor(anchorDate: IsoDate): number {
  return ((daysBetween(EPOCH, anchorDate) % BUCKETS) + BUCKETS) % BUCKETS;
}

/** The bucket for a new subscription: the reader's own if they hold any, else the one of its anchor date. */
export function bucketForNewSubscription(existing: readonly { bucket: number }[], anchorDate: IsoDate): number {
  return existing[0]?.bucket ?? bucketOfAnchor(anchorDate);
}

/**
 * FNV-1a of the reader key: how buckets were assigned before anchor dates (subscriptions stored then keep
 * theirs), and still used where a reader has no subscription at all to take a bucket from.
 */
export function bucketOf(readerKey: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < readerKey.length; i++) {
    h ^= readerKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

export const shardOfBucket = (bucket: number, shardCount: number): number =>
  Math.floor((bucket * shardCount) / BUCKETS);

/** The buckets a shard covers under a layout of `shardCount` shards: `from` up to, not including, `to`. */
export function bucketRangeOfShard(shard: number, shardCount: number): { from: number; to: number } {
  return { from: Math.ceil((shard * BUCKETS) / shardCount), to: Math.ceil(((shard + 1) * BUCKETS) / shardCount) };
}

export function bucketsOfShard(shard: number, shardCount: number): number[] {
  const { from, to } = bucketRangeOfShard(shard, shardCount);
  return Array.from({ length: to - from }, (_, i) => from + i);
}

// Reader keys are keyed hashes of the address: lambdas/services/reader-keys.ts.
