import type { z } from 'zod';
import { BroadcastInputSchema, type Broadcast, type BroadcastInput } from '../../schemas/broadcast';
import type { IsoDate } from '../../schemas/common';
import type { TenantConfig } from '../../schemas/tenant';
import { broadcastRecipients, localDate } from '../domain';
import type { BroadcastStore, Clock, SubscriptionReader } from './ports';
import { channelEnabled } from './send-time-check';

/**
 * Segment broadcasts as staff schedule them: the use cases behind `hagukumi broadcast` and the console's
 * broadcasts page (one code path for both). A broadcast is scheduled for a date after today in the tenant's time
 * zone, so every shard of its date plans with it; cancelling is final.
 */

/** Bad input: every problem as `field: message`, nothing stored. */
export class BroadcastInputError extends Error {
  override readonly name = 'BroadcastInputError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

const problemsOf = (error: z.ZodError): string[] =>
  error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(broadcast)'}: ${i.message}`);

/** Validates what staff wrote for the tenant on `today`: the fields, a date after today, channels the tenant has. */
export function parseBroadcastInput(input: unknown, tenant: TenantConfig, today: IsoDate): BroadcastInput {
  const parsed = BroadcastInputSchema.safeParse(input);
  if (!parsed.success) throw new BroadcastInputError(problemsOf(parsed.error));
  const b = parsed.data;
  const problems: string[] = [];
  if (b.date <= today)
    problems.push(`date: ${b.date} is not after today (${today}); a broadcast is scheduled for a later day`);
  for (const channel of b.segment.channels)
    if (!channelEnabled(tenant, channel))
      problems.push(`segment.channels: ${tenant.tenantId} does not deliver by ${channel}`);
  if (problems.length > 0) throw new BroadcastInputError(problems);
  return b;
}

export interface BroadcastDeps {
  broadcasts: BroadcastStore;
  clock: Clock;
  newId: (date: IsoDate) => string;
}

/** The broadcast staff asked for, checked, not stored yet (what `--dry-run` counts). */
export function draftBroadcast(
  tenant: TenantConfig,
  input: unknown,
  by: string,
  now: Date,
  id: (date: IsoDate) => string,
): Broadcast {
  const b = parseBroadcastInput(input, tenant, localDate(now, tenant.timeZone));
  return {
    id: id(b.date),
    tenantId: tenant.tenantId,
    date: b.date,
    ...(b.segment.channels.includes('line') && b.line && { line: b.line }),
    ...(b.segment.channels.includes('email') && b.email && { email: b.email }),
    segment: b.segment,
    status: 'scheduled',
    createdAt: now.getTime(),
    createdBy: by,
  };
}

export async function createBroadcast(
  tenant: TenantConfig,
  input: unknown,
  by: string,
  deps: BroadcastDeps,
): Promise<Broadcast> {
  const broadcast = draftBroadcast(tenant, input, by, deps.clock.now(), deps.newId);
  // Ids carry 64 random bits: a clash is a bug, never a reason to overwrite.
  if (!(await deps.broadcasts.create(broadcast))) throw new Error('broadcast id already taken');
  return broadcast;
}

/**
 * How many readers would get the broadcast on its date, from the tenant's subscriptions as stored now (their
 * stages moved on to that date) with the segment code the planner uses; channels the tenant has only.
 */
export async function countRecipients(
  tenant: TenantConfig,
  broadcast: Broadcast,
  subscriptions: SubscriptionReader,
): Promise<number> {
  const { subscriptions: subs } = await subscriptions.listShard(tenant.tenantId, 0, 1);
  const enabled = subs.filter((s) => channelEnabled(tenant, s.channel));
  return broadcastRecipients(broadcast, enabled).size;
}
