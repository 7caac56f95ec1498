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

export type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem'
  | 'dynamodb:Scan';

/**
 * Exactly `actions` on the table, and on the named indexes when given (an index only takes Query). One
 * statement per call, so a function's policy reads as the list of what its adapters call. Actions inside a
 * TransactWriteItems are authorised one by one (Put -> PutItem, Delete -> DeleteItem), so transactions need
 * nothing more.
 */
export function grantTableActions(
  table: ITable,
  grantee: IGrantable,
  actions: readonly DynamoAction[],
  indexes: readonly string[] = [],
): Grant[] {
  const grants = [Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [table.tableArn] })];
  if (indexes.length > 0) {
    grants.push(
      Grant.addToPrincipal({
        grantee,
        actions: ['dynamodb:Query'],
        resourceArns: indexes.map((name) => `${table.tableArn}/index/${name}`),
      }),
    );
  }
  return grants;
}
