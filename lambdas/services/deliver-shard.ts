import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { PlannedSend, ShardCounters, ShardTask } from '../../schemas/delivery';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import {
  emailSubject,
  groupByReader,
  libraryIndexFor,
  MessageTooLongError,
  planSends,
  resolveReader,
  type ReaderDelivery,
} from '../domain';
import { mapSettled } from './concurrency';
import type {
  BatchOutcome,
  ContentSource,
  EmailSender,
  LineSender,
  LineSenderFactory,
  PlanStore,
  StoredBatch,
  StoredPlan,
  SubscriptionReader,
  TenantDirectory,
} from './ports';
import { UnknownTenantError } from './fan-out';

export interface DeliverShardDeps {
  tenants: TenantDirectory;
  content: ContentSource;
  subscriptions: SubscriptionReader;
  plans: PlanStore;
  line: LineSenderFactory;
  email: EmailSender;
  /** Sends in flight at once within a batch. */
  concurrency?: number;
  /** Called after each batch, for progress display. */
  onBatchDone?: (task: ShardTask, outcome: BatchOutcome) => void;
}

/** Some sends of the shard could not be completed now; the SQS message is retried and the plan resumes. */
export class ShardIncompleteError extends Error {
  constructor(
    readonly task: ShardTask,
    readonly failedSends: number,
    options: { cause: unknown },
  ) {
    super(`${failedSends} sends of ${task.tenantId}/${task.date}/shard ${task.shard} must be retried`, options);
    this.name = 'ShardIncompleteError';
  }
}

/** Fixed namespace for retry keys: the same (tenant, date, shard, plan, batch, send) always gives the same key. */
const RETRY_KEY_NAMESPACE = '6f1c2b1e-4d7a-5c3e-9b8a-2f0e1d4c3b5a';
export const retryKey = (task: ShardTask, planId: string, batchNo: number, sendNo: number) =>
  uuidv5(`${task.tenantId}|${task.date}|${task.shard}|${planId}|${batchNo}|${sendNo}`, RETRY_KEY_NAMESPACE);

/** A plan item stays well under DynamoDB's 400 KB item limit and keeps a retry's repeated work small. */
const BATCH_MAX_SENDS = 50;
const BATCH_MAX_BYTES = 300_000;

export interface ShardResult {
  counters: ShardCounters;
  /** False when the plan had already been executed completely by an earlier invocation. */
  executedNow: boolean;
}

export async function deliverShard(task: ShardTask, deps: DeliverShardDeps): Promise<ShardResult> {
  const tenant = await deps.tenants.getTenant(task.tenantId);
  if (!tenant) throw new UnknownTenantError([task.tenantId]);

  const plan = (await deps.plans.load(task)) ?? (await makePlan(task, tenant, deps));
  const pending = plan.batches.filter((b) => !b.outcome);
  let failedSends = 0;
  let firstFailure: unknown;
  for (const batch of pending) {
    const { outcome, failures } = await executeBatch(task, tenant, plan.planId, batch, deps);
    if (failures.length > 0) {
      failedSends += failures.length;
      firstFailure ??= failures[0];
      continue;
    }
    await deps.plans.markBatchDone(task, plan.planId, batch.batchNo, outcome);
    batch.outcome = outcome;
    deps.onBatchDone?.(task, outcome);
  }
  if (failedSends > 0) throw new ShardIncompleteError(task, failedSends, { cause: firstFailure });

  const counters = sumCounters(plan, plan.batches);
  await deps.plans.saveCounters(task, counters);
  return { counters, executedNow: pending.length > 0 };
}

async function makePlan(task: ShardTask, tenant: TenantConfig, deps: DeliverShardDeps) {
  const [subs, items] = await Promise.all([
    deps.subscriptions.listShard(task.tenantId, task.shard, task.shardCount),
    deps.content.getLibrary(tenant.library),
  ]);
  const ctx = { tenant, library: libraryIndexFor(items) };
  const readers: ReaderDelivery[] = [];
  let subscriptionsDue = 0;
  let unsendable = 0;
  for (const group of groupByReader(subs)) {
    let texts: string[];
    try {
      texts = resolveReader(group, task.date, ctx);
    } catch (err) {
      // One reader whose texts cannot fit LINE's limits must not hold back the whole shard.
      if (!(err instanceof MessageTooLongError)) throw err;
      unsendable += group.length;
      continue;
    }
    if (texts.length === 0) continue;
    const first = group[0] as Subscription;
    if (first.channel === 'email' && !tenant.email?.enabled) continue;
    if (first.channel === 'line' && !tenant.line.enabled) continue;
    subscriptionsDue += group.length;
    readers.push({
      readerKey: first.readerKey,
      channel: first.channel,
      address: first.address,
      texts,
      unsubscribeToken: first.unsubscribeToken,
    });
  }
  const sends = planSends(readers, { emailSubject: emailSubject(tenant, task.date) });
  return deps.plans.commit(task, randomUUID(), chunkSends(sends), { subscriptionsDue, unsendable });
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

const emptyOutcome = (): BatchOutcome => ({
  recipients: 0,
  multicastRequests: 0,
  pushRequests: 0,
  emails: 0,
  failures: 0,
  monthlyLimitHits: 0,
});

async function executeBatch(
  task: ShardTask,
  tenant: TenantConfig,
  planId: string,
  batch: StoredBatch,
  deps: DeliverShardDeps,
) {
  const outcome = emptyOutcome();
  let line: LineSender | undefined;
  let monthlyLimitReached = false;
  const settled = await mapSettled(batch.sends, deps.concurrency ?? 8, async (send, sendNo) => {
    if (send.kind === 'email') {
      await sendEmail(task, tenant, send, deps, outcome);
      return;
    }
    const recipients = send.kind === 'multicast' ? send.to.length : 1;
    if (monthlyLimitReached) {
      // LINE answers every further request the same way this month; recording them is enough.
      outcome.failures += recipients;
      outcome.monthlyLimitHits += 1;
      return;
    }
    line ??= await deps.line.forTenant(tenant);
    const key = retryKey(task, planId, batch.batchNo, sendNo);
    const result =
      send.kind === 'multicast'
        ? await line.multicast(send.to, send.messages, key)
        : await line.push(send.to, send.messages, key);
    if (result.status === 'monthly-limit') {
      monthlyLimitReached = true;
      outcome.failures += recipients;
      outcome.monthlyLimitHits += 1;
      return;
    }
    outcome.recipients += recipients;
    if (send.kind === 'multicast') outcome.multicastRequests += 1;
    else outcome.pushRequests += 1;
  });
  const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  return { outcome, failures };
}

async function sendEmail(
  task: ShardTask,
  tenant: TenantConfig,
  send: Extract<PlannedSend, { kind: 'email' }>,
  deps: DeliverShardDeps,
  outcome: BatchOutcome,
) {
  // Email has no idempotency key: a claim per reader and date makes a retry skip what was already handed to SES.
  if (!(await deps.plans.claimEmail(task, send.readerKey))) {
    outcome.recipients += 1;
    outcome.emails += 1;
    return;
  }
  const email = tenant.email;
  if (!email) throw new Error(`tenant ${tenant.tenantId} has email subscribers but no email settings`);
  try {
    await deps.email.send({
      from: email.from,
      to: send.to,
      subject: send.subject,
      text: send.texts.join('\n\n'),
      unsubscribeUrl: send.unsubscribeToken
        ? `${email.unsubscribeBaseUrl.replace(/\/$/, '')}/email/${tenant.tenantId}/unsubscribe?token=${encodeURIComponent(send.unsubscribeToken)}`
        : undefined,
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'EmailRejectedError') {
      outcome.failures += 1;
      return;
    }
    await deps.plans.releaseEmail(task, send.readerKey);
    throw err;
  }
  outcome.recipients += 1;
  outcome.emails += 1;
}

function sumCounters(plan: StoredPlan, batches: StoredBatch[]): ShardCounters {
  const start: ShardCounters = {
    ...zeroCounters(),
    subscriptionsDue: plan.subscriptionsDue,
    failures: plan.unsendable,
  };
  return batches.reduce((c, b) => addCounters(c, { ...zeroCounters(), ...b.outcome }), start);
}

export const zeroCounters = (): ShardCounters => ({ subscriptionsDue: 0, ...emptyOutcome() });

/** Field by field: sums shards into a tenant's day, or batches into a shard. */
export function addCounters(a: ShardCounters, b: ShardCounters): ShardCounters {
  const sum = { ...a };
  for (const key of Object.keys(sum) as (keyof ShardCounters)[]) sum[key] += b[key];
  return sum;
}
