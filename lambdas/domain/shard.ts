/**
 * The shard of a reader: FNV-1a of the reader key modulo the tenant's shard count. All subscriptions of a
 * reader share one shard, so one worker sees all of a person's messages for the day and sends them together.
 */
export function shardOf(readerKey: string, shardCount: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < readerKey.length; i++) {
    h ^= readerKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shardCount;
}

export const lineReaderKey = (userId: string) => `line:${userId}`;
export const emailReaderKey = (address: string) => `email:${address.trim().toLowerCase()}`;
