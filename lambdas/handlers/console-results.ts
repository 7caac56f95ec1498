import { z } from 'zod';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { loadResultItems } from '../adapters/survey-repository';
import { surveyResultsPage, surveysPage, type ResultsDeps } from '../services/console-results';
import { consoleAccessDeps, consoleHandler } from './console-web';
import { ConsoleEnvSchema, lazy, readEnv } from './runtime';

const ResultsEnvSchema = ConsoleEnvSchema.extend({ [ENV.contentTable]: z.string().min(1) });

const resultsDeps = lazy((): ResultsDeps => {
  const env = readEnv(ResultsEnvSchema);
  const db = createDocumentClient();
  return {
    ...consoleAccessDeps(),
    tenants: new ContentRepository(db, env[ENV.contentTable]),
    resultItems: (tenantId, surveyId) => loadResultItems(db, env[ENV.dataTable], tenantId, surveyId),
  };
});

/** `GET /console/surveys` (the tenant's surveys) and `GET /console/surveys/{surveyId}` (one survey's results). */
export const handler = consoleHandler('results', resultsDeps, [
  { pattern: /^\/console\/surveys$/, GET: surveysPage },
  { pattern: /^\/console\/surveys\/[^/]+$/, GET: surveyResultsPage },
]);
