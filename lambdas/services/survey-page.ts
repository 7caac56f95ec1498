import type { SurveyRun } from '../../schemas/survey';
import type { TenantConfig } from '../../schemas/tenant';
import { localDate } from '../domain';
import { Phrases } from '../domain/replies';
import { screeningDoneText, thanksText } from '../domain/survey-dialog';
import { formAnswer } from '../domain/survey-form';
import type { AskedQuestion, AskedSurvey } from '../domain/surveys';
import type { EmailPagesDeps, PageRequest, PageResult } from './email-pages';
import { MAX_FORM_BYTES } from './email-pages';
import { checkStanding, verifyEmailToken, type TokenClaims } from './email-tokens';
import type { ReaderState, ScreeningConsent, SurveyAnswerStore } from './ports';
import { answerContextOf, completeRun, type CompletionDeps } from './survey-completion';
import { tenantSurveys } from './survey-invitations';

/**
 * The email survey page, `GET|POST /email/<tenant>/survey?t=<token>`: what the LINE chat does for surveys, as
 * plain forms (one question a page, no JavaScript). The token (purpose `survey`) names the reader and the survey,
 * nothing else; every POST carries it, so no other site can post for a reader. A GET changes nothing (mail
 * scanners open links); the run pointer is the chat's (one per reader), so a half-finished survey resumes
 * where it stopped. Answers, completions and alerts go through the same store and completion code as LINE's.
 */

export type SurveyStep =
  'consent' | 'question' | 'thanks' | 'screening-done' | 'declined' | 'no-consent' | 'consent-revoked' | 'closed';

export interface ShownQuestion {
  index: number;
  runId: string;
  number: number;
  of: number;
  text: string;
  /** radio (single, scale, instrument item), checkbox (multiple) or textarea (free text). */
  input: 'radio' | 'checkbox' | 'textarea';
  choices: { value: string; label: string }[];
  scale?: { low: string; high: string };
  maxLength?: number;
  /** The text the reader typed, shown again with an error. */
  value?: string;
}

export interface SurveyView {
  page: 'survey';
  token: string;
  title: string;
  step: SurveyStep;
  intro?: string;
  placeholder?: boolean;
  question?: ShownQuestion;
  error?: string;
  notice?: string;
  /** After the last question, and for a screening at or over the cut-off the warm words and contacts. */
  message?: string;
  consentText?: string;
  /** The reader gave screening consent: the page offers to take it back. */
  canRevoke?: boolean;
}

export const SURVEY_PAGE_WORDS = {
  stale: 'この質問にはすでにお答えいただいています。続きの質問です。',
  resumed: '前回の続きから再開します。',
  closed: 'このアンケートは、回答済みか受付を終えています。ご協力ありがとうございました。',
  declined: 'わかりました。このアンケートのご案内は今後お送りしません。',
  noConsent: 'わかりました。チェックは行いません。気になることがあれば、いつでもご相談ください。',
  consentRevoked:
    '同意を取り消しました。これからはチェックの結果を共有しません（チェックを受けるには、あらためて同意が必要です）。',
  placeholder: '※この設問文は仮のものです（自治体が許諾を得た文言に置き換えて使います）。',
} as const;

interface Authorised {
  tenant: TenantConfig;
  claims: TokenClaims & { surveyId: string };
  survey: AskedSurvey;
  state: ReaderState;
  store: SurveyAnswerStore;
  surveys: CompletionDeps;
  token: string;
  now: Date;
}

function result(tenant: TenantConfig, status: PageResult['status'], view: PageResult['view']): PageResult {
  return { status, tenantName: tenant.name, tenantId: tenant.tenantId, view, words: new Phrases(tenant).w };
}

async function authorise(req: PageRequest, deps: EmailPagesDeps): Promise<Authorised | PageResult> {
  const tenant = /^[a-z][a-z0-9-]{1,39}$/.test(req.tenantId) ? await deps.tenants.getTenant(req.tenantId) : undefined;
  if (!tenant?.email?.enabled || !deps.surveys)
    return { status: 404, tenantId: req.tenantId, view: { page: 'problem', reason: 'not-found' } };
  const problem = (reason: Extract<PageResult['view'], { page: 'problem' }>['reason'], status: PageResult['status']) =>
    result(tenant, status, { page: 'problem', reason });
  if (Buffer.byteLength(req.body ?? '') > MAX_FORM_BYTES) return problem('too-large', 413);
  const now = deps.clock.now();
  const keys = await deps.tokenKeys.get();
  const verified = verifyEmailToken(keys, req.token, {
    tenantId: tenant.tenantId,
    purpose: 'survey',
    now: Math.floor(now.getTime() / 1000),
  });
  if (!verified.ok) return problem(verified.reason, verified.reason === 'expired' ? 410 : 400);
  const surveyId = verified.claims.surveyId;
  const survey = surveyId === undefined ? undefined : tenantSurveys(tenant).find((s) => s.id === surveyId);
  if (!survey || surveyId === undefined) return problem('not-found', 404);
  const state = await deps.readers.load(tenant.tenantId, verified.claims.readerKey);
  const standing = checkStanding(verified.claims, {
    tokenVersion: state.subscriptions.find((s) => s.tokenVersion !== undefined)?.tokenVersion,
  });
  if (standing !== 'ok') return problem(standing, 410);
  return {
    tenant,
    claims: { ...verified.claims, surveyId },
    survey,
    state,
    store: deps.surveys.surveys,
    surveys: deps.surveys,
    token: req.token!,
    now,
  };
}

const isResult = (a: Authorised | PageResult): a is PageResult => 'status' in a;

const consented = (c: ScreeningConsent | undefined) =>
  c?.givenAt !== undefined && (c.revokedAt === undefined || c.revokedAt < c.givenAt);

function view(a: Authorised, step: SurveyStep, more: Partial<SurveyView> = {}): SurveyView {
  return {
    page: 'survey',
    token: a.token,
    title: a.survey.title,
    step,
    ...(a.survey.intro !== undefined && { intro: a.survey.intro }),
    ...(a.survey.placeholder && { placeholder: true }),
    ...more,
  };
}

function shown(survey: AskedSurvey, run: SurveyRun, value?: string): ShownQuestion {
  const q: AskedQuestion = survey.questions[run.next]!;
  const base = { index: run.next, runId: run.runId, number: run.next + 1, of: survey.questions.length, text: q.text };
  switch (q.kind) {
    case 'single':
      return { ...base, input: 'radio', choices: q.choices.map((c) => ({ value: c.id, label: c.label })) };
    case 'multiple':
      return { ...base, input: 'checkbox', choices: q.choices.map((c) => ({ value: c.id, label: c.label })) };
    case 'scale':
      return {
        ...base,
        input: 'radio',
        choices: [1, 2, 3, 4, 5].map((v) => ({ value: String(v), label: String(v) })),
        scale: { low: q.low, high: q.high },
      };
    case 'text':
      return { ...base, input: 'textarea', choices: [], maxLength: q.maxLength, ...(value && { value }) };
    case 'item':
      return { ...base, input: 'radio', choices: q.options.map((o, i) => ({ value: String(i), label: o.label })) };
  }
}

/**
 * Where the reader is with this survey: declined, after a loss (never asked then), the stored run (resumed), or
 * the invitation not answered yet (a run not stored until the first answer), or nothing open.
 */
async function position(a: Authorised): Promise<{ run: SurveyRun; resumed: boolean } | SurveyStep> {
  const t = a.tenant.tenantId;
  const readerKey = a.claims.readerKey;
  if (a.state.subscriptions.some((s) => s.status === 'lost' || s.track === 'support')) return 'closed';
  if (a.survey.instrument && !a.tenant.screening?.enabled) return 'closed';
  const facts = (await a.store.readerSurveys(t, readerKey, [a.survey.id])).get(a.survey.id);
  if (facts?.declined) return 'declined';
  const stored = await a.store.run(t, readerKey);
  if (stored?.surveyId === a.survey.id && !facts?.completed.has(stored.runId))
    return { run: stored, resumed: stored.next > 0 };
  const open = [...(facts?.invitations.keys() ?? [])].find((r) => !facts?.completed.has(r));
  if (open === undefined) return 'closed';
  return {
    run: { surveyId: a.survey.id, runId: open, next: 0, picked: [], startedAt: a.now.getTime() },
    resumed: false,
  };
}

function consentView(a: Authorised): SurveyView {
  return view(a, 'consent', {
    consentText: [
      `このチェックの結果は、${a.tenant.name}の保健師など健康支援の担当者と共有され、必要なときにご連絡やご案内をします。`,
      '共有に同意いただける場合のみ、チェックを始めます。同意はこのページからいつでも取り消せます。',
    ].join('\n'),
  });
}

async function questionOrConsent(a: Authorised, notice?: string): Promise<PageResult> {
  const at = await position(a);
  if (typeof at === 'string') return result(a.tenant, 200, closedView(a, at));
  const consent = a.survey.instrument ? await a.store.consent(a.tenant.tenantId, a.claims.readerKey) : undefined;
  if (a.survey.instrument && !consented(consent)) return result(a.tenant, 200, consentView(a));
  const n = notice ?? (at.resumed ? SURVEY_PAGE_WORDS.resumed : undefined);
  return result(
    a.tenant,
    200,
    view(a, 'question', {
      question: shown(a.survey, at.run),
      ...(n && { notice: n }),
      ...(a.survey.instrument && { canRevoke: true }),
    }),
  );
}

function closedView(a: Authorised, step: SurveyStep): SurveyView {
  const message =
    step === 'declined' ? SURVEY_PAGE_WORDS.declined : step === 'closed' ? SURVEY_PAGE_WORDS.closed : undefined;
  return view(a, step, message ? { message } : {});
}

export async function showSurvey(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  const a = await authorise(req, deps);
  if (isResult(a)) return a;
  return questionOrConsent(a);
}

export async function submitSurvey(req: PageRequest, deps: EmailPagesDeps): Promise<PageResult> {
  const a = await authorise(req, deps);
  if (isResult(a)) return a;
  const form = new URLSearchParams(req.body ?? '');
  const action = form.get('action');
  const t = a.tenant.tenantId;
  const readerKey = a.claims.readerKey;
  const now = a.now.getTime();
  switch (action) {
    case 'decline': {
      await a.store.decline(t, a.survey.id, readerKey, now);
      const stored = await a.store.run(t, readerKey);
      if (stored?.surveyId === a.survey.id) await a.store.deleteRun(t, readerKey);
      return result(a.tenant, 200, closedView(a, 'declined'));
    }
    case 'consent':
    case 'no-consent': {
      if (!a.survey.instrument || !a.tenant.screening?.enabled) return result(a.tenant, 200, closedView(a, 'closed'));
      if (action === 'no-consent')
        return result(a.tenant, 200, view(a, 'no-consent', { message: SURVEY_PAGE_WORDS.noConsent }));
      if (!consented(await a.store.consent(t, readerKey))) await a.store.putConsent(t, readerKey, { givenAt: now });
      return questionOrConsent(a);
    }
    case 'revoke': {
      const consent = await a.store.consent(t, readerKey);
      if (consented(consent)) await a.store.putConsent(t, readerKey, { ...consent, revokedAt: now });
      const stored = await a.store.run(t, readerKey);
      if (stored && tenantSurveys(a.tenant).find((s) => s.id === stored.surveyId)?.instrument)
        await a.store.deleteRun(t, readerKey);
      return result(a.tenant, 200, view(a, 'consent-revoked', { message: SURVEY_PAGE_WORDS.consentRevoked }));
    }
    case 'answer':
    case 'skip':
      return answer(a, form, action === 'skip');
    default:
      return result(a.tenant, 400, { page: 'problem', reason: 'bad-request' });
  }
}

async function answer(a: Authorised, form: URLSearchParams, skip: boolean): Promise<PageResult> {
  const t = a.tenant.tenantId;
  const readerKey = a.claims.readerKey;
  const at = await position(a);
  if (typeof at === 'string') return result(a.tenant, 200, closedView(a, at));
  if (a.survey.instrument && !consented(await a.store.consent(t, readerKey)))
    return result(a.tenant, 200, consentView(a));
  const { run } = at;
  const outcome = formAnswer(a.survey, run, {
    runId: form.get('r') ?? '',
    question: Number(form.get('q') ?? NaN),
    skip,
    values: form.getAll('v'),
  });
  switch (outcome.kind) {
    case 'stale':
    case 'pick':
      // A form sent twice, or an old page: nothing stored, the current question again.
      return questionOrConsent(a, SURVEY_PAGE_WORDS.stale);
    case 'invalid':
      return result(
        a.tenant,
        400,
        view(a, 'question', {
          question: shown(a.survey, run, form.get('v') ?? undefined),
          error: outcome.reason,
          ...(a.survey.instrument && { canRevoke: true }),
        }),
      );
    case 'step': {
      const context = answerContextOf(a.state.subscriptions, localDate(a.now, a.tenant.timeZone), a.now, 'email');
      if (outcome.answer) await a.store.putAnswer(t, a.survey.id, readerKey, run.runId, outcome.answer, context);
      if (outcome.run) {
        await a.store.putRun(t, readerKey, outcome.run);
        return result(
          a.tenant,
          200,
          view(a, 'question', {
            question: shown(a.survey, outcome.run),
            ...(a.survey.instrument && { canRevoke: true }),
          }),
        );
      }
      const stored = await a.store.run(t, readerKey);
      if (stored) await a.store.deleteRun(t, readerKey);
      const screening = await completeRun(a.tenant, a.survey, readerKey, run, context, a.now, a.surveys);
      if (!screening) return result(a.tenant, 200, view(a, 'thanks', { message: thanksText }));
      return result(
        a.tenant,
        200,
        view(a, 'screening-done', {
          message: screeningDoneText(a.tenant, screening, a.tenant.screening!.showScore),
          canRevoke: true,
        }),
      );
    }
  }
}
