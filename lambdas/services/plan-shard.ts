import { randomUUID } from 'node:crypto';
import type { PlannedSend, ShardTask } from '../../schemas/delivery';
import type { TenantConfig } from '../../schemas/tenant';
import {
  addDays,
  emailSubject,
  groupByReader,
  planSends,
  resolveReader,
  trackEnded,
  type ReaderDelivery,
} from '../domain';
import type { ResolveContext } from '../domain/resolve';
import { mapLimit } from './concurrency';
import { channelEnabled, deliveryOf, isReaderDataError } from './send-time-check';
import type { PlanStore, StoredPlan, SubscriptionReader, SubscriptionWriter } from './ports';
import { zeroCounters } from './counters';

/** A plan item stays well under DynamoDB's 400 KB item limit and keeps a retry's repeated work small. */
const BATCH_MAX_SENDS = 50;
const BATCH_MAX_BYTES = 300_000;

export interface PlanShardDeps {
  subscriptions: SubscriptionReader & SubscriptionWriter;
  plans: PlanStore;
}

/**
 * Resolves the shard's readers for the date and commits the plan. One reader's bad data (an item that does
 * not parse, texts that cannot fit LINE's limits) leaves that reader out and is counted; it never fails the
 * shard. Subscriptions whose track is over are marked `ended` on the way.
 */
export async function planShard(
  task: ShardTask,
  tenant: TenantConfig,
  ctx: ResolveContext,
  now: Date,
  deps: PlanShardDeps,
): Promise<StoredPlan> {
  const listing = await deps.subscriptions.listShard(task.tenantId, task.shard, task.shardCount);
  const planned = zeroCounters();
  planned.corrupt = listing.corruptReaders.length;
  const corrupt = new Set(listing.corruptReaders);
  const readers: ReaderDelivery[] = [];
  for (const group of groupByReader(listing.subscriptions)) {
    const first = group[0];
    if (!first || corrupt.has(first.readerKey)) continue;
    let texts: string[];
    try {
      texts = resolveReader(group, task.date, ctx);
    } catch (err) {
      if (!isReaderDataError(err)) throw err;
      planned.corrupt += 1;
      continue;
    }
    if (texts.length === 0 || !channelEnabled(tenant, first.channel)) continue;
    planned.subscriptionsDue += group.length;
    readers.push(deliveryOf(first, texts));
  }
  planned.failures = planned.corrupt;

  const ended = listing.subscriptions.filter((s) => trackEnded(s.track, s.anchorDate, task.date));
  await mapLimit(ended, 4, (s) => deps.subscriptions.markEnded(s, addDays(task.date, tenant.retentionDays)));
  planned.ended = ended.length;

  const sends = planSends(readers, { emailSubject: emailSubject(tenant, task.date) });
  return deps.plans.commit(task, { planId: randomUUID(), committedAt: now.getTime(), planned }, chunkSends(sends));
}

export function chunkSends(sends: PlannedSend[]): PlannedSend[][] {
  const batches: PlannedSend[][] = [];
  let current: PlannedSend[] = [];
  let bytes = 0;
  for (const send of sends) {
    const size = Buffer.byteLength(JSON.stringify(send));
    if (current.length > 0 && (current.length >= BATCH_MAX_SENDS || bytes + size > BATCH_MAX_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(send);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
