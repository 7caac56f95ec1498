import type { Audience, Channel, IsoDate, Track } from '../../schemas/common';
import { sharedSurvey } from '../../schemas/shared-surveys';
import type { Subscription } from '../../schemas/subscription';
import type { InstrumentId, SurveyAudience, SurveyQuestion, SurveyTrigger } from '../../schemas/survey';
import type { TenantConfig } from '../../schemas/tenant';
import { INSTRUMENTS, placeholderWording } from './screening';
import { childAgeDays, gestationalDay, isInChildcareRange, isInMaternityRange, trackEnded } from './stage';

/** A question as asked: a survey question, or an instrument item whose options carry their scores. */
export type AskedQuestion =
  | SurveyQuestion
  | {
      kind: 'item';
      id: string;
      /** 1-based item number of the instrument. */
      number: number;
      text: string;
      options: { label: string; score: number }[];
    };

/** A survey the tenant asks, whatever its source: its own, the shared library's, or a screening instrument. */
export interface AskedSurvey {
  id: string;
  title: string;
  intro?: string;
  audience: SurveyAudience;
  trigger: SurveyTrigger;
  questions: AskedQuestion[];
  /** Shared library surveys can be pooled across tenants. */
  pooled: boolean;
  instrument?: InstrumentId;
  /** The wording is the placeholder (no licensed pack loaded). */
  placeholder?: boolean;
}

/** Every survey a tenant asks, in a stable order: its own, the shared ones, then the screening instruments. */
export function askedSurveys(tenant: TenantConfig): AskedSurvey[] {
  const own = tenant.surveys.map((s): AskedSurvey => ({ ...s, pooled: false }));
  const shared = tenant.sharedSurveys.flatMap((use): AskedSurvey[] => {
    const def = sharedSurvey(use.shared);
    // The tenant schema refuses unknown shared ids; a tenant stored before a library change simply skips it.
    return def ? [{ ...def, trigger: use.trigger, pooled: true }] : [];
  });
  const screening = tenant.screening?.enabled
    ? [
        instrumentSurvey(tenant, 'epds', 'parent', {
          kind: 'stage',
          stages: tenant.screening.epdsDays.map((day) => ({ track: 'childcare' as const, day })),
        }),
        instrumentSurvey(tenant, 'phq9', 'both', { kind: 'request' }),
      ]
    : [];
  return [...own, ...shared, ...screening];
}

export const SCREENING_TITLE = 'こころの健康チェック';

function instrumentSurvey(
  tenant: TenantConfig,
  id: InstrumentId,
  audience: SurveyAudience,
  trigger: SurveyTrigger,
): AskedSurvey {
  const instrument = INSTRUMENTS[id];
  const licensed = tenant.screening?.wording[id];
  const wording = licensed ?? placeholderWording(instrument);
  return {
    id,
    title: `${SCREENING_TITLE}（${instrument.name}）`,
    ...(wording.intro !== undefined && { intro: wording.intro }),
    audience,
    trigger,
    pooled: false,
    instrument: id,
    ...(!licensed && { placeholder: true }),
    questions: instrument.items.map((item, i) => ({
      kind: 'item',
      id: `i${item.number}`,
      number: item.number,
      text: wording.items[i]!.text,
      options: item.optionScores.map((score, o) => ({ label: wording.items[i]!.options[o]!, score })),
    })),
  };
}

/** A due invitation: the survey and which of its runs (`t<n>`: the n-th stage trigger; `c`: the campaign or date). */
export interface Invitation {
  surveyId: string;
  runId: string;
}

const afterLoss = (subs: readonly Subscription[]) => subs.some((s) => s.status === 'lost' || s.track === 'support');

/**
 * Subscriptions that would be delivered today (active, registered, not paused, their track not over), support
 * series excluded. A track that ends today is marked ended by the planner: no invitation for it either.
 */
const deliverable = (subs: readonly Subscription[], today: IsoDate) =>
  subs.filter(
    (s) =>
      s.status === 'active' &&
      s.track !== 'support' &&
      s.registeredOn <= today &&
      (s.pausedUntil === undefined || today >= s.pausedUntil) &&
      !trackEnded(s.track, s.anchorDate, today) &&
      (s.track === 'maternity' ? isInMaternityRange(s.anchorDate, today) : isInChildcareRange(s.anchorDate, today)),
  );

function stageDay(track: Track, anchorDate: IsoDate, today: IsoDate): number | undefined {
  if (track === 'maternity') return gestationalDay(anchorDate, today);
  if (track === 'childcare') return childAgeDays(anchorDate, today);
  return undefined;
}

const audienceFits = (audience: SurveyAudience, of: Audience) => audience === 'both' || audience === of;

/**
 * The invitations due for one reader (all their subscriptions, as stored) on `today`, before what was sent
 * before is taken into account (the service checks the stored invitations and declines). Never after a loss:
 * a reader with a lost pregnancy or child, or on the support series, is not asked anything.
 */
export function dueInvitations(
  subs: readonly Subscription[],
  today: IsoDate,
  surveys: readonly AskedSurvey[],
): Invitation[] {
  if (afterLoss(subs)) return [];
  const live = deliverable(subs, today);
  if (live.length === 0) return [];
  const due: Invitation[] = [];
  for (const survey of surveys) {
    const fitting = live.filter((s) => audienceFits(survey.audience, s.audience));
    if (fitting.length === 0) continue;
    const t = survey.trigger;
    switch (t.kind) {
      case 'stage': {
        const i = t.stages.findIndex((st) =>
          fitting.some((s) => s.track === st.track && stageDay(s.track, s.anchorDate, today) === st.day),
        );
        if (i >= 0) due.push({ surveyId: survey.id, runId: `t${i}` });
        break;
      }
      case 'campaign':
        if (t.from <= today && today <= t.to) due.push({ surveyId: survey.id, runId: 'c' });
        break;
      case 'date':
        if (today === t.on) due.push({ surveyId: survey.id, runId: 'c' });
        break;
      case 'request':
        break;
    }
  }
  return due;
}

/** The menu word that starts or resumes a survey (also what the invitation asks the reader to send). */
export const SURVEY_COMMAND = 'アンケート';

/**
 * The text of an invitation in the daily send. On LINE the reader answers in the chat; in the daily mail the
 * paragraph is followed by the signed link to the survey page (services/send-batch.ts puts it there).
 */
export function invitationText(survey: AskedSurvey, channel: Channel = 'line'): string {
  const n = survey.questions.length;
  if (channel === 'email') {
    if (survey.instrument)
      return [
        `【${SCREENING_TITLE}のご案内】`,
        `この時期は心も体もゆらぎやすいものです。いまの気持ちを確かめる簡単なチェック（${n}問）をご用意しました。`,
        '下のリンクから始められます。結果を保健師と共有するかどうかは、始める前にお聞きします。',
      ].join('\n');
    return [
      `【アンケートのお願い】${survey.title}`,
      ...(survey.intro ? [survey.intro] : []),
      `下のリンクからお答えください（${n}問、どの質問も飛ばせます）。`,
    ].join('\n');
  }
  if (survey.instrument) {
    return [
      `【${SCREENING_TITLE}のご案内】`,
      'この時期は心も体もゆらぎやすいものです。いまの気持ちを確かめる簡単なチェック（' + `${n}問）をご用意しました。`,
      `「${SCREENING_TITLE}」と送ると始まります。結果を保健師と共有するかどうかは、始める前にお聞きします。`,
    ].join('\n');
  }
  return [
    `【アンケートのお願い】${survey.title}`,
    ...(survey.intro ? [survey.intro] : []),
    `「${SURVEY_COMMAND}」と送ると始まります（${n}問、どの質問も飛ばせます）。`,
  ].join('\n');
}

/** A stage band for results: coarse enough that a band holds many readers, fine enough to be useful. */
export function stageBand(track: Track, anchorDate: IsoDate, today: IsoDate): string {
  if (track === 'maternity') {
    const week = Math.floor(gestationalDay(anchorDate, today) / 7);
    return week < 16 ? 'maternity-early' : week < 28 ? 'maternity-mid' : 'maternity-late';
  }
  if (track === 'childcare') {
    const days = childAgeDays(anchorDate, today);
    return days <= 100
      ? 'childcare-0-100d'
      : days < 365
        ? 'childcare-under-1y'
        : days < 730
          ? 'childcare-1y'
          : 'childcare-2y';
  }
  return 'support';
}

/** The subscription an answer is attributed to: the youngest stage first (its parent's concerns are the newest). */
export function answeringSubscription(subs: readonly Subscription[], today: IsoDate): Subscription | undefined {
  const live = deliverable(subs, today);
  const pool = live.length > 0 ? live : subs.filter((s) => s.status === 'active' || s.status === 'paused');
  return [...pool].sort((a, b) =>
    a.track !== b.track ? (a.track === 'maternity' ? -1 : 1) : a.anchorDate < b.anchorDate ? 1 : -1,
  )[0];
}
