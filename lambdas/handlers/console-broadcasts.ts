import { z } from 'zod';
import { ENV } from '../../schemas/tables';
import { BroadcastRepository, newBroadcastId } from '../adapters/broadcast-repository';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import {
  broadcastsPage,
  cancelBroadcastPage,
  createBroadcastPage,
  type BroadcastConsoleDeps,
} from '../services/console-broadcasts';
import { consoleAccessDeps, consoleHandler } from './console-web';
import { ConsoleEnvSchema, lazy, readEnv } from './runtime';

const BroadcastsEnvSchema = ConsoleEnvSchema.extend({ [ENV.contentTable]: z.string().min(1) });

const broadcastsDeps = lazy((): BroadcastConsoleDeps => {
  const env = readEnv(BroadcastsEnvSchema);
  const db = createDocumentClient();
  return {
    ...consoleAccessDeps(),
    tenants: new ContentRepository(db, env[ENV.contentTable]),
    broadcasts: new BroadcastRepository(db, env[ENV.contentTable]),
    newId: newBroadcastId,
  };
});

/** `GET|POST /console/broadcasts` (list, schedule) and `POST /console/broadcasts/{broadcast}/cancel`; admins only. */
export const handler = consoleHandler('broadcasts', broadcastsDeps, [
  { pattern: /^\/console\/broadcasts$/, GET: broadcastsPage, POST: createBroadcastPage },
  { pattern: /^\/console\/broadcasts\/[^/]+\/cancel$/, POST: cancelBroadcastPage },
]);
