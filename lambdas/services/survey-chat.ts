import type { IsoDate } from '../../schemas/common';
import type { ReaderAction } from '../../schemas/line-webhook';
import type { Subscription } from '../../schemas/subscription';
import type { SurveyRun } from '../../schemas/survey';
import type { TenantConfig } from '../../schemas/tenant';
import type { AskedSurvey } from '../domain/surveys';
import { textMessage, type BotMessage } from '../domain/replies';
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
import type { AnswerContext } from './ports';
import { answerContextOf, completeRun, type CompletionDeps } from './survey-completion';
import { tenantSurveys } from './survey-invitations';

export type SurveyChatDeps = CompletionDeps;

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

const answerContext = (i: SurveyChatInput) => answerContextOf(i.subscriptions, i.today, i.now, 'line');

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
  await deps.surveys.deleteRun(i.tenant.tenantId, i.readerKey);
  const result = await completeRun(i.tenant, survey, i.readerKey, run, context, i.now, deps);
  if (!result) return [textMessage(thanksText)];
  return [textMessage(screeningDoneText(i.tenant, result, i.tenant.screening!.showScore))];
}
