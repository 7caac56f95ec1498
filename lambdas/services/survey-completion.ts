import { createHash } from 'node:crypto';
import type { Channel, IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import type { SurveyRun } from '../../schemas/survey';
import type { TenantConfig } from '../../schemas/tenant';
import { INSTRUMENTS, scoreScreening, type ScreeningResult } from '../domain/screening';
import { answeringSubscription, stageBand, type AskedSurvey } from '../domain/surveys';
import { sendAlertNow } from './alert-outbox';
import type { AlertOutbox, AnswerContext, Completion, EmailSender, ScreeningAlert, SurveyAnswerStore } from './ports';

/**
 * The end of a survey run, the same on every channel (the LINE chat, the email survey page): the completion is
 * stored once; a screening is scored from the stored answers' scores and, at or above the cut-off (or urgent),
 * raises one staff alert.
 */

export interface CompletionDeps {
  /** With the alert outbox: a screening alert is written with the completion and mailed from the outbox. */
  surveys: SurveyAnswerStore & AlertOutbox;
  /** Sends the staff alert mail; without it alerts are stored for the console only. */
  alertMail?: EmailSender;
  /** Counts only, never content: the alert was stored but its mail could not be sent. */
  onAlertMailFailed?: (err: unknown) => void;
}

/** Where the reader stood when answering (what results are broken down by), for either channel. */
export function answerContextOf(
  subscriptions: readonly Subscription[],
  today: IsoDate,
  now: Date,
  channel: Channel,
): AnswerContext {
  const sub = answeringSubscription(subscriptions, today);
  return {
    track: sub?.track ?? 'none',
    stageBand: sub ? stageBand(sub.track, sub.anchorDate, today) : 'none',
    audience: sub?.audience ?? 'none',
    channel,
    answeredAt: now.getTime(),
  };
}

/** Stores the completion; for a screening returns its result (the caller shows the warm message), else undefined. */
export async function completeRun(
  tenant: TenantConfig,
  survey: AskedSurvey,
  readerKey: string,
  run: SurveyRun,
  context: AnswerContext,
  now: Date,
  deps: CompletionDeps,
): Promise<ScreeningResult | undefined> {
  const store = deps.surveys;
  const t = tenant.tenantId;
  if (!survey.instrument) {
    await store.complete(t, survey.id, readerKey, run.runId, context);
    return undefined;
  }
  const instrument = INSTRUMENTS[survey.instrument];
  const scores = new Map<number, number>();
  for (const a of await store.answers(t, survey.id, readerKey, run.runId))
    if (a.score !== undefined && /^i\d+$/.test(a.questionId)) scores.set(Number(a.questionId.slice(1)), a.score);
  const screening = tenant.screening!;
  const result = scoreScreening(instrument, scores, screening.cutoffs[survey.instrument]);
  const completion = { ...context, screening: result };
  if (result.positive || result.urgent) await raiseAlert(tenant, readerKey, survey, run, result, completion, now, deps);
  else await store.complete(t, survey.id, readerKey, run.runId, completion);
  return result;
}

/** A reference staff can look up in the console; derived from the run, so a redelivery finds the same alert. */
export function alertReference(readerKey: string, surveyId: string, runId: string): string {
  return createHash('sha256').update(`${readerKey}|${surveyId}|${runId}`).digest('hex').slice(0, 10).toUpperCase();
}

async function raiseAlert(
  tenant: TenantConfig,
  readerKey: string,
  survey: AskedSurvey,
  run: SurveyRun,
  result: ScreeningResult,
  completion: Completion,
  now: Date,
  deps: CompletionDeps,
): Promise<void> {
  const instrument = INSTRUMENTS[survey.instrument!];
  const alert: ScreeningAlert = {
    reference: alertReference(readerKey, survey.id, run.runId),
    tenantId: tenant.tenantId,
    readerKey,
    surveyId: survey.id,
    runId: run.runId,
    instrument: instrument.name,
    band: result.band,
    urgent: result.urgent,
    at: now.getTime(),
  };
  // Written with the completion and its outbox entry; exactly one caller gets here and tries the mail at once.
  if (
    !(await deps.surveys.completeWithAlert(tenant.tenantId, survey.id, readerKey, run.runId, completion, alert)) ||
    !deps.alertMail
  )
    return;
  await sendAlertNow(
    tenant,
    alert.reference,
    {
      outbox: deps.surveys,
      mail: deps.alertMail,
      ...(deps.onAlertMailFailed && { onFailed: deps.onAlertMailFailed }),
    },
    now,
  );
}

export { alertMail } from './alert-outbox';
