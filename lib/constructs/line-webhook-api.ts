import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Steady-state requests per second over all tenants; LINE sends one request per batch of a channel's events. */
export const WEBHOOK_THROTTLE_RATE = 200;
export const WEBHOOK_THROTTLE_BURST = 400;

/**
 * One access log line per request, as JSON. Only API Gateway's own context: never the body (readers' messages)
 * nor the headers (the LINE signature).
 */
export const WEBHOOK_ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationLatency: '$context.integrationLatency',
} as const;

export function webhookPath(tenantId: string): string {
  return `/line/${tenantId}/webhook`;
}

export interface LineWebhookApiProps {
  /** The function behind every route. */
  readonly handler: IFunction;
  /** LINE-enabled tenant ids: one route each. */
  readonly tenantIds: readonly string[];
  readonly apiName: string;
}

/**
 * The HTTP API that LINE calls: `POST /line/<tenantId>/webhook` for each LINE-enabled tenant, nothing else.
 * Without a `$default` route, an unknown path or tenant is answered 404 by API Gateway and never costs a
 * Lambda invocation.
 */
export class LineWebhookApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** Route per tenant id. */
  readonly routes = new Map<string, HttpRoute>();

  constructor(scope: Construct, id: string, props: LineWebhookApiProps) {
    super(scope, id);

    this.api = new HttpApi(this, 'Api', {
      apiName: props.apiName,
      description: 'LINE webhooks of the hagukumi tenants (one route per LINE channel)',
      // The stage is ours below: HttpApi's own default stage takes no access log or throttling settings.
      createDefaultStage: false,
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: WEBHOOK_THROTTLE_RATE, burstLimit: WEBHOOK_THROTTLE_BURST },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(WEBHOOK_ACCESS_LOG_FIELDS)),
      },
    });

    const integration = new HttpLambdaIntegration('LineWebhook', props.handler, {
      // One invoke permission for the whole API instead of one per route: a function's resource policy is
      // capped at 20 KB, which a few dozen per-tenant statements would reach. The API has no route but these.
      scopePermissionToRoute: false,
    });
    for (const tenantId of props.tenantIds) {
      const [route] = this.api.addRoutes({ path: webhookPath(tenantId), methods: [HttpMethod.POST], integration });
      this.routes.set(tenantId, route!);
      // On the route resource itself: the first route also holds the shared integration and invoke permission.
      Validations.of(route!.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          "LINE calls the webhook without AWS credentials or tokens; each request is authenticated by the function, which checks the x-line-signature header (HMAC-SHA256 of the raw body with the tenant's channel secret) before acting.",
      });
    }
  }

  /** The URL to enter as the webhook URL of the tenant's channel in the LINE Developers console. */
  webhookUrl(tenantId: string): string {
    return `${this.api.apiEndpoint}${webhookPath(tenantId)}`;
  }
}
