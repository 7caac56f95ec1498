import { CfnResource } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { FanOutEventSchema } from '../../schemas/delivery';
import { ENV, TABLES } from '../../schemas/tables';
import { SHARD_MAX_RECEIVE_COUNT, SHARD_QUEUE_VISIBILITY, SHARD_WORKER_TIMEOUT } from '../../lib/stateless-stack';
import { loadTenants } from '../../lib/tenants';
import { CONSOLE_FUNCTIONS } from '../../lib/constructs/staff-console';
import { acknowledgements, buildApp, nagViolations, REAL_TENANTS_DIR, resourcesOfType, type BuiltApp } from './helpers';

// Built once: bundling the two handlers with esbuild is the slow part.
let built: BuiltApp;
beforeAll(() => {
  built = buildApp();
});

describe('stateful stack: tables from schemas/tables.ts', () => {
  it('has exactly one table per definition', () => {
    built.statefulTemplate.resourceCountIs('AWS::DynamoDB::Table', TABLES.length);
  });

  it.each(TABLES.map((def) => ({ id: def.id, def })))('$id matches its definition', ({ def }) => {
    const cfn = built.stateful.node.findChild(def.id).node.defaultChild as CfnTable;
    const logicalId = built.stateful.resolve(cfn.logicalId) as string;
    const resource = built.statefulTemplate.toJSON().Resources[logicalId];

    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    const props = resource.Properties;
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.SSESpecification).toMatchObject({ SSEEnabled: true });
    expect(props.DeletionProtectionEnabled).toBe(true);
    expect(props.KeySchema).toEqual([
      { AttributeName: def.partitionKey, KeyType: 'HASH' },
      { AttributeName: def.sortKey, KeyType: 'RANGE' },
    ]);
    expect(props.TimeToLiveSpecification).toEqual(
      def.timeToLiveAttribute ? { AttributeName: def.timeToLiveAttribute, Enabled: true } : undefined,
    );

    const keyNames = new Set([
      def.partitionKey,
      def.sortKey,
      ...def.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
    ]);
    expect(
      [...props.AttributeDefinitions].sort((a: { AttributeName: string }, b: { AttributeName: string }) =>
        a.AttributeName.localeCompare(b.AttributeName),
      ),
    ).toEqual([...keyNames].sort().map((name) => ({ AttributeName: name, AttributeType: 'S' })));

    const expectedIndexes = def.globalSecondaryIndexes.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    }));
    expect(props.GlobalSecondaryIndexes).toEqual(expectedIndexes.length > 0 ? expectedIndexes : undefined);
  });

  it('writes each tenant config into the Content table, and deletes it on delete', () => {
    const tenants = loadTenants(REAL_TENANTS_DIR);
    const resources = resourcesOfType(built.statefulTemplate, 'Custom::AWS');
    expect(resources).toHaveLength(tenants.length);
    const contentLogicalId = built.stateful.resolve(
      (built.stateful.contentTable.node.defaultChild as CfnTable).logicalId,
    ) as string;

    for (const { config } of tenants) {
      const found = resources.filter(([, r]) =>
        JSON.stringify(r.Properties.Create).includes(`{\\"S\\":\\"${config.tenantId}\\"}`),
      );
      expect(found).toHaveLength(1);
      const props = found[0]![1].Properties;
      // Fn::Join [ '', [ '{...TableName":"', {Ref: Content}, '",...}' ] ]: put the table name back to parse it.
      const call = (joined: { 'Fn::Join': [string, unknown[]] }) =>
        JSON.parse(
          joined['Fn::Join'][1]
            .map((part) =>
              typeof part === 'string' ? part : (expect(part).toEqual({ Ref: contentLogicalId }), 'CONTENT'),
            )
            .join(''),
        );
      const create = call(props.Create);
      expect(create).toMatchObject({ service: 'DynamoDB', action: 'putItem' });
      expect(create.parameters.TableName).toBe('CONTENT');
      expect(create.parameters.Item.pk).toEqual({ S: 'TENANT' });
      expect(create.parameters.Item.sk).toEqual({ S: config.tenantId });
      expect(JSON.parse(create.parameters.Item.config.S)).toEqual(config);
      expect(call(props.Update)).toEqual(create);
      const del = call(props.Delete);
      expect(del).toMatchObject({
        action: 'deleteItem',
        parameters: { TableName: 'CONTENT', Key: { pk: { S: 'TENANT' }, sk: { S: config.tenantId } } },
      });
    }
  });

  it('lets the config writer put and delete items in the Content table only', () => {
    const policies = resourcesOfType(built.statefulTemplate, 'AWS::IAM::Policy').filter(([id]) =>
      id.includes('CustomResourcePolicy'),
    );
    expect(policies.length).toBeGreaterThan(0);
    const contentLogicalId = built.stateful.resolve(
      (built.stateful.contentTable.node.defaultChild as CfnTable).logicalId,
    ) as string;
    for (const [, policy] of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        {
          Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [contentLogicalId, 'Arn'] },
        },
      ]);
    }
  });

  it('outputs the table names', () => {
    for (const name of ['DataTableName', 'DeliveryTableName', 'ContentTableName']) {
      built.statefulTemplate.hasOutput(name, {});
    }
  });
});

describe('stateless stack: queue, functions, schedules', () => {
  it('has a shard queue with a DLQ, SSE and a visibility timeout of at least 6 x the worker timeout', () => {
    expect(SHARD_QUEUE_VISIBILITY.toSeconds()).toBeGreaterThanOrEqual(6 * SHARD_WORKER_TIMEOUT.toSeconds());
    built.statelessTemplate.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: SHARD_QUEUE_VISIBILITY.toSeconds(),
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: SHARD_MAX_RECEIVE_COUNT },
    });
    expect(SHARD_MAX_RECEIVE_COUNT).toBeGreaterThanOrEqual(5);
    built.statelessTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: SHARD_WORKER_TIMEOUT.toSeconds(),
      MemorySize: 1024,
    });
  });

  it('encrypts every queue and refuses non-TLS access to it', () => {
    const queues = resourcesOfType(built.statelessTemplate, 'AWS::SQS::Queue');
    // Shard queue and DLQ, fan-out DLQ, email events DLQ.
    expect(queues.length).toBe(4);
    for (const [logicalId, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      built.statelessTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    for (const [, dlq] of queues.filter(([id]) => id.includes('Dlq'))) {
      expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
  });

  it('runs every function on nodejs24.x arm64 with X-Ray and a log group that has a retention', () => {
    const functions = resourcesOfType(built.statelessTemplate, 'AWS::Lambda::Function');
    expect(functions.map(([, fn]) => fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort()).toEqual([
      'alert-retry',
      'console-alerts',
      'console-auth',
      'console-broadcasts',
      'console-inbox',
      'console-inquiries',
      'console-kpi',
      'console-readers',
      'console-reports',
      'console-results',
      'email-confirm',
      'email-events',
      'email-preferences',
      'email-signup',
      'email-survey',
      'email-unsubscribe',
      'fan-out',
      'line-webhook',
      'shard-worker',
    ]);
    const logGroups = built.statelessTemplate.findResources('AWS::Logs::LogGroup');
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: expect.objectContaining({
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_METRICS_NAMESPACE: 'Hagukumi',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            POWERTOOLS_SERVICE_NAME: expect.any(String),
          }),
        },
      });
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(logGroups[logGroupId]?.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });

  it('gives the config writer of the stateful stack a Node 24 runtime and a log group with retention', () => {
    const functions = resourcesOfType(built.statefulTemplate, 'AWS::Lambda::Function');
    const logGroups = built.statefulTemplate.findResources('AWS::Logs::LogGroup');
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(logGroups[fn.Properties.LoggingConfig.LogGroup.Ref]?.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });

  it('uses no AWS-managed policies (log permissions are explicit, on the own log group)', () => {
    for (const template of [built.statefulTemplate, built.statelessTemplate]) {
      for (const [, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    }
  });

  it('sets the environment the handlers read (schemas/tables.ts ENV)', () => {
    const env = (serviceName: string) => {
      const fn = resourcesOfType(built.statelessTemplate, 'AWS::Lambda::Function').find(
        ([, f]) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === serviceName,
      );
      return fn![1].Properties.Environment.Variables as Record<string, unknown>;
    };
    expect(Object.keys(env('fan-out'))).toEqual(expect.arrayContaining([ENV.contentTable, ENV.shardQueueUrl]));
    expect(Object.keys(env('fan-out'))).not.toContain(ENV.dataTable);
    expect(Object.keys(env('shard-worker'))).toEqual(
      expect.arrayContaining([ENV.dataTable, ENV.deliveryTable, ENV.contentTable]),
    );
    // Only when given in context.
    expect(Object.keys(env('shard-worker'))).not.toContain(ENV.lineApiBaseUrl);
  });

  it('maps the shard queue to the worker one message at a time, with partial failures and a concurrency cap', () => {
    built.statelessTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    built.statelessTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 1000 },
    });
  });

  it('tells the shard worker the event source cap, so it paces at its share of its channel', () => {
    const fns = resourcesOfType(built.statelessTemplate, 'AWS::Lambda::Function');
    const worker = fns.find(([id]) => id.startsWith('ShardWorker'))?.[1];
    expect(worker?.Properties.Environment.Variables.SHARD_WORKER_MAX_CONCURRENCY).toBe('1000');
  });

  it('retries owed screening alert mails every 5 minutes, from a rule that invokes the alert retry function', () => {
    const rules = resourcesOfType(built.statelessTemplate, 'AWS::Events::Rule').filter(
      ([, r]) => r.Properties.ScheduleExpression !== undefined,
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(JSON.stringify(rules[0]![1].Properties.Targets)).toContain('AlertRetryFunction');
  });

  it('has one schedule per distinct delivery time, in the tenant time zone, with the fan-out input', () => {
    const tenants = loadTenants(REAL_TENANTS_DIR).map((t) => t.config);
    const slots = [...new Set(tenants.map((t) => `${t.timeZone}|${t.deliveryTime}`))];
    const schedules = resourcesOfType(built.statelessTemplate, 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(slots.length);

    for (const slot of slots) {
      const [timeZone, deliveryTime] = slot.split('|') as [string, string];
      const [hour, minute] = deliveryTime.split(':').map(Number);
      const match = schedules.filter(
        ([, s]) =>
          s.Properties.ScheduleExpression === `cron(${minute} ${hour} * * ? *)` &&
          s.Properties.ScheduleExpressionTimezone === timeZone,
      );
      expect(match).toHaveLength(1);
      const input = JSON.parse(match[0]![1].Properties.Target.Input);
      expect(input).toEqual({ deliveryTime, timeZone, scheduledTime: '<aws.scheduler.scheduled-time>' });
      // What the fan-out handler will parse once the scheduler has filled in the time.
      expect(FanOutEventSchema.safeParse({ ...input, scheduledTime: '2026-04-01T22:30:00Z' }).success).toBe(true);
    }
    for (const [, schedule] of schedules) {
      expect(schedule.Properties.ScheduleExpressionTimezone).toBe('Asia/Tokyo');
      expect(schedule.Properties.Target.DeadLetterConfig).toBeDefined();
      expect(schedule.Properties.Target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    }
  });

  it('alarms on a non-empty DLQ and on worker errors', () => {
    built.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [Match.anyValue()],
    });
    built.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^ShardWorkerFunction') } }],
      Threshold: 0,
    });
  });

  it('outputs the queue URL and the function names', () => {
    for (const name of ['ShardQueueUrl', 'FanOutFunctionName', 'ShardWorkerFunctionName', 'AlarmTopicArn']) {
      built.statelessTemplate.hasOutput(name, {});
    }
  });
});

describe('permissions and secrets', () => {
  const statementsOf = (template: BuiltApp['statelessTemplate']) =>
    resourcesOfType(template, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]);
  const actionsOf = (s: { Action: string | string[] }) => [s.Action].flat();
  const resourcesOfStatement = (s: { Resource: unknown }) => [s.Resource].flat();

  it.each([{ role: 'ShardWorkerRole' }, { role: 'LineWebhookRole' }])(
    "grants $role GetSecretValue only on the LINE-enabled tenants' secrets, never on `*`",
    ({ role }) => {
      const secretStatements = resourcesOfType(built.statelessTemplate, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith(role))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[])
        .filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')))
        // The webhook also reads the deployment's reader key secret (checked in webhook.test.ts), the worker the
        // email links' signing keys (least-privilege.test.ts).
        .filter((s) => !/ReaderKeySecret|EmailTokenSecret/.test(JSON.stringify(s.Resource)));
      const lineTenants = loadTenants(REAL_TENANTS_DIR).filter((t) => t.config.line.enabled);
      expect(secretStatements).toHaveLength(lineTenants.length);
      for (const statement of secretStatements) {
        for (const resource of resourcesOfStatement(statement)) {
          expect(resource).not.toBe('*');
          expect(JSON.stringify(resource)).not.toContain('*');
        }
      }
      for (const { config } of lineTenants) {
        expect(
          secretStatements.filter((s) =>
            JSON.stringify(s.Resource).includes(`:secret:${config.line.secretName}-??????`),
          ),
        ).toHaveLength(1);
      }
    },
  );

  it('lets no other role read secrets', () => {
    const readers = resourcesOfType(built.statelessTemplate, 'AWS::IAM::Policy')
      .filter(([, p]) =>
        (p.Properties.PolicyDocument.Statement as any[]).some((s) =>
          actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
        ),
      )
      .map(([id]) => id.replace(/DefaultPolicy.*$/, ''));
    // The email events function reads the reader key secret only (least-privilege.test.ts).
    expect(readers.sort()).toEqual([
      'EmailEmailEventsRole',
      'EmailPagesEmailConfirmRole',
      'EmailPagesEmailPreferencesRole',
      'EmailPagesEmailSignupRole',
      'EmailPagesEmailSurveyRole',
      'EmailPagesEmailUnsubscribeRole',
      'LineWebhookRole',
      'ShardWorkerRole',
      // The console functions read the secret that seals their session cookies (least-privilege.test.ts); the
      // inquiries function also the LINE secrets and the email token keys (staff replies).
      ...['Alerts', 'Auth', 'Broadcasts', 'Inbox', 'Inquiries', 'Kpi', 'Readers', 'Reports', 'Results'].map(
        (f) => `StaffConsoleConsole${f}Role`,
      ),
    ]);
  });

  it("allows SES sends only from the tenants' sender identities", () => {
    const ses = statementsOf(built.statelessTemplate).filter((s) => actionsOf(s).some((a) => a.startsWith('ses:')));
    // The shard worker, and the sign-up, confirm and preferences pages (their mails); not the unsubscribe page;
    // the webhook, for screening alerts from the screening tenants' alertFrom only; the console's inquiries
    // function (staff replies to email readers, from the tenants' senders); the survey page, for screening alerts
    // from the alertFrom of the tenants with email and screening; the alert retry, from every alertFrom.
    expect(ses).toHaveLength(8);
    const expected = loadTenants(REAL_TENANTS_DIR)
      .filter((t) => t.config.email?.enabled)
      .flatMap((t) => [t.config.email!.from, t.config.email!.from.split('@')[1]]);
    const alertSenders = loadTenants(REAL_TENANTS_DIR)
      .filter((t) => t.config.screening?.enabled)
      .flatMap((t) => [t.config.screening!.alertFrom, t.config.screening!.alertFrom.split('@')[1]]);
    for (const statement of ses) {
      expect(actionsOf(statement)).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
      const resources = resourcesOfStatement(statement);
      // The stage's configuration set, which every send names, and the identities.
      expect(resources.filter((r) => JSON.stringify(r).includes(':configuration-set/'))).toHaveLength(1);
      const identities = resources
        .filter((r) => !JSON.stringify(r).includes(':configuration-set/'))
        .map((r) => /:identity\/([^"]+)"/.exec(JSON.stringify(r))?.[1]);
      expect([[...new Set(expected)].sort(), [...new Set(alertSenders)].sort()]).toContainEqual(identities.sort());
    }
  });

  it('has no `*` resource except for X-Ray, which supports no resource-level permissions', () => {
    for (const template of [built.statefulTemplate, built.statelessTemplate]) {
      for (const statement of statementsOf(template)) {
        if (resourcesOfStatement(statement).includes('*')) {
          expect(actionsOf(statement).every((a) => a.startsWith('xray:'))).toBe(true);
        }
      }
    }
  });

  it('carries no secret values, only secret names; the two secrets it creates are generated by Secrets Manager', () => {
    for (const template of [built.statefulTemplate, built.statelessTemplate]) {
      const json = JSON.stringify(template.toJSON());
      expect(json).not.toMatch(/channelSecret|channelAccessToken/);
      expect(json).not.toContain('"SecretString"');
    }
    expect(Object.keys(built.statelessTemplate.findResources('AWS::SecretsManager::Secret'))).toEqual([]);
    const created = built.statefulTemplate.findResources('AWS::SecretsManager::Secret');
    // The reader key secret, the email token keys (a JSON keyring whose `current` key is generated), and the
    // console's cookie sealing key.
    expect(
      Object.keys(created)
        .map((id) => id.replace(/[A-F0-9]{8}$/, ''))
        .sort(),
    ).toEqual(['EmailTokenSecret', 'ReaderKeySecret', 'StaffIdentitySessionSecret']);
    // The session secret may be replaced (staff sign in again); the other two hold what must outlive the stack.
    for (const secret of Object.entries(created)
      .filter(([id]) => !id.startsWith('StaffIdentity'))
      .map(([, v]) => v))
      expect(secret).toMatchObject({
        Properties: { GenerateSecretString: { PasswordLength: 64 } },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    const emailToken = Object.entries(created).find(([id]) => id.startsWith('EmailTokenSecret'))![1];
    expect(emailToken).toMatchObject({
      Properties: { GenerateSecretString: { GenerateStringKey: 'current', SecretStringTemplate: '{"currentId":"1"}' } },
    });
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no unacknowledged errors or warnings', () => {
    const violations = nagViolations(built.app);
    expect(violations.filter((v) => v.severity === 'error')).toEqual([]);
    expect(violations).toEqual([]);
  });

  it('acknowledges only specific findings, each with its reason', () => {
    const acks = acknowledgements(built.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThan(40);
      // A finding id (`Rule[Resource::...]`) may sit on a role; a whole rule (one that reports no findings)
      // only on a construct holding a single resource, so it cannot silence anything else.
      if (ack.id.endsWith(']')) continue;
      const scope = built.app.node.findAll().find((c) => c.node.path === ack.path)!;
      expect(scope.node.findAll().filter((c) => CfnResource.isCfnResource(c))).toHaveLength(1);
    }
  });

  it('acknowledges the missing API authorization on the webhook routes (LINE signs), the email pages (signed tokens) and the console (sessions checked in the function) only', () => {
    const whole = acknowledgements(built.app).filter(
      (ack) =>
        !ack.id.endsWith(']') &&
        !ack.path.endsWith('/ReaderKeySecret') &&
        !ack.path.endsWith('/EmailTokenSecret') &&
        !ack.path.endsWith('/StaffIdentity/SessionSecret'),
    );
    const lineTenants = loadTenants(REAL_TENANTS_DIR).filter((t) => t.config.line.enabled);
    const emailTenants = loadTenants(REAL_TENANTS_DIR).filter((t) => t.config.email?.enabled);
    const webhook = whole.filter((ack) => ack.path.includes('/LineWebhookApi/'));
    const pages = whole.filter((ack) => ack.path.includes('/EmailPages/Api/'));
    expect(webhook).toHaveLength(lineTenants.length);
    // GET and POST of the five pages, per email tenant.
    expect(pages).toHaveLength(emailTenants.length * 5 * 2);
    const console = whole.filter((ack) => ack.path.includes('/StaffConsole/Api/'));
    expect(console).toHaveLength(Object.values(CONSOLE_FUNCTIONS).reduce((n, f) => n + f.routes.length, 0));
    for (const ack of console) {
      expect(ack.id).toMatch(/AwsSolutions-APIG4$/);
      expect(ack.reason).toContain('aws-jwt-verify');
    }
    expect(webhook.length + pages.length + console.length).toBe(whole.length);
    for (const ack of webhook) {
      expect(ack.id).toMatch(/AwsSolutions-APIG4$/);
      expect(ack.path).toMatch(/\/LineWebhookApi\/Api\/POST--line--[a-z0-9-]+--webhook\/Resource$/);
      expect(ack.reason).toContain('x-line-signature');
    }
    for (const ack of pages) {
      expect(ack.id).toMatch(/AwsSolutions-APIG4$/);
      expect(ack.path).toMatch(
        /\/EmailPages\/Api\/(GET|POST)--email--[a-z0-9-]+--(signup|confirm|preferences|unsubscribe|survey)\/Resource$/,
      );
      expect(ack.reason).toContain('signed token');
    }
  });
});

describe('monitoring (lib/constructs/monitoring.ts)', () => {
  const topic = () => ({ Ref: Match.stringLikeRegexp('^AlarmTopic') });
  it.each([
    ['a delivery finished after its deadline', 'ShardsFinishedLate', 'Hagukumi', 0],
    ['the SES bounce rate', 'Reputation.BounceRate', 'AWS/SES', 0.04],
    ['the SES complaint rate', 'Reputation.ComplaintRate', 'AWS/SES', 0.0008],
  ])('alarms on %s, notifying the alarm topic', (_label, metricName, namespace, threshold) => {
    built.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: metricName,
      Namespace: namespace,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topic()],
    });
  });

  it('still alarms on the DLQs, the workers, the webhook 5xx', () => {
    for (const metricName of ['ApproximateNumberOfMessagesVisible', 'Errors', '5xx'])
      built.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        AlarmActions: [topic()],
      });
  });

  it('has one dashboard with the delivery, DLQ, error, webhook and SES widgets', () => {
    const dashboards = built.statelessTemplate.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0]!.Properties.DashboardBody);
    for (const text of ['ShardsFinishedLate', 'Recipients', 'DeliveryFailures', 'Reputation.BounceRate', '5xx'])
      expect(body).toContain(text);
  });
});
