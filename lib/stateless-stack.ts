import { CfnOutput, Duration, Stack, TimeZone, Validations, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule as RuleSchedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { FanOutEvent } from '../schemas/delivery';
import { DATA_TABLE, ENV } from '../schemas/tables';
import type { TenantConfig } from '../schemas/tenant';
import { HagukumiFunction, handlerEntry } from './constructs/hagukumi-function';
import { EmailPages } from './constructs/email-pages';
import { EmailSending } from './constructs/email-sending';
import { StaffConsole } from './constructs/staff-console';
import type { StaffIdentity } from './constructs/staff-identity';
import { LineWebhookApi } from './constructs/line-webhook-api';
import { Monitoring } from './constructs/monitoring';
import { grantTableActions } from './constructs/table-from-definition';
import { InvalidTenantFileError, type LoadedTenant } from './tenants';

export interface StatelessStackProps extends StackProps {
  readonly tenants: readonly LoadedTenant[];
  readonly dataTable: ITable;
  readonly deliveryTable: ITable;
  readonly contentTable: ITable;
  /** The reader key secret of the deployment (stateful stack). */
  readonly readerKeySecret: ISecret;
  /** The signing keys of the email links' tokens (stateful stack). */
  readonly emailTokenSecret: ISecret;
  /** The account-wide SES send rate (mails per second) that all shard workers share. @default 14 */
  readonly emailSendRate?: number;
  /** Distinct transient bounces after which an address is suppressed. @default 3 */
  readonly transientBounceThreshold?: number;
  /** The staff console's audit trail and identity (stateful stack). */
  readonly auditTable: ITable;
  readonly staffIdentity: StaffIdentity;
  /** Points the worker at another LINE API (an emulator in a test account); LINE's production API when absent. */
  readonly lineApiBaseUrl?: string;
}

/** SES's usual first production rate; ask SES for more and set `-c emailSendRate=N`. */
export const DEFAULT_EMAIL_SEND_RATE = 14;
export const DEFAULT_TRANSIENT_THRESHOLD = 3;
export const FAN_OUT_TIMEOUT = Duration.seconds(60);
export const SHARD_WORKER_TIMEOUT = Duration.seconds(300);
/** AWS's advice for SQS event sources: visibility timeout at least 6 x the function timeout. */
export const SHARD_QUEUE_VISIBILITY = Duration.seconds(SHARD_WORKER_TIMEOUT.toSeconds() * 6);
export const SHARD_MAX_RECEIVE_COUNT = 5;
/** The shard worker's memory (MB); the bench prices its GB-seconds with the same figure (bench/report.ts). */
export const SHARD_WORKER_MEMORY_MB = 1024;
/**
 * The most shard workers at once: the SQS event source's ceiling (2-1,000 [AWS]). About 1,700 tenants with
 * one or more shards each would queue behind any lower figure; each worker paces itself at its tenant's share of
 * its channel (lambdas/adapters/line-sender.ts), so LINE's limits hold whatever this is. Needs an account
 * concurrency quota above the default 1,000, or the webhook would be throttled while a delivery runs.
 */
export const SHARD_WORKER_MAX_CONCURRENCY = 1000;
/** LINE expects the webhook's answer within about 2 s; the rest is headroom for a cold start and retries. */
export const LINE_WEBHOOK_TIMEOUT = Duration.seconds(10);
export const LINE_WEBHOOK_MEMORY_MB = 512;

/**
 * The delivery pipeline (scheduler -> fan-out -> shard queue -> shard worker), the LINE webhook
 * (HTTP API -> webhook function), and their alarms.
 */
export class StatelessStack extends Stack {
  readonly shardQueue: Queue;
  readonly shardDlq: Queue;
  readonly fanOut: HagukumiFunction;
  readonly shardWorker: HagukumiFunction;
  alertRetry!: HagukumiFunction;
  readonly lineWebhook: HagukumiFunction;
  readonly email: EmailSending;
  readonly webhookApi: LineWebhookApi;
  /** The email pages (sign-up, confirm, preferences, unsubscribe) and their HTTP API. */
  readonly emailPages: EmailPages;
  /** The staff console: its HTTP API, app client and functions. */
  readonly staffConsole: StaffConsole;
  readonly schedules: Schedule[] = [];

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const tenants = props.tenants.map((t) => t.config);
    const lineTenants = props.tenants.filter((t) => t.config.line.enabled);
    // Before any resource of this stack: two tenants must not share a webhook URL output id.
    const webhookOutputIds = webhookUrlOutputIds(lineTenants);

    this.shardDlq = new Queue(this, 'ShardDlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.shardQueue = new Queue(this, 'ShardQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: SHARD_QUEUE_VISIBILITY,
      deadLetterQueue: { queue: this.shardDlq, maxReceiveCount: SHARD_MAX_RECEIVE_COUNT },
    });
    // Schedules the scheduler could not deliver, and fan-out invocations that failed after Lambda's async retries.
    const fanOutDlq = new Queue(this, 'FanOutDlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.fanOut = new HagukumiFunction(this, 'FanOut', {
      entry: handlerEntry('fan-out'),
      serviceName: 'fan-out',
      description: 'Turns a delivery time into one SQS shard task per due tenant and shard',
      timeout: FAN_OUT_TIMEOUT,
      deadLetterQueue: fanOutDlq,
      environment: {
        [ENV.contentTable]: props.contentTable.tableName,
        [ENV.deliveryTable]: props.deliveryTable.tableName,
        [ENV.shardQueueUrl]: this.shardQueue.queueUrl,
      },
    });
    // Least privilege: each grant names what the function's adapters call, nothing more (test/infra/least-privilege).
    // Tenants and libraries (GetItem, Query).
    grantTableActions(props.contentTable, this.fanOut, ['dynamodb:GetItem', 'dynamodb:Query']);
    // The day's shard layout: written once, read back by repeats.
    grantTableActions(props.deliveryTable, this.fanOut, ['dynamodb:GetItem', 'dynamodb:PutItem']);
    // SendMessageBatch is authorised as SendMessage; the queue URL comes from the environment.
    this.fanOut.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.shardQueue.queueArn] }),
    );

    this.email = new EmailSending(this, 'Email', {
      configurationSetName: `${this.stackName.replace(/-Stateless$/, '').toLowerCase()}-mail`,
      dataTable: props.dataTable,
      deliveryTable: props.deliveryTable,
      contentTable: props.contentTable,
      readerKeySecret: props.readerKeySecret,
      transientBounceThreshold: props.transientBounceThreshold ?? DEFAULT_TRANSIENT_THRESHOLD,
    });

    this.shardWorker = new HagukumiFunction(this, 'ShardWorker', {
      entry: handlerEntry('shard-worker'),
      serviceName: 'shard-worker',
      description: 'Delivers one shard of one tenant on one date over LINE and email',
      timeout: SHARD_WORKER_TIMEOUT,
      memorySize: SHARD_WORKER_MEMORY_MB,
      environment: {
        [ENV.dataTable]: props.dataTable.tableName,
        [ENV.deliveryTable]: props.deliveryTable.tableName,
        [ENV.contentTable]: props.contentTable.tableName,
        SHARD_WORKER_MAX_CONCURRENCY: String(SHARD_WORKER_MAX_CONCURRENCY),
        [ENV.emailTokenSecret]: props.emailTokenSecret.secretArn,
        SES_CONFIGURATION_SET: this.email.configurationSet.configurationSetName,
        EMAIL_SEND_PER_SECOND: String(props.emailSendRate ?? DEFAULT_EMAIL_SEND_RATE),
        ...(props.lineApiBaseUrl ? { [ENV.lineApiBaseUrl]: props.lineApiBaseUrl } : {}),
      },
    });
    // Subscriptions by bucket (byShard) and per reader (send-time check); ended tracks marked by a conditional put;
    // survey invitations recorded (PutItem) and, once SES accepted the mail carrying one, marked sent (UpdateItem).
    grantTableActions(
      props.dataTable,
      this.shardWorker,
      ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      DATA_TABLE.globalSecondaryIndexes.map((gsi) => gsi.indexName),
    );
    grantTableActions(props.contentTable, this.shardWorker, ['dynamodb:GetItem', 'dynamodb:Query']);
    // Plans, batches (BatchWriteItem), counters, email claims, stale-task records; change markers (Query); the
    // send rate's per-second counters (UpdateItem).
    grantTableActions(props.deliveryTable, this.shardWorker, [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ]);

    this.lineWebhook = new HagukumiFunction(this, 'LineWebhook', {
      entry: handlerEntry('line-webhook'),
      serviceName: 'line-webhook',
      description:
        'Answers LINE webhook events: signature check, dedupe, registration dialog, menu, surveys, inquiries',
      timeout: LINE_WEBHOOK_TIMEOUT,
      memorySize: LINE_WEBHOOK_MEMORY_MB,
      environment: {
        [ENV.dataTable]: props.dataTable.tableName,
        [ENV.deliveryTable]: props.deliveryTable.tableName,
        [ENV.contentTable]: props.contentTable.tableName,
        [ENV.readerKeySecret]: props.readerKeySecret.secretArn,
        [ENV.emailTokenSecret]: props.emailTokenSecret.secretArn,
        SES_CONFIGURATION_SET: this.email.configurationSet.configurationSetName,
        ...(props.lineApiBaseUrl ? { [ENV.lineApiBaseUrl]: props.lineApiBaseUrl } : {}),
      },
    });
    // Readers, subscriptions, dialogs, invites, family links, event dedupe: reads, and Put/Delete in transactions;
    // a screening alert's outbox entry leased, its recipients recorded and the alert marked mailed (UpdateItem).
    grantTableActions(props.dataTable, this.lineWebhook, [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:UpdateItem',
    ]);
    grantTableActions(props.contentTable, this.lineWebhook, ['dynamodb:GetItem', 'dynamodb:Query']);
    // Change markers (put) and a deleted reader's email claims (delete), in the webhook's transactions; no reads.
    grantTableActions(props.deliveryTable, this.lineWebhook, ['dynamodb:PutItem', 'dynamodb:DeleteItem']);
    // Secrets are only ever read by value (Powertools getSecret); DescribeSecret is never called.
    readSecret(props.readerKeySecret, this.lineWebhook);
    // The daily mail's signed preferences and unsubscribe links; the webhook's for a notice to an email family member.
    readSecret(props.emailTokenSecret, this.shardWorker);
    readSecret(props.emailTokenSecret, this.lineWebhook);
    const lineSecrets = this.lineSecrets(tenants);
    for (const secret of lineSecrets) {
      readSecret(secret, this.shardWorker);
      readSecret(secret, this.lineWebhook);
    }
    this.grantEmailIdentities(tenants);
    this.shardWorker.fn.addEventSource(
      new SqsEventSource(this.shardQueue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: SHARD_WORKER_MAX_CONCURRENCY,
      }),
    );

    this.webhookApi = new LineWebhookApi(this, 'LineWebhookApi', {
      handler: this.lineWebhook.fn,
      tenants: lineTenants.map((t) => ({ tenantId: t.config.tenantId, throttle: t.config.line.webhookThrottle })),
      apiName: `${this.stackName}-line-webhook`,
    });

    const emailTenants = tenants.filter((t) => t.email?.enabled);
    this.emailPages = new EmailPages(this, 'EmailPages', {
      apiName: `${this.stackName}-email-pages`,
      tenants: emailTenants,
      dataTable: props.dataTable,
      deliveryTable: props.deliveryTable,
      contentTable: props.contentTable,
      readerKeySecret: props.readerKeySecret,
      emailTokenSecret: props.emailTokenSecret,
      sesIdentityArns: this.sesIdentityArns(emailTenants),
      alertIdentityArns: this.identityArns(
        emailTenants.flatMap((t) => (t.screening?.enabled ? [t.screening.alertFrom] : [])),
      ),
      lineSecrets,
      ...(props.lineApiBaseUrl ? { lineApiBaseUrl: props.lineApiBaseUrl } : {}),
      configurationSet: {
        name: this.email.configurationSet.configurationSetName,
        arn: this.email.configurationSetArn,
      },
    });

    this.staffConsole = new StaffConsole(this, 'StaffConsole', {
      apiName: `${this.stackName}-staff-console`,
      userPool: props.staffIdentity.userPool,
      domain: props.staffIdentity.domain,
      sessionSecret: props.staffIdentity.sessionSecret,
      dataTable: props.dataTable,
      deliveryTable: props.deliveryTable,
      contentTable: props.contentTable,
      auditTable: props.auditTable,
      replies: {
        emailTokenSecret: props.emailTokenSecret,
        lineSecrets,
        sesIdentityArns: this.sesIdentityArns(emailTenants),
        configurationSet: {
          name: this.email.configurationSet.configurationSetName,
          arn: this.email.configurationSetArn,
        },
        ...(props.lineApiBaseUrl ? { lineApiBaseUrl: props.lineApiBaseUrl } : {}),
      },
    });

    // Inquiry notifications link into the console (the link is all they carry); they come from the webhook
    // (LINE) and from the preferences page (email), each from the inquiry tenants' notification senders only.
    this.lineWebhook.fn.addEnvironment('CONSOLE_BASE_URL', this.staffConsole.api.apiEndpoint);
    const preferences = this.emailPages.functions.get('preferences');
    if (preferences) {
      preferences.fn.addEnvironment('CONSOLE_BASE_URL', this.staffConsole.api.apiEndpoint);
      const notifyFrom = new Set<string>();
      for (const t of emailTenants)
        if (t.inquiries?.enabled) {
          notifyFrom.add(t.inquiries.notifyFrom);
          notifyFrom.add(t.inquiries.notifyFrom.slice(t.inquiries.notifyFrom.lastIndexOf('@') + 1));
        }
      this.grantSend(preferences, notifyFrom);
    }

    this.createAlertRetry(tenants, props);
    this.createSchedules(tenants, fanOutDlq);
    this.createAlarms(fanOutDlq);
    this.acknowledgeFunctionFindings();

    new CfnOutput(this, 'ShardQueueUrl', { value: this.shardQueue.queueUrl });
    new CfnOutput(this, 'ShardDlqUrl', { value: this.shardDlq.queueUrl });
    new CfnOutput(this, 'FanOutDlqUrl', { value: fanOutDlq.queueUrl });
    new CfnOutput(this, 'FanOutFunctionName', { value: this.fanOut.fn.functionName });
    new CfnOutput(this, 'ShardWorkerFunctionName', { value: this.shardWorker.fn.functionName });
    new CfnOutput(this, 'LineWebhookFunctionName', { value: this.lineWebhook.fn.functionName });
    new CfnOutput(this, 'EmailConfigurationSet', { value: this.email.configurationSet.configurationSetName });
    new CfnOutput(this, 'EmailEventsFunctionName', { value: this.email.emailEvents.fn.functionName });
    new CfnOutput(this, 'WebhookApiEndpoint', { value: this.webhookApi.api.apiEndpoint });
    new CfnOutput(this, 'EmailPagesApiEndpoint', {
      value: this.emailPages.api.apiEndpoint,
      description: "Map the tenants' public email address (email.unsubscribeBaseUrl) to this API",
    });
    new CfnOutput(this, 'StaffConsoleUrl', {
      value: `${this.staffConsole.api.apiEndpoint}/console/inbox`,
      description: 'The staff console (sign-in with the StaffUserPoolId users)',
    });
    for (const { config } of lineTenants) {
      new CfnOutput(this, webhookOutputIds.get(config.tenantId)!, {
        value: this.webhookApi.webhookUrl(config.tenantId),
        description: `Webhook URL of ${config.tenantId}, for its channel in the LINE Developers console`,
      });
    }
  }

  /**
   * The secret of each LINE-enabled tenant, referenced once for every function that needs it (construct ids
   * must be unique in the stack).
   */
  private lineSecrets(tenants: readonly TenantConfig[]): ISecret[] {
    return tenants
      .filter((tenant) => tenant.line.enabled)
      .map((tenant) => Secret.fromSecretNameV2(this, `LineSecret-${tenant.tenantId}`, tenant.line.secretName));
  }

  /** The SES identities of the email tenants' senders: the address and, for a verified domain, its domain. */
  private sesIdentityArns(tenants: readonly TenantConfig[]): string[] {
    return this.identityArns(tenants.map((t) => t.email!.from));
  }

  /** SES identity ARNs of these senders: each address and its domain. */
  private identityArns(addresses: readonly string[]): string[] {
    const identities = new Set<string>();
    for (const a of addresses) {
      identities.add(a);
      identities.add(a.slice(a.lastIndexOf('@') + 1));
    }
    return [...identities]
      .sort()
      .map((identity) => this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }));
  }

  /**
   * The shard worker sends email only from the identities of email-enabled tenants. The webhook sends screening
   * alerts from the screening tenants' alert senders, and notices to an email family member of a LINE reader from
   * the senders of tenants with both channels.
   */
  private grantEmailIdentities(tenants: readonly TenantConfig[]): void {
    // SES authorises a send against the address identity or, when only the domain is verified, the domain's.
    const identitiesOf = (addresses: string[]) =>
      new Set(addresses.flatMap((a) => [a, a.slice(a.lastIndexOf('@') + 1)]));
    this.grantSend(this.shardWorker, identitiesOf(tenants.flatMap((t) => (t.email?.enabled ? [t.email.from] : []))));
    this.grantSend(
      this.lineWebhook,
      identitiesOf(
        tenants.flatMap((t) => [
          ...(t.screening?.enabled ? [t.screening.alertFrom] : []),
          ...(t.email?.enabled && t.line.enabled ? [t.email.from] : []),
          // Inquiry notifications to the staff, from the inquiry tenants' notification senders.
          ...(t.inquiries?.enabled ? [t.inquiries.notifyFrom] : []),
        ]),
      ),
    );
  }

  private grantSend(fn: HagukumiFunction, identities: ReadonlySet<string>): void {
    if (identities.size > 0) {
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          // Sending through a configuration set is authorised against the set as well as the identity.
          resources: [
            ...[...identities]
              .sort()
              .map((identity) => this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity })),
            this.email.configurationSetArn,
          ],
        }),
      );
    }
  }

  /** One schedule per distinct (time zone, delivery time): the fan-out picks the tenants due at it. */
  private createSchedules(tenants: readonly TenantConfig[], deadLetterQueue: Queue): void {
    const slots = new Map<string, { timeZone: string; deliveryTime: string }>();
    for (const { timeZone, deliveryTime } of tenants) {
      slots.set(`${timeZone} ${deliveryTime}`, { timeZone, deliveryTime });
    }
    const sorted = [...slots.values()].sort(
      (a, b) => a.timeZone.localeCompare(b.timeZone) || a.deliveryTime.localeCompare(b.deliveryTime),
    );

    const role = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler: invoke the fan-out function, dead-letter to the fan-out DLQ',
    });
    const fanOutLogicalId = this.resolve((this.fanOut.fn.node.defaultChild as CfnFunction).logicalId) as string;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fanOutLogicalId}.Arn>:*]`,
      reason:
        'LambdaInvoke grants lambda:InvokeFunction on the fan-out function and its versions/aliases (`<arn>:*`); no other function is reachable.',
    });

    for (const { timeZone, deliveryTime } of sorted) {
      const [hour, minute] = deliveryTime.split(':') as [string, string];
      const input: FanOutEvent = { deliveryTime, timeZone, scheduledTime: ContextAttribute.scheduledTime };
      this.schedules.push(
        new Schedule(this, scheduleId(timeZone, deliveryTime), {
          description: `Daily delivery at ${deliveryTime} ${timeZone}`,
          schedule: ScheduleExpression.cron({
            minute: String(Number(minute)),
            hour: String(Number(hour)),
            timeZone: TimeZone.of(timeZone),
          }),
          target: new LambdaInvoke(this.fanOut.fn, {
            input: ScheduleTargetInput.fromObject(input),
            // A delivery an hour late is still wanted; a day late is not (the next schedule takes over).
            maxEventAge: Duration.hours(1),
            retryAttempts: 10,
            deadLetterQueue,
            role,
          }),
        }),
      );
    }
  }

  /** Alarms on the DLQs, function errors and webhook 5xx; the dashboard and the rest: constructs/monitoring.ts. */
  private createAlarms(fanOutDlq: Queue): void {
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: 'hagukumi delivery alarms',
      enforceSSL: true,
      // Unencrypted on purpose: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key, and
      // alarm notifications carry only alarm names and metric values.
    });
    const action = new SnsAction(topic);
    const alarm = (id: string, metric: IMetric, description: string) => {
      new Alarm(this, id, {
        metric,
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(action);
    };
    const visible = { period: Duration.minutes(5), statistic: 'Maximum' };
    alarm(
      'ShardDlqNotEmpty',
      this.shardDlq.metricApproximateNumberOfMessagesVisible(visible),
      "Shard tasks failed 5 times and wait in the shard DLQ: some readers did not get today's message.",
    );
    alarm(
      'FanOutDlqNotEmpty',
      fanOutDlq.metricApproximateNumberOfMessagesVisible(visible),
      'A delivery schedule could not run the fan-out: whole tenants may have missed a delivery.',
    );
    alarm(
      'ShardWorkerErrors',
      this.shardWorker.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      'The shard worker failed; SQS retries the shard, then moves it to the DLQ.',
    );
    alarm(
      'LineWebhookErrors',
      this.lineWebhook.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      "The LINE webhook function failed: readers' messages may go unanswered (LINE redelivers only if redelivery is switched on for the channel).",
    );
    alarm(
      'WebhookApi5xx',
      this.webhookApi.stage.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      'The LINE webhook API answered 5xx (function error, timeout or failed invocation): LINE gets no 200 for those events.',
    );
    alarm(
      'EmailEventsErrors',
      this.email.emailEvents.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      'The bounce and complaint function failed; EventBridge retries, then the event waits in the email events DLQ.',
    );
    alarm(
      'EmailEventsDlqNotEmpty',
      this.email.deadLetterQueue.metricApproximateNumberOfMessagesVisible(visible),
      'SES bounce or complaint events could not be applied: those addresses are not suppressed yet (replay the DLQ).',
    );
    alarm(
      'FanOutErrors',
      this.fanOut.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      'The fan-out failed; Lambda retries it twice, then moves the event to the fan-out DLQ.',
    );
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn });
    new Monitoring(this, 'Monitoring', {
      topic,
      shardDlq: this.shardDlq,
      fanOutDlq,
      emailEventsDlq: this.email.deadLetterQueue,
      fanOut: this.fanOut,
      shardWorker: this.shardWorker,
      lineWebhook: this.lineWebhook,
      emailEvents: this.email.emailEvents,
      webhookStage: this.webhookApi.stage,
    });
  }

  /**
   * Screening alert mails still owed (SES failed when the answer came in) are sent again every 5 minutes until
   * SES accepted them (lambdas/services/alert-outbox.ts): the outbox partition (Query), leases and recipients
   * (UpdateItem), the entry and the alert mailed (DeleteItem, UpdateItem in a transaction); tenants from the
   * content table; mail from the screening tenants' alert senders only.
   */
  private createAlertRetry(tenants: readonly TenantConfig[], props: StatelessStackProps): void {
    this.alertRetry = new HagukumiFunction(this, 'AlertRetry', {
      entry: handlerEntry('alert-retry'),
      serviceName: 'alert-retry',
      description: 'Retries screening alert mails SES did not accept, every 5 minutes',
      timeout: Duration.minutes(1),
      environment: {
        [ENV.dataTable]: props.dataTable.tableName,
        [ENV.contentTable]: props.contentTable.tableName,
        SES_CONFIGURATION_SET: this.email.configurationSet.configurationSetName,
      },
    });
    grantTableActions(props.dataTable, this.alertRetry, [
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
    grantTableActions(props.contentTable, this.alertRetry, ['dynamodb:GetItem', 'dynamodb:Query']);
    const senders = tenants.flatMap((t) => (t.screening?.enabled ? [t.screening.alertFrom] : []));
    this.grantSend(this.alertRetry, new Set(senders.flatMap((a) => [a, a.slice(a.lastIndexOf('@') + 1)])));
    // An EventBridge rule rather than a Scheduler schedule: a plain rate needs no time zone, and the rule invokes
    // through the function's resource policy (no role). A missed run is simply the next one 5 minutes later.
    new Rule(this, 'AlertRetryRule', {
      description: 'Screening alert mails still owed, every 5 minutes',
      schedule: RuleSchedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(this.alertRetry.fn, { retryAttempts: 0 })],
    });
  }

  private acknowledgeFunctionFindings(): void {
    for (const fn of [this.fanOut, this.shardWorker, this.lineWebhook, this.email.emailEvents, this.alertRetry]) {
      Validations.of(fn.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'xray:PutTraceSegments and xray:PutTelemetryRecords (Tracing.ACTIVE) support no resource-level permissions; every other statement of this role names its resources.',
      });
    }
  }
}

/** `demo-minato` -> `DemoMinato`. */
export function tenantIdPascal(tenantId: string): string {
  return tenantId
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * `WebhookUrlDemoMinato` per tenant id. Dropping the hyphens can make two ids equal (`town-2`, `town2`); that
 * is a tenant file problem, reported like the others.
 */
export function webhookUrlOutputIds(tenants: readonly LoadedTenant[]): Map<string, string> {
  const ids = new Map<string, string>();
  const owners = new Map<string, LoadedTenant>();
  for (const tenant of tenants) {
    const id = `WebhookUrl${tenantIdPascal(tenant.config.tenantId)}`;
    const earlier = owners.get(id);
    if (earlier) {
      throw new InvalidTenantFileError([
        {
          file: tenant.file,
          field: 'tenantId',
          reason: `"${tenant.config.tenantId}" and "${earlier.config.tenantId}" (${earlier.file}) both give the stack output ${id}; rename one`,
        },
      ]);
    }
    owners.set(id, tenant);
    ids.set(tenant.config.tenantId, id);
  }
  return ids;
}

/** `Delivery-0730-Asia-Tokyo`: construct ids allow no `/`, and `+` must not collide with `-` (Etc/GMT+9). */
export function scheduleId(timeZone: string, deliveryTime: string): string {
  const zone = timeZone.replace(/\+/g, 'plus').replace(/[^A-Za-z0-9_-]/g, '-');
  return `Delivery-${deliveryTime.replace(':', '')}-${zone}`;
}

function readSecret(secret: ISecret, grantee: HagukumiFunction): void {
  grantee.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    }),
  );
}
