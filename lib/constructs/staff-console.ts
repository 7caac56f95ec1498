import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { OAuthScope, UserPoolClient, UserPoolClientIdentityProvider, type IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CONSOLE_ROUTES } from '../../schemas/console';
import { ENV } from '../../schemas/tables';
import { HagukumiFunction, handlerEntry } from './hagukumi-function';
import { throttledHttpApi } from './throttled-http-api';
import { grantTableActions, type DynamoAction } from './table-from-definition';

type Method = 'GET' | 'POST';

/**
 * The console's functions, one per concern, each with its routes and only its own grants (read off
 * lambdas/adapters/console-repository.ts): sign-in touches no table; only the functions that show or change a
 * reader's data may add to the audit trail, and none may change or delete an entry.
 */
export const CONSOLE_FUNCTIONS = {
  auth: {
    description: 'Staff console: sign-in (authorization code + PKCE), callback, sign-out',
    routes: CONSOLE_ROUTES.auth,
    data: [],
    delivery: [],
    content: [],
    audit: [],
  },
  inbox: {
    description: 'Staff console: the inbox (screening alerts, urgent first)',
    routes: CONSOLE_ROUTES.inbox,
    data: ['dynamodb:Query'],
    delivery: [],
    content: [],
    audit: [],
  },
  alerts: {
    description: 'Staff console: a screening alert and its acknowledgement (audited)',
    routes: CONSOLE_ROUTES.alerts,
    data: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    delivery: [],
    content: [],
    audit: ['dynamodb:PutItem'],
  },
  readers: {
    description: "Staff console: a reader's channel, track, stage and consented screening history (audited)",
    routes: CONSOLE_ROUTES.readers,
    data: ['dynamodb:GetItem', 'dynamodb:Query'],
    delivery: [],
    content: [],
    audit: ['dynamodb:PutItem'],
  },
  results: {
    description: 'Staff console: survey results of the tenant (aggregates, cells under 5 suppressed)',
    routes: CONSOLE_ROUTES.results,
    data: ['dynamodb:Query'],
    delivery: [],
    content: ['dynamodb:GetItem', 'dynamodb:Query'],
    audit: [],
  },
  inquiries: {
    description: "Staff console: inquiries (list, thread audited, reply on the reader's channel, close, reopen)",
    routes: CONSOLE_ROUTES.inquiries,
    // Threads and lists (Query), a change in one transaction (Put, and Delete of the old inbox entry), a reply's
    // delivery mark (UpdateItem); the email reader's token version (Query of their subscriptions).
    data: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    delivery: [],
    // The tenant's configuration: its LINE channel and its email sender.
    content: ['dynamodb:GetItem', 'dynamodb:Query'],
    audit: ['dynamodb:PutItem'],
    replies: true,
  },
  broadcasts: {
    description: 'Staff console: segment broadcasts for admins (list, schedule, cancel)',
    routes: CONSOLE_ROUTES.broadcasts,
    data: [],
    delivery: [],
    // The tenant's configuration (GetItem/Query) and its broadcasts: list (Query), schedule (Put), cancel (Update).
    content: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    audit: [],
  },
  kpi: {
    description: "Staff console: the tenant's monthly KPI report (aggregates, cells under 5 suppressed)",
    routes: CONSOLE_ROUTES.kpi,
    // Subscriptions have no tenant-wide key: a filtered, projected Scan (adapters/kpi-repository.ts); survey
    // partitions and the inquiry index by Query. The day's counters by Query; the tenant's configuration.
    data: ['dynamodb:Query', 'dynamodb:Scan'],
    delivery: ['dynamodb:Query'],
    content: ['dynamodb:GetItem', 'dynamodb:Query'],
    audit: [],
  },
  reports: {
    description: 'Staff console: delivery counters by day, and the audit trail for admins',
    routes: CONSOLE_ROUTES.reports,
    data: [],
    delivery: ['dynamodb:Query'],
    content: [],
    audit: ['dynamodb:Query'],
  },
} as const satisfies Record<
  string,
  {
    description: string;
    routes: readonly (readonly [Method, string])[];
    data: readonly DynamoAction[];
    delivery: readonly DynamoAction[];
    /** The Content table: tenant configurations (a tenant's surveys). */
    content: readonly DynamoAction[];
    audit: readonly DynamoAction[];
    /** Sends staff replies: LINE pushes (the tenants' channel secrets) and mails (SES, the token keys). */
    replies?: true;
  }
>;
export type ConsoleFunction = keyof typeof CONSOLE_FUNCTIONS;

/** Staff click through pages; a flood is refused at the stage. */
export const CONSOLE_THROTTLE_RATE = 20;
export const CONSOLE_THROTTLE_BURST = 40;
export const CONSOLE_TIMEOUT = Duration.seconds(10);

export interface StaffConsoleProps {
  readonly apiName: string;
  readonly userPool: IUserPool;
  readonly domain: UserPoolDomain;
  readonly sessionSecret: ISecret;
  readonly dataTable: ITable;
  readonly deliveryTable: ITable;
  readonly contentTable: ITable;
  readonly auditTable: ITable;
  /** What the function that sends staff replies needs besides its tables. */
  readonly replies: {
    readonly emailTokenSecret: ISecret;
    /** The LINE secrets of the LINE-enabled tenants. */
    readonly lineSecrets: readonly ISecret[];
    /** SES identities (the email tenants' senders and their domains) replies may be sent from. */
    readonly sesIdentityArns: readonly string[];
    readonly configurationSet: { name: string; arn: string };
    readonly lineApiBaseUrl?: string;
  };
}

/**
 * The staff console: its own HTTP API (apart from residents' pages and LINE's webhook: its own throttle and
 * logs), the user pool's app client (authorization code with PKCE, a public client: no secret in a browser flow
 * that never needs one), and one function per concern. No `$default` route.
 */
export class StaffConsole extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly client: UserPoolClient;
  readonly functions = new Map<ConsoleFunction, HagukumiFunction>();

  constructor(scope: Construct, id: string, props: StaffConsoleProps) {
    super(scope, id);
    ({ api: this.api, stage: this.stage } = throttledHttpApi(this, {
      apiName: props.apiName,
      description: 'hagukumi staff console',
      rateLimit: CONSOLE_THROTTLE_RATE,
      burstLimit: CONSOLE_THROTTLE_BURST,
    }));
    const baseUrl = this.api.apiEndpoint;
    this.client = new UserPoolClient(this, 'Client', {
      userPool: props.userPool,
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID],
        callbackUrls: [`${baseUrl}/console/callback`],
        logoutUrls: [`${baseUrl}/console/signin`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(8),
      enableTokenRevocation: true,
    });
    const hosted = props.domain.baseUrl();
    for (const [name, spec] of Object.entries(CONSOLE_FUNCTIONS) as [
      ConsoleFunction,
      (typeof CONSOLE_FUNCTIONS)[ConsoleFunction],
    ][]) {
      const fn = new HagukumiFunction(this, `Console${name[0]!.toUpperCase()}${name.slice(1)}`, {
        entry: handlerEntry(`console-${name}`),
        serviceName: `console-${name}`,
        description: spec.description,
        timeout: CONSOLE_TIMEOUT,
        environment: {
          [ENV.dataTable]: props.dataTable.tableName,
          [ENV.deliveryTable]: props.deliveryTable.tableName,
          [ENV.auditTable]: props.auditTable.tableName,
          ...(spec.content.length > 0 && { [ENV.contentTable]: props.contentTable.tableName }),
          [ENV.consoleSessionSecret]: props.sessionSecret.secretArn,
          CONSOLE_BASE_URL: baseUrl,
          CONSOLE_CLIENT_ID: this.client.userPoolClientId,
          CONSOLE_USER_POOL_ID: props.userPool.userPoolId,
          CONSOLE_AUTHORIZE_URL: `${hosted}/oauth2/authorize`,
          CONSOLE_TOKEN_URL: `${hosted}/oauth2/token`,
          CONSOLE_LOGOUT_URL: `${hosted}/logout`,
          ...('replies' in spec && {
            [ENV.emailTokenSecret]: props.replies.emailTokenSecret.secretArn,
            SES_CONFIGURATION_SET: props.replies.configurationSet.name,
            ...(props.replies.lineApiBaseUrl ? { [ENV.lineApiBaseUrl]: props.replies.lineApiBaseUrl } : {}),
          }),
        },
      });
      this.functions.set(name, fn);
      if (spec.data.length > 0) grantTableActions(props.dataTable, fn, [...spec.data]);
      if (spec.delivery.length > 0) grantTableActions(props.deliveryTable, fn, [...spec.delivery]);
      if (spec.content.length > 0) grantTableActions(props.contentTable, fn, [...spec.content]);
      if (spec.audit.length > 0) grantTableActions(props.auditTable, fn, [...spec.audit]);
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [props.sessionSecret.secretFullArn ?? `${props.sessionSecret.secretArn}-??????`],
        }),
      );
      if ('replies' in spec) {
        for (const secret of [props.replies.emailTokenSecret, ...props.replies.lineSecrets])
          fn.role.addToPrincipalPolicy(
            new PolicyStatement({
              actions: ['secretsmanager:GetSecretValue'],
              resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
            }),
          );
        if (props.replies.sesIdentityArns.length > 0)
          fn.role.addToPrincipalPolicy(
            new PolicyStatement({
              actions: ['ses:SendEmail', 'ses:SendRawEmail'],
              // Sending through a configuration set is authorised against the set as well as the identity.
              resources: [...props.replies.sesIdentityArns, props.replies.configurationSet.arn],
            }),
          );
      }
      Validations.of(fn.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'xray:PutTraceSegments and xray:PutTelemetryRecords (Tracing.ACTIVE) support no resource-level permissions; every other statement of this role names its resources.',
      });
      const integration = new HttpLambdaIntegration(`console-${name}-integration`, fn.fn, {
        scopePermissionToRoute: false,
      });
      for (const [method, path] of spec.routes) {
        const [route] = this.api.addRoutes({ path, methods: [HttpMethod[method]], integration });
        Validations.of(route!.node.defaultChild!).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            "Authorised in the function, on every request: the sealed session cookie must hold a Cognito ID token that verifies (aws-jwt-verify: signature, issuer, audience, token_use, expiry) and names one tenant's staff group. An HTTP API JWT authorizer reads a header, not a cookie, and sign-in routes must be open.",
        });
      }
    }
  }
}
