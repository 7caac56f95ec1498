import { ENV } from '../../schemas/tables';
import {
  buildApp,
  makeTempDir,
  nagViolations,
  removeTempDirs,
  resourcesOfType,
  validTenant,
  writeTenantFiles,
  type BuiltApp,
} from './helpers';

const LINE_EMULATOR = 'https://line-emulator.example.test';

/**
 * Four tenants chosen to exercise the per-tenant wiring: two share a delivery time, one delivers in the
 * evening, one lives in another time zone; LINE and email are switched on and off.
 */
const tenantFiles = {
  'alpha.json': validTenant('alpha', {
    deliveryTime: '07:30',
    line: { enabled: true, secretName: 'hagukumi/alpha/line' },
    email: { enabled: true, from: 'info@alpha.example.jp', unsubscribeBaseUrl: 'https://api.alpha.example.jp' },
  }),
  'beta.json': validTenant('beta', {
    deliveryTime: '07:30',
    line: { enabled: false, secretName: 'hagukumi/beta/line' },
  }),
  'gamma.json': validTenant('gamma', {
    deliveryTime: '18:05',
    line: { enabled: true, secretName: 'hagukumi/gamma/line' },
    email: { enabled: false, from: 'mail@gamma.example.jp', unsubscribeBaseUrl: 'https://api.gamma.example.jp' },
  }),
  'nested/delta.json': validTenant('delta', {
    timeZone: 'America/New_York',
    deliveryTime: '07:30',
    line: { enabled: true, secretName: 'shared/delta+line@v1' },
  }),
};

let built: BuiltApp;
beforeAll(() => {
  const dir = makeTempDir('crafted');
  writeTenantFiles(dir, tenantFiles);
  built = buildApp({ tenantsDir: dir, stage: 'crafted', lineApiBaseUrl: LINE_EMULATOR }, { skipBundling: true });
});
afterAll(removeTempDirs);

const schedules = () =>
  resourcesOfType(built.statelessTemplate, 'AWS::Scheduler::Schedule').map(([, s]) => s.Properties);
const policyStatementsOf = (rolePrefix: string) =>
  resourcesOfType(built.statelessTemplate, 'AWS::IAM::Policy')
    .filter(([id]) => id.startsWith(rolePrefix))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
const workerPolicyStatements = () => policyStatementsOf('ShardWorkerRole');

describe('crafted tenants', () => {
  it('names the stacks after the stage', () => {
    expect(built.stateful.stackName).toBe('Hagukumi-crafted-Stateful');
    expect(built.stateless.stackName).toBe('Hagukumi-crafted-Stateless');
  });

  it.each([
    { label: '07:30 Tokyo (alpha, beta)', timeZone: 'Asia/Tokyo', deliveryTime: '07:30', cron: 'cron(30 7 * * ? *)' },
    { label: '18:05 Tokyo (gamma)', timeZone: 'Asia/Tokyo', deliveryTime: '18:05', cron: 'cron(5 18 * * ? *)' },
    {
      label: '07:30 New York (delta)',
      timeZone: 'America/New_York',
      deliveryTime: '07:30',
      cron: 'cron(30 7 * * ? *)',
    },
  ])('schedules $label once', ({ timeZone, deliveryTime, cron }) => {
    const matching = schedules().filter(
      (s) => s.ScheduleExpressionTimezone === timeZone && JSON.parse(s.Target.Input).deliveryTime === deliveryTime,
    );
    expect(matching).toHaveLength(1);
    expect(matching[0]!.ScheduleExpression).toBe(cron);
    expect(JSON.parse(matching[0]!.Target.Input)).toEqual({
      deliveryTime,
      timeZone,
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
  });

  it('has no other schedules', () => {
    expect(schedules()).toHaveLength(3);
  });

  it('derives the schedule ids from the time and zone', () => {
    const ids = built.stateless.schedules.map((s) => s.node.id).sort();
    expect(ids).toEqual(['Delivery-0730-America-New_York', 'Delivery-0730-Asia-Tokyo', 'Delivery-1805-Asia-Tokyo']);
  });

  it.each([
    { label: 'worker', role: 'ShardWorkerRole' },
    { label: 'webhook', role: 'LineWebhookRole' },
  ])('lets the $label read the secrets of LINE-enabled tenants only', ({ role }) => {
    const secretResources = policyStatementsOf(role)
      .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
      .map((s) => JSON.stringify(s.Resource))
      // The webhook's reader key secret is not a tenant's (webhook.test.ts checks it).
      .filter((r) => !/ReaderKeySecret|EmailTokenSecret/.test(r));
    expect(secretResources).toHaveLength(3);
    for (const name of ['hagukumi/alpha/line', 'hagukumi/gamma/line', 'shared/delta+line@v1']) {
      expect(secretResources.filter((r) => r.includes(`:secret:${name}-??????`))).toHaveLength(1);
    }
    expect(secretResources.join()).not.toContain('hagukumi/beta/line');
    expect(secretResources.join()).not.toContain('*');
  });

  it('lets the worker send email only from the identities of email-enabled tenants', () => {
    const ses = workerPolicyStatements().filter((s) => [s.Action].flat().some((a) => a.startsWith('ses:')));
    expect(ses).toHaveLength(1);
    const resources = JSON.stringify(ses[0]!.Resource);
    expect(resources).toContain(':identity/info@alpha.example.jp"');
    expect(resources).toContain(':identity/alpha.example.jp"');
    expect(resources).not.toContain('gamma');
    // The two identities and the stage's configuration set.
    expect([ses[0]!.Resource].flat()).toHaveLength(3);
    expect(resources).toContain(':configuration-set/');
  });

  it('lets the webhook send only from the senders of tenants with both channels (family notices)', () => {
    const ses = policyStatementsOf('LineWebhookRole').filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('ses:')),
    );
    expect(ses).toHaveLength(1);
    const resources = JSON.stringify(ses[0]!.Resource);
    // alpha has LINE and email; beta email only, gamma and delta LINE only: none of theirs.
    expect(resources).toContain(':identity/info@alpha.example.jp"');
    expect(resources).toContain(':identity/alpha.example.jp"');
    expect(resources).not.toMatch(/beta|gamma|delta/);
    expect([ses[0]!.Resource].flat()).toHaveLength(3);
  });

  it('routes the webhooks of LINE-enabled tenants only', () => {
    const keys = resourcesOfType(built.statelessTemplate, 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties.RouteKey as string)
      .filter((k) => k.includes('/line/'));
    expect(keys.sort()).toEqual(['POST /line/alpha/webhook', 'POST /line/delta/webhook', 'POST /line/gamma/webhook']);
  });

  it('outputs a webhook URL per LINE-enabled tenant, none for beta', () => {
    const ids = Object.keys(built.statelessTemplate.findOutputs('*')).filter((id) => id.startsWith('WebhookUrl'));
    expect(ids.sort()).toEqual(['WebhookUrlAlpha', 'WebhookUrlDelta', 'WebhookUrlGamma']);
    const value = JSON.stringify(built.statelessTemplate.findOutputs('WebhookUrlDelta').WebhookUrlDelta!.Value);
    expect(value).toContain('"/line/delta/webhook"');
  });

  it('passes the LINE API base URL from context to the worker and the webhook only', () => {
    const functions = resourcesOfType(built.statelessTemplate, 'AWS::Lambda::Function').map(
      ([, f]) => f.Properties.Environment.Variables as Record<string, string>,
    );
    const worker = functions.find((env) => env.POWERTOOLS_SERVICE_NAME === 'shard-worker');
    const fanOut = functions.find((env) => env.POWERTOOLS_SERVICE_NAME === 'fan-out');
    const webhook = functions.find((env) => env.POWERTOOLS_SERVICE_NAME === 'line-webhook');
    expect(worker?.[ENV.lineApiBaseUrl]).toBe(LINE_EMULATOR);
    expect(webhook?.[ENV.lineApiBaseUrl]).toBe(LINE_EMULATOR);
    expect(fanOut?.[ENV.lineApiBaseUrl]).toBeUndefined();
  });

  it('writes one config item per tenant', () => {
    built.statefulTemplate.resourceCountIs('Custom::AWS', Object.keys(tenantFiles).length);
  });

  it('carries no secret values', () => {
    const json = JSON.stringify([built.statefulTemplate.toJSON(), built.statelessTemplate.toJSON()]);
    expect(json).not.toMatch(/channelSecret|channelAccessToken/);
  });

  it('passes cdk-nag with these tenants too', () => {
    expect(nagViolations(built.app)).toEqual([]);
  });
});
