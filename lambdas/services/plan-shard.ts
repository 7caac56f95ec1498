import { randomUUID } from 'node:crypto';
import type { PlannedSend, ShardTask } from '../../schemas/delivery';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import {
  addDays,
  broadcastsOn,
  emailSubject,
  groupByReader,
  isSuppressed,
  planSends,
  resolveReaderDetailed,
  trackEnded,
  type ReaderDelivery,
} from '../domain';
import type { ResolveContext } from '../domain/resolve';
import { bucketInShard, effectiveBucket, readerBucket } from '../domain/shard';
import { mapLimit } from './concurrency';
import { addressPlan } from './plan-addresses';
import { channelEnabled, deliveryOf, isReaderDataError } from './send-time-check';
import type {
  PlanMeta,
  PlanStore,
  StoredPlan,
  SubscriptionReader,
  SubscriptionWriter,
  SurveyInvitationStore,
} from './ports';
import { mayBeInvited, readerInvitations, type PlannedInvitation } from './survey-invitations';
import { zeroCounters } from './counters';

/**
 * A plan item stays well under DynamoDB's 400 KB item limit (300 KB of JSON at most, compressed to a fraction).
 * 200 sends, not 50: DynamoDB bills each item by the kilobyte rounded up, and brotli finds more of the texts'
 * repeats in a bigger batch; planned with the demo's 50,000 readers (one shard of 16) the batches took 46.9 write
 * units per 1,000 readers at 50 sends and 38.2 at 200. A retried batch repeats up to 200 sends, each answered 409
 * by LINE (its retry key) or skipped by the email claim, about a second of LINE's multicast limit.
 */
export const BATCH_MAX_SENDS = 200;
const BATCH_MAX_BYTES = 300_000;

export interface PlanShardDeps {
  subscriptions: SubscriptionReader & SubscriptionWriter;
  plans: PlanStore;
  /** Survey invitations travel in the daily send; without a store nobody is invited. */
  surveys?: SurveyInvitationStore;
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
  /** Recorded in the plan header: which content version these sends were resolved with. */
  contentVersion?: string,
): Promise<StoredPlan> {
  const listing = await deps.subscriptions.listShard(task.tenantId, task.shard, task.shardCount);
  const planned = zeroCounters();
  planned.corrupt = listing.corruptReaders.length;
  const corrupt = new Set(listing.corruptReaders);
  const readers: ReaderDelivery[] = [];
  // A reader moved here today is still delivered by the shard they came from (domain/shard.ts).
  const groups = groupByReader(listing.subscriptions).filter((g) => {
    const bucket = effectiveBucket(g, task.date);
    return bucket === undefined || bucketInShard(bucket, task.shard, task.shardCount);
  });
  const invitations = await plannedInvitations(task, tenant, groups, corrupt, deps);
  // The broadcasts the plan is resolved with, each with the readers it went into (the send-time check drops a
  // broadcast cancelled after this).
  const broadcasts: Record<string, number> = Object.fromEntries(
    broadcastsOn(ctx.broadcasts ?? [], task.date).map((b) => [b.id, 0]),
  );
  for (const group of groups) {
    const first = group[0];
    if (!first || corrupt.has(first.readerKey)) continue;
    let texts: string[];
    let broadcastIds: string[];
    const invited = invitations.get(first.readerKey) ?? [];
    try {
      ({ texts, broadcastIds } = resolveReaderDetailed(
        group,
        task.date,
        ctx,
        invited.map((i) => i.text),
      ));
    } catch (err) {
      if (!isReaderDataError(err)) throw err;
      planned.corrupt += 1;
      continue;
    }
    if (texts.length === 0 || !channelEnabled(tenant, first.channel)) continue;
    planned.subscriptionsDue += group.length;
    // Due, but SES told us the address bounces or complained: counted, never mailed.
    if (group.some(isSuppressed)) {
      planned.suppressed += 1;
      continue;
    }
    for (const id of broadcastIds) broadcasts[id] = (broadcasts[id] ?? 0) + 1;
    readers.push(deliveryOf(first, texts, invited));
  }
  planned.failures = planned.corrupt;

  const ended = listing.subscriptions.filter((s) => trackEnded(s.track, s.anchorDate, task.date));
  await mapLimit(ended, 4, (s) => deps.subscriptions.markEnded(s, addDays(task.date, tenant.retentionDays)));
  planned.ended = ended.length;

  const sends = planSends(readers, { emailSubject: emailSubject(tenant, task.date) });
  const meta: PlanMeta = {
    planId: randomUUID(),
    committedAt: now.getTime(),
    planned,
    ...(contentVersion !== undefined && { contentVersion }),
    ...(Object.keys(broadcasts).length > 0 && { broadcasts }),
  };
  const batches = chunkSends(sends);
  const committed = await deps.plans.commit(task, meta, batches);
  // Ours: the addresses are in memory. Another invocation's plan won the race: its readers are addressed from
  // this listing (the store keeps reader keys only).
  const plan: StoredPlan =
    committed === 'ours'
      ? { ...meta, batches: batches.map((b, batchNo) => ({ batchNo, sends: b })) }
      : await addressPlan(task, committed, deps.subscriptions, listing.subscriptions);
  // Only once the plan is fixed: this shard no longer reads the index for the date, and it still delivers them.
  await moveReaders(task, groups, deps);
  return plan;
}

/**
 * Readers who do not sit with the readers of their latest anchor date (a new pregnancy beside a toddler, a
 * birth report) are moved there, dated today: today they are still this shard's, from tomorrow the multicast of
 * their date reaches them with the others. Read again strongly consistent first; a reader already mid-move waits.
 */
async function moveReaders(task: ShardTask, groups: readonly Subscription[][], deps: PlanShardDeps) {
  const move = deps.subscriptions.moveReader?.bind(deps.subscriptions);
  if (!move) return;
  const misplaced = (subs: readonly Subscription[]) => {
    const target = readerBucket(subs);
    const first = subs[0];
    if (target === undefined || !first || target === first.bucket) return undefined;
    if (subs.some((s) => s.bucket !== first.bucket || (s.movedThrough !== undefined && s.movedThrough >= task.date)))
      return undefined;
    return target;
  };
  const candidates = groups.filter((g) => misplaced(g) !== undefined);
  await mapLimit(candidates, 4, async (group) => {
    let all: Subscription[];
    try {
      all = await deps.subscriptions.listReader(task.tenantId, group[0]!.readerKey);
    } catch (err) {
      if (!isReaderDataError(err)) throw err;
      return;
    }
    const target = misplaced(all);
    if (target !== undefined) await move(all, target, task.date);
  });
}

/**
 * Invitation texts by reader key. Only readers the index says may be invited are read again (strongly consistent,
 * with their lost and stopped subscriptions: never an invitation after a loss); each invitation is recorded before
 * the plan is committed, so it can be sent on this date only.
 */
async function plannedInvitations(
  task: ShardTask,
  tenant: TenantConfig,
  groups: readonly Subscription[][],
  corrupt: ReadonlySet<string>,
  deps: PlanShardDeps,
): Promise<Map<string, PlannedInvitation[]>> {
  const out = new Map<string, PlannedInvitation[]>();
  const store = deps.surveys;
  if (!store) return out;
  const candidates = groups.filter(
    (g) => g[0] !== undefined && !corrupt.has(g[0].readerKey) && mayBeInvited(tenant, g, task.date),
  );
  await mapLimit(candidates, 8, async (group) => {
    const readerKey = group[0]!.readerKey;
    let all: Subscription[];
    try {
      all = await deps.subscriptions.listReader(task.tenantId, readerKey);
    } catch (err) {
      if (!isReaderDataError(err)) throw err;
      return;
    }
    const invited = await readerInvitations(tenant, all, task.date, store, 'plan');
    if (invited.length > 0) out.set(readerKey, invited);
  });
  return out;
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
