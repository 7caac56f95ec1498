import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ShardTaskSchema } from '../../schemas/delivery';
import { ENV } from '../../schemas/tables';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { SesEmailSender } from '../adapters/email-sender';
import { SecretsManagerLineCredentials } from '../adapters/line-credentials';
import { BotSdkLineSenderFactory } from '../adapters/line-sender';
import { PlanRepository } from '../adapters/plan-repository';
import { SubscriptionRepository } from '../adapters/subscription-repository';
import { deliverShard, ShardIncompleteError, type DeliverShardDeps } from '../services/deliver-shard';
import { DeliveryEnvSchema, lazy, logger, metrics, readEnv } from './runtime';

const deps = lazy((): DeliverShardDeps => {
  const env = readEnv(DeliveryEnvSchema);
  const db = createDocumentClient();
  const content = new ContentRepository(db, env[ENV.contentTable]);
  return {
    tenants: content,
    content,
    subscriptions: new SubscriptionRepository(db, env[ENV.dataTable]),
    plans: new PlanRepository(db, env[ENV.deliveryTable]),
    line: new BotSdkLineSenderFactory(new SecretsManagerLineCredentials(), {
      baseURL: env[ENV.lineApiBaseUrl],
      retry: {
        attempts: env.LINE_RETRY_ATTEMPTS,
        startingDelayMs: env.LINE_RETRY_BASE_MS,
        maxDelayMs: env.LINE_RETRY_BASE_MS * 32,
        requestTimeoutMs: env.LINE_REQUEST_TIMEOUT_MS,
      },
      pacing: { multicastPerSecond: env.LINE_MULTICAST_PER_SECOND, pushPerSecond: env.LINE_PUSH_PER_SECOND },
    }),
    email: new SesEmailSender(undefined, env.SES_CONFIGURATION_SET),
    concurrency: env.SEND_CONCURRENCY,
  };
});

const processor = new BatchProcessor(EventType.SQS);

/** One SQS record = one shard of one tenant on one date. A malformed body fails the record and, after redrives, lands in the DLQ. */
async function recordHandler(record: SQSRecord): Promise<void> {
  metrics.addMetric('ShardTasks', MetricUnit.Count, 1);
  const task = ShardTaskSchema.parse(JSON.parse(record.body));
  const started = Date.now();
  let result: Awaited<ReturnType<typeof deliverShard>>;
  try {
    result = await deliverShard(task, deps());
  } catch (error) {
    // The task and the error's name and counts only; SQS retries the record, the DLQ takes it after five tries.
    const failedSends = error instanceof ShardIncompleteError ? error.failedSends : undefined;
    logger.warn('shard not completed', {
      tenantId: task.tenantId,
      date: task.date,
      shard: task.shard,
      error: error instanceof Error ? error.name : 'unknown',
      failedSends,
      receiveCount: record.attributes.ApproximateReceiveCount,
    });
    metrics.addMetric('ShardRetries', MetricUnit.Count, 1);
    throw error;
  }
  const { counters, executedNow } = result;
  // Identifiers and counts only: no LINE ids, addresses, dates of birth or nicknames in logs.
  logger.info('shard delivered', {
    tenantId: task.tenantId,
    date: task.date,
    shard: task.shard,
    executedNow,
    ...counters,
    ms: Date.now() - started,
  });
  if (executedNow) {
    metrics.addMetric('Recipients', MetricUnit.Count, counters.recipients);
    metrics.addMetric('LineMulticastRequests', MetricUnit.Count, counters.multicastRequests);
    metrics.addMetric('LinePushRequests', MetricUnit.Count, counters.pushRequests);
    metrics.addMetric('Emails', MetricUnit.Count, counters.emails);
    metrics.addMetric('DeliveryFailures', MetricUnit.Count, counters.failures);
  }
}

export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  // With batch size 1 every failure is a full-batch failure; report it as an item failure like any other
  // instead of throwing, so Lambda's retry and the DLQ see one consistent signal.
  .handler((event, context) =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false }),
  );
