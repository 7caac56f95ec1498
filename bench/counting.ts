import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** DynamoDB units and SQS requests, as AWS would bill them: the figures the cost per delivery is made from. */
export interface Counts {
  readUnits: number;
  writeUnits: number;
  dynamoRequests: number;
  sqsRequests: number;
  /** Units by operation and item kind (the sort key's first part), to say where they go. */
  byKind: Record<string, number>;
}

export const zeroCounts = (): Counts => ({
  readUnits: 0,
  writeUnits: 0,
  dynamoRequests: 0,
  sqsRequests: 0,
  byKind: {},
});
export const minus = (a: Counts, b: Counts): Counts => ({
  readUnits: a.readUnits - b.readUnits,
  writeUnits: a.writeUnits - b.writeUnits,
  dynamoRequests: a.dynamoRequests - b.dynamoRequests,
  sqsRequests: a.sqsRequests - b.sqsRequests,
  byKind: Object.fromEntries(
    Object.entries(a.byKind)
      .map(([k, v]) => [k, v - (b.byKind[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  ),
});
export const snapshot = (c: Counts): Counts => ({ ...c, byKind: { ...c.byKind } });

/** `PutItem BATCH`, `Query byShard`...: the operation and what it touched, never a key's personal part. */
function kindOf(command: string, input: Record<string, unknown>): string {
  const op = command.replace(/Command$/, '');
  const sk = (x: unknown) => {
    const v = (x as { sk?: unknown } | undefined)?.sk;
    // Only the layout's own upper-case words (SH#P#B for a plan batch): ids, keys and numbers are left out.
    return typeof v === 'string'
      ? v
          .split('#')
          .filter((part) => /^[A-Z]+$/.test(part))
          .join('#') || undefined
      : undefined;
  };
  if (typeof input.IndexName === 'string') return `${op} ${input.IndexName}`;
  const single = sk(input.Item) ?? sk(input.Key);
  if (single) return `${op} ${single}`;
  const requests = Object.values(
    (input.RequestItems ?? {}) as Record<
      string,
      { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } }[]
    >,
  )[0];
  const first = requests?.[0];
  const batch = sk(first?.PutRequest?.Item) ?? sk(first?.DeleteRequest?.Key);
  if (batch) return `${op} ${batch}`;
  const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
  const prefix = Object.values(values ?? {}).find((v): v is string => typeof v === 'string' && /^[A-Z]+#?$/.test(v));
  return prefix ? `${op} ${prefix.replace('#', '')}` : op;
}

const READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);
const WITH_CAPACITY = new Set([
  ...READS,
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/**
 * Asks DynamoDB for `ReturnConsumedCapacity: TOTAL` on every request of this client (the document client sends
 * through it) and adds up what it answers. Reads and writes are told apart by the operation; a transaction's
 * units already count double, as DynamoDB bills them.
 */
export function countDynamo(client: DynamoDBClient, counts: Counts): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? '';
      const input = args.input as Record<string, unknown>;
      if (WITH_CAPACITY.has(command)) input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      counts.dynamoRequests++;
      const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
      const kind = kindOf(command, input);
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const units = c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0);
        if (READS.has(command)) counts.readUnits += units;
        else counts.writeUnits += units;
        counts.byKind[kind] = (counts.byKind[kind] ?? 0) + units;
      }
      return result;
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
}

/**
 * SQS requests as the deployed pipeline makes them per task (SQS bills per request, a batch of 10 being one): the
 * fan-out's sends, and each receive that got a message and its delete. Empty receives are left out: here they are
 * this process polling every 50 ms, in AWS the event source's long polls, a cost per queue and hour, not per delivery.
 */
export function countSqs(client: SQSClient, counts: Counts): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const command = (context as { commandName?: string }).commandName ?? '';
      const empty =
        command === 'ReceiveMessageCommand' && !(result.output as { Messages?: unknown[] }).Messages?.length;
      if (!empty) counts.sqsRequests++;
      return result;
    },
    { step: 'initialize', name: 'benchSqsRequests' },
  );
}
