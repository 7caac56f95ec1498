import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { ENV } from '../../schemas/tables';
import {
  WEBHOOK_ACCESS_LOG_FIELDS,
  WEBHOOK_THROTTLE_BURST,
  WEBHOOK_THROTTLE_RATE,
} from '../../lib/constructs/line-webhook-api';
import {
  LINE_WEBHOOK_MEMORY_MB,
  LINE_WEBHOOK_TIMEOUT,
  tenantIdPascal,
  webhookUrlOutputIds,
} from '../../lib/stateless-stack';
import { InvalidTenantFileError, loadTenants } from '../../lib/tenants';
import {
  buildApp,
  makeTempDir,
  nagViolations,
  REAL_TENANTS_DIR,
  removeTempDirs,
  resourcesOfType,
  validTenant,
  writeTenantFiles,
  type BuiltApp,
} from './helpers';

// Wiring only: the bundle itself is built by stacks.test.ts.
let built: BuiltApp;
beforeAll(() => {
  built = buildApp({}, { skipBundling: true });
});
afterAll(removeTempDirs);

const lineTenants = () =>
  loadTenants(REAL_TENANTS_DIR)
    .filter((t) => t.config.line.enabled)
    .map((t) => t.config);
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  built.stateless.resolve((construct.node.defaultChild as CfnTable).logicalId) as string;
const statefulLogicalId = (construct: { node: { defaultChild?: unknown } }) =>
  built.stateful.resolve((construct.node.defaultChild as CfnTable).logicalId) as string;

const webhookFunction = () => {
  const found = resourcesOfType(built.statelessTemplate, 'AWS::Lambda::Function').filter(
    ([, f]) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'line-webhook',
  );
  expect(found).toHaveLength(1);
  return found[0]!;
};
const webhookStatements = () =>
  resourcesOfType(built.statelessTemplate, 'AWS::IAM::Policy')
    .filter(([id]) => id.startsWith('LineWebhookRole'))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
const actionsOf = (s: { Action: string | string[] }) => [s.Action].flat();
const apiLogicalId = () => logicalId(built.stateless.webhookApi.api);
/** Resources of this type that belong to the webhook API (the email pages have an API of their own). */
const ofWebhookApi = (type: string) =>
  resourcesOfType(built.statelessTemplate, type).filter(([, r]) =>
    JSON.stringify(r.Properties.ApiId ?? r.Properties.SourceArn).includes(`"Ref":"${apiLogicalId()}"`),
  );

describe('LINE webhook function', () => {
  it('runs on nodejs24.x arm64 with X-Ray, its timeout and memory, and a log group with retention', () => {
    const [, fn] = webhookFunction();
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: LINE_WEBHOOK_TIMEOUT.toSeconds(),
      MemorySize: LINE_WEBHOOK_MEMORY_MB,
    });
    expect(LINE_WEBHOOK_TIMEOUT.toSeconds()).toBe(10);
    expect(LINE_WEBHOOK_MEMORY_MB).toBe(512);
    const logGroups = built.statelessTemplate.findResources('AWS::Logs::LogGroup');
    expect(logGroups[fn.Properties.LoggingConfig.LogGroup.Ref]?.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it('gets the table names and the reader key secret, and the LINE API base URL only from context', () => {
    const env = webhookFunction()[1].Properties.Environment.Variables as Record<string, unknown>;
    expect(env[ENV.deliveryTable]).toEqual({
      'Fn::ImportValue': expect.stringContaining(`ExportsOutputRef${statefulLogicalId(built.stateful.deliveryTable)}`),
    });
    expect(env[ENV.readerKeySecret]).toEqual({
      'Fn::ImportValue': expect.stringContaining(
        `ExportsOutputRef${statefulLogicalId(built.stateful.readerKeySecret)}`,
      ),
    });
    expect(env[ENV.dataTable]).toEqual({
      'Fn::ImportValue': expect.stringContaining(`ExportsOutputRef${statefulLogicalId(built.stateful.dataTable)}`),
    });
    expect(env[ENV.contentTable]).toEqual({
      'Fn::ImportValue': expect.stringContaining(`ExportsOutputRef${statefulLogicalId(built.stateful.contentTable)}`),
    });
    expect(env).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'line-webhook', NODE_OPTIONS: '--enable-source-maps' });
    for (const absent of [ENV.shardQueueUrl, ENV.lineApiBaseUrl]) {
      expect(Object.keys(env)).not.toContain(absent);
    }
  });

  it("reads the deployment's reader key secret, by reference to the stateful stack's secret", () => {
    const readerKey = statefulLogicalId(built.stateful.readerKeySecret);
    const statements = webhookStatements().filter((s) => JSON.stringify(s.Resource).includes(readerKey));
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]!)).toEqual(['secretsmanager:GetSecretValue']);
  });

  // Its table, index, queue and secret access: test/infra/least-privilege.test.ts.

  it('alarms on function errors and on API 5xx, to the alarm topic', () => {
    const topic = { Ref: logicalId(built.stateless.node.findChild('AlarmTopic')) };
    built.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: webhookFunction()[0] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [topic],
    });
    built.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [
        { Name: 'ApiId', Value: { Ref: apiLogicalId() } },
        { Name: 'Stage', Value: '$default' },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [topic],
    });
  });
});

describe('LINE webhook HTTP API', () => {
  const routes = () => ofWebhookApi('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);

  it('is one HTTP API (the email pages and the staff console have their own)', () => {
    built.statelessTemplate.resourceCountIs('AWS::ApiGatewayV2::Api', 3);
    built.statelessTemplate.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  it('has exactly one POST route per LINE-enabled tenant, with the tenant id in the path', () => {
    const keys = routes()
      .map((r) => r.RouteKey)
      .sort();
    expect(keys).toEqual(
      lineTenants()
        .map((t) => `POST /line/${t.tenantId}/webhook`)
        .sort(),
    );
    expect(keys).toContain('POST /line/demo-minato/webhook');
    for (const route of routes()) expect(route.ApiId).toEqual({ Ref: apiLogicalId() });
  });

  it("has no $default route (unknown paths get API Gateway's 404 and never reach the function)", () => {
    expect(routes().map((r) => r.RouteKey)).not.toContain('$default');
    expect(routes().filter((r) => !/^POST \/line\/[a-z0-9-]+\/webhook$/.test(r.RouteKey))).toEqual([]);
  });

  it('sends every route to the webhook function through one Lambda proxy integration, payload 2.0', () => {
    const integrations = ofWebhookApi('AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(1);
    const [integrationId, integration] = integrations[0]!;
    expect(integration.Properties).toMatchObject({
      ApiId: { Ref: apiLogicalId() },
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [webhookFunction()[0], 'Arn'] },
    });
    for (const route of routes()) {
      expect(route.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
    }
  });

  it('lets API Gateway invoke the function from this API only', () => {
    const permissions = ofWebhookApi('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
    const props = permissions[0]![1].Properties;
    expect(props.FunctionName).toEqual({ 'Fn::GetAtt': [webhookFunction()[0], 'Arn'] });
    expect(JSON.stringify(props.SourceArn)).toContain(JSON.stringify({ Ref: apiLogicalId() }));
  });

  it('deploys to the $default stage with throttling', () => {
    const stages = ofWebhookApi('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    expect(stages[0]![1].Properties).toMatchObject({
      ApiId: { Ref: apiLogicalId() },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: WEBHOOK_THROTTLE_RATE,
        ThrottlingBurstLimit: WEBHOOK_THROTTLE_BURST,
      },
    });
    expect(WEBHOOK_THROTTLE_RATE).toBeGreaterThan(0);
    expect(WEBHOOK_THROTTLE_BURST).toBeGreaterThanOrEqual(WEBHOOK_THROTTLE_RATE);
  });

  it('gives every tenant route its own throttle (200/s, burst 400 unless the tenant file says otherwise)', () => {
    const [stageId, stage] = ofWebhookApi('AWS::ApiGatewayV2::Stage')[0]!;
    const routeResources = ofWebhookApi('AWS::ApiGatewayV2::Route');
    const expected = Object.fromEntries(
      lineTenants().map((t) => [
        `POST /line/${t.tenantId}/webhook`,
        { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      ]),
    );
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(2);
    expect(stage.Properties.RouteSettings).toEqual(expected);
    expect(Object.keys(stage.Properties.RouteSettings).sort()).toEqual(
      routeResources.map(([, r]) => r.Properties.RouteKey).sort(),
    );
    // CloudFormation refuses route settings for a route key that does not exist yet.
    const stageResource = built.statelessTemplate.toJSON().Resources[stageId];
    for (const [routeId] of routeResources) expect(stageResource.DependsOn).toContain(routeId);
  });

  it("takes a tenant's own webhook throttle from its file, route by route", () => {
    const dir = makeTempDir('throttle');
    writeTenantFiles(dir, {
      'busy-town.json': validTenant('busy-town', {
        line: {
          enabled: true,
          secretName: 'hagukumi/busy-town/line',
          webhookThrottle: { rateLimit: 50, burstLimit: 120 },
        },
      }),
      'calm-town.json': validTenant('calm-town'),
      'mail-town.json': validTenant('mail-town', { line: { enabled: false, secretName: 'hagukumi/mail-town/line' } }),
    });
    const crafted = buildApp({ tenantsDir: dir, stage: 'throttle' }, { skipBundling: true });
    const [, stage] = resourcesOfType(crafted.statelessTemplate, 'AWS::ApiGatewayV2::Stage')[0]!;
    expect(stage.Properties.RouteSettings).toEqual({
      'POST /line/busy-town/webhook': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 120 },
      'POST /line/calm-town/webhook': { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
    });
  });

  it('refuses a webhook throttle whose burst is below its rate, naming the file and field', () => {
    const dir = makeTempDir('throttle-bad');
    writeTenantFiles(dir, {
      'odd-town.json': validTenant('odd-town', {
        line: {
          enabled: true,
          secretName: 'hagukumi/odd-town/line',
          webhookThrottle: { rateLimit: 300, burstLimit: 100 },
        },
      }),
    });
    expect(() => loadTenants(dir)).toThrow(
      /odd-town\.json: line\.webhookThrottle: burstLimit must be at least rateLimit/,
    );
  });

  it('writes JSON access logs to a log group with retention, never bodies or headers', () => {
    const [, stage] = ofWebhookApi('AWS::ApiGatewayV2::Stage')[0]!;
    const { DestinationArn, Format } = stage.Properties.AccessLogSettings;
    const logGroupId = DestinationArn['Fn::GetAtt'][0] as string;
    const logGroup = built.statelessTemplate.toJSON().Resources[logGroupId];
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);

    const format = JSON.parse(Format);
    expect(format).toEqual(WEBHOOK_ACCESS_LOG_FIELDS);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLength: '$context.responseLength',
      integrationLatency: '$context.integrationLatency',
    });
    expect(Format).not.toMatch(/body|header|authorizer|querystring/i);
  });

  it('outputs the endpoint and, per LINE-enabled tenant, the webhook URL for the LINE Developers console', () => {
    const api = apiLogicalId();
    built.statelessTemplate.hasOutput('WebhookApiEndpoint', { Value: { 'Fn::GetAtt': [api, 'ApiEndpoint'] } });
    for (const { tenantId } of lineTenants()) {
      built.statelessTemplate.hasOutput(`WebhookUrl${tenantIdPascal(tenantId)}`, {
        Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [api, 'ApiEndpoint'] }, `/line/${tenantId}/webhook`]] },
      });
    }
    built.statelessTemplate.hasOutput('WebhookUrlDemoMinato', {});
    const urlOutputs = Object.keys(built.statelessTemplate.findOutputs('*')).filter((id) =>
      id.startsWith('WebhookUrl'),
    );
    expect(urlOutputs).toHaveLength(lineTenants().length);
  });

  it('passes cdk-nag (without bundling too)', () => {
    expect(nagViolations(built.app)).toEqual([]);
  });
});

describe('webhook URL output ids', () => {
  it.each([
    { tenantId: 'demo-minato', expected: 'DemoMinato' },
    { tenantId: 'ab', expected: 'Ab' },
    { tenantId: 'town-2', expected: 'Town2' },
    { tenantId: 'a-b-c9', expected: 'ABC9' },
  ])('$tenantId -> $expected', ({ tenantId, expected }) => {
    expect(tenantIdPascal(tenantId)).toBe(expected);
  });

  it('refuses two tenants whose output ids collide, naming both', () => {
    const dir = makeTempDir('collide');
    writeTenantFiles(dir, { 'town-2.json': validTenant('town-2'), 'town2.json': validTenant('town2') });
    const tenants = loadTenants(dir);
    expect(() => webhookUrlOutputIds(tenants)).toThrow(InvalidTenantFileError);
    expect(() => webhookUrlOutputIds(tenants)).toThrow(
      /"town2" and "town-2" .*both give the stack output WebhookUrlTown2/,
    );
    expect(() => buildApp({ tenantsDir: dir, stage: 'collide' }, { skipBundling: true })).toThrow(
      InvalidTenantFileError,
    );
  });
});
