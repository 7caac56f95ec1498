import { createHash } from 'node:crypto';
import type { IsoDate } from '../../schemas/common';
import type { ReaderAction } from '../../schemas/line-webhook';
import type { Subscription } from '../../schemas/subscription';
import type { SurveyRun } from '../../schemas/survey';
import type { TenantConfig } from '../../schemas/tenant';
import { answeringSubscription, stageBand, type AskedSurvey } from '../domain/surveys';
import { textMessage, type BotMessage } from '../domain/replies';
import { INSTRUMENTS, scoreScreening, type ScreeningResult } from '../domain/screening';
import {
  applyAnswer,
  consentMessage,
  consentRevokedText,
  declinedText,
  introMessages,
  laterText,
  noConsentText,
  noConsentToRevokeText,
  nothingToAnswerText,
  pauseMessage,
  questionMessage,
  screeningDoneText,
  screeningOffText,
  surveyCommand,
  thanksText,
  type SurveyCommand,
} from '../domain/survey-dialog';
import type { AnswerContext, EmailSender, ScreeningAlert, SurveyAnswerStore } from './ports';
import { tenantSurveys } from './survey-invitations';

export interface SurveyChatDeps {
  surveys: SurveyAnswerStore;
  /** Sends the staff alert mail; without it alerts are stored for the console only. */
  alertMail?: EmailSender;
  /** Counts only, never content: the alert was stored but its mail could not be sent. */
  onAlertMailFailed?: (err: unknown) => void;
}

export interface SurveyChatInput {
  tenant: TenantConfig;
  readerKey: string;
  subscriptions: readonly Subscription[];
  action: ReaderAction;
  now: Date;
  today: IsoDate;
}

/**
 * The survey part of a LINE event: undefined when the event is not about surveys (the registration dialog
 * handles it), else the replies. Every write is idempotent, so a redelivered event changes nothing twice: an
 * answer is stored once per reader, survey, run and question (a conditional put), a completion and an alert once.
 */
export async function handleSurveyChat(i: SurveyChatInput, deps: SurveyChatDeps): Promise<BotMessage[] | undefined> {
  const surveys = tenantSurveys(i.tenant);
  const store = deps.surveys;
  const t = i.tenant.tenantId;
  const stored = await store.run(t, i.readerKey);
  const current = stored && surveys.find((s) => s.id === stored.surveyId);
  const run = current ? stored : undefined;
  const cmd = surveyCommand(i.action, run, current);
  if (!cmd) return undefined;
  const now = i.now.getTime();
  const newRun = (survey: AskedSurvey, runId: string): SurveyRun => ({
    surveyId: survey.id,
    runId,
    next: 0,
    picked: [],
    startedAt: now,
  });
  const begin = async (survey: AskedSurvey, runId: string) => {
    const r = newRun(survey, runId);
    await store.putRun(t, i.readerKey, r);
    return introMessages(i.tenant, survey, r);
  };

  const startScreening = async (): Promise<BotMessage[]> => {
    const epds = surveys.find((s) => s.id === 'epds');
    const facts = epds && (await store.readerSurveys(t, i.readerKey, ['epds'])).get('epds');
    // An EPDS invitation not answered yet comes first; otherwise the PHQ-9, as often as the reader asks.
    const pending = facts && !facts.declined && [...facts.invitations.keys()].find((r) => !facts.completed.has(r));
    if (epds && pending) return begin(epds, pending);
    const phq9 = surveys.find((s) => s.id === 'phq9')!;
    return begin(phq9, `r${now}`);
  };

  switch (cmd.kind) {
    case 'start': {
      if (run && current) return [textMessage('続きから再開します。'), questionMessage(i.tenant, current, run)];
      const plain = surveys.filter((s) => !s.instrument);
      const facts = await store.readerSurveys(
        t,
        i.readerKey,
        plain.map((s) => s.id),
      );
      for (const survey of plain) {
        const f = facts.get(survey.id);
        if (f?.declined) continue;
        const invited = [...(f?.invitations.keys() ?? [])].find((r) => !f?.completed.has(r));
        if (invited) return begin(survey, invited);
        if (survey.trigger.kind === 'request' && !f?.completed.has('q')) return begin(survey, 'q');
      }
      return [textMessage(nothingToAnswerText)];
    }
    case 'screen': {
      const screening = i.tenant.screening;
      if (!screening?.enabled) return [textMessage(screeningOffText)];
      if (run && current?.instrument)
        return [textMessage('続きから再開します。'), questionMessage(i.tenant, current, run)];
      return consented(await store.consent(t, i.readerKey)) ? startScreening() : [consentMessage(i.tenant)];
    }
    case 'consent': {
      if (!i.tenant.screening?.enabled) return [textMessage(screeningOffText)];
      if (!cmd.yes) return [textMessage(noConsentText)];
      const consent = await store.consent(t, i.readerKey);
      if (!consented(consent)) await store.putConsent(t, i.readerKey, { givenAt: now });
      return startScreening();
    }
    case 'revoke-consent': {
      const consent = await store.consent(t, i.readerKey);
      if (!consented(consent)) return [textMessage(noConsentToRevokeText)];
      await store.putConsent(t, i.readerKey, { ...consent, revokedAt: now });
      if (current?.instrument) await store.deleteRun(t, i.readerKey);
      return [textMessage(consentRevokedText)];
    }
    case 'pause':
      return current ? [pauseMessage(i.tenant, current)] : [textMessage(nothingToAnswerText)];
    case 'later':
      return [textMessage(laterText)];
    case 'decline':
      await store.decline(t, cmd.surveyId, i.readerKey, now);
      if (stored?.surveyId === cmd.surveyId) await store.deleteRun(t, i.readerKey);
      return [textMessage(declinedText)];
    case 'answer':
    case 'text':
      if (!run || !current) return [textMessage('このアンケートは終わっています。ご協力ありがとうございました。')];
      return answer(i, deps, current, run, cmd);
  }
}

const consented = (c: { givenAt?: number; revokedAt?: number } | undefined) =>
  c?.givenAt !== undefined && (c.revokedAt === undefined || c.revokedAt < c.givenAt);

function answerContext(i: SurveyChatInput): AnswerContext {
  const sub = answeringSubscription(i.subscriptions, i.today);
  return {
    track: sub?.track ?? 'none',
    stageBand: sub ? stageBand(sub.track, sub.anchorDate, i.today) : 'none',
    audience: sub?.audience ?? 'none',
    channel: 'line',
    answeredAt: i.now.getTime(),
  };
}

async function answer(
  i: SurveyChatInput,
  deps: SurveyChatDeps,
  survey: AskedSurvey,
  run: SurveyRun,
  cmd: Extract<SurveyCommand, { kind: 'answer' } | { kind: 'text' }>,
): Promise<BotMessage[]> {
  const store = deps.surveys;
  const t = i.tenant.tenantId;
  const outcome = applyAnswer(survey, run, cmd);
  switch (outcome.kind) {
    case 'stale':
      return [
        textMessage('そのボタンは前の質問のものです。いまの質問はこちらです。'),
        questionMessage(i.tenant, survey, run),
      ];
    case 'invalid':
      return [textMessage(outcome.reason), questionMessage(i.tenant, survey, run)];
    case 'pick':
      await store.putRun(t, i.readerKey, outcome.run);
      return [questionMessage(i.tenant, survey, outcome.run)];
    case 'step': {
      const context = answerContext(i);
      if (outcome.answer) await store.putAnswer(t, survey.id, i.readerKey, run.runId, outcome.answer, context);
      if (outcome.run) {
        await store.putRun(t, i.readerKey, outcome.run);
        return [questionMessage(i.tenant, survey, outcome.run)];
      }
      return finish(i, deps, survey, run, context);
    }
  }
}

async function finish(
  i: SurveyChatInput,
  deps: SurveyChatDeps,
  survey: AskedSurvey,
  run: SurveyRun,
  context: AnswerContext,
): Promise<BotMessage[]> {
  const store = deps.surveys;
  const t = i.tenant.tenantId;
  await store.deleteRun(t, i.readerKey);
  if (!survey.instrument) {
    await store.complete(t, survey.id, i.readerKey, run.runId, context);
    return [textMessage(thanksText)];
  }
  const instrument = INSTRUMENTS[survey.instrument];
  const scores = new Map<number, number>();
  for (const a of await store.answers(t, survey.id, i.readerKey, run.runId))
    if (a.score !== undefined && /^i\d+$/.test(a.questionId)) scores.set(Number(a.questionId.slice(1)), a.score);
  const screening = i.tenant.screening!;
  const result = scoreScreening(instrument, scores, screening.cutoffs[survey.instrument]);
  const first = await store.complete(t, survey.id, i.readerKey, run.runId, { ...context, screening: result });
  if (first && (result.positive || result.urgent)) await raiseAlert(i, deps, survey, run, result);
  return [textMessage(screeningDoneText(i.tenant, result, screening.showScore))];
}

/** A reference staff can look up in the console; derived from the run, so a redelivery finds the same alert. */
export function alertReference(readerKey: string, surveyId: string, runId: string): string {
  return createHash('sha256').update(`${readerKey}|${surveyId}|${runId}`).digest('hex').slice(0, 10).toUpperCase();
}

async function raiseAlert(
  i: SurveyChatInput,
  deps: SurveyChatDeps,
  survey: AskedSurvey,
  run: SurveyRun,
  result: ScreeningResult,
): Promise<void> {
  const instrument = INSTRUMENTS[survey.instrument!];
  const alert: ScreeningAlert = {
    reference: alertReference(i.readerKey, survey.id, run.runId),
    tenantId: i.tenant.tenantId,
    readerKey: i.readerKey,
    surveyId: survey.id,
    runId: run.runId,
    instrument: instrument.name,
    band: result.band,
    urgent: result.urgent,
    at: i.now.getTime(),
  };
  // Exactly one caller stores it; only that one mails it (at most once: a lost mail is still in the console).
  if (!(await deps.surveys.putAlert(alert)) || !deps.alertMail) return;
  const screening = i.tenant.screening!;
  try {
    for (const to of screening.alertTo)
      await deps.alertMail.send({ from: screening.alertFrom, to, ...alertMail(i.tenant, alert) });
    await deps.surveys.markAlertMailed(alert.tenantId, alert.reference, i.now.getTime());
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
