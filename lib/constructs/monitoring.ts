import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { HagukumiFunction } from './hagukumi-function';

/** The namespace and service dimension of the functions' Powertools Metrics (lambdas/handlers/runtime.ts). */
export const METRICS_NAMESPACE = 'Hagukumi';
const POWERTOOLS_DIMENSIONS = { service: 'hagukumi' };

/** SES reviews an account at a 5 % bounce rate and 0.1 % complaints: the alarms ring before that. */
export const SES_BOUNCE_RATE_ALARM = 0.04;
export const SES_COMPLAINT_RATE_ALARM = 0.0008;

export interface MonitoringProps {
  readonly topic: ITopic;
  readonly shardDlq: IQueue;
  readonly fanOutDlq: IQueue;
  readonly emailEventsDlq: IQueue;
  readonly fanOut: HagukumiFunction;
  readonly shardWorker: HagukumiFunction;
  readonly lineWebhook: HagukumiFunction;
  readonly emailEvents: HagukumiFunction;
  readonly webhookStage: HttpStage;
}

/**
 * The operators' CloudWatch dashboard and the alarms that the stack's own alarms (DLQs, function errors,
 * webhook 5xx: StatelessStack.createAlarms) do not cover: a tenant's delivery not finished by its deadline
 * (`ShardsFinishedLate`, emitted by the shard worker through Powertools Metrics) and the SES account's bounce
 * and complaint rates (SES's own reputation metrics). Every alarm notifies the alarm topic.
 */
export class Monitoring extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const action = new SnsAction(props.topic);
    const five = Duration.minutes(5);
    // A label turns an alarm's metric into a metric-math expression: the alarms watch unlabelled metrics.
    const ours = (metricName: string, label?: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: POWERTOOLS_DIMENSIONS,
        statistic: 'Sum',
        period: five,
      }).with(label ? { label } : {});
    const ses = (metricName: string, label?: string) =>
      new Metric({ namespace: 'AWS/SES', metricName, statistic: 'Maximum', period: Duration.hours(1) }).with(
        label ? { label } : {},
      );
    const late = ours('ShardsFinishedLate', 'Shards finished after the deadline');
    const bounce = ses('Reputation.BounceRate', 'SES bounce rate');
    const complaint = ses('Reputation.ComplaintRate', 'SES complaint rate');

    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) =>
      new Alarm(this, alarmId, {
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(action);
    alarm(
      'DeliveryFinishedLate',
      ours('ShardsFinishedLate'),
      0,
      "A shard finished more than an hour after its tenant's delivery time: readers got today's message late (a shard that never finishes shows in the shard DLQ alarm).",
    );
    alarm(
      'SesBounceRate',
      ses('Reputation.BounceRate'),
      SES_BOUNCE_RATE_ALARM,
      'The SES bounce rate is over 4 % (SES reviews the account at 5 %): check the suppression function and the sign-up pages.',
    );
    alarm(
      'SesComplaintRate',
      ses('Reputation.ComplaintRate'),
      SES_COMPLAINT_RATE_ALARM,
      'The SES complaint rate is over 0.08 % (SES reviews the account at 0.1 %).',
    );

    const graph = (title: string, left: IMetric[]) => new GraphWidget({ title, left, width: 12, height: 6 });
    const visible = { period: five, statistic: 'Maximum' };
    const errors = { period: five, statistic: 'Sum' };
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${scopeName(scope)}-delivery`,
      widgets: [
        [
          graph('Delivered and failed recipients', [
            ours('Recipients', 'Recipients reached'),
            ours('DeliveryFailures', 'Recipients failed'),
            ours('WithheldAtSendTime', 'Withheld at send time'),
          ]),
          graph('Deadline', [late, ours('ShardRetries', 'Shard retries'), ours('StaleShardTasks', 'Stale tasks')]),
        ],
        [
          graph('Dead-letter queues (messages)', [
            props.shardDlq.metricApproximateNumberOfMessagesVisible({ ...visible, label: 'Shard DLQ' }),
            props.fanOutDlq.metricApproximateNumberOfMessagesVisible({ ...visible, label: 'Fan-out DLQ' }),
            props.emailEventsDlq.metricApproximateNumberOfMessagesVisible({ ...visible, label: 'Email events DLQ' }),
          ]),
          graph('Function errors', [
            props.fanOut.fn.metricErrors({ ...errors, label: 'Fan-out' }),
            props.shardWorker.fn.metricErrors({ ...errors, label: 'Shard worker' }),
            props.lineWebhook.fn.metricErrors({ ...errors, label: 'LINE webhook' }),
            props.emailEvents.fn.metricErrors({ ...errors, label: 'Email events' }),
          ]),
        ],
        [
          graph('LINE webhook API', [
            props.webhookStage.metricServerError({ ...errors, label: '5xx' }),
            props.webhookStage.metricClientError({ ...errors, label: '4xx' }),
          ]),
          graph('SES reputation', [bounce, complaint]),
        ],
      ],
    });
  }
}

const scopeName = (scope: Construct) => scope.node.id.replace(/[^A-Za-z0-9_-]/g, '-');
