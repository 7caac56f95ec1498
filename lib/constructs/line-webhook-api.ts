import { Validations } from 'aws-cdk-lib';
import { CfnStage, HttpApi, HttpMethod, HttpStage, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { webhookPath } from '../tenants';
import { throttledHttpApi } from './throttled-http-api';

/**
 * Stage default (requests/s, burst), for any route without its own settings. Every tenant route gets its own
 * limits (`TenantRoute.throttle`, default the same figures) so a flood at one tenant's route is refused there
 * and never uses up another tenant's share. LINE sends one request per batch of a channel's events.
 */
export const WEBHOOK_THROTTLE_RATE = 200;
export const WEBHOOK_THROTTLE_BURST = 400;

export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface TenantRoute {
  readonly tenantId: string;
  readonly throttle: RouteThrottle;
}

export function webhookRouteKey(tenantId: string): string {
  return `POST ${webhookPath(tenantId)}`;
}

/** The access log fields of every hagukumi HTTP API (the webhook's were the first). */
export { ACCESS_LOG_FIELDS as WEBHOOK_ACCESS_LOG_FIELDS } from './throttled-http-api';

// Defined with the tenant checks, which reject two tenants sharing one path before any construct exists.
export { webhookPath } from '../tenants';

export interface LineWebhookApiProps {
  /** The function behind every route. */
  readonly handler: IFunction;
  /** LINE-enabled tenants: one route each, with its own throttle. */
  readonly tenants: readonly TenantRoute[];
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

    ({
      api: this.api,
      stage: this.stage,
      accessLogs: this.accessLogs,
    } = throttledHttpApi(this, {
      apiName: props.apiName,
      description: 'LINE webhooks of the hagukumi tenants (one route per LINE channel)',
      rateLimit: WEBHOOK_THROTTLE_RATE,
      burstLimit: WEBHOOK_THROTTLE_BURST,
    }));

    const integration = new HttpLambdaIntegration('LineWebhook', props.handler, {
      // One invoke permission for the whole API instead of one per route: a function's resource policy is
      // capped at 20 KB, which a few dozen per-tenant statements would reach. The API has no route but these.
      scopePermissionToRoute: false,
    });
    // CloudFormation's RouteSettings is plain JSON (route key -> settings), passed through as written.
    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    const cfnStage = this.stage.node.defaultChild as CfnStage;
    for (const { tenantId, throttle } of props.tenants) {
      const [route] = this.api.addRoutes({ path: webhookPath(tenantId), methods: [HttpMethod.POST], integration });
      this.routes.set(tenantId, route!);
      // HttpStage has no per-route option; the L1 stage takes RouteSettings keyed by route key. CloudFormation
      // refuses settings for a route key that does not exist yet, hence the explicit dependency.
      routeSettings[webhookRouteKey(tenantId)] = {
        ThrottlingRateLimit: throttle.rateLimit,
        ThrottlingBurstLimit: throttle.burstLimit,
      };
      this.stage.node.addDependency(route!);
      // On the route resource itself: the first route also holds the shared integration and invoke permission.
      Validations.of(route!.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          "LINE calls the webhook without AWS credentials or tokens; each request is authenticated by the function, which checks the x-line-signature header (HMAC-SHA256 of the raw body with the tenant's channel secret) before acting.",
      });
    }
    cfnStage.routeSettings = routeSettings;
  }

  /** The URL to enter as the webhook URL of the tenant's channel in the LINE Developers console. */
  webhookUrl(tenantId: string): string {
    return `${this.api.apiEndpoint}${webhookPath(tenantId)}`;
  }
}
