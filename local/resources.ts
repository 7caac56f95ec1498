import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TABLES, type TableDefinition } from '../schemas/tables';

export interface LocalTables {
  data: string;
  delivery: string;
  content: string;
  audit: string;
}

/** The CreateTable input for a shared definition; test/infra checks the CDK tables against the same definitions. */
export function createTableInput(def: TableDefinition, tableName: string): CreateTableCommandInput {
  const attrs = new Set([
    def.partitionKey,
    def.sortKey,
    ...def.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
  ]);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attrs].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: def.partitionKey, KeyType: 'HASH' },
      { AttributeName: def.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: def.globalSecondaryIndexes.length
      ? def.globalSecondaryIndexes.map((g) => ({
          IndexName: g.indexName,
          KeySchema: [
            { AttributeName: g.partitionKey, KeyType: 'HASH' },
            { AttributeName: g.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }))
      : undefined,
  };
}

export const localTableName = (prefix: string, def: TableDefinition) => `${prefix}-${def.id}`;

/** Creates the tables if missing (the local stack keeps its data between runs); TTL on unless told otherwise. */
export async function ensureTables(
  ddb: DynamoDBClient,
  prefix: string,
  o: { timeToLive: boolean } = { timeToLive: true },
): Promise<LocalTables> {
  for (const def of TABLES) {
    const name = localTableName(prefix, def);
    try {
      await ddb.send(new CreateTableCommand(createTableInput(def, name)));
      if (def.timeToLiveAttribute && o.timeToLive) {
        await ddb.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
          }),
        );
      }
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    await ddb.send(new DescribeTableCommand({ TableName: name }));
  }
  const [data, delivery, content, audit] = TABLES.map((d) => localTableName(prefix, d)) as [
    string,
    string,
    string,
    string,
  ];
  return { data, delivery, content, audit };
}

export interface LocalQueues {
  shardQueueUrl: string;
  dlqUrl: string;
}

/**
 * The shard queue and its DLQ with the same redrive rule as the CDK stack (maxReceiveCount 5).
 * The visibility timeout is short so that a failed shard is retried within the same local run.
 */
export async function ensureQueues(
  sqs: SQSClient,
  sqsEndpoint: string,
  prefix: string,
  opts: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {},
): Promise<LocalQueues> {
  // fauxqs answers with virtual-host URLs (sqs.<region>.127.0.0.1) that the SDK cannot use; keep the path on our endpoint.
  const onEndpoint = (url: string | undefined) => url?.replace(/^https?:\/\/[^/]+/, sqsEndpoint);
  const dlq = {
    QueueUrl: onEndpoint((await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-shard-dlq` }))).QueueUrl),
  };
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-shard`,
      Attributes: {
        VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 2),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: opts.maxReceiveCount ?? 5 }),
      },
    }),
  );
  const queue = { QueueUrl: onEndpoint(created.QueueUrl) };
  if (!queue.QueueUrl || !dlq.QueueUrl) throw new Error('SQS emulator returned no queue URL');
  return { shardQueueUrl: queue.QueueUrl, dlqUrl: dlq.QueueUrl };
}
