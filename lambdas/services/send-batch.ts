import type { PlannedSend, ShardTask } from '../../schemas/delivery';
import type { TenantConfig } from '../../schemas/tenant';
import { mapSettled } from './concurrency';
import { zeroCounters } from './counters';
import { DeadlineReachedError, EmailNotAcceptedError, EmailRejectedError } from './delivery-errors';
import { EmailLinksUnavailableError } from './email-links';
import { renderDailyMail } from './email-render';
import type {
  BatchOutcome,
  EmailLinkSource,
  EmailSender,
  LineSender,
  LineSenderFactory,
  PlanStore,
  SurveyInvitationStore,
} from './ports';
import { tenantSurveys } from './survey-invitations';

export interface KeyedSend {
  send: PlannedSend;
  /** X-Line-Retry-Key: the same send always carries the same key, so LINE answers a repeat with 409. */
  retryKey: string;
}

/** What the send-time check left of a send: it, a smaller one, nothing, plus own sends for revised readers. */
export type SendCheck = (keyed: KeyedSend) => Promise<{
  sends: KeyedSend[];
  withheld: number;
  revised: number;
  corrupt: number;
}>;

export interface SendDeps {
  /** Right before each send (after the deadline check). */
  check?: SendCheck;
  plans: PlanStore;
  line: LineSenderFactory;
  email: EmailSender;
  /** The reader's signed preferences and unsubscribe links, put into each mail. */
  emailLinks: EmailLinkSource;
  /** Marks the mail's survey invitations sent once SES accepted it (the response rate's honest denominator). */
  surveys?: SurveyInvitationStore;
  /** Epoch ms (the invitations' acceptance time); the system clock when absent. */
  now?: () => number;
  /** The account-wide send rate: taken before the claim, so waiting never widens the claim-to-send window. */
  emailRate?: { take(): Promise<void> };
  /** Sends in flight at once. */
  concurrency: number;
  /** False when too little time is left to start another send. */
  mayStart: () => boolean;
  remainingMs: () => number;
  /** Shared by all batches of an invocation: once LINE says the month's limit is reached, nobody asks again. */
  lineState: { monthlyLimitReached: boolean };
}

export const emptyOutcome = (): BatchOutcome => {
  const { subscriptionsDue: _, ...outcome } = zeroCounters();
  return outcome;
};

/**
 * Executes sends and records each one's fate in the outcome. Permanent refusals (a LINE 4xx, SES rejecting a
 * mail) and the monthly limit are outcomes, not errors: one bad send never holds back the others. Only what
 * may succeed later (429/5xx/timeouts after retries, SES throttling, the deadline) is returned as a failure,
 * which makes the SQS message come back.
 */
export async function executeSends(
  task: ShardTask,
  tenant: TenantConfig,
  sends: readonly KeyedSend[],
  deps: SendDeps,
): Promise<{ outcome: BatchOutcome; failures: unknown[] }> {
  const outcome = emptyOutcome();
  let line: LineSender | undefined;
  const settled = await mapSettled(sends, deps.concurrency, async (planned) => {
    if (!deps.mayStart()) throw new DeadlineReachedError(deps.remainingMs());
    const checked = deps.check ? await deps.check(planned) : undefined;
    if (checked) {
      outcome.withheld += checked.withheld;
      outcome.revised += checked.revised;
      outcome.corrupt += checked.corrupt;
      outcome.failures += checked.corrupt;
    }
    for (const keyed of checked?.sends ?? [planned]) await sendOne(keyed);
  });
  return { outcome, failures: settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])) };

  async function sendOne({ send, retryKey }: KeyedSend): Promise<void> {
    if (send.kind === 'email') return sendEmail(task, tenant, send, deps, outcome);
    const recipients = send.kind === 'multicast' ? send.to.length : 1;
    if (deps.lineState.monthlyLimitReached) {
      // LINE answers every further request the same way this month; recording them is enough.
      outcome.failures += recipients;
      outcome.monthlyLimitHits += 1;
      return;
    }
    line ??= await deps.line.forTenant(tenant, task.shardCount);
    const result =
      send.kind === 'multicast'
        ? await line.multicast(send.to, send.messages, retryKey)
        : await line.push(send.to, send.messages, retryKey);
    switch (result.status) {
      case 'monthly-limit':
        deps.lineState.monthlyLimitReached = true;
        outcome.failures += recipients;
        outcome.monthlyLimitHits += 1;
        return;
      case 'rejected':
        outcome.failures += recipients;
        outcome.rejected += recipients;
        return;
      case 'sent':
      case 'duplicate':
        outcome.recipients += recipients;
        if (send.kind === 'multicast') outcome.multicastRequests += 1;
        else outcome.pushRequests += 1;
    }
  }
}

/**
 * Email has no idempotency key, so a claim per reader and date comes first and is confirmed once SES accepted
 * the mail. A claim is given back only when SES's answer proves the mail was not taken; when no answer came,
 * the mail may have gone out, so it is never sent again (at most once) and counted as uncertain.
 */
async function sendEmail(
  task: ShardTask,
  tenant: TenantConfig,
  send: Extract<PlannedSend, { kind: 'email' }>,
  deps: SendDeps,
  outcome: BatchOutcome,
): Promise<void> {
  const email = tenant.email;
  if (!email) throw new Error(`tenant ${tenant.tenantId} has email subscribers but no email settings`);
  // Rendered before the claim: a link or template problem fails the send before anything is claimed.
  let links;
  try {
    links = await deps.emailLinks.linksFor(
      tenant,
      send,
      (send.surveys ?? []).map((s) => s.surveyId),
    );
  } catch (err) {
    // Never a subscribed mail without its unsubscribe link: this reader's mail fails, the others go out.
    if (!(err instanceof EmailLinksUnavailableError)) throw err;
    outcome.failures += 1;
    outcome.corrupt += 1;
    return;
  }
  const screeningIds = new Set(
    tenantSurveys(tenant)
      .filter((s) => s.instrument)
      .map((s) => s.id),
  );
  const mail = renderDailyMail({
    tenantName: tenant.name,
    subject: send.subject,
    texts: send.texts,
    links,
    screeningIds,
  });
  await deps.emailRate?.take();
  const claim = await deps.plans.claimEmail(task, send.readerKey);
  if (claim === 'sent') {
    outcome.recipients += 1;
    outcome.emails += 1;
    // An earlier attempt may have stopped between SES's acceptance and this mark: marking again is harmless.
    await markInvitationsSent(tenant, send, deps);
    return;
  }
  if (claim === 'unknown') {
    outcome.emailsUncertain += 1;
    return;
  }
  let messageId: string;
  try {
    ({ messageId } = await deps.email.send({
      from: email.from,
      ...(email.fromName !== undefined && { fromName: email.fromName }),
      ...(email.replyTo !== undefined && { replyTo: email.replyTo }),
      to: send.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      headers: mail.headers,
      tags: { tenant: tenant.tenantId, kind: 'daily' },
    }));
  } catch (err) {
    if (err instanceof EmailRejectedError) {
      outcome.failures += 1;
      outcome.rejected += 1;
      return;
    }
    if (err instanceof EmailNotAcceptedError) {
      await deps.plans.releaseEmail(task, send.readerKey);
      throw err;
    }
    outcome.emailsUncertain += 1;
    return;
  }
  outcome.recipients += 1;
  outcome.emails += 1;
  // SES has the mail: a failed confirmation must not fail the send. Unconfirmed (a crash or a failed write
  // here), a retry counts the mail as uncertain and still never sends it again.
  await deps.plans.confirmEmail(task, send.readerKey, messageId).catch(() => undefined);
  await markInvitationsSent(tenant, send, deps);
}

/**
 * Only a mail SES accepted counts its invitations as sent. A failed mark is not retried here (the mail is out);
 * the invitation then stays out of the response rate's denominator, never in it without a mail.
 */
async function markInvitationsSent(
  tenant: TenantConfig,
  send: Extract<PlannedSend, { kind: 'email' }>,
  deps: SendDeps,
): Promise<void> {
  const mark = deps.surveys?.markInvitationSent?.bind(deps.surveys);
  if (!mark || !send.surveys?.length) return;
  const at = deps.now?.() ?? Date.now();
  for (const s of send.surveys)
    await mark(tenant.tenantId, send.readerKey, s.surveyId, s.runId, at).catch(() => undefined);
}
