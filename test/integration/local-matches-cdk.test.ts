import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { TABLES } from '../../schemas/tables';
import { SHARD_MAX_RECEIVE_COUNT } from '../../lib/stateless-stack';
import { localTableName } from '../../local/resources';
import { buildApp } from '../infra/helpers';
import { startTestStack, type TestStack } from './helpers';

jest.setTimeout(120_000);

/** The local stack's tables, as DynamoDB Local describes them, against the CDK stack's synthesized tables. */
describe('the local stack builds what the CDK stack deploys', () => {
  let stack: TestStack;
  const { statefulTemplate } = buildApp({}, { skipBundling: true });
  const cdkTables = Object.entries(statefulTemplate.findResources('AWS::DynamoDB::Table')) as [
    string,
    { Properties: Record<string, unknown> },
  ][];

  beforeAll(async () => {
    stack = await startTestStack('agree');
  });

  const sortByName = <T extends { AttributeName?: string; IndexName?: string }>(xs: T[] | undefined) =>
    [...(xs ?? [])].sort((a, b) =>
      String(a.AttributeName ?? a.IndexName).localeCompare(String(b.AttributeName ?? b.IndexName)),
    );

  it.each(TABLES.map((def) => ({ label: def.id, def })))(
    'table $label: keys, attributes, indexes and TTL agree',
    async ({ def }) => {
      const ddb = new DynamoDBClient({});
      const local = (
        await ddb.send(
          new DescribeTableCommand({ TableName: localTableName(stack.tables.data.replace(/-Data$/, ''), def) }),
        )
      ).Table!;
      const ttl = (await ddb.send(new DescribeTimeToLiveCommand({ TableName: local.TableName }))).TimeToLiveDescription;
      // The CDK construct id of each table is the definition's id, so its logical id starts with it.
      const matching = cdkTables.filter(([logicalId]) => logicalId.startsWith(def.id)).map(([, t]) => t);
      expect(matching).toHaveLength(1);
      const cdk = matching[0];
      expect(local.KeySchema).toEqual(cdk?.Properties.KeySchema);
      expect(cdk?.Properties.TimeToLiveSpecification).toEqual(
        def.timeToLiveAttribute ? { AttributeName: def.timeToLiveAttribute, Enabled: true } : undefined,
      );
      expect(cdk).toBeDefined();
      expect(sortByName(local.AttributeDefinitions)).toEqual(sortByName(cdk!.Properties.AttributeDefinitions as never));
      expect(
        sortByName(
          local.GlobalSecondaryIndexes?.map((g) => ({
            IndexName: g.IndexName,
            KeySchema: g.KeySchema,
            Projection: { ProjectionType: g.Projection?.ProjectionType },
          })),
        ),
      ).toEqual(
        sortByName(
          ((cdk!.Properties.GlobalSecondaryIndexes ?? []) as never[]).map(
            (g: { IndexName: string; KeySchema: unknown; Projection: { ProjectionType: string } }) => ({
              IndexName: g.IndexName,
              KeySchema: g.KeySchema,
              Projection: { ProjectionType: g.Projection.ProjectionType },
            }),
          ),
        ),
      );
      expect(ttl?.AttributeName).toBe(def.timeToLiveAttribute);
    },
  );

  it('the local shard queue redrives to its DLQ after as many receives as the deployed one', async () => {
    const attrs = (
      await stack.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.queues.shardQueueUrl, AttributeNames: ['RedrivePolicy'] }),
      )
    ).Attributes;
    expect(JSON.parse(attrs!.RedrivePolicy!).maxReceiveCount).toBe(SHARD_MAX_RECEIVE_COUNT);
  });
});
