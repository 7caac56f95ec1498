import { createHash } from 'node:crypto';
import type { Channel, IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import type { SurveyRun } from '../../schemas/survey';
import type { TenantConfig } from '../../schemas/tenant';
import { INSTRUMENTS, scoreScreening, type ScreeningResult } from '../domain/screening';
import { answeringSubscription, stageBand, type AskedSurvey } from '../domain/surveys';
import type { AnswerContext, EmailSender, ScreeningAlert, SurveyAnswerStore } from './ports';

/**
 * The end of a survey run, the same on every channel (the LINE chat, the email survey page): the completion is
 * stored once; a screening is scored from the stored answers' scores and, at or above the cut-off (or urgent),
 * raises one staff alert.
 */

export interface CompletionDeps {
  surveys: SurveyAnswerStore;
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
  const first = await store.complete(t, survey.id, readerKey, run.runId, { ...context, screening: result });
  if (first && (result.positive || result.urgent)) await raiseAlert(tenant, readerKey, survey, run, result, now, deps);
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
  // Exactly one caller stores it; only that one mails it (at most once: a lost mail is still in the console).
  if (!(await deps.surveys.putAlert(alert)) || !deps.alertMail) return;
  const screening = tenant.screening!;
  try {
    for (const to of screening.alertTo)
      await deps.alertMail.send({ from: screening.alertFrom, to, ...alertMail(tenant, alert) });
    await deps.surveys.markAlertMailed(alert.tenantId, alert.reference, now.getTime());
  } catch (err) {
    deps.onAlertMailFailed?.(err);
  }
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
