import type { ShardCounters } from '../../schemas/delivery';
import type { BatchOutcome } from './ports';

export const zeroCounters = (): ShardCounters => ({
  subscriptionsDue: 0,
  recipients: 0,
  multicastRequests: 0,
  pushRequests: 0,
  emails: 0,
  failures: 0,
  monthlyLimitHits: 0,
  rejected: 0,
  corrupt: 0,
  withheld: 0,
  revised: 0,
  late: 0,
  emailsUncertain: 0,
  ended: 0,
  suppressed: 0,
  stale: 0,
});

/** Field by field: sums shards into a tenant's day, or batches into a shard. */
export function addCounters(a: ShardCounters, b: ShardCounters | BatchOutcome): ShardCounters {
  const sum = { ...a };
  for (const key of Object.keys(sum) as (keyof ShardCounters)[]) sum[key] += (b as Partial<ShardCounters>)[key] ?? 0;
  return sum;
}
