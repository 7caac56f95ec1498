import type { BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { backOff } from 'exponential-backoff';
import { mapSettled } from '../services/concurrency';

/** The part of DynamoDBDocumentClient a batch put needs; tests pass a fake. */
export interface BatchWriteClient {
  send(command: BatchWriteCommand): Promise<BatchWriteCommandOutput>;
}

/** How long unprocessed items are retried: full jitter, bounded attempts and delay. */
export interface BatchRetryPolicy {
  readonly attempts: number;
  readonly startingDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BATCH_RETRY: BatchRetryPolicy = { attempts: 10, startingDelayMs: 50, maxDelayMs: 2_000 };

/** DynamoDB still handed back unprocessed items after the last attempt (sustained throttling). */
export class UnprocessedItemsError extends Error {
  override readonly name = 'UnprocessedItemsError';
  constructor(
    readonly table: string,
    readonly unprocessed: number,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`DynamoDB left ${unprocessed} items unprocessed in ${table} after ${attempts} attempts`, options);
  }
}

/** Thrown inside the backoff loop only, to ask for another attempt. */
class StillUnprocessedError extends Error {
  override readonly name = 'StillUnprocessedError';
}

/**
 * Puts items 25 at a time (`concurrency` requests in flight), retrying what DynamoDB hands back unprocessed
 * (exponential backoff, full jitter). Throws after all batches settled if any failed. Errors the SDK raised
 * (after its own retries) are not retried again here.
 */
export async function batchPut(
  db: BatchWriteClient,
  table: string,
  items: Record<string, unknown>[],
  concurrency = 1,
  retry: BatchRetryPolicy = DEFAULT_BATCH_RETRY,
): Promise<void> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  const failed = (await mapSettled(chunks, concurrency, (chunk) => putChunk(db, table, chunk, retry))).find(
    (r) => r.status === 'rejected',
  );
  if (failed) throw failed.reason;
}

async function putChunk(
  db: BatchWriteClient,
  table: string,
  chunk: Record<string, unknown>[],
  retry: BatchRetryPolicy,
): Promise<void> {
  let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
  try {
    await backOff(
      async () => {
        const res = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        pending = (res.UnprocessedItems?.[table] ?? []) as typeof pending;
        if (pending.length > 0) throw new StillUnprocessedError();
      },
      {
        numOfAttempts: retry.attempts,
        startingDelay: retry.startingDelayMs,
        maxDelay: retry.maxDelayMs,
        jitter: 'full',
        retry: (e) => e instanceof StillUnprocessedError,
      },
    );
  } catch (e) {
    if (e instanceof StillUnprocessedError) {
      throw new UnprocessedItemsError(table, pending.length, retry.attempts, { cause: e });
    }
    throw e;
  }
}
