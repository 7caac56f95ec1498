import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ShardTaskSchema } from '../../schemas/delivery';
import { ENV } from '../../schemas/tables';
import { BroadcastRepository } from '../adapters/broadcast-repository';
import { ContentRepository } from '../adapters/content-repository';
import { createDocumentClient } from '../adapters/dynamo-client';
import { ChangeMarkerFeed } from '../adapters/change-feed';
import { SesEmailSender } from '../adapters/email-sender';
import { SecretsManagerLineCredentials } from '../adapters/line-credentials';
import { BotSdkLineSenderFactory } from '../adapters/line-sender';
import { SecretsManagerEmailTokenKeys } from '../adapters/email-token-secret';
import { PlanRepository } from '../adapters/plan-repository';
import { DynamoRateWindows } from '../adapters/rate-windows';
import { SubscriptionRepository } from '../adapters/subscription-repository';
import { SurveyInvitationRepository } from '../adapters/survey-repository';
import { SignedEmailLinks } from '../services/email-links';
import { SendRateLimiter } from '../services/send-rate';
import { deliverShard, ShardIncompleteError, type DeliverShardDeps, type ShardResult } from '../services/deliver-shard';
import { finishedLate } from '../domain/delivery-deadline';
import { DeliveryEnvSchema, lazy, logger, metrics, readEnv } from './runtime';

/** Adapters once per container; the clock and the deadline come with each invocation. */
const deps = lazy((): Omit<DeliverShardDeps, 'remainingMs'> => {
  const env = readEnv(DeliveryEnvSchema);
  const db = createDocumentClient();
  const content = new ContentRepository(db, env[ENV.contentTable], { dayPinTable: env[ENV.deliveryTable] });
  return {
    tenants: content,
    content,
    subscriptions: new SubscriptionRepository(db, env[ENV.dataTable]),
    surveys: new SurveyInvitationRepository(db, env[ENV.dataTable]),
    broadcasts: new BroadcastRepository(db, env[ENV.contentTable]),
    changes: new ChangeMarkerFeed(db, env[ENV.deliveryTable]),
    clock: { now: () => new Date() },
    deadlineMarginMs: env.DEADLINE_MARGIN_MS,
    plans: new PlanRepository(db, env[ENV.deliveryTable]),
    line: new BotSdkLineSenderFactory(new SecretsManagerLineCredentials(), {
      baseURL: env[ENV.lineApiBaseUrl],
      retry: {
        attempts: env.LINE_RETRY_ATTEMPTS,
        startingDelayMs: env.LINE_RETRY_BASE_MS,
        maxDelayMs: env.LINE_RETRY_BASE_MS * 32,
        requestTimeoutMs: env.LINE_REQUEST_TIMEOUT_MS,
      },
      channelLimits: { multicastPerSecond: env.LINE_MULTICAST_PER_SECOND, pushPerSecond: env.LINE_PUSH_PER_SECOND },
      maxWorkers: env.SHARD_WORKER_MAX_CONCURRENCY,
    }),
    email: new SesEmailSender(undefined, env.SES_CONFIGURATION_SET),
    emailLinks: new SignedEmailLinks(new SecretsManagerEmailTokenKeys(env[ENV.emailTokenSecret]), {
      now: () => new Date(),
    }),
    ...(env.EMAIL_SEND_PER_SECOND && {
      emailRate: new SendRateLimiter(new DynamoRateWindows(db, env[ENV.deliveryTable]), {
        perSecond: env.EMAIL_SEND_PER_SECOND,
      }),
    }),
    concurrency: env.SEND_CONCURRENCY,
  };
});

const processor = new BatchProcessor(EventType.SQS);

/** One SQS record = one shard of one tenant on one date. A malformed body fails the record and, after redrives, lands in the DLQ. */
async function recordHandler(record: SQSRecord, context?: Context): Promise<void> {
  metrics.addMetric('ShardTasks', MetricUnit.Count, 1);
  const task = ShardTaskSchema.parse(JSON.parse(record.body));
  const started = Date.now();
  const where = { tenantId: task.tenantId, date: task.date, shard: task.shard };
  let result: ShardResult;
  try {
    result = await deliverShard(task, {
      ...deps(),
      ...(context && { remainingMs: () => context.getRemainingTimeInMillis() }),
    });
  } catch (error) {
    // The task and the error's name and counts only; SQS retries the record, the DLQ takes it after five tries.
    logger.warn('shard not completed', {
      ...where,
      error: error instanceof Error ? error.name : 'unknown',
      cause: error instanceof Error && error.cause instanceof Error ? error.cause.name : undefined,
      failedSends: error instanceof ShardIncompleteError ? error.failedSends : undefined,
      receiveCount: record.attributes.ApproximateReceiveCount,
    });
    metrics.addMetric('ShardRetries', MetricUnit.Count, 1);
    throw error;
  }
  if (result.status === 'stale') {
    // Acknowledged, not retried: yesterday's messages are not sent today.
    logger.warn('stale shard task refused', { ...where, issuedAt: task.issuedAt, reason: result.reason });
    metrics.addMetric('StaleShardTasks', MetricUnit.Count, 1);
    return;
  }
  // Identifiers and counts only: no LINE ids, addresses, dates of birth or nicknames in logs.
  logger.info('shard delivered', { ...where, status: result.status, ...result.counters, ms: Date.now() - started });
  if (result.status === 'delivered') {
    const c = result.counters;
    metrics.addMetric('Recipients', MetricUnit.Count, c.recipients);
    metrics.addMetric('LineMulticastRequests', MetricUnit.Count, c.multicastRequests);
    metrics.addMetric('LinePushRequests', MetricUnit.Count, c.pushRequests);
    metrics.addMetric('Emails', MetricUnit.Count, c.emails);
    metrics.addMetric('DeliveryFailures', MetricUnit.Count, c.failures);
    metrics.addMetric('WithheldAtSendTime', MetricUnit.Count, c.withheld);
    metrics.addMetric('EmailsUncertain', MetricUnit.Count, c.emailsUncertain);
  }
  // The tenant's deadline (an hour after its delivery time, when the fan-out issued the task): the alarm
  // DeliveryFinishedLate (lib/constructs/monitoring.ts) watches this; a shard that never finishes ends in the DLQ.
  if (finishedLate(task.issuedAt, new Date())) {
    metrics.addMetric('ShardsFinishedLate', MetricUnit.Count, 1);
    logger.warn('shard finished after its deadline', where);
  }
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  // With batch size 1 every failure is a full-batch failure; report it as an item failure like any other
  // instead of throwing, so Lambda's retry and the DLQ see one consistent signal.
  .handler((event, context) =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false }),
  );
