/**
 * Readers are spread over a fixed number of buckets per tenant by FNV-1a of the reader key; a tenant's
 * `shardCount` only groups buckets into shards (bucket mod shardCount). The bucket is stored on each
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

export const shardOfBucket = (bucket: number, shardCount: number): number => bucket % shardCount;

/** The buckets a shard covers under a layout of `shardCount` shards. */
export function bucketsOfShard(shard: number, shardCount: number): number[] {
  const out: number[] = [];
  for (let b = shard; b < BUCKETS; b += shardCount) out.push(b);
  return out;
}

// Reader keys are keyed hashes of the address: lambdas/services/reader-keys.ts.
