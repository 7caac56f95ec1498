import fc from 'fast-check';
import {
  InvalidMonthError,
  kpiCsv,
  kpiReport,
  monthDates,
  percentile,
  suppressCumulative,
  suppressSum,
  type KpiFacts,
  type KpiSubscription,
} from '../../../lambdas/domain/kpi-report';
import type { ResultItem } from '../../../lambdas/domain/survey-results';
import { kpiChartSpecs } from '../../../lambdas/web/kpi-charts';
import { KPI_REPORT_BODY } from '../../../lambdas/web/kpi-report-html';

// The expected figures below are worked out by hand from this fixture (comments show the arithmetic); none is
// computed by the code under test.
const JST = (date: string, hour = 12) => Date.parse(`${date}T${String(hour).padStart(2, '0')}:00:00+09:00`);

const sub = (readerKey: string, over: Partial<KpiSubscription>): KpiSubscription => ({
  readerKey,
  track: 'maternity',
  channel: 'line',
  audience: 'parent',
  status: 'active',
  registeredOn: '2026-10-15',
  // 2026-11-30 is 91 days before 2027-03-01: gestational day 189 (27w0d), in range.
  anchorDate: '2027-03-01',
  ...over,
});
const many = (n: number, prefix: string, over: Partial<KpiSubscription>) =>
  Array.from({ length: n }, (_, i) => sub(`${prefix}${i}`, over));

const subscriptions: KpiSubscription[] = [
  // 12 LINE parents, pregnant, registered before the month: active at month end.
  ...many(12, 'line:m', {}),
  // 6 email partners of children born 2026-06-01, registered 11-10: active.
  ...many(6, 'email:p', {
    channel: 'email',
    audience: 'partner',
    track: 'childcare',
    anchorDate: '2026-06-01',
    registeredOn: '2026-11-10',
  }),
  // 2 LINE parents registered 11-20, one stopped since: registrants both, active one.
  sub('line:late0', { track: 'childcare', anchorDate: '2026-09-01', registeredOn: '2026-11-20' }),
  sub('line:late1', { track: 'childcare', anchorDate: '2026-09-01', registeredOn: '2026-11-20', status: 'stopped' }),
  // Registered after the month: not in it at all.
  sub('line:dec', { registeredOn: '2026-12-05' }),
  // Third birthday 2026-01-01 is past: a registrant, not an active user (status as stored says active).
  sub('line:old', { track: 'childcare', anchorDate: '2023-01-01', registeredOn: '2026-10-01' }),
  // One of the 12 also follows a child (a second subscription): still one registrant, counted in both tracks.
  sub('line:m0', { track: 'childcare', anchorDate: '2025-05-05', registeredOn: '2026-10-20' }),
  // Paused past the month end: a registrant, not active.
  sub('line:paused', { registeredOn: '2026-10-01', pausedUntil: '2026-12-10' }),
];
// Registrants (distinct readers): before the month 12 m + old + paused = 14; from 11-10 +6 = 20; from 11-20 +2 = 22.
// Active at month end: maternity 12 (m0..m11), childcare 6 partners + late0 + m0 (child) = 8; readers 12 + 7 = 19.

const deliveries = [
  // Two shards on 11-01, one on 11-02; 11-03 has 3 failures only in one shard.
  { date: '2026-11-01', recipients: 100, failures: 0 },
  { date: '2026-11-01', recipients: 50, failures: 0 },
  { date: '2026-11-02', recipients: 148, failures: 2 },
  { date: '2026-11-03', recipients: 140, failures: 10 },
  { date: '2026-10-31', recipients: 999, failures: 9 },
];

const answer = (readerKey: string, questionId: string, value: number, at: number): ResultItem => ({
  tenantId: 't',
  readerKey,
  kind: 'answer',
  questionId,
  value,
  answeredAt: at,
});
const invite = (readerKey: string, invitedOn: string): ResultItem => ({
  tenantId: 't',
  readerKey,
  kind: 'invitation',
  invitedOn,
});
// 10 invited in November, 2 in October; 6 of November's invitees answered satisfaction (5,5,4,4,3,2), one of
// October's answered in November (1).
const surveyItems: ResultItem[] = [
  ...Array.from({ length: 10 }, (_, i) => invite(`r${i}`, '2026-11-05')),
  invite('o0', '2026-10-20'),
  invite('o1', '2026-10-20'),
  ...[5, 5, 4, 4, 3, 2].map((v, i) => answer(`r${i}`, 'satisfaction', v, JST('2026-11-06'))),
  answer('o0', 'satisfaction', 1, JST('2026-11-02')),
];
// Satisfaction answered in November: 5,5,4,4,3,2,1 -> n 7, mean 24/7 = 3.43 -> 3.4, 4 of 7 satisfied = 57.1 %.

const completion = (readerKey: string, at: number, positive: boolean): ResultItem => ({
  tenantId: 't',
  readerKey,
  kind: 'completion',
  answeredAt: at,
  screening: { positive, complete: true },
});
const phqItems: ResultItem[] = [
  // 6 readers positive in October, 5 of them below the cut-off in November, one again positive.
  ...Array.from({ length: 6 }, (_, i) => completion(`s${i}`, JST('2026-10-10'), true)),
  ...Array.from({ length: 5 }, (_, i) => completion(`s${i}`, JST('2026-11-10'), false)),
  completion('s5', JST('2026-11-11'), true),
  // After the month: not counted.
  completion('s5', JST('2026-12-01'), false),
];
// November: completed 6, at or over 1 (<5). Through 11-30: ever positive 6, later below 5, 83.3 %.

const HOUR = 3_600_000;
const inquiries = [
  // Answered after 1, 2, 3, 4, 10 and 30 hours; one not answered; one from October (not counted); one created
  // at 23:30 JST on 10-31 (15:30 UTC, October in Tokyo).
  ...[1, 2, 3, 4, 10, 30].map((h) => ({
    createdAt: JST('2026-11-12', 9),
    firstAnsweredAt: JST('2026-11-12', 9) + h * HOUR,
  })),
  { createdAt: JST('2026-11-20') },
  { createdAt: JST('2026-10-05'), firstAnsweredAt: JST('2026-10-06') },
  { createdAt: Date.parse('2026-10-31T23:30:00+09:00'), firstAnsweredAt: JST('2026-11-01') },
];
// Received 7, answered 6; hours sorted 1,2,3,4,10,30: median (nearest rank 3) = 3, p90 (rank 6) = 30.

const facts: KpiFacts = {
  tenantId: 't',
  tenantName: 'テスト市',
  month: '2026-11',
  timeZone: 'Asia/Tokyo',
  subscriptions,
  deliveries,
  surveys: [
    { id: 'reader', title: '読者アンケート', scales: [{ id: 'satisfaction', text: '満足' }], items: surveyItems },
    { id: 'phq9', title: 'PHQ-9', instrument: 'phq9', scales: [], items: phqItems },
  ],
  inquiries,
};

describe('kpiReport', () => {
  const r = kpiReport(facts);

  it('counts registrants as distinct readers per day, withholding a rise of 1-4 (walked back from month end)', () => {
    const at = (d: string) => r.registrants.total.find((p) => p.date === d)?.value;
    expect(r.registrants.atMonthEnd.total).toBe(22);
    // 11-20..11-30 show 22; 11-10..11-19 hold 20, 2 below the shown 22: withheld; 11-01..11-09 hold 14 (8 below).
    expect(at('2026-11-30')).toBe(22);
    expect(at('2026-11-20')).toBe(22);
    expect(at('2026-11-19')).toBe('<5');
    expect(at('2026-11-10')).toBe('<5');
    expect(at('2026-11-09')).toBe(14);
    expect(at('2026-11-01')).toBe(14);
    expect(r.registrants.newInMonth).toBe(8);
    expect(r.registrants.total).toHaveLength(30);
  });

  it('breaks registrants down by channel (complementary suppression), track and audience', () => {
    // Channels at month end: line 16 (12 m + old + paused + 2 late), email 6 -> both shown, add up to 22.
    expect(r.registrants.atMonthEnd.byChannel).toEqual([
      { group: 'line', value: 16 },
      { group: 'email', value: 6 },
    ]);
    // Tracks: maternity 12 m + paused = 13; childcare m0 + 6 + 2 + old = 10; support 0 -> <5.
    expect(r.registrants.atMonthEnd.byTrack).toEqual([
      { group: 'maternity', value: 13 },
      { group: 'childcare', value: 10 },
      { group: 'support', value: '<5' },
    ]);
    expect(r.registrants.atMonthEnd.byAudience).toEqual([
      { group: 'parent', value: 16 },
      { group: 'partner', value: 6 },
    ]);
    // Email before 11-10 is 0 (<5); then the total (14) and LINE (14) would reveal it: with exactly one of the
    // set withheld, LINE is withheld too.
    const line = r.registrants.byChannel.line!;
    expect(line.find((p) => p.date === '2026-11-05')?.value).toBe('<5');
    expect(r.registrants.byChannel.email!.find((p) => p.date === '2026-11-05')?.value).toBe('<5');
  });

  it('counts active readers at month end by the stage rules', () => {
    expect(r.activeOn).toBe('2026-11-30');
    expect(r.activeAtMonthEnd.total).toBe(19);
    expect(r.activeAtMonthEnd.byTrack).toEqual([
      { group: 'maternity', value: 12 },
      { group: 'childcare', value: 8 },
    ]);
  });

  it('sums notifications per day over shards, suppressing small days so the total cannot reveal them', () => {
    const day = (d: string) => r.notifications.days.find((x) => x.date === d)!;
    expect(day('2026-11-01')).toEqual({ date: '2026-11-01', sent: 150, failed: '<5' });
    // Failures: 0 on 28 days and 2 on 11-02 are under 5; the month's 12 minus a shown 10 on 11-03 would tell
    // the 2, so 11-03 is withheld too.
    expect(day('2026-11-03')).toEqual({ date: '2026-11-03', sent: 140, failed: '<5' });
    expect(day('2026-11-02').failed).toBe('<5');
    // Sent: 28 days of 0 are withheld, together 0: nothing to tell, the rest shown.
    expect(day('2026-11-02').sent).toBe(148);
    expect(r.notifications.sent).toBe(150 + 148 + 140);
    expect(r.notifications.failed).toBe(12);
  });

  it('computes the response rate of the month’s invitations and the satisfaction of its answers', () => {
    expect(r.surveys).toEqual([
      {
        id: 'reader',
        title: '読者アンケート',
        invited: 10,
        respondents: 6,
        rate: 60,
        // 4 satisfied, 3 not: the 3 are under 5, so the share would tell them: withheld.
        satisfaction: [{ id: 'satisfaction', text: '満足', n: 7, mean: 3.4, satisfiedPercent: '<5' }],
      },
    ]);
  });

  it('reports inquiries, their time to first answer and the screening KPI', () => {
    expect(r.inquiries).toEqual({ received: 7, answered: 6, medianHours: 3, p90Hours: 30 });
    expect(r.screening).toEqual([
      {
        instrument: 'phq9',
        title: 'PHQ-9',
        completed: 6,
        atOrOverCutoff: '<5',
        everAtOrOver: 6,
        laterBelow: 5,
        improvedPercent: 83.3,
      },
    ]);
  });

  it('writes every cell to CSV, withheld ones as <5', () => {
    const csv = kpiCsv(r);
    const rows = csv.trim().split('\n');
    expect(rows[0]).toBe('section,group,date,key,value');
    expect(rows).toContain('registrants,all,2026-11-30,at_month_end,22');
    expect(rows).toContain('registrants_daily,all,2026-11-19,cumulative,<5');
    expect(rows).toContain('notifications,all,,sent,438');
    expect(rows).toContain('inquiries,all,,p90_hours_to_first_answer,30');
    expect(rows).toContain('screening,phq9,2026-11-30,improved_percent,83.3');
    expect(csv).not.toMatch(/line:|email:/);
  });

  it('draws only shown values, and says so where a chart has none left (no bare axes)', () => {
    const charts = new Map(kpiChartSpecs(r).map((c) => [c.id, c]));
    const values = (id: string) => (charts.get(id)!.spec as { data: { values: { value: number }[] } }).data.values;
    // Sent: the three days with sends (150, 148, 140), the withheld zeros left out.
    expect(values('notifications-sent').map((v) => v.value)).toEqual([150, 148, 140]);
    expect(charts.get('notifications-sent')!.empty).toBe(false);
    // Failed: every day withheld (see above), so nothing to draw.
    expect(charts.get('notifications-failed')!.empty).toBe(true);
    const html = KPI_REPORT_BODY({
      r,
      charts: [
        { id: 'notifications-sent', title: '配信数', svg: '<svg class="marks"></svg>' },
        { id: 'notifications-failed', title: '失敗数', svg: '' },
      ],
    });
    const figure = (id: string) => new RegExp(`<figure[^>]*id="chart-${id}"[^]*?</figure>`).exec(html)![0];
    expect(figure('notifications-sent')).toContain('<svg class="marks">');
    expect(figure('notifications-failed')).not.toContain('<svg');
    expect(figure('notifications-failed')).toContain('描ける値がありません');
  });

  it('counts active readers today in a month not over yet', () => {
    // On 11-15 the 6 partners (from 11-10) are active, late0 (11-20) not yet: maternity 12, childcare 6 + m0 = 7.
    const mid = kpiReport({ ...facts, asOf: '2026-11-15' });
    expect(mid.activeOn).toBe('2026-11-15');
    expect(mid.activeAtMonthEnd.byTrack).toEqual([
      { group: 'maternity', value: 12 },
      { group: 'childcare', value: 7 },
    ]);
    expect(kpiReport({ ...facts, asOf: '2026-12-20' }).activeOn).toBe('2026-11-30');
  });

  it.each(['2026-13', '2026-1', '26-11', '2026-11-01', ''])('refuses the month %j, naming the field', (month) => {
    expect(() => kpiReport({ ...facts, month })).toThrow(InvalidMonthError);
    expect(() => monthDates(month)).toThrow(/^month: expected YYYY-MM/);
  });

  it('knows the length of each month', () => {
    expect(monthDates('2028-02').days).toHaveLength(29);
    expect(monthDates('2026-02').to).toBe('2026-02-28');
  });
});

describe('suppressCumulative', () => {
  const nonDecreasing = fc
    .array(fc.nat({ max: 6 }), { minLength: 1, maxLength: 40 })
    .map((rises) => rises.map((_, i) => rises.slice(0, i + 1).reduce((a, b) => a + b, 0)));

  it('shows no count under 5 and no two days that differ by 1-4', () => {
    fc.assert(
      fc.property(nonDecreasing, (counts) => {
        const [cells] = suppressCumulative([counts]);
        const shown = cells!.filter((c): c is number => c !== '<5');
        for (const n of shown) expect(n).toBeGreaterThanOrEqual(5);
        for (const a of shown) for (const b of shown) expect(a === b || Math.abs(a - b) >= 5).toBe(true);
      }),
    );
  });

  it('never withholds exactly one of a total and its groups on a day', () => {
    fc.assert(
      fc.property(nonDecreasing, nonDecreasing, (a, b) => {
        const len = Math.min(a.length, b.length);
        const g1 = a.slice(0, len);
        const g2 = b.slice(0, len);
        const total = g1.map((n, i) => n + g2[i]!);
        const cells = suppressCumulative([total, g1, g2], true);
        for (let d = 0; d < len; d++) expect(cells.filter((c) => c[d] === '<5').length).not.toBe(1);
      }),
    );
  });

  it('keeps the last day when it is 5 or more', () => {
    expect(suppressCumulative([[0, 3, 7, 8, 20]])).toEqual([['<5', '<5', '<5', 8, 20]]);
    expect(suppressCumulative([[5, 5, 10, 12]])).toEqual([[5, 5, '<5', 12]]);
  });
});

describe('suppressSum', () => {
  it.each([
    ['one small cell takes the next smallest', [10, 3, 20], [10, '<5', 20], ['<5', '<5', 20]],
    ['small cells adding to 1-4 take the smallest shown', [0, 2, 10, 30], null, ['<5', '<5', '<5', 30]],
    ['zeros only tell nothing', [0, 0, 7, 9], null, ['<5', '<5', 7, 9]],
    ['small cells adding to 5 or more are enough', [3, 2, 10], null, ['<5', '<5', 10]],
  ])('%s', (_label, counts, _unused, expected) => {
    expect(suppressSum(counts)).toEqual(expected);
  });
});

describe('percentile', () => {
  it.each([
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[7], 90, 7],
    [[3, 1, 2], 50, 2],
  ])('nearest rank of %j at p%d is %d', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});
