import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InquiryRepository } from '../adapters/inquiry-repository';
import type { InquiryDeps } from '../services/inquiries';
import type { Clock, EmailSender } from '../services/ports';
import { metrics } from './runtime';

/**
 * What the residents' side (the LINE webhook, the email preferences page) needs to take an inquiry: the store,
 * and the staff notification mail with a console link when the console's URL is known.
 */
export function residentInquiryDeps(o: {
  db: DynamoDBDocumentClient;
  dataTable: string;
  mail: EmailSender;
  clock: Clock;
  consoleBaseUrl: string | undefined;
}): InquiryDeps {
  return {
    store: new InquiryRepository(o.db, o.dataTable),
    clock: o.clock,
    notifyMail: o.mail,
    ...(o.consoleBaseUrl ? { consoleBaseUrl: o.consoleBaseUrl } : {}),
    onNotifyFailed: () => metrics.addMetric('InquiryNotificationFailures', MetricUnit.Count, 1),
  };
}
