import { localDate } from '../domain/dates';
import { MONTH_PATTERN, type KpiReport } from '../domain/kpi-report';
import type { KpiChart } from '../web/kpi-report-html';
import { problem, withStaff, type ConsoleAccessDeps, type ConsoleRequest, type ConsoleResult } from './console-access';
import { buildKpiReport, type KpiStore } from './kpi-report';
import type { TenantDirectory } from './ports';

/**
 * `GET /console/report?month=YYYY-MM`: the staff member's tenant's KPI report for a month, the same figures,
 * suppression and charts as `hagukumi report --month` (services/kpi-report.ts, web/kpi-report-html.ts). Only the
 * signed-in staff's own tenant: a `tenant` parameter naming another is not found (404), never another tenant's
 * figures. Aggregates with small cells withheld name no reader, so viewing them is not audited (as survey results).
 */
export interface KpiPageDeps extends ConsoleAccessDeps {
  tenants: TenantDirectory;
  kpi: KpiStore;
  /** Renders the charts (vega to SVG); a port so that the page's use case needs no chart library. */
  charts: (report: KpiReport) => Promise<KpiChart[]>;
}

export interface KpiView {
  page: 'kpi-report';
  report: KpiReport;
  charts: KpiChart[];
  /** The months the picker offers (the last 12, newest first). */
  months: string[];
}

const monthOf = (d: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).format(d).slice(0, 7);

function previousMonths(month: string, n: number): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Array.from({ length: n }, (_, i) => {
    const total = y * 12 + (m - 1) - i;
    return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`;
  });
}

export function kpiReportPage(req: ConsoleRequest, deps: KpiPageDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const asked = req.query.get('tenant');
    if (asked !== null && asked !== staff.tenantId) return problem(404, 'not-found');
    const tenant = await deps.tenants.getTenant(staff.tenantId);
    if (!tenant) return problem(404, 'not-found');
    const thisMonth = monthOf(deps.clock.now(), tenant.timeZone);
    const month = req.query.get('month') ?? thisMonth;
    // A month that is not YYYY-MM, or one still to come, is a request mistake; nothing is read.
    if (!MONTH_PATTERN.test(month) || month > thisMonth) return problem(400, 'bad-month');
    const today = localDate(deps.clock.now(), tenant.timeZone);
    const report = await buildKpiReport(tenant, month, deps.kpi, today);
    const view: KpiView = {
      page: 'kpi-report',
      report,
      charts: await deps.charts(report),
      months: previousMonths(thisMonth, 12),
    };
    return { status: 200, view };
  });
}
