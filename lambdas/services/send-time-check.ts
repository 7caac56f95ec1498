import type { IsoDate } from '../../schemas/common';
import type { ShardTask } from '../../schemas/delivery';
import type { TenantConfig } from '../../schemas/tenant';
import { addDays, isSuppressed, localDate, resolveReader, type FreshDeliveries, type ReaderDelivery } from '../domain';
import { bucketInShard, bucketsOfShard, effectiveBucket } from '../domain/shard';
import type { ResolveContext } from '../domain/resolve';
import { mapLimit } from './concurrency';
import type { ChangeFeed, SubscriptionReader, SurveyInvitationStore } from './ports';
import { readerInvitations, type PlannedInvitation } from './survey-invitations';

/**
 * The shard index is eventually consistent and a plan is fixed once, so every reader change after (or just
 * before) planning is looked at again right before each send: changes from this long before the plan's commit
 * on, far longer than the index ever lags behind the table.
 */
export const INDEX_LAG_MARGIN_MS = 5 * 60_000;

export interface SendTimeCheckDeps {
  changes: ChangeFeed;
  subscriptions: SubscriptionReader;
  surveys?: SurveyInvitationStore;
}

/** Reader keys of this shard with a change since shortly before `committedAt`, from the markers of each date since. */
export async function changedReaders(
  task: ShardTask,
  tenant: TenantConfig,
  committedAt: number,
  now: Date,
  deps: SendTimeCheckDeps,
): Promise<string[]> {
  const since = committedAt - INDEX_LAG_MARGIN_MS;
  const first = localDate(new Date(since), tenant.timeZone);
  const last = localDate(now, tenant.timeZone);
  const dates: IsoDate[] = [];
  // A stale task is refused long before this spans more than a few dates; the cap keeps a wrong clock bounded.
  for (let d = first; d <= last && dates.length < 4; d = addDays(d, 1)) dates.push(d);
  const buckets = new Set(bucketsOfShard(task.shard, task.shardCount));
  return deps.changes.changedReaders(task.tenantId, dates, buckets, since);
}

/**
 * What each of these readers should get on the task's date, read afresh (strongly consistent, from the table):
 * null when nothing is due any more or when their data cannot be read (counted as corrupt).
 */
export async function freshDeliveries(
  task: ShardTask,
  readerKeys: readonly string[],
  ctx: ResolveContext,
  deps: SendTimeCheckDeps,
): Promise<{ fresh: FreshDeliveries; corrupt: number }> {
  let corrupt = 0;
  const entries = await mapLimit(readerKeys, 8, async (readerKey): Promise<[string, ReaderDelivery | null]> => {
    let texts: string[];
    let subs;
    let invitations: PlannedInvitation[];
    try {
      subs = await deps.subscriptions.listReader(task.tenantId, readerKey);
      // Only invitations recorded for the date at planning: a loss or a stop since takes them out.
      invitations = deps.surveys ? await readerInvitations(ctx.tenant, subs, task.date, deps.surveys, 'check') : [];
      texts = resolveReader(
        subs,
        task.date,
        ctx,
        invitations.map((i) => i.text),
      );
    } catch (err) {
      if (!isReaderDataError(err)) throw err;
      corrupt++;
      return [readerKey, null];
    }
    const first = subs[0];
    // Moved today: delivered by the shard of the bucket they were in (domain/shard.ts), never by two.
    const bucket = effectiveBucket(subs, task.date);
    if (bucket !== undefined && !bucketInShard(bucket, task.shard, task.shardCount)) return [readerKey, null];
    if (!first || texts.length === 0 || !channelEnabled(ctx.tenant, first.channel) || subs.some(isSuppressed))
      return [readerKey, null];
    return [readerKey, deliveryOf(first, texts, invitations)];
  });
  return { fresh: new Map(entries), corrupt };
}

export const channelEnabled = (tenant: TenantConfig, channel: 'line' | 'email') =>
  channel === 'line' ? tenant.line.enabled : (tenant.email?.enabled ?? false);

export const deliveryOf = (
  first: {
    readerKey: string;
    channel: 'line' | 'email';
    address: string;
    unsubscribeToken?: string;
    tokenVersion?: string;
  },
  texts: string[],
  invitations: readonly PlannedInvitation[] = [],
): ReaderDelivery => ({
  readerKey: first.readerKey,
  channel: first.channel,
  address: first.address,
  texts,
  ...(first.unsubscribeToken !== undefined && { unsubscribeToken: first.unsubscribeToken }),
  ...(first.tokenVersion !== undefined && { tokenVersion: first.tokenVersion }),
  // The mail links each invitation to its survey page; LINE readers answer in the chat (the text says how).
  ...(first.channel === 'email' &&
    invitations.length > 0 && { surveys: invitations.map(({ surveyId, runId }) => ({ surveyId, runId })) }),
});

/**
 * Errors that belong to one reader's data (an item that does not parse, texts that cannot fit LINE's limits):
 * that reader is left out and counted, the rest of the shard goes on. Anything else (the store failing) is
 * not the reader's fault and makes the shard retry.
 */
export const isReaderDataError = (err: unknown) =>
  err instanceof Error && (err.name === 'CorruptItemError' || err.name === 'MessageTooLongError');
