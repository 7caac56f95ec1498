import type { PlannedSend, SavedSend, ShardTask } from '../../schemas/delivery';
import type { Subscription } from '../../schemas/subscription';
import { mapLimit } from './concurrency';
import { isReaderDataError } from './send-time-check';
import type { SavedPlan, StoredBatch, StoredPlan, SubscriptionReader } from './ports';

/**
 * A stored plan names its readers by reader key only (no LINE id or email address in the Delivery table, so an
 * erasure leaves nothing behind there). The invocation that plans keeps the addresses in memory; one that resumes
 * a plan (after a crash, a timeout or a lost commit race) finds them here: the shard's index listing (one query,
 * or the listing planning already holds), then each reader it does not show (moved to another bucket today,
 * paused or stopped since) from their own subscriptions. A reader with no subscription left was erased: they
 * leave the send, and a send with nobody left is skipped; the others keep their positions, so every retry key
 * stays that of the planned send.
 */
export async function addressPlan(
  task: ShardTask,
  saved: SavedPlan,
  subscriptions: SubscriptionReader,
  listing?: readonly Subscription[],
): Promise<StoredPlan> {
  const open = saved.batches.filter((b) => !b.outcome);
  const wanted = new Set(open.flatMap((b) => b.sends.flatMap(keysOf)));
  const addresses = new Map<string, string>();
  if (wanted.size > 0) {
    const listed = listing ?? (await subscriptions.listShard(task.tenantId, task.shard, task.shardCount)).subscriptions;
    for (const s of listed) if (wanted.has(s.readerKey)) addresses.set(s.readerKey, s.address);
    const missing = [...wanted].filter((k) => !addresses.has(k));
    await mapLimit(missing, 8, async (readerKey) => {
      try {
        const own = await subscriptions.listReader(task.tenantId, readerKey);
        if (own[0]) addresses.set(readerKey, own[0].address);
      } catch (err) {
        // Unreadable: left out like an erased reader; the send-time check would count them corrupt anyway.
        if (!isReaderDataError(err)) throw err;
      }
    });
  }
  const batches = saved.batches.map((b): StoredBatch => {
    if (b.outcome) return { batchNo: b.batchNo, sends: [], outcome: b.outcome };
    const sends: PlannedSend[] = [];
    const sendNos: number[] = [];
    let withheld = 0;
    b.sends.forEach((send, sendNo) => {
      const addressed = withAddresses(send, addresses);
      withheld += keysOf(send).length - (addressed ? keysOfPlanned(addressed).length : 0);
      if (addressed) {
        sends.push(addressed);
        sendNos.push(sendNo);
      }
    });
    return {
      batchNo: b.batchNo,
      sends,
      ...(sendNos.length < b.sends.length && { sendNos }),
      ...(withheld > 0 && { withheld }),
    };
  });
  return { ...saved, batches };
}

const keysOf = (s: SavedSend): string[] => (s.kind === 'multicast' ? s.readerKeys : [s.readerKey]);
const keysOfPlanned = (s: PlannedSend): readonly string[] => (s.kind === 'multicast' ? s.readerKeys : [s.readerKey]);

function withAddresses(send: SavedSend, addresses: ReadonlyMap<string, string>): PlannedSend | undefined {
  if (send.kind !== 'multicast') {
    const to = addresses.get(send.readerKey);
    return to === undefined ? undefined : { ...send, to };
  }
  const readerKeys = send.readerKeys.filter((k) => addresses.has(k));
  if (readerKeys.length === 0) return undefined;
  return { ...send, readerKeys, to: readerKeys.map((k) => addresses.get(k)!) };
}
