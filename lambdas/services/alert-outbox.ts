import type { TenantConfig } from '../../schemas/tenant';
import type { AlertOutbox, EmailSender, OutboxAlert, ScreeningAlert, TenantDirectory } from './ports';

/**
 * The staff alert mail, from the outbox (the alert and its entry are written with the completion). The chat or
 * the survey page sends it at once; a scheduled function (every 5 minutes) retries whatever is still owed, until
 * SES accepted it for every recipient. A recipient SES accepted it for is recorded at once and never mailed again.
 * A lease keeps the two senders from mailing the same alert at the same moment.
 */

export const ALERT_LEASE_MS = 60_000;

export interface AlertSendDeps {
  outbox: AlertOutbox;
  mail: EmailSender;
  /** Counts only, never content. */
  onFailed?: (err: unknown) => void;
}

/** Sends one leased entry; true when every recipient has it (the entry is gone). */
async function sendEntry(tenant: TenantConfig, entry: OutboxAlert, deps: AlertSendDeps, now: Date): Promise<boolean> {
  const { alert } = entry;
  const screening = tenant.screening;
  try {
    if (screening)
      for (const to of screening.alertTo) {
        if (entry.sentTo.includes(to)) continue;
        await deps.mail.send({ from: screening.alertFrom, to, ...alertMail(tenant, alert) });
        await deps.outbox.sentTo(alert.tenantId, alert.reference, to);
      }
    // No screening settings any more: nobody to mail, the alert stays in the console.
    await deps.outbox.done(alert.tenantId, alert.reference, now.getTime());
    return true;
  } catch (err) {
    deps.onFailed?.(err);
    await deps.outbox.release(alert.tenantId, alert.reference).catch(() => undefined);
    return false;
  }
}

/** Right after the alert was written: one attempt (the retry takes over when it fails). */
export async function sendAlertNow(
  tenant: TenantConfig,
  reference: string,
  deps: AlertSendDeps,
  now: Date,
): Promise<boolean> {
  const entry = await deps.outbox.lease(tenant.tenantId, reference, now.getTime(), ALERT_LEASE_MS);
  return entry ? sendEntry(tenant, entry, deps, now) : false;
}

export interface RetryOutcome {
  pending: number;
  sent: number;
  failed: number;
  /** Taken by another sender right now. */
  busy: number;
}

/** The scheduled retry: every owed alert of every tenant, one attempt each. */
export async function retryAlerts(
  deps: AlertSendDeps & { tenants: TenantDirectory },
  now: Date,
): Promise<RetryOutcome> {
  const pending = await deps.outbox.pending();
  const outcome: RetryOutcome = { pending: pending.length, sent: 0, failed: 0, busy: 0 };
  for (const { alert } of pending) {
    const tenant = await deps.tenants.getTenant(alert.tenantId);
    const entry = await deps.outbox.lease(alert.tenantId, alert.reference, now.getTime(), ALERT_LEASE_MS);
    if (!entry) {
      outcome.busy++;
      continue;
    }
    if (!tenant) {
      // An unknown tenant (removed from the deployment): nobody to mail; it waits, visibly, for an operator.
      await deps.outbox.release(alert.tenantId, alert.reference);
      outcome.failed++;
      continue;
    }
    if (await sendEntry(tenant, entry, deps, now)) outcome.sent++;
    else outcome.failed++;
  }
  return outcome;
}

/** The staff mail: a reference, the instrument, the band, urgency and time; never an answer or a score. */
export function alertMail(tenant: TenantConfig, alert: ScreeningAlert): { subject: string; text: string } {
  const time = new Intl.DateTimeFormat('sv-SE', {
    timeZone: tenant.timeZone,
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(new Date(alert.at));
  const subject = `${alert.urgent ? '【緊急】' : ''}こころの健康チェック アラート（${alert.instrument}）参照番号 ${alert.reference}`;
  const text = [
    `${tenant.name} 健康支援ご担当者様`,
    '',
    'こころの健康チェックで、支援が必要かもしれない方がいます。スタッフ画面で参照番号から確認してください。',
    '',
    `参照番号: ${alert.reference}`,
    `検査: ${alert.instrument}`,
    `区分: ${alert.band}`,
    `緊急度: ${alert.urgent ? '緊急（自傷に関する項目が0点を超えています）' : '通常'}`,
    `日時: ${time} (${tenant.timeZone})`,
    '',
    'このメールには回答の内容を含めていません。',
  ].join('\n');
  return { subject, text };
}
