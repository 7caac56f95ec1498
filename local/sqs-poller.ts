import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface DrainOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn?: string;
  /**
   * The handler of each concurrent worker. Lambda runs one invocation at a time per container, so each
   * worker should get its own container (module instance): module-level caches and metrics are not shared.
   */
  handler: (worker: number) => SqsHandler;
  functionName?: string;
  /** Like the event source mapping's batch size and maximum concurrency. */
  batchSize?: number;
  concurrency?: number;
  /** Called after each invocation with how many records failed. */
  onInvocation?: (records: number, failed: number) => void;
  /** Give up after this long even if messages are still in flight. */
  timeoutMs?: number;
}

export interface DrainResult {
  invocations: number;
  records: number;
  failedRecords: number;
}

/**
 * Plays Lambda's SQS event source mapping against the emulator: receive, invoke the handler with an
 * SQS-shaped event, delete what succeeded, leave batchItemFailures (or everything, if the handler threw)
 * to reappear after the visibility timeout, until the queue is empty, in flight included.
 */
export async function drainQueue(o: DrainOptions): Promise<DrainResult> {
  const result: DrainResult = { invocations: 0, records: 0, failedRecords: 0 };
  const deadline = Date.now() + (o.timeoutMs ?? 10 * 60_000);
  const arn = o.queueArn ?? `arn:aws:sqs:ap-northeast-1:000000000000:${o.queueUrl.split('/').pop()}`;

  const worker = async (index: number) => {
    const handler = o.handler(index);
    while (Date.now() < deadline) {
      const received = await o.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: o.queueUrl,
          MaxNumberOfMessages: o.batchSize ?? 1,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) {
        if (await isEmpty(o.sqs, o.queueUrl)) return;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const event: SQSEvent = { Records: messages.map((m) => toRecord(m, arn)) };
      let failedIds: Set<string>;
      try {
        const res = await handler(event, lambdaContext(o.functionName ?? 'shard-worker'));
        failedIds = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        failedIds = new Set(messages.map((m) => m.MessageId ?? ''));
      }
      const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
      if (done.length > 0) {
        await o.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: o.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
      result.invocations += 1;
      result.records += messages.length;
      result.failedRecords += failedIds.size;
      o.onInvocation?.(messages.length, failedIds.size);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 4 }, (_, i) => worker(i)));
  return result;
}

/** No message visible, in flight or delayed. */
export async function isEmpty(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = res.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(a.ApproximateNumberOfMessagesDelayed ?? 0) ===
    0
  );
}

function toRecord(m: Message, arn: string): SQSRecord {
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: 'ap-northeast-1',
  };
}
