import { v5 as uuidv5 } from 'uuid';
import type { ShardCounters, ShardTask } from '../../schemas/delivery';
import type { TenantConfig } from '../../schemas/tenant';
import {
  broadcastsOn,
  emailSubject,
  libraryIndexFor,
  planSends,
  readerKeysOf,
  reviseSends,
  type ReaderDelivery,
} from '../domain';
import type { ResolveContext } from '../domain/resolve';
import { addCounters } from './counters';
import { DeadlineReachedError, ShardIncompleteError } from './delivery-errors';
import { UnknownTenantError } from './fan-out';
import { addressPlan } from './plan-addresses';
import { planShard } from './plan-shard';
import type {
  BatchOutcome,
  BroadcastStore,
  ChangeFeed,
  Clock,
  ContentSource,
  EmailLinkSource,
  EmailSender,
  LineSenderFactory,
  PlanStore,
  StoredPlan,
  SubscriptionReader,
  SubscriptionWriter,
  SurveyInvitationStore,
  TenantDirectory,
} from './ports';
import { executeSends, type SendCheck, type SendDeps } from './send-batch';
import { changedReaders, freshDeliveries } from './send-time-check';

export { addCounters, zeroCounters } from './counters';
export { ShardIncompleteError } from './delivery-errors';

export interface DeliverShardDeps {
  tenants: TenantDirectory;
  content: ContentSource;
  subscriptions: SubscriptionReader & SubscriptionWriter;
  changes: ChangeFeed;
  plans: PlanStore;
  /** Survey invitations (records and declines); without it nobody is invited. */
  surveys?: SurveyInvitationStore;
  /** The tenant's segment broadcasts; without it none is sent. */
  broadcasts?: BroadcastStore;
  line: LineSenderFactory;
  email: EmailSender;
  /** The readers' signed links in each mail. */
  emailLinks: EmailLinkSource;
  /** The account-wide email send rate (shared by all workers); unpaced when absent. */
  emailRate?: { take(): Promise<void> };
  clock: Clock;
  /** Time left before the function's timeout (Lambda's `context.getRemainingTimeInMillis`). */
  remainingMs?: () => number;
  /** No send starts with less than this left: the slowest send (with its retries) must still fit. */
  deadlineMarginMs?: number;
  /** Sends in flight at once within a batch. */
  concurrency?: number;
  /** Called after each batch, for progress display. */
  onBatchDone?: (task: ShardTask, outcome: BatchOutcome) => void;
}

/**
 * A task older than this is refused: its messages belong to another day, and LINE honours a retry key for
 * 24 hours only, so resuming an old plan could send twice. Shorter than a day, with room for SQS retries.
 */
export const MAX_TASK_AGE_MS = 20 * 3600_000;
/** A plan committed longer ago than this is not resumed: LINE forgets its retry keys after 24 hours. */
export const MAX_PLAN_AGE_MS = 23 * 3600_000;
export const DEFAULT_DEADLINE_MARGIN_MS = 90_000;

/** Fixed namespace for retry keys: the same (tenant, date, shard, plan, batch, send) always gives the same key. */
const RETRY_KEY_NAMESPACE = '6f1c2b1e-4d7a-5c3e-9b8a-2f0e1d4c3b5a';
export const retryKey = (task: ShardTask, planId: string, batchNo: number, sendNo: number) =>
  uuidv5(`${task.tenantId}|${task.date}|${task.shard}|${planId}|${batchNo}|${sendNo}`, RETRY_KEY_NAMESPACE);
/** A reader's own send outside the plan's sends (revised or late): one per reader and plan, whatever the batch. */
export const readerRetryKey = (task: ShardTask, planId: string, readerKey: string) =>
  uuidv5(`${task.tenantId}|${task.date}|${task.shard}|${planId}|reader|${readerKey}`, RETRY_KEY_NAMESPACE);

export type ShardResult =
  | { status: 'delivered'; counters: ShardCounters }
  /** The plan had been executed completely by an earlier invocation. */
  | { status: 'already-done'; counters: ShardCounters | undefined }
  | { status: 'stale'; reason: string };

export async function deliverShard(task: ShardTask, deps: DeliverShardDeps): Promise<ShardResult> {
  const tenant = await deps.tenants.getTenant(task.tenantId);
  if (!tenant) throw new UnknownTenantError([task.tenantId]);
  const existing = await deps.plans.load(task);
  if (existing?.completedAt !== undefined) return { status: 'already-done', counters: existing.counters };

  const now = deps.clock.now();
  const stale = staleReason(task, existing, now.getTime());
  if (stale) {
    await deps.plans.refuseStale(task, existing, stale);
    return { status: 'stale', reason: stale };
  }

  // One content version for the whole date, so an import while the day runs never gives shards different texts.
  const { version: contentVersion, items } = deps.content.getDayLibrary
    ? await deps.content.getDayLibrary(tenant.library, task.tenantId, task.date)
    : { version: undefined, items: await deps.content.getLibrary(tenant.library) };
  // Read afresh on every invocation: a broadcast cancelled since planning is dropped at send time.
  const scheduled = broadcastsOn(
    deps.broadcasts ? await deps.broadcasts.onDate(task.tenantId, task.date) : [],
    task.date,
  );
  const planCtx: ResolveContext = { tenant, library: libraryIndexFor(items), broadcasts: scheduled };
  // A resumed plan is stored without addresses: they come from the subscriptions (plan-addresses.ts).
  const plan = existing
    ? await addressPlan(task, existing, deps.subscriptions)
    : await planShard(task, tenant, planCtx, now, deps, contentVersion);
  // Sends resolved afresh (the send-time check, late readers) get only what the plan was resolved with and is still
  // scheduled: a broadcast is never added after planning, and one cancelled since is taken out.
  const inPlan = plan.broadcasts ?? {};
  const ctx: ResolveContext = { ...planCtx, broadcasts: scheduled.filter((b) => b.id in inPlan) };
  const cancelled = Object.entries(inPlan).some(([id, n]) => n > 0 && !ctx.broadcasts!.some((b) => b.id === id));
  const sendDeps: SendDeps = {
    ...sendDepsOf(deps),
    check: sendTimeCheck(task, tenant, ctx, plan, deps, cancelled),
  };
  const planReaders = new Set(plan.batches.flatMap((b) => b.sends.flatMap(readerKeysOf)));

  let failedSends = 0;
  let firstFailure: unknown;
  const record = (failures: unknown[]) => {
    failedSends += failures.length;
    firstFailure ??= failures[0];
    return failures.length === 0;
  };
  for (const batch of plan.batches.filter((b) => !b.outcome)) {
    if (!sendDeps.mayStart()) {
      record([new DeadlineReachedError(sendDeps.remainingMs())]);
      break;
    }
    const keyed = batch.sends.map((send, i) => ({
      send,
      retryKey: retryKey(task, plan.planId, batch.batchNo, batch.sendNos?.[i] ?? i),
    }));
    const { outcome, failures } = await executeSends(task, tenant, keyed, sendDeps);
    if (!record(failures)) continue;
    outcome.withheld += batch.withheld ?? 0;
    await deps.plans.markBatchDone(task, plan.planId, batch.batchNo, outcome);
    batch.outcome = outcome;
    deps.onBatchDone?.(task, outcome);
  }
  if (failedSends === 0 && !plan.lateOutcome) {
    const { outcome, failures } = await executeLate(task, tenant, ctx, plan, planReaders, deps, sendDeps);
    if (record(failures)) {
      await deps.plans.markLateDone(task, plan.planId, outcome);
      plan.lateOutcome = outcome;
    }
  }
  if (failedSends > 0) throw new ShardIncompleteError(task, failedSends, { cause: firstFailure });

  const counters = [...plan.batches.map((b) => b.outcome), plan.lateOutcome].reduce<ShardCounters>(
    (sum, o) => (o ? addCounters(sum, o) : sum),
    plan.planned,
  );
  await deps.plans.complete(task, plan, counters);
  return { status: 'delivered', counters };
}

function staleReason(task: ShardTask, plan: { committedAt: number } | undefined, now: number): string | undefined {
  if (now - Date.parse(task.issuedAt) > MAX_TASK_AGE_MS) return 'task issued more than 20 hours ago';
  if (plan && now - plan.committedAt > MAX_PLAN_AGE_MS) return 'plan committed more than 23 hours ago';
  return undefined;
}

function sendDepsOf(deps: DeliverShardDeps): SendDeps {
  const remainingMs = deps.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const margin = deps.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS;
  return {
    plans: deps.plans,
    line: deps.line,
    email: deps.email,
    emailLinks: deps.emailLinks,
    ...(deps.emailRate && { emailRate: deps.emailRate }),
    ...(deps.surveys && { surveys: deps.surveys }),
    now: () => deps.clock.now().getTime(),
    concurrency: deps.concurrency ?? 8,
    remainingMs,
    mayStart: () => remainingMs() >= margin,
    lineState: { monthlyLimitReached: false },
  };
}

/**
 * The send-time check, right before each send: readers of the send who changed since planning are read afresh;
 * a stop, pause, loss or deletion takes them out, changed messages go in a send of their own. Planned sends keep
 * their retry keys, so a retry after a crash gets 409 for whatever LINE already accepted.
 */
function sendTimeCheck(
  task: ShardTask,
  tenant: TenantConfig,
  ctx: ResolveContext,
  plan: StoredPlan,
  deps: DeliverShardDeps,
  /**
   * A broadcast of the plan was cancelled after planning: every reader of the send is read afresh (one read per
   * reader of the shard, for a rare event), and those who had it get their messages without it.
   */
  broadcastCancelled: boolean,
): SendCheck {
  return async (keyed) => {
    const readers = new Set(readerKeysOf(keyed.send));
    const changed = broadcastCancelled
      ? [...readers]
      : (await changedReaders(task, tenant, plan.committedAt, deps.clock.now(), deps)).filter((k) => readers.has(k));
    if (changed.length === 0) return { sends: [keyed], withheld: 0, revised: 0, corrupt: 0 };
    const { fresh, corrupt } = await freshDeliveries(task, changed, ctx, deps);
    const revision = reviseSends([keyed.send], fresh);
    const kept = revision.sends[0];
    return {
      sends: [
        ...(kept ? [{ send: kept, retryKey: keyed.retryKey }] : []),
        ...ownSends(task, tenant, plan.planId, revision.revised),
      ],
      withheld: revision.withheld,
      revised: revision.revised.length,
      corrupt,
    };
  };
}

/**
 * Readers due today whom the plan did not include: a change the index had not shown when the plan was made
 * (a resume or a new child minutes before the delivery time). Each gets a send of their own.
 */
async function executeLate(
  task: ShardTask,
  tenant: TenantConfig,
  ctx: ResolveContext,
  plan: StoredPlan,
  planReaders: ReadonlySet<string>,
  deps: DeliverShardDeps,
  sendDeps: SendDeps,
) {
  const changed = (await changedReaders(task, tenant, plan.committedAt, deps.clock.now(), deps)).filter(
    (k) => !planReaders.has(k),
  );
  const { fresh, corrupt } = await freshDeliveries(task, changed, ctx, deps);
  const late = [...fresh.values()].filter((d): d is ReaderDelivery => d !== null);
  const result = await executeSends(task, tenant, ownSends(task, tenant, plan.planId, late), sendDeps);
  result.outcome.late += late.length;
  result.outcome.corrupt += corrupt;
  result.outcome.failures += corrupt;
  return result;
}

function ownSends(task: ShardTask, tenant: TenantConfig, planId: string, readers: readonly ReaderDelivery[]) {
  const opts = { emailSubject: emailSubject(tenant, task.date) };
  return readers.flatMap((reader) =>
    planSends([reader], opts).map((send) => ({ send, retryKey: readerRetryKey(task, planId, reader.readerKey) })),
  );
}
