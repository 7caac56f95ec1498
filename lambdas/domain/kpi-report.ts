import type { Audience, Channel, IsoDate, Track } from '../../schemas/common';
import type { SubscriptionStatus } from '../../schemas/subscription';
import { addDays, daysInMonth, localDate } from './dates';
import { isInChildcareRange, isInMaternityRange } from './stage';
import { MIN_CELL, SUPPRESSED, screeningKpi, suppressSet, type Cell, type ResultItem } from './survey-results';

/**
 * A tenant's monthly KPI report, pure: the figures municipalities put in their grant plans, computed from
 * counted facts the service reads (subscriptions, the daily delivery counters, survey partitions, inquiry
 * headers). Small cells follow the survey results' rules (domain/survey-results.ts): every count of people under
 * MIN_CELL is `<5`, sets that add up to a shown total get the same complementary suppression (`suppressSet`), and
 * a day-by-day cumulative series withholds a day whose rise over the last shown day would itself be under 5.
 */

export const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export class InvalidMonthError extends Error {
  override readonly name = 'InvalidMonthError';
  constructor(value: string) {
    super(`month: expected YYYY-MM (e.g. 2026-11), got ${JSON.stringify(value)}`);
  }
}

/** The month's first and last dates. */
export function monthDates(month: string): { from: IsoDate; to: IsoDate; days: IsoDate[] } {
  const m = MONTH_PATTERN.exec(month);
  if (!m) throw new InvalidMonthError(month);
  const year = Number(m[1]);
  const mon = Number(m[2]);
  const from = `${m[1]}-${m[2]}-01`;
  const count = daysInMonth(year, mon);
  const days = Array.from({ length: count }, (_, i) => addDays(from, i));
  return { from, to: days[count - 1]!, days };
}

/** A subscription as the report needs it: no address, no nickname. */
export interface KpiSubscription {
  readerKey: string;
  track: Track;
  channel: Channel;
  audience: Audience;
  status: SubscriptionStatus;
  /** The day the reader first registered this pregnancy or child (not moved by a birth or a resume). */
  registeredOn: IsoDate;
  anchorDate: IsoDate;
  pausedUntil?: IsoDate;
}

/** One shard's counters of one delivery date (the Delivery table's `SUMMARY#SH#…` items). */
export interface KpiDeliveryCounters {
  date: IsoDate;
  /** Recipients a send reached (LINE accepted, SES accepted). */
  recipients: number;
  failures: number;
}

export interface KpiSurvey {
  id: string;
  title: string;
  /** A screening instrument (EPDS, PHQ-9): reported as screening, not as a survey. */
  instrument?: string;
  /** Scale questions (1-5): their mean and the share answering 4 or 5 are the satisfaction figures. */
  scales: { id: string; text: string }[];
  items: ResultItem[];
}

export interface KpiInquiry {
  /** Epoch milliseconds. */
  createdAt: number;
  firstAnsweredAt?: number;
}

export interface KpiFacts {
  tenantId: string;
  tenantName: string;
  month: string;
  timeZone: string;
  subscriptions: KpiSubscription[];
  deliveries: KpiDeliveryCounters[];
  surveys: KpiSurvey[];
  inquiries: KpiInquiry[];
  /** Today, when the month is not over yet: active readers are counted on this day instead of the month end. */
  asOf?: IsoDate;
}

export interface SeriesPoint {
  date: IsoDate;
  value: Cell;
}

export interface GroupCell {
  group: string;
  value: Cell;
}

export interface KpiReport {
  tenantId: string;
  tenantName: string;
  month: string;
  from: IsoDate;
  to: IsoDate;
  registrants: {
    /** Readers registered by each day of the month (cumulative), all and per group. */
    total: SeriesPoint[];
    byTrack: Record<string, SeriesPoint[]>;
    byChannel: Record<string, SeriesPoint[]>;
    byAudience: Record<string, SeriesPoint[]>;
    /** At month end. */
    atMonthEnd: { total: Cell; byTrack: GroupCell[]; byChannel: GroupCell[]; byAudience: GroupCell[] };
    /** Registered during the month. */
    newInMonth: Cell;
  };
  /** Readers with an active subscription in range on the month's last day (pregnancy 4w0d-41w6d, children to 3). */
  activeAtMonthEnd: { total: Cell; byTrack: GroupCell[] };
  /** The day active readers were counted on: the month's last day, or today in a month not over yet. */
  activeOn: IsoDate;
  notifications: { days: { date: IsoDate; sent: Cell; failed: Cell }[]; sent: Cell; failed: Cell };
  surveys: {
    id: string;
    title: string;
    /** Readers invited during the month. */
    invited: Cell;
    /** Of them, those who answered (at any time up to the report). */
    respondents: Cell;
    /** Percent, one decimal. */
    rate: Cell;
    satisfaction: { id: string; text: string; n: Cell; mean: Cell; satisfiedPercent: Cell }[];
  }[];
  inquiries: {
    received: Cell;
    answered: Cell;
    /** Hours from the question to the first staff answer, one decimal, over the month's answered inquiries. */
    medianHours: Cell;
    p90Hours: Cell;
  };
  screening: {
    instrument: string;
    title: string;
    /** Completed screenings in the month (answers, not readers: one reader may screen twice). */
    completed: Cell;
    /** Of them, at or over the cut-off. */
    atOrOverCutoff: Cell;
    /** Through month end: readers ever at or over the cut-off, those whose later screening was below, and the share. */
    everAtOrOver: Cell;
    laterBelow: Cell;
    improvedPercent: Cell;
  }[];
}

const cell = (n: number): Cell => (n < MIN_CELL ? SUPPRESSED : n);
const round1 = (n: number) => Math.round(n * 10) / 10;
const meanCell = (values: readonly number[]): Cell =>
  values.length < MIN_CELL ? SUPPRESSED : round1(values.reduce((a, b) => a + b, 0) / values.length);
const percent = (part: number, whole: number, ...shown: Cell[]): Cell =>
  whole === 0 || shown.includes(SUPPRESSED) ? SUPPRESSED : round1((part / whole) * 100);

/**
 * Cumulative counts per day (one series, or a total and its groups), suppressed so that no shown figure and no
 * difference between two shown figures tells of 1-4 people:
 * - a day under MIN_CELL is withheld;
 * - walking back from the last day (the headline figure is kept whenever it can be), a day is shown only when it
 *   equals the last shown one or is at least MIN_CELL below it; the counts never fall, so any two shown days of a
 *   series then differ by 0 or at least MIN_CELL;
 * - with `additive` (the groups add up to the total: channels), on each day the total and its groups are one set
 *   in the sense of `suppressSet`: never exactly one of them withheld (the others would reveal it), so one more,
 *   the smallest shown group, is withheld too.
 * The two rules are applied until nothing changes (each only withholds more). Withheld days are `<5`.
 */
export function suppressCumulative(series: readonly (readonly number[])[], additive = false): Cell[][] {
  const hidden = series.map((s) => s.map((n) => n < MIN_CELL));
  for (let changed = true; changed;) {
    changed = false;
    const hide = (i: number, d: number) => {
      if (!hidden[i]![d]) changed = hidden[i]![d] = true;
    };
    series.forEach((s, i) => {
      let anchor: number | undefined;
      for (let d = s.length - 1; d >= 0; d--) {
        if (hidden[i]![d]) continue;
        const n = s[d]!;
        if (anchor !== undefined && anchor !== n && anchor - n < MIN_CELL) hide(i, d);
        else anchor = n;
      }
    });
    if (additive && series.length > 1)
      for (let d = 0; d < series[0]!.length; d++) {
        const withheld = series.filter((_, i) => hidden[i]![d]).length;
        if (withheld !== 1) continue;
        let smallest = -1;
        for (let i = 1; i < series.length; i++)
          if (!hidden[i]![d] && (smallest < 0 || series[i]![d]! < series[smallest]![d]!)) smallest = i;
        hide(smallest < 0 ? 0 : smallest, d);
      }
  }
  return series.map((s, i) => s.map((n, d) => (hidden[i]![d] ? SUPPRESSED : n)));
}

/**
 * Counts that add up to a shown total (the days of a month): `suppressSet` of the survey results, and beyond it,
 * while the withheld cells together hold 1-4 (the total minus the shown ones would tell), the smallest shown
 * cell is withheld too.
 */
export function suppressSum(counts: readonly number[]): Cell[] {
  const out = suppressSet(counts);
  for (;;) {
    const hiddenSum = counts.reduce((s, n, i) => s + (out[i] === SUPPRESSED ? n : 0), 0);
    if (hiddenSum === 0 || hiddenSum >= MIN_CELL) return out;
    let smallest = -1;
    counts.forEach((n, i) => {
      if (out[i] !== SUPPRESSED && (smallest < 0 || n < counts[smallest]!)) smallest = i;
    });
    if (smallest < 0) return out;
    out[smallest] = SUPPRESSED;
  }
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

const TRACKS = ['maternity', 'childcare', 'support'] as const;
const CHANNELS = ['line', 'email'] as const;
const AUDIENCES = ['parent', 'partner'] as const;

export function kpiReport(facts: KpiFacts): KpiReport {
  const { from, to, days } = monthDates(facts.month);
  const inMonth = (ms: number) => {
    const d = localDate(new Date(ms), facts.timeZone);
    return d >= from && d <= to;
  };
  const upToMonthEnd = (ms: number) => localDate(new Date(ms), facts.timeZone) <= to;

  // Registrants: distinct readers (a reader with twins or a toddler and a pregnancy is one person), by the day of
  // their first registration; in a group by their first registration in that group.
  const firstOn = (subs: readonly KpiSubscription[], key: (s: KpiSubscription) => string | undefined) => {
    const first = new Map<string, IsoDate>();
    for (const s of subs) {
      const k = key(s);
      if (k === undefined) continue;
      const seen = first.get(k);
      if (!seen || s.registeredOn < seen) first.set(k, s.registeredOn);
    }
    return [...first.values()];
  };
  // Day 0 is the day before the month: the baseline that "new in the month" is measured from.
  const baseline = addDays(from, -1);
  const timeline = [baseline, ...days];
  const cumulative = (dates: readonly IsoDate[]) => timeline.map((d) => dates.filter((r) => r <= d).length);
  const subs = facts.subscriptions;
  const allFirst = firstOn(subs, (s) => s.readerKey);
  const groupFirst = <G extends string>(groups: readonly G[], field: (s: KpiSubscription) => G) =>
    groups.map((g) => firstOn(subs, (s) => (field(s) === g ? s.readerKey : undefined)));
  const toPoints = (cells: Cell[]): SeriesPoint[] => days.map((date, i) => ({ date, value: cells[i + 1]! }));
  // Channels add up to the total (a reader is one address on one channel): one additive family. A reader may
  // follow two tracks, or be a parent in one and a partner in another, so those groups stand alone.
  const [totalCells, ...channelCells] = suppressCumulative(
    [cumulative(allFirst), ...groupFirst(CHANNELS, (s) => s.channel).map(cumulative)],
    true,
  );
  const trackCells = suppressCumulative(groupFirst(TRACKS, (s) => s.track).map(cumulative));
  const audienceCells = suppressCumulative(groupFirst(AUDIENCES, (s) => s.audience).map(cumulative));
  const groupSeries = (groups: readonly string[], cells: Cell[][]) =>
    Object.fromEntries(groups.map((g, i) => [g, toPoints(cells[i]!)]));
  const groupEnd = (groups: readonly string[], cells: Cell[][]): GroupCell[] =>
    groups.map((group, i) => ({ group, value: cells[i]![days.length]! }));
  const before = totalCells![0]!;
  const end = totalCells![days.length]!;
  const newInMonth: Cell = before === SUPPRESSED || end === SUPPRESSED ? SUPPRESSED : cell(end - before);

  // Active at month end (today, in a month not over yet): stored status (the store keeps no status history), not
  // paused on that day, in range.
  const on = facts.asOf !== undefined && facts.asOf < to ? facts.asOf : to;
  const activeReaders = (track: 'maternity' | 'childcare') =>
    new Set(
      subs
        .filter(
          (s) =>
            s.track === track &&
            s.status === 'active' &&
            s.registeredOn <= on &&
            !(s.pausedUntil !== undefined && s.pausedUntil > on) &&
            (track === 'maternity' ? isInMaternityRange(s.anchorDate, on) : isInChildcareRange(s.anchorDate, on)),
        )
        .map((s) => s.readerKey),
    );
  const activeM = activeReaders('maternity');
  const activeC = activeReaders('childcare');
  const activeAll = new Set([...activeM, ...activeC]);

  // Notifications: the shards' counters summed per day; the days add up to the month's figure.
  const sentPerDay = days.map((d) =>
    facts.deliveries.filter((c) => c.date === d).reduce((n, c) => n + c.recipients, 0),
  );
  const failedPerDay = days.map((d) =>
    facts.deliveries.filter((c) => c.date === d).reduce((n, c) => n + c.failures, 0),
  );
  const sentCells = suppressSum(sentPerDay);
  const failedCells = suppressSum(failedPerDay);
  const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);

  const surveys = facts.surveys
    .filter((s) => !s.instrument)
    .map((s) => {
      const invitedInMonth = new Set(
        s.items
          .filter((i) => i.kind === 'invitation' && i.invitedOn && i.invitedOn >= from && i.invitedOn <= to)
          .map((i) => i.readerKey),
      );
      const answered = new Set(s.items.filter((i) => i.kind === 'answer').map((i) => i.readerKey));
      const respondentsN = [...invitedInMonth].filter((r) => answered.has(r)).length;
      const invited = cell(invitedInMonth.size);
      const respondents = cell(respondentsN);
      const satisfaction = s.scales.map((q) => {
        const values = s.items
          .filter(
            (i) => i.kind === 'answer' && i.questionId === q.id && i.answeredAt !== undefined && inMonth(i.answeredAt),
          )
          .map((i) => Number(i.value))
          .filter((v) => v >= 1 && v <= 5);
        const n = cell(values.length);
        const satisfied = values.filter((v) => v >= 4).length;
        return {
          id: q.id,
          text: q.text,
          n,
          mean: meanCell(values),
          // The share is withheld when either the satisfied or the other answers are under 5.
          satisfiedPercent: percent(satisfied, values.length, n, cell(satisfied), cell(values.length - satisfied)),
        };
      });
      return {
        id: s.id,
        title: s.title,
        invited,
        respondents,
        rate: percent(respondentsN, invitedInMonth.size, invited, respondents),
        satisfaction,
      };
    });

  const received = facts.inquiries.filter((i) => inMonth(i.createdAt));
  const answeredHours = received
    .filter((i) => i.firstAnsweredAt !== undefined && upToMonthEnd(i.firstAnsweredAt))
    .map((i) => (i.firstAnsweredAt! - i.createdAt) / 3_600_000);
  const answered = cell(answeredHours.length);

  const screening = facts.surveys
    .filter((s) => s.instrument)
    .map((s) => {
      const completions = s.items.filter(
        (i) => i.kind === 'completion' && i.answeredAt !== undefined && upToMonthEnd(i.answeredAt),
      );
      const month = completions.filter((i) => inMonth(i.answeredAt!));
      const kpi = screeningKpi(completions);
      return {
        instrument: s.instrument!,
        title: s.title,
        completed: cell(month.length),
        atOrOverCutoff: cell(month.filter((i) => i.screening?.positive).length),
        everAtOrOver: kpi.atOrOverCutoff,
        laterBelow: kpi.laterBelow,
        improvedPercent: kpi.share,
      };
    });

  return {
    tenantId: facts.tenantId,
    tenantName: facts.tenantName,
    month: facts.month,
    from,
    to,
    registrants: {
      total: toPoints(totalCells!),
      byTrack: groupSeries(TRACKS, trackCells),
      byChannel: groupSeries(CHANNELS, channelCells),
      byAudience: groupSeries(AUDIENCES, audienceCells),
      atMonthEnd: {
        total: end,
        byTrack: groupEnd(TRACKS, trackCells),
        byChannel: groupEnd(CHANNELS, channelCells),
        byAudience: groupEnd(AUDIENCES, audienceCells),
      },
      newInMonth,
    },
    activeOn: on,
    activeAtMonthEnd: {
      total: cell(activeAll.size),
      byTrack: [
        { group: 'maternity', value: cell(activeM.size) },
        { group: 'childcare', value: cell(activeC.size) },
      ],
    },
    notifications: {
      days: days.map((date, i) => ({ date, sent: sentCells[i]!, failed: failedCells[i]! })),
      sent: cell(sum(sentPerDay)),
      failed: cell(sum(failedPerDay)),
    },
    surveys,
    inquiries: {
      received: cell(received.length),
      answered,
      medianHours: answered === SUPPRESSED ? SUPPRESSED : round1(percentile(answeredHours, 50)),
      p90Hours: answered === SUPPRESSED ? SUPPRESSED : round1(percentile(answeredHours, 90)),
    },
    screening,
  };
}

/** The report as CSV rows (section, group, date, key, value); withheld cells are `<5` here too. */
export function kpiCsv(r: KpiReport): string {
  const rows: string[][] = [['section', 'group', 'date', 'key', 'value']];
  const add = (section: string, group: string, date: string, key: string, value: number | string) =>
    rows.push([section, group, date, key, String(value)]);
  add('month', '', `${r.from}..${r.to}`, 'tenant', r.tenantId);
  add('registrants', 'all', r.to, 'at_month_end', r.registrants.atMonthEnd.total);
  add('registrants', 'all', '', 'new_in_month', r.registrants.newInMonth);
  for (const [dim, cells] of [
    ['track', r.registrants.atMonthEnd.byTrack],
    ['channel', r.registrants.atMonthEnd.byChannel],
    ['audience', r.registrants.atMonthEnd.byAudience],
  ] as const)
    for (const c of cells) add(`registrants_by_${dim}`, c.group, r.to, 'at_month_end', c.value);
  for (const p of r.registrants.total) add('registrants_daily', 'all', p.date, 'cumulative', p.value);
  for (const [dim, groups] of [
    ['track', r.registrants.byTrack],
    ['channel', r.registrants.byChannel],
    ['audience', r.registrants.byAudience],
  ] as const)
    for (const [group, points] of Object.entries(groups))
      for (const p of points) add(`registrants_daily_by_${dim}`, group, p.date, 'cumulative', p.value);
  add('active', 'all', r.activeOn, 'at_month_end', r.activeAtMonthEnd.total);
  for (const c of r.activeAtMonthEnd.byTrack) add('active_by_track', c.group, r.activeOn, 'at_month_end', c.value);
  add('notifications', 'all', '', 'sent', r.notifications.sent);
  add('notifications', 'all', '', 'failed', r.notifications.failed);
  for (const d of r.notifications.days) {
    add('notifications_daily', 'all', d.date, 'sent', d.sent);
    add('notifications_daily', 'all', d.date, 'failed', d.failed);
  }
  for (const s of r.surveys) {
    add('survey', s.id, '', 'invited', s.invited);
    add('survey', s.id, '', 'respondents', s.respondents);
    add('survey', s.id, '', 'rate_percent', s.rate);
    for (const q of s.satisfaction) {
      add('satisfaction', `${s.id}/${q.id}`, '', 'n', q.n);
      add('satisfaction', `${s.id}/${q.id}`, '', 'mean', q.mean);
      add('satisfaction', `${s.id}/${q.id}`, '', 'satisfied_percent', q.satisfiedPercent);
    }
  }
  add('inquiries', 'all', '', 'received', r.inquiries.received);
  add('inquiries', 'all', '', 'answered', r.inquiries.answered);
  add('inquiries', 'all', '', 'median_hours_to_first_answer', r.inquiries.medianHours);
  add('inquiries', 'all', '', 'p90_hours_to_first_answer', r.inquiries.p90Hours);
  for (const s of r.screening) {
    add('screening', s.instrument, '', 'completed', s.completed);
    add('screening', s.instrument, '', 'at_or_over_cutoff', s.atOrOverCutoff);
    add('screening', s.instrument, r.to, 'ever_at_or_over_cutoff', s.everAtOrOver);
    add('screening', s.instrument, r.to, 'later_below_cutoff', s.laterBelow);
    add('screening', s.instrument, r.to, 'improved_percent', s.improvedPercent);
  }
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${rows.map((row) => row.map(esc).join(',')).join('\n')}\n`;
}
