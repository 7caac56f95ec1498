import type { FanOutEvent, ShardTask } from '../../schemas/delivery';
import type { TenantConfig } from '../../schemas/tenant';
import { localDate } from '../domain';
import type { Clock, ShardQueue, TenantDirectory } from './ports';

export interface FanOutDeps {
  tenants: TenantDirectory;
  queue: ShardQueue;
  clock: Clock;
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
  const instant = event.scheduledTime ? new Date(event.scheduledTime) : deps.clock.now();
  const all = await deps.tenants.listTenants();
  const unknown = (event.tenantIds ?? []).filter((id) => !all.some((t) => t.tenantId === id));
  if (unknown.length > 0) throw new UnknownTenantError(unknown);
  const due = all.filter((t) => isDue(t, event));
  const tasks: ShardTask[] = [];
  const summary: FanOutResult['tenants'] = [];
  for (const tenant of due) {
    const date = event.date ?? localDate(instant, tenant.timeZone);
    for (let shard = 0; shard < tenant.shardCount; shard++)
      tasks.push({ tenantId: tenant.tenantId, date, shard, shardCount: tenant.shardCount });
    summary.push({ tenantId: tenant.tenantId, date, shards: tenant.shardCount });
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
