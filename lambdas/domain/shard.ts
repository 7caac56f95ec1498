/**
 * Readers are spread over a fixed number of buckets per tenant by FNV-1a of the reader key; a tenant's
 * `shardCount` only groups buckets into shards, each a contiguous range of buckets (so a shard reads its
 * subscriptions with one range query of the index, however few readers the tenant has). The bucket is stored on each
 * subscription and never changes, so all subscriptions of a reader always sit in one shard whatever the
 * shard count, and changing the count regroups buckets instead of moving readers. The shard layout of a
 * delivery date is fixed once by the fan-out (see `DayLayout`), so a change of `shardCount` takes effect on
 * the next day and never splits a day's work between two layouts.
 */
export const BUCKETS = 256;

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
