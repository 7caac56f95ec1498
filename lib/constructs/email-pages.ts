import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../schemas/tables';
import type { TenantConfig } from '../../schemas/tenant';
import { HagukumiFunction, handlerEntry } from './hagukumi-function';
import { throttledHttpApi } from './throttled-http-api';
import { grantTableActions } from './table-from-definition';

/** The pages and what each function may do: least privilege, read off lambdas/services/email-pages.ts. */
export const EMAIL_PAGES = {
  signup: {
    description: 'Email sign-up page and the double opt-in mail',
    // Pending sign-ups, the reader's state, invites (GetItem) and family members (Query); no delete, no markers.
    data: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'],
    delivery: [],
    readerKeys: true,
    mail: true,
    lineNotices: false,
    surveys: false,
  },
  confirm: {
    description: "Confirms an email sign-up (POST only) and mails today's message",
    // The subscription and the pending sign-up consumed (a conditional delete), a redeemed invite deleted.
    data: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    delivery: ['dynamodb:PutItem'],
    readerKeys: false,
    mail: true,
    lineNotices: false,
    surveys: false,
  },
  preferences: {
    description: 'Email readers: every lifecycle action of the LINE menu, as forms',
    data: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    // Change markers, and a deleted reader's email claims.
    delivery: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    readerKeys: false,
    mail: true,
    // A birth, a new date or a loss is pushed to the family's LINE members.
    lineNotices: true,
    surveys: false,
  },
  unsubscribe: {
    description: 'RFC 8058 one-click unsubscribe (POST); a GET shows a button',
    data: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'],
    delivery: ['dynamodb:PutItem'],
    readerKeys: false,
    mail: false,
    lineNotices: false,
    surveys: false,
  },
  survey: {
    description: 'Email readers answer a survey or a screening (signed link from the daily mail)',
    // The reader (GetItem/Query, the token's standing), the survey partition (Query), answers, completions,
    // declines, consent, the run pointer, the alert and its outbox entry (PutItem), the run pointer finished and
    // the outbox entry mailed (DeleteItem), the entry's lease and recipients and the alert mailed (UpdateItem); no
    // change markers: answering changes no subscription.
    data: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
    delivery: [],
    readerKeys: false,
    // Only the staff alert mail of a screening at or over the cut-off, from the alert senders (see props).
    mail: false,
    lineNotices: false,
    surveys: true,
  },
} as const;
export type EmailPage = keyof typeof EMAIL_PAGES;

export const EMAIL_PAGE_TIMEOUT = Duration.seconds(10);

export const emailPagePath = (tenantId: string, page: EmailPage) => `/email/${tenantId}/${page}`;

/** Residents open pages one at a time; a flood (a form bot) is refused at the stage, before any function runs. */
export const EMAIL_PAGES_THROTTLE_RATE = 50;
export const EMAIL_PAGES_THROTTLE_BURST = 100;

export interface EmailPagesProps {
  readonly apiName: string;
  /** Tenants with email switched on: their routes only. */
  readonly tenants: readonly TenantConfig[];
  readonly dataTable: ITable;
  readonly deliveryTable: ITable;
  readonly contentTable: ITable;
  readonly readerKeySecret: ISecret;
  readonly emailTokenSecret: ISecret;
  /** SES identities (addresses and their domains) the pages may send from. */
  readonly sesIdentityArns: readonly string[];
  /** The screening tenants' alert senders (and their domains): the survey page's only mail, to the staff. */
  readonly alertIdentityArns?: readonly string[];
  /** The LINE secrets of the LINE-enabled tenants (pushes to family members on LINE). */
  readonly lineSecrets: readonly ISecret[];
  readonly lineApiBaseUrl?: string;
  /** The stage's SES configuration set: the pages' mails are sent through it, so their bounces count too. */
  readonly configurationSet?: { name: string; arn: string };
}

/**
 * The residents' HTTP API: one function per page (sign-up, confirm, preferences, unsubscribe), each with GET and
 * POST routes per email tenant. Its own API, apart from LINE's webhook API: its own throttle and access logs,
 * and the tenant's public address (`email.unsubscribeBaseUrl`, a custom domain) maps to it alone. No `$default`
 * route: an unknown tenant or page never reaches a function. The access log has the route key, never the query
 * (the token) or a form body.
 */
export class EmailPages extends Construct {
  readonly functions = new Map<EmailPage, HagukumiFunction>();
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: EmailPagesProps) {
    super(scope, id);
    ({ api: this.api, stage: this.stage } = throttledHttpApi(this, {
      apiName: props.apiName,
      description: 'hagukumi email pages: sign-up, confirm, preferences, one-click unsubscribe',
      rateLimit: EMAIL_PAGES_THROTTLE_RATE,
      burstLimit: EMAIL_PAGES_THROTTLE_BURST,
    }));
    for (const [page, spec] of Object.entries(EMAIL_PAGES) as [EmailPage, (typeof EMAIL_PAGES)[EmailPage]][]) {
      const name = `email-${page}`;
      const fn = new HagukumiFunction(this, `Email${page[0]!.toUpperCase()}${page.slice(1)}`, {
        entry: handlerEntry(name),
        serviceName: name,
        description: spec.description,
        timeout: EMAIL_PAGE_TIMEOUT,
        environment: {
          [ENV.dataTable]: props.dataTable.tableName,
          [ENV.deliveryTable]: props.deliveryTable.tableName,
          [ENV.contentTable]: props.contentTable.tableName,
          [ENV.readerKeySecret]: props.readerKeySecret.secretArn,
          [ENV.emailTokenSecret]: props.emailTokenSecret.secretArn,
          ...(spec.surveys ? { EMAIL_PAGES_SURVEYS: 'true' } : {}),
          ...(spec.lineNotices
            ? {
                EMAIL_PAGES_LINE_NOTICES: 'true',
                ...(props.lineApiBaseUrl ? { [ENV.lineApiBaseUrl]: props.lineApiBaseUrl } : {}),
              }
            : {}),
          ...(props.configurationSet && { SES_CONFIGURATION_SET: props.configurationSet.name }),
        },
      });
      this.functions.set(page, fn);
      grantTableActions(props.dataTable, fn, [...spec.data]);
      if (spec.delivery.length > 0) grantTableActions(props.deliveryTable, fn, [...spec.delivery]);
      grantTableActions(props.contentTable, fn, ['dynamodb:GetItem', 'dynamodb:Query']);
      readSecret(props.emailTokenSecret, fn);
      if (spec.readerKeys) readSecret(props.readerKeySecret, fn);
      if (spec.lineNotices) for (const secret of props.lineSecrets) readSecret(secret, fn);
      const senders = spec.surveys ? (props.alertIdentityArns ?? []) : props.sesIdentityArns;
      if ((spec.mail || spec.surveys) && senders.length > 0)
        fn.role.addToPrincipalPolicy(
          new PolicyStatement({
            actions: ['ses:SendEmail', 'ses:SendRawEmail'],
            resources: [...senders, ...(props.configurationSet ? [props.configurationSet.arn] : [])],
          }),
        );
      Validations.of(fn.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'xray:PutTraceSegments and xray:PutTelemetryRecords (Tracing.ACTIVE) support no resource-level permissions; every other statement of this role names its resources.',
      });

      const integration = new HttpLambdaIntegration(`${name}-integration`, fn.fn, { scopePermissionToRoute: false });
      for (const tenant of props.tenants) {
        const routes = this.api.addRoutes({
          path: emailPagePath(tenant.tenantId, page),
          methods: [HttpMethod.GET, HttpMethod.POST],
          integration,
        });
        for (const route of routes)
          Validations.of(route.node.defaultChild!).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason:
              'Public pages for residents: the sign-up form is open by nature (double opt-in by mail); confirm, preferences, unsubscribe and survey act only on a signed token in the link (HMAC-SHA256, scoped to tenant, reader and purpose, expiring, revocable), as RFC 8058 one-click requires (no cookie, no sign-in).',
          });
      }
    }
  }
}

function readSecret(secret: ISecret, grantee: HagukumiFunction): void {
  grantee.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    }),
  );
}
