import type { TopLevelSpec } from 'vega-lite';
import type { KpiReport, SeriesPoint } from '../domain/kpi-report';
import { SUPPRESSED, type Cell } from '../domain/survey-results';
import { AUDIENCE_JA, CHANNEL_JA, FONT, TRACK_JA, type KpiChart } from './kpi-report-html';

/** The KPI report's charts: vega-lite specs of the report's shown figures (withheld ones are left out). */

const shown = (c: Cell): c is number => c !== SUPPRESSED;
const points = (series: string, ps: readonly SeriesPoint[]) =>
  ps.flatMap((p) => (shown(p.value) ? [{ date: p.date, value: p.value, series }] : []));

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

/** A chart with nothing to draw (no values, or only zeros and withheld ones): vega would draw bare axes with a made-up scale. */
const isEmpty = (spec: TopLevelSpec) => ((spec as { data?: { values?: unknown[] } }).data?.values?.length ?? 0) === 0;

/** The report's chart specs (vega-lite), in display order. */
export function kpiChartSpecs(r: KpiReport): { id: string; title: string; spec: TopLevelSpec; empty: boolean }[] {
  return chartSpecs(r).map((chart) => ({ ...chart, empty: isEmpty(chart.spec) }));
}

function chartSpecs(r: KpiReport): { id: string; title: string; spec: TopLevelSpec }[] {
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
    kpiChartSpecs(r).map(async ({ id, title, spec, empty }) => {
      if (empty) return { id, title, svg: '' };
      const view = new View(parse(compile(spec).spec), { renderer: 'none' });
      try {
        return { id, title, svg: await view.toSVG() };
      } finally {
        view.finalize();
      }
    }),
  );
}
