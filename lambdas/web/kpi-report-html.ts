import type { TopLevelSpec } from 'vega-lite';
import { SUPPRESSED, type Cell } from '../domain/survey-results';
import type { KpiReport, SeriesPoint } from '../domain/kpi-report';
import { compileHtml, hbs } from './render';

/**
 * The KPI report as HTML, for the file `hagukumi report --month` writes and for the console's report page: the
 * same tables and charts. Charts are vega-lite specs compiled to vega and rendered to SVG on the server (vega's
 * headless `renderer: 'none'` + `toSVG`), inlined in the page: no script, no network, the file opens offline and
 * the console's CSP (no scripts) holds. Withheld cells (`<5`) are in the tables and left out of the charts.
 */

export interface KpiChart {
  id: string;
  title: string;
  svg: string;
}

const TRACK_JA: Record<string, string> = { maternity: '妊娠期', childcare: '子育て期', support: 'サポート' };
const CHANNEL_JA: Record<string, string> = { line: 'LINE', email: 'メール' };
const AUDIENCE_JA: Record<string, string> = { parent: '保護者', partner: 'パートナー' };

const shown = (c: Cell): c is number => c !== SUPPRESSED;
const points = (series: string, ps: readonly SeriesPoint[]) =>
  ps.flatMap((p) => (shown(p.value) ? [{ date: p.date, value: p.value, series }] : []));

const FONT = 'Noto Sans CJK JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif';
const base = (title: string): Partial<TopLevelSpec> => ({
  title,
  width: 560,
  height: 220,
  config: { font: FONT, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
});

function lineChart(title: string, values: { date: string; value: number; series: string }[], order: string[]) {
  return {
    ...base(title),
    data: { values },
    // Steps: a cumulative count holds until the next shown day (withheld days in between are not drawn).
    mark: { type: 'line', point: true, interpolate: 'step-after' },
    encoding: {
      x: { field: 'date', type: 'temporal', title: '日付', axis: { format: '%-m/%-d' } },
      y: { field: 'value', type: 'quantitative', title: '人数（累計）' },
      color: { field: 'series', type: 'nominal', title: '区分', sort: order },
    },
  } as TopLevelSpec;
}

function barChart(title: string, values: { label: string; value: number }[], yTitle: string, x = '区分') {
  return {
    ...base(title),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'label', type: 'ordinal', title: x, sort: null, axis: { labelAngle: x === '日付' ? -90 : 0 } },
      y: { field: 'value', type: 'quantitative', title: yTitle },
    },
  } as TopLevelSpec;
}

/** The report's chart specs (vega-lite), in display order. */
export function kpiChartSpecs(r: KpiReport): { id: string; title: string; spec: TopLevelSpec }[] {
  const reg = r.registrants;
  const day = (d: string) => `${Number(d.slice(5, 7))}/${Number(d.slice(8))}`;
  return [
    {
      id: 'registrants-channel',
      title: '登録者数の推移（全体・チャネル別）',
      spec: lineChart(
        '登録者数の推移（全体・チャネル別）',
        [
          ...points('全体', reg.total),
          ...Object.entries(reg.byChannel).flatMap(([g, ps]) => points(CHANNEL_JA[g] ?? g, ps)),
        ],
        ['全体', 'LINE', 'メール'],
      ),
    },
    {
      id: 'registrants-group',
      title: '登録者数の推移（対象別・続柄別）',
      spec: lineChart(
        '登録者数の推移（対象別・続柄別）',
        [
          ...Object.entries(reg.byTrack).flatMap(([g, ps]) => points(TRACK_JA[g] ?? g, ps)),
          ...Object.entries(reg.byAudience).flatMap(([g, ps]) => points(AUDIENCE_JA[g] ?? g, ps)),
        ],
        ['妊娠期', '子育て期', 'サポート', '保護者', 'パートナー'],
      ),
    },
    {
      id: 'notifications-sent',
      title: '配信数（日別）',
      spec: barChart(
        '配信数（日別）',
        r.notifications.days.flatMap((d) => (shown(d.sent) ? [{ label: day(d.date), value: d.sent }] : [])),
        '配信数',
        '日付',
      ),
    },
    {
      id: 'notifications-failed',
      title: '配信失敗数（日別）',
      spec: barChart(
        '配信失敗数（日別）',
        r.notifications.days.flatMap((d) => (shown(d.failed) ? [{ label: day(d.date), value: d.failed }] : [])),
        '失敗数',
        '日付',
      ),
    },
    {
      id: 'active',
      title: '月末の利用者数（対象別）',
      spec: barChart(
        '月末の利用者数（対象別）',
        r.activeAtMonthEnd.byTrack.flatMap((c) =>
          shown(c.value) ? [{ label: TRACK_JA[c.group] ?? c.group, value: c.value }] : [],
        ),
        '人数',
      ),
    },
    {
      id: 'survey-rate',
      title: 'アンケート回答率（%）',
      spec: barChart(
        'アンケート回答率（%）',
        r.surveys.flatMap((s) => (shown(s.rate) ? [{ label: s.title, value: s.rate }] : [])),
        '回答率（%）',
        'アンケート',
      ),
    },
  ];
}

/** Renders every chart to SVG (vega headless). */
export async function renderKpiCharts(r: KpiReport): Promise<KpiChart[]> {
  // vega and vega-lite ship ESM only, and vega-canvas (which vega loads) awaits at its top level, which a
  // CommonJS transform cannot express: imported natively here (tsx, Node), and aliased to a canvas-less shim in
  // the Lambda bundles (web/vega-canvas-shim.ts; vega then measures text by estimate, as it does without canvas).
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  return Promise.all(
    kpiChartSpecs(r).map(async ({ id, title, spec }) => {
      const view = new View(parse(compile(spec).spec), { renderer: 'none' });
      try {
        return { id, title, svg: await view.toSVG() };
      } finally {
        view.finalize();
      }
    }),
  );
}

// vega's SVG renderer escapes every text it writes (labels come from our data: dates, fixed Japanese labels,
// survey titles from the tenant file), so its output is inserted as markup, the one raw value of these pages.
hbs.registerHelper('kpiSvg', (svg: unknown) => new hbs.SafeString(typeof svg === 'string' ? svg : ''));
hbs.registerHelper('trackJa', (g: unknown) => (typeof g === 'string' ? (TRACK_JA[g] ?? g) : ''));
hbs.registerHelper('channelJa', (g: unknown) => (typeof g === 'string' ? (CHANNEL_JA[g] ?? g) : ''));
hbs.registerHelper('audienceJa', (g: unknown) => (typeof g === 'string' ? (AUDIENCE_JA[g] ?? g) : ''));

/** The report's body: headline figures, tables and charts (a fragment: the console puts it in its frame). */
export const KPI_REPORT_BODY = compileHtml(`<section class="kpi-report" data-month="{{r.month}}">
<h1>事業報告 {{r.tenantName}} {{r.month}}（{{r.from}}〜{{r.to}}）</h1>
<p class="kpi-note">5人未満の値と、差し引きで5人未満が分かってしまう値は「&lt;5」と表示し、グラフには描いていません。</p>
<h2>主な指標</h2>
<table class="kpi-headline">
<tr><th>登録者数（月末・累計）</th><td data-kpi="registrants">{{r.registrants.atMonthEnd.total}}</td></tr>
<tr><th>今月の新規登録者数</th><td data-kpi="new-registrants">{{r.registrants.newInMonth}}</td></tr>
<tr><th>月末の利用者数</th><td data-kpi="active">{{r.activeAtMonthEnd.total}}</td></tr>
<tr><th>配信数（月計）</th><td data-kpi="sent">{{r.notifications.sent}}</td></tr>
<tr><th>配信失敗数（月計）</th><td data-kpi="failed">{{r.notifications.failed}}</td></tr>
<tr><th>問い合わせ（受付／回答）</th><td data-kpi="inquiries">{{r.inquiries.received}}／{{r.inquiries.answered}}</td></tr>
<tr><th>初回回答までの時間（中央値／90パーセンタイル、時間）</th><td data-kpi="answer-hours">{{r.inquiries.medianHours}}／{{r.inquiries.p90Hours}}</td></tr>
</table>
<h2>登録者数（月末）</h2>
<table class="kpi-groups">
<tr><th>区分</th><th>人数</th></tr>
{{#each r.registrants.atMonthEnd.byChannel}}<tr><td>{{channelJa group}}</td><td>{{value}}</td></tr>{{/each}}
{{#each r.registrants.atMonthEnd.byTrack}}<tr><td>{{trackJa group}}</td><td>{{value}}</td></tr>{{/each}}
{{#each r.registrants.atMonthEnd.byAudience}}<tr><td>{{audienceJa group}}</td><td>{{value}}</td></tr>{{/each}}
</table>
<h2>月末の利用者数（妊娠4週0日〜41週6日、3歳の誕生日まで）</h2>
<table><tr><th>対象</th><th>人数</th></tr>
{{#each r.activeAtMonthEnd.byTrack}}<tr><td>{{trackJa group}}</td><td>{{value}}</td></tr>{{/each}}
</table>
<h2>アンケート</h2>
<table><tr><th>アンケート</th><th>今月の案内数</th><th>回答者数</th><th>回答率（%）</th><th>満足度（平均・5段階）</th><th>満足（4・5）の割合（%）</th></tr>
{{#each r.surveys}}<tr><td>{{title}}</td><td>{{invited}}</td><td>{{respondents}}</td><td>{{rate}}</td><td>{{#each satisfaction}}{{mean}}（n={{n}}）<br>{{else}}-{{/each}}</td><td>{{#each satisfaction}}{{satisfiedPercent}}<br>{{else}}-{{/each}}</td></tr>{{/each}}
</table>
<h2>こころの健康チェック</h2>
<table><tr><th>質問票</th><th>今月の実施数</th><th>うちカットオフ値以上</th><th>月末までにカットオフ値以上だった人</th><th>うちその後カットオフ値未満になった人</th><th>割合（%）</th></tr>
{{#each r.screening}}<tr><td>{{title}}</td><td>{{completed}}</td><td>{{atOrOverCutoff}}</td><td>{{everAtOrOver}}</td><td>{{laterBelow}}</td><td>{{improvedPercent}}</td></tr>{{else}}<tr><td colspan="6">実施していません</td></tr>{{/each}}
</table>
<h2>グラフ</h2>
{{#each charts}}<figure class="kpi-chart" id="chart-{{id}}"><figcaption>{{title}}</figcaption>{{kpiSvg svg}}</figure>{{/each}}
<h2>配信数（日別）</h2>
<table class="kpi-days"><tr><th>日付</th><th>配信数</th><th>失敗数</th></tr>
{{#each r.notifications.days}}<tr><td>{{date}}</td><td>{{sent}}</td><td>{{failed}}</td></tr>{{/each}}
</table>
</section>`);

const KPI_REPORT_DOCUMENT = compileHtml(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>事業報告 {{r.tenantName}} {{r.month}}</title>
<style>
body { font-family: ${FONT}; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.6rem; text-align: left; }
td { font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; } figcaption { font-weight: bold; }
.kpi-note { color: #555; }
</style></head><body>
{{body}}
</body></html>`);

/** The self-contained report file: the body in a page of its own, styles inline, no script, no link out. */
export function kpiReportDocument(r: KpiReport, charts: readonly KpiChart[]): string {
  // The body is our own template's output, every value in it escaped: inserted as markup.
  return KPI_REPORT_DOCUMENT({ r, body: new hbs.SafeString(KPI_REPORT_BODY({ r, charts })) });
}
