import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapSettled } from '../services/concurrency';

/**
 * Puts items 25 at a time (`concurrency` requests in flight), retrying what DynamoDB hands back unprocessed
 * with a growing pause. Throws after all batches settled if any failed.
 */
export async function batchPut(
  db: DynamoDBDocumentClient,
  table: string,
  items: Record<string, unknown>[],
  concurrency = 1,
): Promise<void> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  const failed = (await mapSettled(chunks, concurrency, (chunk) => putChunk(db, table, chunk))).find(
    (r) => r.status === 'rejected',
  );
  if (failed) throw failed.reason;
}

async function putChunk(db: DynamoDBDocumentClient, table: string, chunk: Record<string, unknown>[]): Promise<void> {
  let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 8) throw new Error('DynamoDB kept returning unprocessed items');
    if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    const res = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
    pending = (res.UnprocessedItems?.[table] ?? []) as typeof pending;
  }
}
