import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { FanOutEventSchema } from '../../schemas/delivery';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { DayLayoutRepository } from '../adapters/day-layouts';
import { SqsShardQueue } from '../adapters/shard-queue';
import { fanOut, type FanOutResult } from '../services/fan-out';
import { FanOutEnvSchema, lazy, logger, readEnv } from './runtime';

const deps = lazy(() => {
  const env = readEnv(FanOutEnvSchema);
  const db = createDocumentClient();
  return {
    tenants: new ContentRepository(db, env[ENV.contentTable]),
    layouts: new DayLayoutRepository(db, env[ENV.deliveryTable]),
    queue: new SqsShardQueue(env[ENV.shardQueueUrl]),
    clock: { now: () => new Date() },
  };
});

export const handler = middy<unknown, FanOutResult>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    const result = await fanOut(FanOutEventSchema.parse(event), deps());
    logger.info('shard tasks enqueued', { tasks: result.tasks, tenants: result.tenants });
    return result;
  });
