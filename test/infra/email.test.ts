import { Match } from 'aws-cdk-lib/assertions';
import { buildApp, resourcesOfType, type BuiltApp } from './helpers';

let built: BuiltApp;
beforeAll(() => {
  built = buildApp({ emailSendRate: 40, transientBounceThreshold: 4 }, { skipBundling: true });
});

const workerEnv = () =>
  resourcesOfType(built.statelessTemplate, 'AWS::Lambda::Function').find(
    ([, fn]) => fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'shard-worker',
  )![1].Properties.Environment.Variables as Record<string, unknown>;

describe('email sending: configuration set, events, rate', () => {
  it('has one configuration set per stage, TLS required, publishing bounces and complaints to the default bus', () => {
    built.statelessTemplate.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    built.statelessTemplate.hasResourceProperties('AWS::SES::ConfigurationSet', {
      Name: 'hagukumi-test-mail',
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
    });
    built.statelessTemplate.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: ['bounce', 'complaint'],
        EventBridgeDestination: { EventBusArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }) },
      },
    });
    const [, destination] = resourcesOfType(built.statelessTemplate, 'AWS::SES::ConfigurationSetEventDestination')[0]!;
    expect(JSON.stringify(destination.Properties.EventDestination.EventBridgeDestination)).toContain(
      ':event-bus/default',
    );
  });

  it('routes only this stage’s SES bounces and complaints to the email-events function, with retries and a DLQ', () => {
    // The other rule is the alert retry's 5-minute rate (stacks.test.ts, least-privilege.test.ts).
    const rules = resourcesOfType(built.statelessTemplate, 'AWS::Events::Rule').filter(
      ([, r]) => r.Properties.EventPattern !== undefined,
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ses'],
      'detail-type': ['Email Bounced', 'Email Complaint Received'],
      detail: { mail: { tags: { 'ses:configuration-set': ['hagukumi-test-mail'] } } },
    });
    const [target] = rule.Properties.Targets;
    expect(JSON.stringify(target.Arn)).toContain('EmailEvents');
    expect(target.DeadLetterConfig).toBeDefined();
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
  });

  it('gives the function the transient threshold, and the worker the configuration set and the account-wide rate', () => {
    const events = resourcesOfType(built.statelessTemplate, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'email-events',
    )![1];
    expect(events.Properties.Environment.Variables.TRANSIENT_BOUNCE_THRESHOLD).toBe('4');
    expect(workerEnv().EMAIL_SEND_PER_SECOND).toBe('40');
    expect(JSON.stringify(workerEnv().SES_CONFIGURATION_SET)).toContain('EmailConfigurationSet');
  });

  it('defaults the rate to SES’s usual first production rate, 14 mails/s', () => {
    const plain = buildApp({}, { skipBundling: true });
    const env = resourcesOfType(plain.statelessTemplate, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'shard-worker',
    )![1].Properties.Environment.Variables;
    expect(env.EMAIL_SEND_PER_SECOND).toBe('14');
  });
});
