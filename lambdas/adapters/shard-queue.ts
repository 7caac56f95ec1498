import {
  SQSClient,
  SendMessageBatchCommand,
  type BatchResultErrorEntry,
  type SendMessageBatchCommandOutput,
} from '@aws-sdk/client-sqs';
import { backOff } from 'exponential-backoff';
import type { ShardTask } from '../../schemas/delivery';
import type { ShardQueue } from '../services/ports';
import type { BatchRetryPolicy } from './batch-write';

/** The part of SQSClient the queue needs; tests pass a fake. */
export interface SendMessageBatchClient {
  send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput>;
}

/** The same knobs as batch writes: full jitter, bounded attempts and delay. */
export type QueueRetryPolicy = BatchRetryPolicy;

export const DEFAULT_QUEUE_RETRY: QueueRetryPolicy = { attempts: 6, startingDelayMs: 50, maxDelayMs: 2_000 };

/**
 * SQS did not take some shard tasks: entries it kept failing after the last attempt, or entries it refused as
 * the sender's fault (never retried: they would fail the same way).
 */
export class ShardTasksRefusedError extends Error {
  override readonly name = 'ShardTasksRefusedError';
  constructor(
    readonly refused: readonly Pick<BatchResultErrorEntry, 'Code' | 'SenderFault'>[],
    options?: { cause?: unknown },
  ) {
    super(
      `SQS refused ${refused.length} shard tasks (${[...new Set(refused.map((f) => f.Code ?? '?'))].join(', ')})`,
      options,
    );
  }
}

class StillFailingError extends Error {
  override readonly name = 'StillFailingError';
}

export class SqsShardQueue implements ShardQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly sqs: SendMessageBatchClient = new SQSClient({}),
    private readonly retry: QueueRetryPolicy = DEFAULT_QUEUE_RETRY,
  ) {}

  async enqueue(tasks: ShardTask[]): Promise<void> {
    for (let i = 0; i < tasks.length; i += 10) await this.sendBatch(tasks.slice(i, i + 10));
  }

  private async sendBatch(tasks: ShardTask[]): Promise<void> {
    let pending = tasks.map((t, j) => ({ Id: String(j), MessageBody: JSON.stringify(t) }));
    let failed: BatchResultErrorEntry[] = [];
    try {
      await backOff(
        async () => {
          const res = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
          failed = res.Failed ?? [];
          const senderFaults = failed.filter((f) => f.SenderFault);
          if (senderFaults.length > 0) throw new ShardTasksRefusedError(senderFaults);
          const retryIds = new Set(failed.map((f) => f.Id));
          pending = pending.filter((e) => retryIds.has(e.Id));
          if (pending.length > 0) throw new StillFailingError();
        },
        {
          numOfAttempts: this.retry.attempts,
          startingDelay: this.retry.startingDelayMs,
          maxDelay: this.retry.maxDelayMs,
          jitter: 'full',
          retry: (e) => e instanceof StillFailingError,
        },
      );
    } catch (e) {
      if (e instanceof StillFailingError) throw new ShardTasksRefusedError(failed, { cause: e });
      throw e;
    }
  }
}
