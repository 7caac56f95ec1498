import type { BatchWriteCommand, BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { SendMessageBatchCommand, SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { batchPut, UnprocessedItemsError, type BatchWriteClient } from '../../../lambdas/adapters/batch-write';
import {
  ShardTasksRefusedError,
  SqsShardQueue,
  type SendMessageBatchClient,
} from '../../../lambdas/adapters/shard-queue';
import type { ShardTask } from '../../../schemas/delivery';

const FAST = { attempts: 5, startingDelayMs: 1, maxDelayMs: 2 };
const TABLE = 'Delivery';

interface PutRequest {
  PutRequest: { Item: Record<string, unknown> };
}

/** A table that stores what it accepts and hands back the first `unprocessedPerCall(call)` requests unprocessed. */
class FakeTable implements BatchWriteClient {
  readonly stored = new Map<string, Record<string, unknown>>();
  readonly requestSizes: number[] = [];
  constructor(private readonly unprocessedPerCall: (call: number) => number) {}

  async send(command: BatchWriteCommand): Promise<BatchWriteCommandOutput> {
    const requests = command.input.RequestItems![TABLE] as PutRequest[];
    this.requestSizes.push(requests.length);
    const keep = Math.min(this.unprocessedPerCall(this.requestSizes.length), requests.length);
    const unprocessed = requests.slice(0, keep);
    for (const r of requests.slice(keep)) this.stored.set(String(r.PutRequest.Item.pk), r.PutRequest.Item);
    return { $metadata: {}, UnprocessedItems: unprocessed.length > 0 ? { [TABLE]: unprocessed } : {} };
  }
}

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ pk: `item-${i}`, n: i }));

describe('batchPut', () => {
  it('retries unprocessed items until every item is stored, 25 per request', async () => {
    // First three calls leave 7 items unprocessed each, later ones none.
    const table = new FakeTable((call) => (call <= 3 ? 7 : 0));
    await batchPut(table, TABLE, items(60), 1, FAST);
    expect([...table.stored.keys()].sort()).toEqual(
      items(60)
        .map((i) => i.pk)
        .sort(),
    );
    expect(Math.max(...table.requestSizes)).toBe(25);
    // 60 items = chunks of 25, 25, 10; each resent request carries exactly what came back.
    expect(table.requestSizes.slice(0, 4)).toEqual([25, 7, 7, 7]);
  });

  it('gives up after the bounded attempts with a named error saying how many were left', async () => {
    const table = new FakeTable(() => 3);
    const failure = batchPut(table, TABLE, items(10), 1, FAST);
    await expect(failure).rejects.toBeInstanceOf(UnprocessedItemsError);
    await expect(failure).rejects.toMatchObject({ table: TABLE, unprocessed: 3, attempts: 5 });
    expect(table.requestSizes).toEqual([10, 3, 3, 3, 3]);
    expect(table.stored.size).toBe(7);
  });

  it('does not retry an error the client raised (the SDK already retried it)', async () => {
    let calls = 0;
    const boom = new Error('ValidationException');
    const client: BatchWriteClient = {
      send: async () => {
        calls++;
        throw boom;
      },
    };
    await expect(batchPut(client, TABLE, items(3), 1, FAST)).rejects.toBe(boom);
    expect(calls).toBe(1);
  });
});

interface Entry {
  Id: string;
  MessageBody: string;
}

/** A queue that fails the entries `failFor(call, entry)` names, with the given sender-fault flag. */
class FakeQueue implements SendMessageBatchClient {
  readonly accepted: ShardTask[] = [];
  readonly calls: number[] = [];
  constructor(private readonly failFor: (call: number, entry: Entry) => { senderFault: boolean } | undefined) {}

  async send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> {
    const entries = command.input.Entries as Entry[];
    this.calls.push(entries.length);
    const Failed = [];
    const Successful = [];
    for (const e of entries) {
      const fail = this.failFor(this.calls.length, e);
      if (fail) {
        Failed.push({
          Id: e.Id,
          Code: fail.senderFault ? 'InvalidMessageContents' : 'InternalError',
          SenderFault: fail.senderFault,
        });
      } else {
        this.accepted.push(JSON.parse(e.MessageBody) as ShardTask);
        Successful.push({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' });
      }
    }
    return { $metadata: {}, Failed, Successful };
  }
}

const tasks = (n: number) =>
  Array.from({ length: n }, (_, shard) => ({ tenantId: 'demo', date: '2026-12-01', shard }) as unknown as ShardTask);
const shardsOf = (ts: ShardTask[]) => ts.map((t) => (t as unknown as { shard: number }).shard).sort((a, b) => a - b);

describe('SqsShardQueue', () => {
  it('resends only the failed entries until SQS took every task, each exactly once', async () => {
    // Calls 1 and 2 fail every entry with an even id; after that everything passes.
    const queue = new FakeQueue((call, e) =>
      call <= 2 && Number(e.Id) % 2 === 0 ? { senderFault: false } : undefined,
    );
    await new SqsShardQueue('url', queue, FAST).enqueue(tasks(13));
    expect(shardsOf(queue.accepted)).toEqual(Array.from({ length: 13 }, (_, i) => i));
    // Batch of 10: 5 even ids fail, then those 5 (ids 0,2,4,6,8) fail again, then pass; then the batch of 3.
    expect(queue.calls).toEqual([10, 5, 5, 3]);
  });

  it('gives up after the bounded attempts with a named error', async () => {
    const queue = new FakeQueue((_, e) => (e.Id === '1' ? { senderFault: false } : undefined));
    const failure = new SqsShardQueue('url', queue, FAST).enqueue(tasks(4));
    await expect(failure).rejects.toBeInstanceOf(ShardTasksRefusedError);
    await expect(failure).rejects.toThrow(/SQS refused 1 shard tasks \(InternalError\)/);
    expect(queue.calls).toEqual([4, 1, 1, 1, 1]);
    expect(shardsOf(queue.accepted)).toEqual([0, 2, 3]);
  });

  it("never retries an entry SQS refused as the sender's fault", async () => {
    const queue = new FakeQueue((_, e) => (e.Id === '2' ? { senderFault: true } : undefined));
    const failure = new SqsShardQueue('url', queue, FAST).enqueue(tasks(3));
    await expect(failure).rejects.toThrow(/SQS refused 1 shard tasks \(InvalidMessageContents\)/);
    expect(queue.calls).toEqual([3]);
  });
});
