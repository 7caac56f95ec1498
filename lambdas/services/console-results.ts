import type { Cell, QuestionResult, ResultItem, SurveyResults } from '../domain/survey-results';
import { surveyResults } from '../domain/survey-results';
import { askedSurveys, type AskedQuestion, type AskedSurvey } from '../domain/surveys';
import { problem, withStaff, type ConsoleAccessDeps, type ConsoleRequest, type ConsoleResult } from './console-access';
import type { TenantDirectory } from './ports';

/**
 * The survey results pages: the tenant's surveys, and one survey's results computed by the same domain code as
 * `hagukumi surveys results --tenant` (lambdas/domain/survey-results.ts): invited, respondents, response rate,
 * breakdowns by track, stage band and audience, every question's counts and means, the screening KPI; every cell
 * under 5 shown as `<5`, the same complementary suppression. Per tenant only: a staff member sees their own
 * municipality's readers, never a pooled figure of other tenants. Aggregates name no reader, so viewing them is
 * not a view of a reader's data and is not audited.
 */
export interface ResultsDeps extends ConsoleAccessDeps {
  tenants: TenantDirectory;
  /** Everything the survey's partition holds for the tenant, as result items (invitations, answers, ...). */
  resultItems: (tenantId: string, surveyId: string) => Promise<ResultItem[]>;
}

export interface SurveySummary {
  id: string;
  title: string;
  questions: number;
  screening: boolean;
}

/** One row of a question's table: the answer's label (a choice, a scale point, an item's score) and its count. */
export interface ResultRow {
  label: string;
  count: Cell;
}

export interface QuestionView {
  id: string;
  kind: string;
  /** The question's text; an instrument's item by its number only (licensed wording is not republished). */
  text: string;
  n: Cell;
  /** As shown: a number or `<5`. */
  mean?: string;
  rows: ResultRow[];
  texts?: string[];
}

export type ResultsView =
  | { page: 'surveys'; surveys: SurveySummary[] }
  | {
      page: 'survey-results';
      survey: SurveySummary;
      results: Omit<SurveyResults, 'questions'>;
      questions: QuestionView[];
    };

const summary = (s: AskedSurvey): SurveySummary => ({
  id: s.id,
  title: s.title,
  questions: s.questions.length,
  screening: s.instrument !== undefined,
});

/** `GET /console/surveys`: the surveys the tenant asks (its own, shared, screening). */
export function surveysPage(req: ConsoleRequest, deps: ResultsDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const tenant = await deps.tenants.getTenant(staff.tenantId);
    return { status: 200, view: { page: 'surveys', surveys: tenant ? askedSurveys(tenant).map(summary) : [] } };
  });
}

function rowsOf(q: AskedQuestion, r: QuestionResult): ResultRow[] {
  const counts = r.counts ?? {};
  const count = (key: string): Cell => counts[key] ?? 0;
  switch (q.kind) {
    case 'single':
    case 'multiple':
      return q.choices.map((c) => ({ label: c.label, count: count(c.id) }));
    case 'scale':
      return ['1', '2', '3', '4', '5'].map((k) => ({
        label: k === '1' ? `1（${q.low}）` : k === '5' ? `5（${q.high}）` : k,
        count: count(k),
      }));
    case 'item':
      return Object.keys(counts).map((k) => ({ label: `${k}点`, count: count(k) }));
    case 'text':
      return [];
  }
}

const SURVEY_PATH = /^\/console\/surveys\/([A-Za-z0-9_-]{1,64})$/;

/** `GET /console/surveys/<surveyId>`: one survey's results for the staff member's tenant. */
export function surveyResultsPage(req: ConsoleRequest, deps: ResultsDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const surveyId = SURVEY_PATH.exec(req.path)?.[1];
    const tenant = surveyId ? await deps.tenants.getTenant(staff.tenantId) : undefined;
    const survey = tenant && askedSurveys(tenant).find((s) => s.id === surveyId);
    if (!tenant || !survey) return problem(404, 'not-found');
    const items = await deps.resultItems(tenant.tenantId, survey.id);
    const { questions, ...results } = surveyResults(survey, items, {
      scope: `${tenant.tenantId} (${tenant.name})`,
      pooled: false,
    });
    const views = survey.questions.map((q, i): QuestionView => {
      const r = questions[i]!;
      return {
        id: q.id,
        kind: q.kind,
        text: q.kind === 'item' ? `項目${q.number}` : q.text,
        n: r.n,
        ...(r.mean !== undefined && { mean: String(r.mean) }),
        rows: rowsOf(q, r),
        ...(r.texts && { texts: r.texts }),
      };
    });
    return {
      status: 200,
      view: { page: 'survey-results', survey: summary(survey), results, questions: views },
    };
  });
}
