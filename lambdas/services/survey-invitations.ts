import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import {
  answeringSubscription,
  askedSurveys,
  dueInvitations,
  invitationText,
  stageBand,
  type AskedSurvey,
} from '../domain';
import type { SurveyInvitationStore } from './ports';

// A tenant object is loaded once per container and reused: its surveys are resolved once per object.
const surveysOf = new WeakMap<TenantConfig, AskedSurvey[]>();
export function tenantSurveys(tenant: TenantConfig): AskedSurvey[] {
  let surveys = surveysOf.get(tenant);
  if (!surveys) {
    surveys = askedSurveys(tenant);
    surveysOf.set(tenant, surveys);
  }
  return surveys;
}

/** Cheap, from the shard index alone: could this reader be invited today? (Most readers, most days: no.) */
export function mayBeInvited(tenant: TenantConfig, subs: readonly Subscription[], date: IsoDate): boolean {
  return subs.length > 0 && dueInvitations(subs, date, tenantSurveys(tenant)).length > 0;
}

/** An invitation in today's send: which survey run, and its text for the reader's channel. */
export interface PlannedInvitation {
  surveyId: string;
  runId: string;
  text: string;
}

/**
 * The invitations one reader gets in today's send, from all their subscriptions as stored now.
 * `plan`: a due invitation not recorded yet is recorded for the date first (so a later day never repeats it);
 * `check` (the send-time check, late readers): only invitations already recorded for the date, so a change
 * after planning can take an invitation out (a loss, a stop) but never adds one that was not recorded.
 * LINE readers answer in the chat; email readers get the text followed by a signed link to the survey page.
 * Recorded is not sent: an email invitation counts in results once SES accepted the mail (`markInvitationSent`).
 */
export async function readerInvitations(
  tenant: TenantConfig,
  subs: readonly Subscription[],
  date: IsoDate,
  store: SurveyInvitationStore,
  mode: 'plan' | 'check',
): Promise<PlannedInvitation[]> {
  const first = subs[0];
  if (!first) return [];
  const surveys = tenantSurveys(tenant);
  const due = dueInvitations(subs, date, surveys);
  if (due.length === 0) return [];
  const facts = await store.readerSurveys(
    tenant.tenantId,
    first.readerKey,
    due.map((d) => d.surveyId),
  );
  const out: PlannedInvitation[] = [];
  for (const inv of due) {
    const f = facts.get(inv.surveyId);
    if (f?.declined) continue;
    const recordedOn = f?.invitations.get(inv.runId);
    if (recordedOn !== undefined && recordedOn !== date) continue;
    if (recordedOn === undefined) {
      if (mode === 'check') continue;
      const sub = answeringSubscription(subs, date) ?? first;
      const recorded = await store.recordInvitation(tenant.tenantId, first.readerKey, inv.surveyId, inv.runId, date, {
        track: sub.track,
        stageBand: stageBand(sub.track, sub.anchorDate, date),
        audience: sub.audience,
        channel: sub.channel,
      });
      if (!recorded) continue;
    }
    out.push({
      ...inv,
      text: invitationText(
        surveys.find((s) => s.id === inv.surveyId)!,
        first.channel,
      ),
    });
  }
  return out;
}

/** The texts of `readerInvitations`, as the reader's one send carries them. */
export async function invitationTexts(
  tenant: TenantConfig,
  subs: readonly Subscription[],
  date: IsoDate,
  store: SurveyInvitationStore,
  mode: 'plan' | 'check',
): Promise<string[]> {
  return (await readerInvitations(tenant, subs, date, store, mode)).map((i) => i.text);
}
