import type { ConsolePage } from './console-layout';
import { compileHtml, hbs } from './render';
import { KPI_REPORT_BODY } from './kpi-report-html';

/** The console's report page: a month picker (a plain GET form) and the report body the CLI's file shows. */
const KPI_PAGE = compileHtml(`<form method="get" action="/console/report" class="kpi-month">
<label>対象月 <select name="month">{{#each view.months}}<option value="{{this}}"{{#if (eq this ../view.report.month)}} selected{{/if}}>{{this}}</option>{{/each}}</select></label>
<button type="submit">表示</button>
</form>
{{kpiBody view}}`);

// The body is KPI_REPORT_BODY's output, every value escaped inside it (the charts are vega's SVG): markup.
hbs.registerHelper(
  'kpiBody',
  (view: { report: unknown; charts: unknown }) =>
    new hbs.SafeString(KPI_REPORT_BODY({ r: view.report, charts: view.charts })),
);

export const KPI_PAGES = {
  'kpi-report': { title: '事業報告', body: KPI_PAGE },
} satisfies Record<string, ConsolePage>;
