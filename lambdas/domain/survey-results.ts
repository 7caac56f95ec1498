import type { AskedSurvey } from './surveys';

/**
 * Survey results, pure: counts, means and distributions, response rates against invitations, broken down by
 * track, stage band and audience; small cells suppressed. Input is what the survey partitions hold.
 */

/** Fewer respondents than this in a cell and the cell is shown as `<5`. */
export const MIN_CELL = 5;
export const SUPPRESSED = '<5';
export type Cell = number | typeof SUPPRESSED;

export interface ResultItem {
  tenantId: string;
  readerKey: string;
  kind: 'invitation' | 'answer' | 'completion' | 'declined';
  runId?: string;
  questionId?: string;
  value?: string | string[] | number;
  score?: number;
  track?: string;
  stageBand?: string;
  audience?: string;
  channel?: string;
  /** Invitations by email: when SES accepted the mail carrying it (absent: planned, not sent). */
  sentAt?: number;
  answeredAt?: number;
  /** Invitations: the delivery date that carried it. */
  invitedOn?: string;
  screening?: { positive: boolean; complete: boolean };
}

export interface GroupRow {
  group: string;
  invited: Cell;
  respondents: Cell;
  /** Respondents per invitation, in percent (one decimal). */
  rate: Cell;
}

export interface QuestionResult {
  id: string;
  kind: string;
  text: string;
  n: Cell;
  /** Choice id (or scale value / option index) -> respondents. */
  counts?: Record<string, Cell>;
  mean?: Cell;
  /** Free texts, only in per-tenant results. */
  texts?: string[];
}

export interface SurveyResults {
  surveyId: string;
  title: string;
  scope: string;
  /** Pooled results: the municipalities named (those with at least MIN_CELL respondents) and how many others. */
  tenants?: { named: string[]; others: number };
  invited: Cell;
  respondents: Cell;
  rate: Cell;
  breakdowns: Record<'track' | 'stageBand' | 'audience', GroupRow[]>;
  questions: QuestionResult[];
  /** Screening only: readers at or over the cut-off, and the share who later scored below it (complete). */
  kpi?: { atOrOverCutoff: Cell; laterBelow: Cell; share: Cell };
}

const cell = (n: number): Cell => (n < MIN_CELL ? SUPPRESSED : n);

/**
 * Cells of one set that add up to a shown total: besides every cell under MIN_CELL, when exactly one cell is
 * suppressed the next smallest is too, so the total minus the shown ones cannot reveal it.
 */
export function suppressSet(counts: readonly number[]): Cell[] {
  const out: Cell[] = counts.map(cell);
  const hidden = out.filter((c) => c === SUPPRESSED).length;
  if (hidden === 1) {
    let smallest = -1;
    counts.forEach((n, i) => {
      if (out[i] !== SUPPRESSED && (smallest < 0 || n < counts[smallest]!)) smallest = i;
    });
    if (smallest >= 0) out[smallest] = SUPPRESSED;
  }
  return out;
}

const rate = (respondents: Cell, invited: Cell, respondentsN: number, invitedN: number): Cell =>
  respondents === SUPPRESSED || invited === SUPPRESSED || invitedN === 0
    ? SUPPRESSED
    : Math.round((respondentsN / invitedN) * 1000) / 10;

const round1 = (n: number) => Math.round(n * 10) / 10;

export function surveyResults(
  survey: AskedSurvey,
  items: readonly ResultItem[],
  opts: { scope: string; pooled: boolean; tenantNames?: ReadonlyMap<string, string> },
): SurveyResults {
  // An email invitation counts once its mail was accepted, not when it was planned: an honest denominator.
  // (A LINE invitation is recorded as it is planned; LINE's acceptance is not tracked per reader.)
  const invitations = items.filter((i) => i.kind === 'invitation' && (i.channel !== 'email' || i.sentAt !== undefined));
  const answers = items.filter((i) => i.kind === 'answer');
  const readerOf = (i: ResultItem) => `${i.tenantId}|${i.readerKey}`;
  const respondentSet = new Set(answers.map(readerOf));
  // Who a reader is for breakdowns: their first answer's context (or, invited only, the invitation's).
  const facts = new Map<string, ResultItem>();
  for (const i of [...answers].sort((a, b) => (a.answeredAt ?? 0) - (b.answeredAt ?? 0)))
    if (!facts.has(readerOf(i))) facts.set(readerOf(i), i);
  for (const i of invitations) if (!facts.has(readerOf(i))) facts.set(readerOf(i), i);
  const invitedSet = new Set(invitations.map(readerOf));

  const invitedN = invitedSet.size;
  const respondentsN = respondentSet.size;
  const invited = cell(invitedN);
  const respondents = cell(respondentsN);

  const breakdown = (key: 'track' | 'stageBand' | 'audience'): GroupRow[] => {
    const groups = [...new Set([...facts.values()].map((f) => f[key] ?? 'none'))].sort();
    const inv = groups.map((g) => [...invitedSet].filter((r) => (facts.get(r)?.[key] ?? 'none') === g).length);
    const resp = groups.map((g) => [...respondentSet].filter((r) => (facts.get(r)?.[key] ?? 'none') === g).length);
    const invCells = suppressSet(inv);
    const respCells = suppressSet(resp);
    return groups.map((group, i) => ({
      group,
      invited: invCells[i]!,
      respondents: respCells[i]!,
      rate: rate(respCells[i]!, invCells[i]!, resp[i]!, inv[i]!),
    }));
  };

  const questions = survey.questions.map((q): QuestionResult => {
    const given = answers.filter((a) => a.questionId === q.id);
    // Answers, not readers: a screening taken twice counts twice (one answer per reader, run and question).
    const n = given.length;
    const base = { id: q.id, kind: q.kind, text: q.text, n: cell(n) };
    switch (q.kind) {
      case 'single':
      case 'multiple': {
        const ids = q.choices.map((c) => c.id);
        const counts = ids.map(
          (id) => given.filter((a) => (Array.isArray(a.value) ? a.value.includes(id) : a.value === id)).length,
        );
        // Single choices add up to n; multiple choices do not, so each cell stands alone.
        const cells = q.kind === 'single' ? suppressSet(counts) : counts.map(cell);
        return { ...base, counts: Object.fromEntries(ids.map((id, i) => [id, cells[i]!])) };
      }
      case 'scale':
      case 'item': {
        const values = given.map((a) => (q.kind === 'item' ? (a.score ?? 0) : Number(a.value)));
        const keys =
          q.kind === 'scale' ? ['1', '2', '3', '4', '5'] : [...new Set(q.options.map((o) => String(o.score)))];
        const counts = keys.map((k) => values.filter((v) => String(v) === k).length);
        const cells = suppressSet(counts);
        return {
          ...base,
          counts: Object.fromEntries(keys.map((k, i) => [k, cells[i]!])),
          mean: n < MIN_CELL ? SUPPRESSED : round1(values.reduce((s, v) => s + v, 0) / values.length),
        };
      }
      case 'text':
        return opts.pooled ? base : { ...base, ...(n >= MIN_CELL && { texts: given.map((a) => String(a.value)) }) };
    }
  });

  const result: SurveyResults = {
    surveyId: survey.id,
    title: survey.title,
    scope: opts.scope,
    invited,
    respondents,
    rate: rate(respondents, invited, respondentsN, invitedN),
    breakdowns: { track: breakdown('track'), stageBand: breakdown('stageBand'), audience: breakdown('audience') },
    questions,
  };
  if (opts.pooled) {
    const perTenant = new Map<string, number>();
    for (const r of respondentSet) {
      const t = r.slice(0, r.indexOf('|'));
      perTenant.set(t, (perTenant.get(t) ?? 0) + 1);
    }
    const named = [...perTenant].filter(([, n]) => n >= MIN_CELL).map(([t]) => opts.tenantNames?.get(t) ?? t);
    result.tenants = { named: named.sort(), others: perTenant.size - named.length };
  }
  if (survey.instrument) result.kpi = screeningKpi(items.filter((i) => i.kind === 'completion'));
  return result;
}

/** Of readers ever at or over the cut-off, those whose later complete screening was below it. */
export function screeningKpi(completions: readonly ResultItem[]): NonNullable<SurveyResults['kpi']> {
  const byReader = new Map<string, ResultItem[]>();
  for (const c of completions) {
    const key = `${c.tenantId}|${c.readerKey}`;
    byReader.set(key, [...(byReader.get(key) ?? []), c]);
  }
  let positive = 0;
  let later = 0;
  for (const runs of byReader.values()) {
    const sorted = [...runs].sort((a, b) => (a.answeredAt ?? 0) - (b.answeredAt ?? 0));
    const first = sorted.findIndex((r) => r.screening?.positive);
    if (first < 0) continue;
    positive++;
    if (sorted.slice(first + 1).some((r) => r.screening && !r.screening.positive && r.screening.complete)) later++;
  }
  const [p, l] = [cell(positive), cell(later)];
  return {
    atOrOverCutoff: p,
    laterBelow: l,
    share: p === SUPPRESSED || l === SUPPRESSED ? SUPPRESSED : round1((later / positive) * 100),
  };
}

/** The results as a plain-text table. */
export function formatResults(r: SurveyResults): string {
  const pct = (c: Cell) => (c === SUPPRESSED ? c : `${c} %`);
  const lines = [`${r.title} (${r.surveyId}) — ${r.scope}`];
  if (r.tenants)
    lines.push(
      `municipalities: ${r.tenants.named.join(', ') || '(none with 5 or more respondents)'}${r.tenants.others ? ` + ${r.tenants.others} smaller` : ''}`,
    );
  lines.push(`invited ${r.invited} · respondents ${r.respondents} · response rate ${pct(r.rate)}`, '');
  for (const [dim, rows] of Object.entries(r.breakdowns)) {
    lines.push(`${`by ${dim}`.padEnd(22)}${'invited'.padStart(9)}${'respondents'.padStart(13)}${'rate'.padStart(9)}`);
    for (const row of rows)
      lines.push(
        `  ${row.group.padEnd(20)}${String(row.invited).padStart(9)}${String(row.respondents).padStart(13)}${pct(row.rate).padStart(9)}`,
      );
    lines.push('');
  }
  for (const q of r.questions) {
    const head = `${q.id} (${q.kind}) n=${q.n}${q.mean !== undefined ? ` mean=${q.mean}` : ''}`;
    lines.push(head);
    if (q.counts)
      lines.push(
        `  ${Object.entries(q.counts)
          .map(([k, v]) => `${k}: ${v}`)
          .join('  ')}`,
      );
    const texts = q.texts ?? [];
    for (const t of texts.slice(0, 10)) lines.push(`  「${t.replace(/\s+/g, ' ')}」`);
    if (texts.length > 10) lines.push(`  … ${texts.length - 10} more (--csv or --json has them all)`);
  }
  if (r.kpi)
    lines.push(
      '',
      `KPI: at or over the cut-off ${r.kpi.atOrOverCutoff}, later below it ${r.kpi.laterBelow}, share ${pct(r.kpi.share)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** CSV rows (section, group, key, value); suppressed cells stay `<5`; free text only when the results carry it. */
export function resultsCsv(r: SurveyResults): string {
  const rows: string[][] = [['section', 'group', 'key', 'value']];
  rows.push(['total', '', 'invited', String(r.invited)], ['total', '', 'respondents', String(r.respondents)]);
  rows.push(['total', '', 'rate_percent', String(r.rate)]);
  for (const [dim, groups] of Object.entries(r.breakdowns))
    for (const g of groups)
      for (const k of ['invited', 'respondents', 'rate'] as const) rows.push([`by_${dim}`, g.group, k, String(g[k])]);
  for (const q of r.questions) {
    rows.push([`question:${q.id}`, '', 'n', String(q.n)]);
    if (q.mean !== undefined) rows.push([`question:${q.id}`, '', 'mean', String(q.mean)]);
    for (const [k, v] of Object.entries(q.counts ?? {})) rows.push([`question:${q.id}`, '', k, String(v)]);
    for (const t of q.texts ?? []) rows.push([`question:${q.id}`, '', 'text', t]);
  }
  if (r.kpi) for (const [k, v] of Object.entries(r.kpi)) rows.push(['kpi', '', k, String(v)]);
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${rows.map((row) => row.map(esc).join(',')).join('\n')}\n`;
}
