import { z } from 'zod';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { KpiRepository } from '../adapters/kpi-repository';
import { kpiReportPage, type KpiPageDeps } from '../services/console-kpi';
import { renderKpiCharts } from '../web/kpi-charts';
import { consoleAccessDeps, consoleHandler } from './console-web';
import { ConsoleEnvSchema, lazy, readEnv } from './runtime';

const KpiEnvSchema = ConsoleEnvSchema.extend({ [ENV.contentTable]: z.string().min(1) });

const kpiDeps = lazy((): KpiPageDeps => {
  const env = readEnv(KpiEnvSchema);
  const db = createDocumentClient();
  return {
    ...consoleAccessDeps(),
    tenants: new ContentRepository(db, env[ENV.contentTable]),
    kpi: new KpiRepository(db, { data: env[ENV.dataTable], delivery: env[ENV.deliveryTable] }),
    charts: renderKpiCharts,
  };
});

/** `GET /console/report?month=YYYY-MM`: the tenant's KPI report (the same as `hagukumi report --month`). */
export const handler = consoleHandler('kpi', kpiDeps, [{ pattern: /^\/console\/report$/, GET: kpiReportPage }]);
