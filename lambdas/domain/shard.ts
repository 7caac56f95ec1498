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
 * bucket (days since 1970-01-01 of an anchor date, mod 256) and a stage's multicast is sent once per tenant
 * instead of once per shard. A reader's later subscriptions reuse the reader's bucket (a reader never spans
 * shards). A reader whose subscriptions have different anchor dates (a toddler and a new pregnancy) or whose
 * date changed (a birth report) belongs with the readers of their latest anchor date: the youngest pregnancy or
 * child is the one with the densest cadence (daily), so on every day the reader's list is either that date's
 * list or their own. The shard that delivers such a reader moves them there right after it committed its plan
 * (`readerBucket`); the move is dated (`movedThrough`, `previousBucket`): through that date the reader still
 * belongs to the old bucket (`effectiveBucket`), so the shard of the new bucket never sends them a second time
 * that day, and from the next date on they are the new bucket's.
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

/** A new subscription's bucket fields: the reader's, with the reader's move of today if any (one reader, one shard). */
export function bucketFieldsForNewSubscription(existing: readonly BucketFields[], anchorDate: IsoDate): BucketFields {
  const first = existing[0];
  return {
    bucket: bucketForNewSubscription(existing, anchorDate),
    ...(first?.movedThrough !== undefined &&
      first.previousBucket !== undefined && { movedThrough: first.movedThrough, previousBucket: first.previousBucket }),
  };
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

/** Where a reader belongs for good: the bucket of the latest anchor date among their active subscriptions. */
export function readerBucket(subs: readonly { anchorDate: IsoDate; status: string }[]): number | undefined {
  let latest: IsoDate | undefined;
  for (const s of subs)
    if (s.status === 'active' && (latest === undefined || s.anchorDate > latest)) latest = s.anchorDate;
  return latest === undefined ? undefined : bucketOfAnchor(latest);
}

/** A bucket assignment as stored on a subscription, with the move that led to it if any. */
export interface BucketFields {
  bucket: number;
  /** Set by a move: through this date the reader was still delivered from `previousBucket`. */
  movedThrough?: IsoDate | undefined;
  previousBucket?: number | undefined;
}

/** The bucket a reader is delivered from on `date`: the old one through the date of a move, then the new one. */
export function effectiveBucket(subs: readonly BucketFields[], date: IsoDate): number | undefined {
  for (const s of subs)
    if (s.movedThrough !== undefined && s.previousBucket !== undefined && date <= s.movedThrough)
      return s.previousBucket;
  return subs[0]?.bucket;
}

/** Every bucket a reader may be delivered from around now: where change markers must point. */
export function bucketsOfReader(subs: readonly BucketFields[]): number[] {
  const out = new Set<number>();
  for (const s of subs) {
    out.add(s.bucket);
    if (s.previousBucket !== undefined) out.add(s.previousBucket);
  }
  return [...out];
}

export const shardOfBucket = (bucket: number, shardCount: number): number =>
  Math.floor((bucket * shardCount) / BUCKETS);

/** The buckets a shard covers under a layout of `shardCount` shards: `from` up to, not including, `to`. */
export function bucketRangeOfShard(shard: number, shardCount: number): { from: number; to: number } {
  return { from: Math.ceil((shard * BUCKETS) / shardCount), to: Math.ceil(((shard + 1) * BUCKETS) / shardCount) };
}

export function bucketInShard(bucket: number, shard: number, shardCount: number): boolean {
  const { from, to } = bucketRangeOfShard(shard, shardCount);
  return bucket >= from && bucket < to;
}

export function bucketsOfShard(shard: number, shardCount: number): number[] {
  const { from, to } = bucketRangeOfShard(shard, shardCount);
  return Array.from({ length: to - from }, (_, i) => from + i);
}

// Reader keys are keyed hashes of the address: lambdas/services/reader-keys.ts.
