import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ContentRepository } from '../../lambdas/adapters/content-repository';
import { activateVersion, importLibraryVersion, listVersions } from '../../lambdas/adapters/content-writer';
import { deliveryKeys } from '../../lambdas/adapters/keys';
import { loadHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/lambda-context';
import { seedDemo } from '../../local/stack';
import type { IsoDate } from '../../schemas/common';
import type { ContentLibrary } from '../../schemas/content';
import { startTestStack, testLibrary, type TestStack } from './helpers';

// Content versions on the emulators: an import while a day is being delivered leaves that day on the version
// it started with (every shard, every text), each plan records it, and the next day takes the new one.
jest.setTimeout(180_000);

/** The test library with every text marked by its version, so a sent text tells which version it came from. */
const marked = (mark: string): ContentLibrary => {
  const lib = testLibrary();
  return { ...lib, items: lib.items.map((i) => ({ ...i, text: `[${mark}] ${i.text}` })) };
};

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack('content-versions');
});

/** The texts each tenant's LINE channel was sent since `since`, by tenant. */
async function lineTexts(since: Map<string, number>): Promise<Map<string, string[]>> {
  const byTenant = new Map<string, string[]>();
  for (const [tenantId, { channelId }] of stack.channels) {
    const texts: string[] = [];
    const requests = (await stack.line.requests({ channelId })).slice(since.get(channelId) ?? 0);
    for (const r of requests) {
      if (r.status !== 200 || !/\/v2\/bot\/message\/(push|multicast)$/.test(r.path)) continue;
      for (const m of (r.body as { messages: { text?: string }[] }).messages) if (m.text) texts.push(m.text);
    }
    byTenant.set(tenantId, texts);
  }
  return byTenant;
}

/** The versions marked in a tenant's library texts (`[v1] ...`), each once. */
const marksOf = (texts: string[] | undefined) =>
  new Set((texts ?? []).flatMap((t) => [...t.matchAll(/\[(v\d)\]/g)].map((m) => m[1])));

async function requestCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { channelId } of stack.channels.values())
    counts.set(channelId, (await stack.line.requests({ channelId })).length);
  return counts;
}

async function planVersions(tenantId: string, date: IsoDate): Promise<(string | undefined)[]> {
  const res = await stack.db.send(
    new QueryCommand({
      TableName: stack.tables.delivery,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sh)',
      ExpressionAttributeValues: { ':pk': deliveryKeys.pk(tenantId, date), ':sh': 'SH#' },
      ConsistentRead: true,
    }),
  );
  return (res.Items ?? []).filter((i) => String(i.sk).endsWith('#PLAN')).map((i) => i.contentVersion as string);
}

const sqsEvent = (m: { MessageId?: string; ReceiptHandle?: string; Body?: string }): SQSEvent => ({
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
});

it('an import during a running delivery leaves that day on one version; the next day uses the new one', async () => {
  const date: IsoDate = '2026-12-14';
  const next: IsoDate = '2026-12-15';
  await seedDemo(stack, 200, date);
  const v1 = await importLibraryVersion(stack.db, stack.tables.content, marked('v1'), {
    now: new Date('2026-12-13T00:00:00Z'),
  });

  const fanOut = loadHandler<unknown, unknown>('fan-out');
  const worker = loadHandler<SQSEvent, SQSBatchResponse>('shard-worker');
  const before = await requestCounts();
  for (const t of stack.tenants)
    await fanOut({ deliveryTime: t.deliveryTime, timeZone: t.timeZone, date }, lambdaContext('fan-out'));
  const received = await stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.queues.shardQueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 120,
    }),
  );
  const tasks = received.Messages ?? [];
  const shardCount = stack.tenants.reduce((n, t) => n + t.shardCount, 0);
  expect(tasks).toHaveLength(shardCount);

  let v2: { version: string } | undefined;
  for (const [n, m] of tasks.entries()) {
    const out = await worker(sqsEvent(m), lambdaContext('shard-worker'));
    expect(out.batchItemFailures).toEqual([]);
    await stack.sqs.send(
      new DeleteMessageCommand({ QueueUrl: stack.queues.shardQueueUrl, ReceiptHandle: m.ReceiptHandle! }),
    );
    // After the first shard: an operator imports a new version, which goes live at once.
    if (n === 0)
      v2 = await importLibraryVersion(stack.db, stack.tables.content, marked('v2'), {
        now: new Date('2026-12-14T00:00:10Z'),
      });
  }
  expect(v2).toBeDefined();
  const live = await new ContentRepository(stack.db, stack.tables.content).liveVersion('test-lib', true);
  expect(live).toBe(v2!.version);

  // The tenant whose delivery was running when the import switched: all its shards on v1. A tenant whose day
  // had not begun yet takes v2 for all of its shards: a day is one tenant's date.
  const running = (JSON.parse(tasks[0]!.Body!) as { tenantId: string }).tenantId;
  const dayTexts = await lineTexts(before);
  for (const t of stack.tenants) {
    const versions = await planVersions(t.tenantId, date);
    expect(versions).toHaveLength(t.shardCount);
    expect([t.tenantId, new Set(versions).size]).toEqual([t.tenantId, 1]);
    expect(marksOf(dayTexts.get(t.tenantId)).size).toBe(1);
    expect((dayTexts.get(t.tenantId) ?? []).length).toBeGreaterThan(5);
    if (t.tenantId === running) {
      expect(new Set(versions)).toEqual(new Set([v1.version]));
      expect(marksOf(dayTexts.get(t.tenantId))).toEqual(new Set(['v1']));
    }
  }
  // The running tenant had shards left after the import (or the test would show nothing).
  expect(tasks.slice(1).some((m) => (JSON.parse(m.Body!) as { tenantId: string }).tenantId === running)).toBe(true);

  // The next day starts on the version live when it is first planned.
  const beforeNext = await requestCounts();
  const { runDelivery } = await import('../../local/stack');
  await runDelivery(stack, { date: next });
  const nextTexts = await lineTexts(beforeNext);
  for (const t of stack.tenants) {
    expect([t.tenantId, [...marksOf(nextTexts.get(t.tenantId))]]).toEqual([t.tenantId, ['v2']]);
    expect(new Set(await planVersions(t.tenantId, next))).toEqual(new Set([v2!.version]));
  }

  // Rollback: versions lists both, activate makes v1 live again with one conditional write.
  const versions = await listVersions(stack.db, stack.tables.content, 'test-lib');
  expect(versions.map((v) => [v.version, v.live])).toEqual([
    [v1.version, false],
    [v2!.version, true],
  ]);
  await expect(activateVersion(stack.db, stack.tables.content, 'test-lib', v1.version)).resolves.toEqual({
    previous: v2!.version,
  });
  await expect(
    activateVersion(stack.db, stack.tables.content, 'test-lib', '20991231T000000Z-00000000'),
  ).rejects.toThrow('no complete version');
  expect(await new ContentRepository(stack.db, stack.tables.content).liveVersion('test-lib', true)).toBe(v1.version);
});
