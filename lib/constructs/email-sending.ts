import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import {
  ConfigurationSet,
  ConfigurationSetTlsPolicy,
  EmailSendingEvent,
  EventDestination,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SES_DETAIL_TYPES, SES_EVENT_SOURCE } from '../../schemas/ses-event';
import { ENV } from '../../schemas/tables';
import { HagukumiFunction, handlerEntry } from './hagukumi-function';
import { grantTableActions } from './table-from-definition';

export interface EmailSendingProps {
  /** Unique per stage in the account: the stage's mail is told apart by it. */
  readonly configurationSetName: string;
  readonly dataTable: ITable;
  readonly deliveryTable: ITable;
  readonly contentTable: ITable;
  readonly readerKeySecret: ISecret;
  /** Distinct transient bounces after which an address is suppressed. */
  readonly transientBounceThreshold: number;
}

export const EMAIL_EVENTS_TIMEOUT = Duration.seconds(30);

/**
 * The sending side of email: the stage's SES configuration set (TLS required, reputation metrics), whose
 * bounces and complaints go to the default event bus, and the `email-events` function that a rule on that bus
 * invokes to suppress the addresses in our own table.
 */
export class EmailSending extends Construct {
  readonly configurationSet: ConfigurationSet;
  readonly emailEvents: HagukumiFunction;
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: EmailSendingProps) {
    super(scope, id);
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: props.configurationSetName,
      tlsPolicy: ConfigurationSetTlsPolicy.REQUIRE,
      reputationMetrics: true,
      // SES's account-level list as well: it stops a send before it costs reputation. Ours stays the record
      // (consent and unsubscribes are ours), and the pipeline skips suppressed readers before SES sees them.
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    // SES publishes to the default bus only.
    const bus = EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.configurationSet.addEventDestination('BouncesAndComplaints', {
      destination: EventDestination.eventBus(bus),
      events: [EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT],
    });

    // Events the function could not take after Lambda's and EventBridge's retries: kept for a replay.
    this.deadLetterQueue = new Queue(this, 'EmailEventsDlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.emailEvents = new HagukumiFunction(this, 'EmailEvents', {
      entry: handlerEntry('email-events'),
      serviceName: 'email-events',
      description: 'Suppresses email readers on SES bounces and complaints (our own list, by reader key)',
      timeout: EMAIL_EVENTS_TIMEOUT,
      deadLetterQueue: this.deadLetterQueue,
      environment: {
        [ENV.dataTable]: props.dataTable.tableName,
        [ENV.deliveryTable]: props.deliveryTable.tableName,
        [ENV.contentTable]: props.contentTable.tableName,
        [ENV.readerKeySecret]: props.readerKeySecret.secretArn,
        TRANSIENT_BOUNCE_THRESHOLD: String(props.transientBounceThreshold),
      },
    });
    // The reader's subscriptions (Query), the SUPPRESSION item (UpdateItem) and the subscriptions (PutItem,
    // in the suppression's transaction); tenants by id or all (GetItem, Query); the change marker (PutItem).
    grantTableActions(props.dataTable, this.emailEvents, ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    grantTableActions(props.contentTable, this.emailEvents, ['dynamodb:GetItem', 'dynamodb:Query']);
    grantTableActions(props.deliveryTable, this.emailEvents, ['dynamodb:PutItem']);
    this.emailEvents.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.readerKeySecret.secretFullArn ?? `${props.readerKeySecret.secretArn}-??????`],
      }),
    );

    this.rule = new Rule(this, 'SesEventsRule', {
      description: `SES bounces and complaints of configuration set ${props.configurationSetName}`,
      eventPattern: {
        source: [SES_EVENT_SOURCE],
        detailType: [...SES_DETAIL_TYPES],
        // Every stage's configuration set publishes to the one default bus: take this stage's mail only.
        detail: { mail: { tags: { 'ses:configuration-set': [props.configurationSetName] } } },
      },
      targets: [
        new LambdaFunction(this.emailEvents.fn, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }

  /** The configuration set's ARN: sending with it needs ses:SendEmail on it too. */
  get configurationSetArn(): string {
    return Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }
}
