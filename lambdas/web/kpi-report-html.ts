import type { KpiReport } from '../domain/kpi-report';
import { compileHtml, hbs } from './render';

/**
 * The KPI report as HTML (charts: web/kpi-charts.ts, kept apart so that only its users bundle vega), for the file `hagukumi report --month` writes and for the console's report page: the
 * same tables and charts. Charts are vega-lite specs compiled to vega and rendered to SVG on the server (vega's
 * headless `renderer: 'none'` + `toSVG`), inlined in the page: no script, no network, the file opens offline and
 * the console's CSP (no scripts) holds. Withheld cells (`<5`) are in the tables and left out of the charts.
 */

export interface KpiChart {
  id: string;
  title: string;
  /** Empty when the chart has nothing to draw: the page says so instead. */
  svg: string;
}

export const TRACK_JA: Record<string, string> = { maternity: '妊娠期', childcare: '子育て期', support: 'サポート' };
export const CHANNEL_JA: Record<string, string> = { line: 'LINE', email: 'メール' };
export const AUDIENCE_JA: Record<string, string> = { parent: '保護者', partner: 'パートナー' };
export const FONT = 'Noto Sans CJK JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif';

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
<h2>{{r.activeOn}}の利用者数（妊娠4週0日〜41週6日、3歳の誕生日まで）</h2>
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
{{#each charts}}<figure class="kpi-chart" id="chart-{{id}}"><figcaption>{{title}}</figcaption>{{#if svg}}{{kpiSvg svg}}{{else}}<p class="kpi-chart-empty">描ける値がありません（値がないか、0か、5人未満で伏せた値だけです）。</p>{{/if}}</figure>{{/each}}
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
.kpi-note, .kpi-chart-empty { color: #555; }
</style></head><body>
{{body}}
</body></html>`);

/** The self-contained report file: the body in a page of its own, styles inline, no script, no link out. */
export function kpiReportDocument(r: KpiReport, charts: readonly KpiChart[]): string {
  // The body is our own template's output, every value in it escaped: inserted as markup.
  return KPI_REPORT_DOCUMENT({ r, body: new hbs.SafeString(KPI_REPORT_BODY({ r, charts })) });
}
