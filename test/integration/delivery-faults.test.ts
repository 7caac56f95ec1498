import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { brotliDecompressSync } from 'node:zlib';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ReaderRepository } from '../../lambdas/adapters/reader-repository';
import { loadHandler } from '../../local/handlers';
import type { IsoDate } from '../../schemas/common';
import { lambdaContext } from '../../local/lambda-context';
import { demoSubscriptions } from '../../local/seed';
import { runDelivery, seedDemo } from '../../local/stack';
import { expectExactlyOnce, expectedTexts, lineDeliveriesByUser } from './expectations';
import { startTestStack, testLibrary, type TestStack } from './helpers';

jest.setTimeout(180_000);
const library = testLibrary();

async function seed(stack: TestStack, n: number, date: IsoDate) {
  const seeded = await seedDemo(stack, n, date);
  return new Map(
    stack.tenants.map(
      (t) => [t.tenantId, demoSubscriptions(t, seeded.get(t.tenantId) ?? 0, date, stack.readerKeys)] as const,
    ),
  );
}

/**
 * Takes every shard task once (held invisible meanwhile), runs it in the shard worker, and hands the failed ones
 * back to the queue at once, as Lambda does when the visibility timeout of a failed record runs out.
 */
async function runEachTaskOnce(stack: TestStack): Promise<{ received: number; failed: number }> {
  const worker = loadHandler<SQSEvent, SQSBatchResponse>('shard-worker');
  const res = await stack.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: stack.queues.shardQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
  );
  let failed = 0;
  for (const m of res.Messages ?? []) {
    const event: SQSEvent = {
      Records: [
        {
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body!,
          attributes: {} as never,
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn',
          awsRegion: 'ap-northeast-1',
        },
      ],
    };
    const out = await worker(event, lambdaContext('shard-worker'));
    failed += out.batchItemFailures.length;
    const handle = { QueueUrl: stack.queues.shardQueueUrl, ReceiptHandle: m.ReceiptHandle! };
    if (out.batchItemFailures.length > 0)
      await stack.sqs.send(new ChangeMessageVisibilityCommand({ ...handle, VisibilityTimeout: 0 }));
    else await stack.sqs.send(new DeleteMessageCommand(handle));
  }
  return { received: res.Messages?.length ?? 0, failed };
}

describe('when LINE misbehaves (one attempt per request, so every fault reaches SQS)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack('faults', {
      handlerEnv: { LINE_RETRY_ATTEMPTS: '1', LINE_REQUEST_TIMEOUT_MS: '300' },
    });
  });

  it('resumes a shard whose SQS message comes back halfway through, and sends nothing twice', async () => {
    const date: IsoDate = '2026-12-02';
    const population = await seed(stack, 300, date);
    const fanOut = loadHandler<unknown, unknown>('fan-out');
    for (const t of stack.tenants)
      await fanOut({ deliveryTime: t.deliveryTime, timeZone: t.timeZone, date }, lambdaContext('fan-out'));

    // First delivery of each message: half of LINE's answers are lost after LINE accepted the request.
    await stack.line.setFaults({ rateTimeout: 0.5, timeoutMs: 1_000, seed: 7 });
    // Take every shard task once (held invisible meanwhile), run it, and hand the failed ones back to the
    // queue at once, as Lambda does when the visibility timeout of a failed record runs out.
    const { received, failed } = await runEachTaskOnce(stack);
    expect(received).toBe(6);
    expect(failed).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1_200)); // let the delayed answers drain

    // LINE is healthy again; SQS redelivers what failed (visibility timeout), as the event source would.
    await stack.line.setFaults({});
    const before = (await stack.line.requests()).length;
    await runDelivery(stack, { date });
    const retried = (await stack.line.requests()).slice(before);
    expect(retried.filter((r) => r.status === 409).length).toBeGreaterThan(0);
    await expectExactlyOnce(stack, population, date, library);
  });

  it('runs two copies of the same shard task at once without a duplicate', async () => {
    const date: IsoDate = '2026-12-03';
    await stack.line.reset();
    const population = await seed(stack, 0, date).then(
      () =>
        new Map(
          stack.tenants.map(
            (t) =>
              [
                t.tenantId,
                demoSubscriptions(t, t.tenantId === 'demo-minato' ? 180 : 120, '2026-12-02', stack.readerKeys),
              ] as const,
          ),
        ),
    );
    // This test is about concurrency, not faults: its own container, with patient LINE requests (a loaded CI
    // machine must not turn slow answers into failures here).
    Object.assign(process.env, { LINE_RETRY_ATTEMPTS: '4', LINE_REQUEST_TIMEOUT_MS: '5000' });
    const worker = loadHandler<SQSEvent, SQSBatchResponse>('shard-worker', 90);
    const tasks = stack.tenants.flatMap((t) =>
      Array.from({ length: t.shardCount }, (_, shard) => ({
        tenantId: t.tenantId,
        date,
        shard,
        shardCount: t.shardCount,
        issuedAt: new Date().toISOString(),
      })),
    );
    const invoke = (body: string, id: string) =>
      worker(
        {
          Records: [
            {
              messageId: id,
              receiptHandle: id,
              body,
              attributes: {} as never,
              messageAttributes: {},
              md5OfBody: '',
              eventSource: 'aws:sqs',
              eventSourceARN: 'arn',
              awsRegion: 'ap-northeast-1',
            },
          ],
        },
        lambdaContext('shard-worker'),
      );
    const results = await Promise.all(
      tasks.flatMap((t, i) => [invoke(JSON.stringify(t), `a${i}`), invoke(JSON.stringify(t), `b${i}`)]),
    );
    Object.assign(process.env, { LINE_RETRY_ATTEMPTS: '1', LINE_REQUEST_TIMEOUT_MS: '300' });
    expect(results.flatMap((r) => r.batchItemFailures)).toEqual([]);
    await expectExactlyOnce(stack, population, date, library);
  });

  it('records the monthly limit instead of retrying it', async () => {
    const date: IsoDate = '2026-12-04';
    await stack.line.reset();
    await stack.line.setFaults({ monthlyLimit: true });
    // About the monthly limit, not timeouts: containers of its own with patient requests, so a loaded machine's
    // slow answers do not make shards retry (each retry would ask LINE again and blur the count below).
    Object.assign(process.env, { LINE_REQUEST_TIMEOUT_MS: '5000' });
    const summary = await runDelivery(stack, { date, firstContainer: 200 });
    Object.assign(process.env, { LINE_REQUEST_TIMEOUT_MS: '300' });
    await stack.line.setFaults({});
    for (const s of summary) {
      expect(s.ledger.monthlyLimitHits).toBeGreaterThan(0);
      expect(s.ledger.failures).toBeGreaterThan(0);
      expect(s.thisRun.lineMulticast + s.thisRun.linePush).toBe(0);
      // A shard stops asking LINE once it learns the limit is reached: the requests already started before the
      // first answer came back (LINE and email sends share the in-flight slots) still get 429, every later send is
      // recorded without asking, so far fewer requests reach LINE than sends are recorded as hitting the limit.
      expect(s.thisRun.lineErrors).toBeGreaterThan(0);
      expect(s.thisRun.lineErrors).toBeLessThan(s.ledger.monthlyLimitHits);
      expect(s.ledger.failures).toBeGreaterThan(s.thisRun.lineErrors);
    }
    const dlq = await stack.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: stack.queues.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(dlq.Attributes?.ApproximateNumberOfMessages).toBe('0');
  });

  it('moves a poison message to the DLQ after five receives and sends nothing for it', async () => {
    const before = (await stack.line.requests()).length;
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.shardQueueUrl,
        MessageBody: '{"tenantId":"demo-minato","date":"2026-13-45","shard":0}',
      }),
    );
    await runDelivery(stack, { date: '2026-12-05' }).catch(() => undefined);
    const dlq = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queues.dlqUrl, MaxNumberOfMessages: 10 }),
    );
    expect(dlq.Messages?.map((m) => m.Body)).toContain('{"tenantId":"demo-minato","date":"2026-13-45","shard":0}');
    const sent = (await stack.line.requests()).slice(before);
    expect(sent.filter((r) => r.body && JSON.stringify(r.body).includes('2026-13-45'))).toEqual([]);
  });

  it('erasing a reader after planning leaves no address of theirs in the Delivery table, and the retry skips them', async () => {
    const date: IsoDate = '2026-12-06';
    // The readers of the first test (seeded here when this test runs alone): 180 and 120.
    await seed(stack, 300, '2026-12-02');
    const population = new Map(
      stack.tenants.map(
        (t) =>
          [
            t.tenantId,
            demoSubscriptions(t, t.tenantId === 'demo-minato' ? 180 : 120, '2026-12-02', stack.readerKeys),
          ] as const,
      ),
    );
    await stack.line.reset();
    const fanOut = loadHandler<unknown, unknown>('fan-out');
    for (const t of stack.tenants)
      await fanOut({ deliveryTime: t.deliveryTime, timeZone: t.timeZone, date }, lambdaContext('fan-out'));
    // LINE refuses every request: each shard commits its plan, sends nothing over LINE and comes back.
    await stack.line.setFaults({ rate500: 1 });
    expect((await runEachTaskOnce(stack)).failed).toBeGreaterThan(0);
    await stack.line.setFaults({});

    // A LINE reader due today asks to be erased, through the reader repository the webhook uses.
    const [tenant, due] = stack.tenants
      .map((t) => {
        const expected = expectedTexts(t, population.get(t.tenantId)!, library, date);
        return [t, [...expected.entries()].filter(([, e]) => e.channel === 'line')] as const;
      })
      .find(([, d]) => d.length > 1)!;
    const [erasedKey, erased] = due[0]!;
    const ok = await new ReaderRepository(stack.db, stack.tables.data, stack.tables.delivery).commit({
      tenantId: tenant.tenantId,
      readerKey: erasedKey,
      webhookEventId: `erase-${date}`,
      eventAt: undefined,
      lastEventAt: undefined,
      changedOn: date,
      puts: [],
      invites: [],
      dialog: undefined,
      deleteReader: true,
    });
    expect(ok).toBe(true);

    // Every item of the Delivery table, batches unpacked: reader keys, never an address (promise 10).
    const items = (await stack.db.send(new ScanCommand({ TableName: stack.tables.delivery }))).Items ?? [];
    const stored = items
      .map((i) => JSON.stringify(i) + (i.packed ? brotliDecompressSync(i.packed as Uint8Array).toString() : ''))
      .join('\n');
    expect(stored).toContain(due[1]![0]); // the plans of the day are there, by reader key
    expect(stored).not.toContain(erased.address);
    for (const s of [...population.values()].flat()) expect(stored).not.toContain(s.address);

    // The retry addresses the plans from the subscriptions: everyone due once, the erased reader never.
    await runDelivery(stack, { date });
    expect(
      (await lineDeliveriesByUser(stack.line, stack.channels.get(tenant.tenantId)!.channelId)).has(erased.address),
    ).toBe(false);
    const rest = new Map([...population].map(([t, list]) => [t, list.filter((x) => x.readerKey !== erasedKey)]));
    await expectExactlyOnce(stack, rest, date, library);
  });
});
