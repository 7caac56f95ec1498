import { CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  PhysicalResourceId,
  type AwsSdkCall,
} from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { AUDIT_TABLE, CONTENT_TABLE, DATA_TABLE, DELIVERY_TABLE } from '../schemas/tables';
import { StaffIdentity } from './constructs/staff-identity';
import { tableFromDefinition } from './constructs/table-from-definition';
import type { LoadedTenant } from './tenants';

export interface StatefulStackProps extends StackProps {
  readonly tenants: readonly LoadedTenant[];
  /** The Cognito hosted domain's prefix (globally unique in the region). */
  readonly consoleDomainPrefix: string;
}

/** Everything that holds data and must survive redeployments of the code: the tables and the tenant configs. */
export class StatefulStack extends Stack {
  readonly dataTable: Table;
  readonly deliveryTable: Table;
  readonly contentTable: Table;
  /** The key of the readers' keyed hashes (no item key holds a LINE id or email address). */
  readonly readerKeySecret: Secret;
  /** The signing keys of the email links' tokens (confirm, preferences, unsubscribe, survey). */
  readonly emailTokenSecret: Secret;
  /** The staff console's audit trail (its own table: only the console adds to it). */
  readonly auditTable: Table;
  /** Staff identity: the Cognito user pool, its hosted domain and groups, and the console's session secret. */
  readonly staffIdentity: StaffIdentity;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);

    this.dataTable = tableFromDefinition(this, DATA_TABLE);
    this.deliveryTable = tableFromDefinition(this, DELIVERY_TABLE);
    this.contentTable = tableFromDefinition(this, CONTENT_TABLE);
    this.auditTable = tableFromDefinition(this, AUDIT_TABLE);
    this.staffIdentity = new StaffIdentity(this, 'StaffIdentity', {
      tenantIds: props.tenants.map((t) => t.config.tenantId),
      domainPrefix: props.consoleDomainPrefix,
    });

    this.readerKeySecret = new Secret(this, 'ReaderKeySecret', {
      description: 'hagukumi: HMAC key of the reader keys (keyed hashes of LINE ids and email addresses)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // Every stored reader key was made with it: losing or replacing it orphans every reader's data.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.readerKeySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The reader key secret must never rotate: every reader key (partition key) is an HMAC made with it, so a new value would disconnect every reader from their data.',
    });

    this.emailTokenSecret = new Secret(this, 'EmailTokenSecret', {
      description:
        'hagukumi: HMAC keys of the signed tokens in email links ({"currentId","current","previousId","previous"})',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ currentId: '1' }),
        generateStringKey: 'current',
        passwordLength: 64,
        excludePunctuation: true,
      },
      // Links already mailed (unsubscribe links must keep working) are signed with it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.emailTokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotated by the operator like the LINE secrets (README, email tokens): the new key becomes "current" and the old one "previous", so links already mailed keep verifying; a rotation Lambda replacing the value whole would break every unsubscribe link in every inbox.',
    });

    this.writeTenantConfigs(props.tenants);

    new CfnOutput(this, 'DataTableName', { value: this.dataTable.tableName });
    new CfnOutput(this, 'DeliveryTableName', { value: this.deliveryTable.tableName });
    new CfnOutput(this, 'ContentTableName', { value: this.contentTable.tableName });
    new CfnOutput(this, 'AuditTableName', { value: this.auditTable.tableName });
    new CfnOutput(this, 'StaffUserPoolId', {
      value: this.staffIdentity.userPool.userPoolId,
      description: 'Create staff users here (admin-create-user) and add each to its <tenantId>:staff or :admin group',
    });
  }

  /**
   * Puts each validated tenant config into the Content table at deploy time (and deletes it when the tenant
   * file is removed), so the handlers read exactly what synth validated.
   */
  private writeTenantConfigs(tenants: readonly LoadedTenant[]): void {
    const logGroup = new LogGroup(this, 'TenantConfigWriterLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role, so the provider's logs need no AWSLambdaBasicExecutionRole.
    const role = new Role(this, 'TenantConfigWriterRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Writes the tenant configurations into the Content table at deploy time',
    });
    logGroup.grantWrite(role);

    for (const { config } of tenants) {
      const key = { pk: { S: 'TENANT' }, sk: { S: config.tenantId } };
      const put: AwsSdkCall = {
        service: 'DynamoDB',
        action: 'putItem',
        parameters: {
          TableName: this.contentTable.tableName,
          Item: { ...key, config: { S: JSON.stringify(config) } },
        },
        physicalResourceId: PhysicalResourceId.of(`tenant-config-${config.tenantId}`),
      };
      new AwsCustomResource(this, `TenantConfig-${config.tenantId}`, {
        onCreate: put,
        onUpdate: put,
        onDelete: {
          service: 'DynamoDB',
          action: 'deleteItem',
          parameters: { TableName: this.contentTable.tableName, Key: key },
        },
        policy: AwsCustomResourcePolicy.fromStatements([
          new PolicyStatement({
            actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
            resources: [this.contentTable.tableArn],
          }),
        ]),
        role,
        logGroup,
        // The SDK bundled with the Lambda runtime is enough for PutItem; fetching one at deploy time is a network dependency.
        installLatestAwsSdk: false,
      });
    }
  }
}
