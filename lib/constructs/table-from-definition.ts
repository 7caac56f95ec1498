import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
  type ITable,
} from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { TableDefinition } from '../../schemas/tables';

/**
 * Builds a DynamoDB table from the shared definition (schemas/tables.ts), the same data the local stack
 * builds its tables from, so the two cannot drift apart.
 */
export function tableFromDefinition(scope: Construct, def: TableDefinition): Table {
  const table = new Table(scope, def.id, {
    partitionKey: { name: def.partitionKey, type: AttributeType.STRING },
    sortKey: { name: def.sortKey, type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: def.timeToLiveAttribute,
    // Subscribers and ledgers outlive any stack: a `cdk destroy` or a replaced resource must not drop them.
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
  });
  for (const gsi of def.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: gsi.indexName,
      partitionKey: { name: gsi.partitionKey, type: AttributeType.STRING },
      sortKey: { name: gsi.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }
  return table;
}

const READ_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
];

/**
 * Read access to a table and to each of its indexes by name. `Table.grantReadData` would grant
 * `<table>/index/*` instead, a wildcard we would then have to justify.
 */
export function grantReadWithIndexes(table: ITable, def: TableDefinition, grantee: IGrantable): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: READ_ACTIONS,
    resourceArns: [
      table.tableArn,
      ...def.globalSecondaryIndexes.map((gsi) => `${table.tableArn}/index/${gsi.indexName}`),
    ],
  });
}

const WRITE_ACTIONS = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

/**
 * Item writes (including conditional and transactional ones, which DynamoDB authorises per item action) on
 * the table itself; indexes are never written directly.
 */
export function grantWriteItems(table: ITable, grantee: IGrantable): Grant {
  return Grant.addToPrincipal({ grantee, actions: WRITE_ACTIONS, resourceArns: [table.tableArn] });
}
