import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * One access log line per request, as JSON. Only API Gateway's own context: never the body (readers' messages,
 * forms), the headers (the LINE signature, cookies), the path (references) or the query (signed tokens).
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationLatency: '$context.integrationLatency',
} as const;

export interface ThrottledHttpApiProps {
  readonly apiName: string;
  readonly description: string;
  /** Stage default (requests/s, burst) for any route without its own settings. */
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface ThrottledHttpApi {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
}

/**
 * The shape every hagukumi HTTP API has: no `$default` route (so an unknown path never costs an invocation), our
 * own `$default` stage (HttpApi's default stage takes no access log or throttling settings), a throttle of its own
 * and JSON access logs kept three months. Each API is its own so that one kind of traffic (LINE, residents' pages,
 * staff) never uses up another's limits. Constructs are created in `scope` with the ids `Api`, `AccessLogs` and
 * `DefaultStage`, which keeps the logical ids of stacks deployed before this helper existed.
 */
export function throttledHttpApi(scope: Construct, props: ThrottledHttpApiProps): ThrottledHttpApi {
  const api = new HttpApi(scope, 'Api', {
    apiName: props.apiName,
    description: props.description,
    createDefaultStage: false,
  });
  const accessLogs = new LogGroup(scope, 'AccessLogs', {
    retention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stage = new HttpStage(scope, 'DefaultStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
    accessLogSettings: {
      destination: new LogGroupLogDestination(accessLogs),
      format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
    },
  });
  return { api, stage, accessLogs };
}
