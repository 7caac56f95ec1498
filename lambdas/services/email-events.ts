import {
  SES_DETAIL_TYPES,
  SES_EVENT_SOURCE,
  SesEventBridgeEventSchema,
  SesEventRecordSchema,
} from '../../schemas/ses-event';
import type { TenantConfig } from '../../schemas/tenant';
import { localDate, sesEffect } from '../domain';
import type { Clock, ReaderKeySource, SuppressionStore, TenantDirectory } from './ports';

export interface EmailEventsDeps {
  tenants: TenantDirectory;
  keys: ReaderKeySource;
  store: SuppressionStore;
  clock: Clock;
  /** Distinct transient bounces after which an address is suppressed. */
  transientThreshold: number;
}

/** Counts only: what the handler logs and puts in metrics (never an address). */
export interface EmailEventsOutcome {
  /** Not a bounce or complaint of SES, or a record without what we act on. */
  ignored: number;
  /** Readers newly suppressed (one per tenant and address). */
  suppressed: number;
  /** Readers that were suppressed already. */
  alreadySuppressed: number;
  /** Transient bounces counted below the threshold. */
  transientCounted: number;
  /** Events about a mail sent before the reader signed up anew. */
  olderThanSignup: number;
  /** Addresses of a mail no tenant of ours sent. */
  unknownTenant: number;
}

export const DEFAULT_TRANSIENT_THRESHOLD = 3;

/**
 * One SES event from EventBridge: a permanent bounce or any complaint suppresses each address named, at once;
 * transient bounces suppress once `transientThreshold` distinct ones were seen. Every step is idempotent
 * (EventBridge delivers at least once, and out of order), so a redelivered event changes nothing further.
 */
export async function handleEmailEvent(event: unknown, deps: EmailEventsDeps): Promise<EmailEventsOutcome> {
  const outcome: EmailEventsOutcome = {
    ignored: 0,
    suppressed: 0,
    alreadySuppressed: 0,
    transientCounted: 0,
    olderThanSignup: 0,
    unknownTenant: 0,
  };
  const envelope = SesEventBridgeEventSchema.safeParse(event);
  if (
    !envelope.success ||
    envelope.data.source !== SES_EVENT_SOURCE ||
    !(SES_DETAIL_TYPES as readonly string[]).includes(envelope.data['detail-type'])
  ) {
    outcome.ignored += 1;
    return outcome;
  }
  const record = SesEventRecordSchema.safeParse(envelope.data.detail);
  if (!record.success) {
    outcome.ignored += 1;
    return outcome;
  }
  const effect = sesEffect(record.data);
  const tenants = await tenantsOf(effect, deps.tenants);
  if (tenants.length === 0) {
    outcome.unknownTenant += effect.addresses.length;
    return outcome;
  }
  const keys = await deps.keys.get();
  const now = deps.clock.now();
  for (const tenant of tenants) {
    for (const address of effect.addresses) {
      const readerKey = keys.email(address);
      let reason = effect.verdict.action === 'suppress' ? effect.verdict.reason : undefined;
      if (effect.verdict.action === 'count-transient') {
        const count = await deps.store.countTransient(tenant.tenantId, readerKey, {
          feedbackId: effect.verdict.feedbackId,
          mailSentAt: effect.mailSentAt,
        });
        if (count === 'older-than-signup') {
          outcome.olderThanSignup += 1;
          continue;
        }
        if (count < deps.transientThreshold) {
          outcome.transientCounted += 1;
          continue;
        }
        reason = 'bounce';
      }
      const result = await deps.store.suppress(tenant.tenantId, readerKey, {
        reason: reason!,
        at: now.getTime(),
        mailSentAt: effect.mailSentAt,
        changedOn: localDate(now, tenant.timeZone),
      });
      if (result === 'suppressed') outcome.suppressed += 1;
      else if (result === 'already') outcome.alreadySuppressed += 1;
      else outcome.olderThanSignup += 1;
    }
  }
  return outcome;
}

/**
 * The tenant the mail was tagged with; an untagged mail (sent before tags, or by hand) belongs to every
 * email tenant using its sender: the address is undeliverable, or unwilling, for all of them alike.
 */
async function tenantsOf(effect: ReturnType<typeof sesEffect>, directory: TenantDirectory): Promise<TenantConfig[]> {
  if (effect.tenantId) {
    const tagged = await directory.getTenant(effect.tenantId);
    if (tagged?.email) return [tagged];
  }
  if (!effect.sender) return [];
  return (await directory.listTenants()).filter((t) => t.email && t.email.from.toLowerCase() === effect.sender);
}
