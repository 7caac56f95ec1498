import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser } from 'playwright-core';
import { InquiryRepository } from '../../lambdas/adapters/inquiry-repository';
import { deliveryKeys } from '../../lambdas/adapters/keys';
import { SubscriptionRepository } from '../../lambdas/adapters/subscription-repository';
import { SurveyRepository } from '../../lambdas/adapters/survey-repository';
import { writeEndpointsFile } from '../../local/endpoints-file';
import type { Subscription } from '../../schemas/subscription';
import { runCli } from './cli-run';
import { consoleSignIn } from './console-login';
import { startTestStack, type TestStack } from './helpers';

jest.setTimeout(120_000);

// A month of stored facts for demo-minato (its tenant file asks reader-survey-2027 and the screenings), written
// by the project's own repositories on DynamoDB Local; demo-yamabe gets readers of its own that must not count.
// The expected figures are worked out from these arrays in the test, never by the report code.
const T = 'demo-minato';
const OTHER = 'demo-yamabe';
const MONTH = '2026-11';
const JST = (date: string, hour = 12) => Date.parse(`${date}T${String(hour).padStart(2, '0')}:00:00+09:00`);
const HOUR = 3_600_000;

type Seed = Pick<Subscription, 'track' | 'channel' | 'audience' | 'registeredOn' | 'anchorDate' | 'status'> &
  Partial<Pick<Subscription, 'firstRegisteredOn'>>;
const group = (n: number, prefix: string, s: Seed) =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, ...s }));
const readers = [
  // Due 2027-04-01: on 11-30 gestational day 280 - 122 = 158, in range. Born 2026-08-01 / 10-01: under 3.
  ...group(10, 'line:ma', {
    track: 'maternity',
    channel: 'line',
    audience: 'parent',
    registeredOn: '2026-10-20',
    anchorDate: '2027-04-01',
    status: 'active',
  }),
  ...group(7, 'email:ca', {
    track: 'childcare',
    channel: 'email',
    audience: 'parent',
    registeredOn: '2026-11-05',
    anchorDate: '2026-08-01',
    status: 'active',
  }),
  ...group(4, 'line:pa', {
    track: 'maternity',
    channel: 'line',
    audience: 'partner',
    registeredOn: '2026-11-15',
    anchorDate: '2027-04-01',
    status: 'active',
  }),
  ...group(1, 'line:ps', {
    track: 'maternity',
    channel: 'line',
    audience: 'partner',
    registeredOn: '2026-11-15',
    anchorDate: '2027-04-01',
    status: 'stopped',
  }),
  ...group(3, 'line:cb', {
    track: 'childcare',
    channel: 'line',
    audience: 'parent',
    registeredOn: '2026-11-25',
    anchorDate: '2026-10-01',
    status: 'active',
  }),
  ...group(2, 'line:dec', {
    track: 'maternity',
    channel: 'line',
    audience: 'parent',
    registeredOn: '2026-12-02',
    anchorDate: '2027-05-01',
    status: 'active',
  }),
  // Registered in October while pregnant; the birth on 11-18 moved `registeredOn` (delivery starts anew the
  // next day): registrants since October, not new in November.
  ...group(5, 'line:bo', {
    track: 'childcare',
    channel: 'line',
    audience: 'parent',
    registeredOn: '2026-11-19',
    firstRegisteredOn: '2026-10-12',
    anchorDate: '2026-11-18',
    status: 'active',
  }),
];
const registeredOn = (r: Seed) => r.firstRegisteredOn ?? r.registeredOn;
const days = Array.from({ length: 30 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`);
// Sent 20 + day number on each day, in two shards on even days; 6 failures on 11-10.
const counters = days.flatMap((date, i) =>
  i % 2 === 1
    ? [
        { date, shard: 0, recipients: 10, failures: date === '2026-11-10' ? 6 : 0 },
        { date, shard: 1, recipients: 11 + i, failures: 0 },
      ]
    : [{ date, shard: 0, recipients: 21 + i, failures: 0 }],
);
const satisfaction = [5, 4, 4, 3, 5, 2, 4, 5];
const answerHours = [2, 4, 6, 8, 20, 48];

describe('hagukumi report --month on a seeded month (DynamoDB Local, the CLI, Chromium)', () => {
  let stack: TestStack;
  const root = mkdtempSync(join(tmpdir(), 'hagukumi-kpi-'));
  const state = join(root, 'state');
  const out = join(root, 'out');
  let csv: Map<string, string>;
  let stdout: string;

  beforeAll(async () => {
    stack = await startTestStack('kpi', { console: true });
    mkdirSync(state, { recursive: true });
    writeEndpointsFile(state, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ...stack.endpoints,
      api: '',
      tables: stack.tables,
      channels: {},
    });
    const subs = new SubscriptionRepository(stack.db, stack.tables.data);
    for (const tenantId of [T, OTHER])
      for (const r of tenantId === T ? readers : readers.slice(0, 12))
        await subs.put({
          tenantId,
          readerKey: r.key,
          subscriptionId: 's1',
          channel: r.channel,
          address: r.channel === 'email' ? `${r.key.slice(6)}@example.jp` : `U${r.key.slice(5).padEnd(32, '0')}`,
          track: r.track,
          anchorDate: r.anchorDate,
          audience: r.audience,
          status: r.status,
          registeredOn: r.registeredOn,
          ...(r.firstRegisteredOn && { firstRegisteredOn: r.firstRegisteredOn }),
          familyId: `f-${r.key}`,
          bucket: 1,
          version: 0,
        });
    // The counters as the shard worker stores them (one SUMMARY item per shard and date).
    for (const tenantId of [T, OTHER])
      for (const c of counters)
        await stack.db.send(
          new PutCommand({
            TableName: stack.tables.delivery,
            Item: {
              pk: deliveryKeys.pk(tenantId, c.date),
              sk: deliveryKeys.countersSk(c.shard),
              shard: c.shard,
              subscriptionsDue: c.recipients,
              recipients: c.recipients * (tenantId === T ? 1 : 100),
              multicastRequests: 1,
              pushRequests: 0,
              emails: 0,
              failures: c.failures,
              monthlyLimitHits: 0,
            },
          }),
        );
    const surveys = new SurveyRepository(stack.db, stack.tables.data);
    const facts = { track: 'maternity', stageBand: 'maternity-20-27w', audience: 'parent', channel: 'line' };
    // 10 invited on 11-03 (ma0..ma9), 8 answer satisfaction on 11-04; 2 invited in October, one answering.
    for (let i = 0; i < 10; i++)
      await surveys.recordInvitation(T, `line:ma${i}`, 'reader-survey-2027', 'c', '2026-11-03', facts);
    for (const [i, value] of satisfaction.entries())
      await surveys.putAnswer(
        T,
        'reader-survey-2027',
        `line:ma${i}`,
        'c',
        { questionId: 'satisfaction', value },
        {
          ...facts,
          answeredAt: JST('2026-11-04'),
        },
      );
    await surveys.recordInvitation(T, 'email:ca0', 'reader-survey-2027', 'c', '2026-10-30', facts);
    // PHQ-9: 6 readers at or over the cut-off in October, 5 below in November, one again over in November.
    const screen = (readerKey: string, runId: string, at: number, positive: boolean) =>
      surveys.complete(T, 'phq9', readerKey, runId, {
        ...facts,
        answeredAt: at,
        screening: { total: positive ? 12 : 4, complete: true, positive, urgent: false, band: 'mild' },
      });
    for (let i = 0; i < 6; i++) await screen(`line:ma${i}`, 'r1', JST('2026-10-10'), true);
    for (let i = 0; i < 5; i++) await screen(`line:ma${i}`, 'r2', JST('2026-11-10'), false);
    await screen('line:ma5', 'r2', JST('2026-11-12'), true);
    // Inquiries: 6 answered after the hours above, 1 waiting, 1 from October.
    const inquiries = new InquiryRepository(stack.db, stack.tables.data);
    const thread = (n: number, createdAt: number, answeredAfter?: number) =>
      inquiries.save({
        readVersion: undefined,
        header: {
          inquiryId: `inq-kpi-${String(n).padStart(4, '0')}`,
          tenantId: T,
          readerKey: `line:ma${n % 10}`,
          channel: 'line',
          address: `U${'a'.repeat(32)}`,
          status: answeredAfter === undefined ? 'new' : 'answered',
          version: 0,
          createdAt,
          lastMessageAt: createdAt,
          messageCount: answeredAfter === undefined ? 1 : 2,
          ...(answeredAfter !== undefined && { firstAnsweredAt: createdAt + answeredAfter * HOUR }),
        },
      });
    for (const [i, h] of answerHours.entries()) await thread(i, JST('2026-11-16', 9), h);
    await thread(10, JST('2026-11-28'));
    await thread(11, JST('2026-10-20'), 3);

    const res = await runCli(['--state', state, 'report', '--tenant', T, '--month', MONTH, '--out', out]);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    stdout = res.stdout;
    const rows = readFileSync(join(out, `${T}-${MONTH}.csv`), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    csv = new Map(
      rows.map((line) => {
        const [section, g, date, key, value] = line.split(',');
        return [`${section}|${g}|${date}|${key}`, value!];
      }),
    );
  });
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await stack.console?.close();
    await stack.api?.close();
  });

  const get = (section: string, g: string, date: string, key: string) => csv.get(`${section}|${g}|${date}|${key}`);
  const shown = (n: number) => (n < 5 ? '<5' : String(n));

  it('counts the registrants and active readers of the tenant only', () => {
    const byEnd = readers.filter((r) => registeredOn(r) <= '2026-11-30');
    const before = readers.filter((r) => registeredOn(r) < '2026-11-01');
    expect(get('registrants', 'all', '2026-11-30', 'at_month_end')).toBe(String(byEnd.length)); // 30
    expect(get('registrants', 'all', '', 'new_in_month')).toBe(String(byEnd.length - before.length)); // 15
    const lineEnd = byEnd.filter((r) => r.channel === 'line').length;
    expect(get('registrants_by_channel', 'line', '2026-11-30', 'at_month_end')).toBe(String(lineEnd));
    expect(get('registrants_by_audience', 'partner', '2026-11-30', 'at_month_end')).toBe(
      String(byEnd.filter((r) => r.audience === 'partner').length),
    );
    // Active: every active one registered by 11-30 is in range on that day in this fixture.
    const active = byEnd.filter((r) => r.status === 'active');
    expect(get('active', 'all', '2026-11-30', 'at_month_end')).toBe(String(active.length)); // 29
    expect(get('active_by_track', 'maternity', '2026-11-30', 'at_month_end')).toBe(
      String(active.filter((r) => r.track === 'maternity').length),
    );
    // Day by day: 11-10 holds 22 (10 + 5 + 7), 8 under the month end's 30: shown; 11-20 holds 27, 3 under 30:
    // withheld.
    expect(get('registrants_daily', 'all', '2026-11-10', 'cumulative')).toBe('22');
    expect(get('registrants_daily', 'all', '2026-11-20', 'cumulative')).toBe('<5');
    expect(get('registrants_daily', 'all', '2026-11-30', 'cumulative')).toBe('30');
  });

  it('sums the notifications of each day over its shards', () => {
    const sent = (d: string) => counters.filter((c) => c.date === d).reduce((n, c) => n + c.recipients, 0);
    expect(get('notifications_daily', 'all', '2026-11-02', 'sent')).toBe(String(sent('2026-11-02')));
    expect(get('notifications', 'all', '', 'sent')).toBe(String(days.reduce((n, d) => n + sent(d), 0)));
    expect(get('notifications_daily', 'all', '2026-11-10', 'failed')).toBe('6');
    expect(get('notifications_daily', 'all', '2026-11-11', 'failed')).toBe('<5');
    expect(get('notifications', 'all', '', 'failed')).toBe('6');
  });

  it('reports the survey, the inquiries and the screening KPI with small cells withheld', () => {
    expect(get('survey', 'reader-survey-2027', '', 'invited')).toBe('10');
    expect(get('survey', 'reader-survey-2027', '', 'respondents')).toBe(String(satisfaction.length));
    expect(get('survey', 'reader-survey-2027', '', 'rate_percent')).toBe(String((satisfaction.length / 10) * 100));
    const mean = Math.round((satisfaction.reduce((a, b) => a + b, 0) / satisfaction.length) * 10) / 10;
    expect(get('satisfaction', 'reader-survey-2027/satisfaction', '', 'mean')).toBe(String(mean));
    const happy = satisfaction.filter((v) => v >= 4).length;
    expect(get('satisfaction', 'reader-survey-2027/satisfaction', '', 'satisfied_percent')).toBe(
      happy < 5 || satisfaction.length - happy < 5
        ? '<5'
        : String(Math.round((happy / satisfaction.length) * 1000) / 10),
    );
    // The tenant's own visit survey invited nobody: <5.
    expect(get('survey', 'visit-feedback', '', 'invited')).toBe('<5');
    expect(get('inquiries', 'all', '', 'received')).toBe(String(answerHours.length + 1));
    expect(get('inquiries', 'all', '', 'answered')).toBe(String(answerHours.length));
    const sorted = [...answerHours].sort((a, b) => a - b);
    expect(get('inquiries', 'all', '', 'median_hours_to_first_answer')).toBe(String(sorted[Math.ceil(0.5 * 6) - 1]));
    expect(get('inquiries', 'all', '', 'p90_hours_to_first_answer')).toBe(String(sorted[Math.ceil(0.9 * 6) - 1]));
    expect(get('screening', 'phq9', '', 'completed')).toBe('6');
    expect(get('screening', 'phq9', '', 'at_or_over_cutoff')).toBe(shown(1));
    expect(get('screening', 'phq9', '2026-11-30', 'ever_at_or_over_cutoff')).toBe('6');
    expect(get('screening', 'phq9', '2026-11-30', 'later_below_cutoff')).toBe('5');
    expect(get('screening', 'phq9', '2026-11-30', 'improved_percent')).toBe(String(Math.round((5 / 6) * 1000) / 10));
    expect(stdout).toContain(`wrote ${join(out, `${T}-${MONTH}`)}.csv`);
  });

  it('writes no reader key, address or answer text into the files', () => {
    for (const ext of ['csv', 'html']) {
      const text = readFileSync(join(out, `${T}-${MONTH}.${ext}`), 'utf8');
      expect(text).not.toMatch(/line:|email:|@example\.jp|U[0-9a-f]{32}/);
    }
  });

  it.each([
    [['--month', '2026-13'], /^hagukumi: .*--month.*expected YYYY-MM/],
    [['--month', '2026-11', '--date', '2026-11-02'], /^hagukumi: --date reports one delivery day, --month a month/],
    [['--month', '2026-11', '--tenant', 'nowhere'], /^hagukumi: --tenant: unknown tenant "nowhere"/],
  ])('refuses %j, naming the option, writing nothing', async (args, message) => {
    const dir = join(root, `bad-${args.join('')}`);
    const tenant = args.includes('--tenant') ? [] : ['--tenant', T];
    const res = await runCli(['--state', state, 'report', ...tenant, ...args, '--out', dir]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(existsSync(dir)).toBe(false);
  });

  describe('the HTML report in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    });
    afterAll(() => browser.close());

    it('opens offline and shows its charts as SVG marks, the figures beside them', async () => {
      const context = await browser.newContext({ offline: true });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${join(out, `${T}-${MONTH}.html`)}`);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      expect(await page.locator('h1').innerText()).toContain('事業報告');
      expect(await page.locator('[data-kpi="registrants"]').innerText()).toBe('30');
      const charts = page.locator('figure.kpi-chart svg.marks');
      expect(await charts.count()).toBe(6);
      // The registrant lines and the daily bars are drawn (vega's mark groups hold their paths).
      expect(await page.locator('#chart-registrants-channel g.mark-line path').count()).toBeGreaterThanOrEqual(3);
      expect(await page.locator('#chart-notifications-sent g.mark-rect path').count()).toBe(30);
      expect(await page.locator('#chart-notifications-failed g.mark-rect path').count()).toBe(1);
      const box = await charts.first().boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      const shots = join(__dirname, '..', '..', 'test-output', 'report');
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, 'report.png'), fullPage: true });
      await context.close();
    });

    it("shows the same report in the staff console, for the staff's own tenant only", async () => {
      const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
      const page = await context.newPage();
      await consoleSignIn(stack, page, T);
      await page.click('header nav >> text=事業報告');
      await page.selectOption('select[name=month]', MONTH);
      await Promise.all([page.waitForURL(/\/console\/report\?month=2026-11$/), page.click('form.kpi-month button')]);
      // The same figures as the CSV of the CLI (the console's tenant configuration asks no survey: none shown).
      for (const [kpi, key] of [
        ['registrants', 'registrants|all|2026-11-30|at_month_end'],
        ['new-registrants', 'registrants|all||new_in_month'],
        ['active', 'active|all|2026-11-30|at_month_end'],
        ['sent', 'notifications|all||sent'],
        ['failed', 'notifications|all||failed'],
      ] as const)
        expect(await page.locator(`[data-kpi="${kpi}"]`).innerText()).toBe(csv.get(key));
      // No survey here, so its chart has nothing to draw and says so; the other five are drawn.
      expect(await page.locator('figure.kpi-chart svg.marks').count()).toBe(5);
      expect(await page.locator('#chart-survey-rate svg').count()).toBe(0);
      expect(await page.locator('#chart-survey-rate .kpi-chart-empty').innerText()).toContain('描ける値がありません');
      expect(await page.locator('#chart-notifications-sent g.mark-rect path').count()).toBe(30);
      const shots = join(__dirname, '..', '..', 'test-output', 'report');
      await page.screenshot({ path: join(shots, 'console-report.png'), fullPage: true });
      // Another tenant named: not found; a malformed or future month: refused.
      for (const [query, status] of [
        [`month=${MONTH}&tenant=${OTHER}`, 404],
        ['month=2026-13', 400],
        ['month=2099-01', 400],
      ] as const) {
        const res = await page.goto(`${stack.console!.url}/report?${query}`);
        expect(res!.status()).toBe(status);
        expect(await page.locator('[data-kpi]').count()).toBe(0);
      }
      await context.close();
      // The other tenant's staff see their own readers (12 of them), not these.
      const other = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
      const otherPage = await other.newPage();
      await consoleSignIn(stack, otherPage, OTHER);
      await otherPage.goto(`${stack.console!.url}/report?month=${MONTH}`);
      expect(await otherPage.locator('[data-kpi="registrants"]').innerText()).toBe('12');
      await other.close();
    });
  });
});
