import type { FanOutEvent, ShardTask } from '../../schemas/delivery';
import type { TenantConfig } from '../../schemas/tenant';
import { localDate } from '../domain';
import type { Clock, DayLayouts, ShardQueue, TenantDirectory } from './ports';

export interface FanOutDeps {
  tenants: TenantDirectory;
  layouts: DayLayouts;
  queue: ShardQueue;
  clock: Clock;
}

/** A schedule that fires this late (Scheduler retries for up to a day) belongs to another day: nothing is sent. */
export const MAX_SCHEDULE_DELAY_MS = 20 * 3600_000;

export class StaleScheduleError extends Error {
  constructor(readonly scheduledTime: string) {
    super(`the schedule of ${scheduledTime} fired more than 20 hours late; nothing was enqueued`);
    this.name = 'StaleScheduleError';
  }
}

export interface FanOutResult {
  tenants: { tenantId: string; date: string; shards: number }[];
  tasks: number;
}

/**
 * One SQS message per shard of every tenant due at this delivery time. The date comes from the schedule's
 * own time (a late or retried invocation still delivers the scheduled day) unless an operator forces one.
 */
export async function fanOut(event: FanOutEvent, deps: FanOutDeps): Promise<FanOutResult> {
  const now = deps.clock.now();
  const instant = event.scheduledTime ? new Date(event.scheduledTime) : now;
  if (event.scheduledTime && !event.date && now.getTime() - instant.getTime() > MAX_SCHEDULE_DELAY_MS)
    throw new StaleScheduleError(event.scheduledTime);
  const all = await deps.tenants.listTenants();
  const unknown = (event.tenantIds ?? []).filter((id) => !all.some((t) => t.tenantId === id));
  if (unknown.length > 0) throw new UnknownTenantError(unknown);
  const due = all.filter((t) => isDue(t, event));
  const tasks: ShardTask[] = [];
  const summary: FanOutResult['tenants'] = [];
  for (const tenant of due) {
    const date = event.date ?? localDate(instant, tenant.timeZone);
    // The first fan-out of a date fixes its layout; a repeat (the schedule firing twice, an operator's re-run)
    // or a changed shardCount later that day produces the same tasks, never a second split of the readers.
    const shardCount = await deps.layouts.fix(tenant.tenantId, date, tenant.shardCount);
    for (let shard = 0; shard < shardCount; shard++)
      tasks.push({ tenantId: tenant.tenantId, date, shard, shardCount, issuedAt: now.toISOString() });
    summary.push({ tenantId: tenant.tenantId, date, shards: shardCount });
  }
  await deps.queue.enqueue(tasks);
  return { tenants: summary, tasks: tasks.length };
}

function isDue(t: TenantConfig, e: FanOutEvent): boolean {
  if (e.tenantIds) return e.tenantIds.includes(t.tenantId);
  return t.deliveryTime === e.deliveryTime && t.timeZone === e.timeZone;
}

export class UnknownTenantError extends Error {
  constructor(readonly tenantIds: string[]) {
    super(`unknown tenant: ${tenantIds.join(', ')}`);
    this.name = 'UnknownTenantError';
  }
}
