// Each function's policy, rendered as "resource -> actions", equals what its adapters call (read off the code:
// lambdas/adapters/* per handler), nothing more. A new call needs a grant here first, and a test change here.
import { loadTenants } from '../../lib/tenants';
import { buildApp, nagViolations, acknowledgements, REAL_TENANTS_DIR, resourcesOfType, type BuiltApp } from './helpers';

let built: BuiltApp;
beforeAll(() => {
  built = buildApp({}, { skipBundling: true });
});

const tenants = () => loadTenants(REAL_TENANTS_DIR).map((t) => t.config);
const idOf = (stack: 'stateful' | 'stateless', construct: { node: { defaultChild?: unknown } }) =>
  built[stack].resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;

/** A resource as a readable label: the table (or index), queue, secret or identity it names. */
function label(resource: unknown): string {
  const text = JSON.stringify(resource);
  const tables = {
    Data: built.stateful.dataTable,
    Content: built.stateful.contentTable,
    Delivery: built.stateful.deliveryTable,
    Audit: built.stateful.auditTable,
  };
  for (const [name, table] of Object.entries(tables)) {
    if (text.includes(`ExportsOutputFnGetAtt${idOf('stateful', table)}Arn`)) {
      const index = /\/index\/([A-Za-z0-9_-]+)/.exec(text);
      return index ? `${name}/index/${index[1]}` : name;
    }
  }
  if (text.includes(idOf('stateful', built.stateful.readerKeySecret))) return 'secret:reader-key';
  if (text.includes(idOf('stateful', built.stateful.emailTokenSecret))) return 'secret:email-token';
  if (text.includes(':configuration-set/')) return 'ses-configuration-set';
  if (text.includes('EmailEventsDlq')) return 'EmailEventsDlq';
  if (text.includes(idOf('stateful', built.stateful.staffIdentity.sessionSecret))) return 'secret:console-session';
  const secret = /:secret:([^"]+)-\?{6}/.exec(text);
  if (secret) return `secret:${secret[1]}`;
  const identity = /:identity\/([^"]+)"/.exec(text);
  if (identity) return `ses-identity:${identity[1]}`;
  if (text.includes(idOf('stateless', built.stateless.shardQueue))) return 'ShardQueue';
  if (text.includes('FanOutDlq')) return 'FanOutDlq';
  if (text.includes('Logs')) return 'own-log-group';
  return text;
}

/** resource label -> sorted actions, over every statement of the function's role policy. */
function policyOf(rolePrefix: string): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  const statements = resourcesOfType(built.statelessTemplate, 'AWS::IAM::Policy')
    .filter(([id]) => id.startsWith(rolePrefix))
    .flatMap(
      ([, p]) =>
        p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Effect: string }[],
    );
  for (const s of statements) {
    expect(s.Effect).toBe('Allow');
    for (const r of [s.Resource].flat()) {
      const key = label(r);
      out[key] ??= new Set();
      for (const a of [s.Action].flat()) out[key].add(a);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

const XRAY = { '"*"': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'] };
const LOGS = { 'own-log-group': ['logs:CreateLogStream', 'logs:PutLogEvents'] };
const lineSecrets = (actions: string[]) =>
  Object.fromEntries(
    tenants()
      .filter((t) => t.line.enabled)
      .map((t) => [`secret:${t.line.secretName}`, actions]),
  );

describe('least privilege, function by function', () => {
  it('fan-out: reads tenants, writes the day layout, sends shard tasks', () => {
    expect(policyOf('FanOutRole')).toEqual({
      ...XRAY,
      ...LOGS,
      Content: ['dynamodb:GetItem', 'dynamodb:Query'],
      Delivery: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      ShardQueue: ['sqs:SendMessage'],
      // Lambda's asynchronous-invocation DLQ.
      FanOutDlq: ['sqs:SendMessage'],
    });
  });

  it('shard worker: its subscriptions by bucket, the plan store, content, the LINE secrets, the tenants’ SES identities', () => {
    const identities = tenants()
      .filter((t) => t.email?.enabled)
      .flatMap((t) => [t.email!.from, t.email!.from.split('@')[1]!]);
    expect(identities.length).toBeGreaterThan(0);
    expect(policyOf('ShardWorkerRole')).toEqual({
      ...XRAY,
      ...LOGS,
      Data: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      'Data/index/byShard': ['dynamodb:Query'],
      Content: ['dynamodb:GetItem', 'dynamodb:Query'],
      Delivery: [
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ],
      ...lineSecrets(['secretsmanager:GetSecretValue']),
      ...Object.fromEntries(identities.map((i) => [`ses-identity:${i}`, ['ses:SendEmail', 'ses:SendRawEmail']])),
      // Every send names the stage's configuration set, which SES authorises as well.
      'ses-configuration-set': ['ses:SendEmail', 'ses:SendRawEmail'],
      // The signed preferences and unsubscribe links of the daily mail.
      'secret:email-token': ['secretsmanager:GetSecretValue'],
      // The SQS event source (CDK's own grant for it).
      ShardQueue: [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ],
    });
  });

  it('alert retry: the outbox in the Data table (no index, no PutItem), tenants, mail from the alert senders only', () => {
    const alertSenders = tenants()
      .filter((t) => t.screening?.enabled)
      .flatMap((t) => [t.screening!.alertFrom, t.screening!.alertFrom.split('@')[1]!]);
    expect(policyOf('AlertRetryRole')).toEqual({
      ...XRAY,
      ...LOGS,
      Data: ['dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      Content: ['dynamodb:GetItem', 'dynamodb:Query'],
      ...Object.fromEntries(alertSenders.map((i) => [`ses-identity:${i}`, ['ses:SendEmail', 'ses:SendRawEmail']])),
      'ses-configuration-set': ['ses:SendEmail', 'ses:SendRawEmail'],
    });
  });

  it('webhook: readers in the Data table (no index), change markers and claim deletions, content, its secrets', () => {
    expect(policyOf('LineWebhookRole')).toEqual({
      ...XRAY,
      ...LOGS,
      Data: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      Content: ['dynamodb:GetItem', 'dynamodb:Query'],
      Delivery: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
      'secret:reader-key': ['secretsmanager:GetSecretValue'],
      // Signs the links of a notice mailed to an email family member.
      'secret:email-token': ['secretsmanager:GetSecretValue'],
      ...lineSecrets(['secretsmanager:GetSecretValue']),
      // Screening alerts to the health staff, from the screening tenants' alert senders only, family notices
      // from the senders of tenants with both channels, and inquiry notifications from the inquiry tenants'
      // notification senders, through the set.
      ...Object.fromEntries(
        tenants()
          .flatMap((t) => [
            ...(t.screening?.enabled ? [t.screening.alertFrom] : []),
            ...(t.email?.enabled && t.line.enabled ? [t.email.from] : []),
            ...(t.inquiries?.enabled ? [t.inquiries.notifyFrom] : []),
          ])
          .flatMap((a) => [a, a.split('@')[1]!])
          .map((i) => [`ses-identity:${i}`, ['ses:SendEmail', 'ses:SendRawEmail']]),
      ),
      ...(tenants().some(
        (t) =>
          t.screening?.enabled === true ||
          (t.email?.enabled === true && t.line.enabled) ||
          t.inquiries?.enabled === true,
      ) && {
        'ses-configuration-set': ['ses:SendEmail', 'ses:SendRawEmail'],
      }),
    });
  });

  describe('email pages: readers in the Data table (no index), content, the token keys', () => {
    const identities = () =>
      tenants()
        .filter((t) => t.email?.enabled)
        .flatMap((t) => [t.email!.from, t.email!.from.split('@')[1]!]);
    const ses = () => ({
      ...Object.fromEntries(identities().map((i) => [`ses-identity:${i}`, ['ses:SendEmail', 'ses:SendRawEmail']])),
      // Their mails go through the stage's configuration set too, so their bounces and complaints count.
      'ses-configuration-set': ['ses:SendEmail', 'ses:SendRawEmail'],
    });
    const common = {
      ...XRAY,
      ...LOGS,
      Content: ['dynamodb:GetItem', 'dynamodb:Query'],
      'secret:email-token': ['secretsmanager:GetSecretValue'],
    };

    it('sign-up: reads the reader and invites, puts the pending sign-up; hashes the address; mails', () => {
      expect(policyOf('EmailPagesEmailSignupRole')).toEqual({
        ...common,
        Data: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        'secret:reader-key': ['secretsmanager:GetSecretValue'],
        ...ses(),
      });
    });

    it('confirm: the subscription, the pending sign-up and a redeemed invite deleted, change markers; mails', () => {
      expect(policyOf('EmailPagesEmailConfirmRole')).toEqual({
        ...common,
        Data: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Delivery: ['dynamodb:PutItem'],
        ...ses(),
      });
    });

    it("preferences: as the webhook (a deletion erases the reader's email claims); mails new links, pushes notices", () => {
      expect(policyOf('EmailPagesEmailPreferencesRole')).toEqual({
        ...common,
        Data: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Delivery: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
        ...ses(),
        // Notices to the family's LINE members.
        ...lineSecrets(['secretsmanager:GetSecretValue']),
      });
    });

    it('survey: answers, consent, the run pointer and alerts in the Data table; mails staff from the alert senders only', () => {
      const alertSenders = tenants()
        .filter((t) => t.email?.enabled && t.screening?.enabled)
        .flatMap((t) => [t.screening!.alertFrom, t.screening!.alertFrom.split('@')[1]!]);
      expect(alertSenders.length).toBeGreaterThan(0);
      expect(policyOf('EmailPagesEmailSurveyRole')).toEqual({
        ...common,
        Data: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        ...Object.fromEntries(alertSenders.map((i) => [`ses-identity:${i}`, ['ses:SendEmail', 'ses:SendRawEmail']])),
        'ses-configuration-set': ['ses:SendEmail', 'ses:SendRawEmail'],
      });
    });

    it('unsubscribe: stops (puts) with change markers; no mail, no reader key', () => {
      expect(policyOf('EmailPagesEmailUnsubscribeRole')).toEqual({
        ...common,
        Data: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Delivery: ['dynamodb:PutItem'],
      });
    });
  });

  it('email events: the reader’s partition in the Data table (no index), tenants, a change marker, the reader key secret', () => {
    expect(policyOf('EmailEmailEventsRole')).toEqual({
      ...XRAY,
      ...LOGS,
      // Subscriptions (Query), the SUPPRESSION item (UpdateItem), suppressed subscriptions (Put, in a transaction).
      Data: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      Content: ['dynamodb:GetItem', 'dynamodb:Query'],
      Delivery: ['dynamodb:PutItem'],
      'secret:reader-key': ['secretsmanager:GetSecretValue'],
      // Lambda's asynchronous-invocation DLQ.
      EmailEventsDlq: ['sqs:SendMessage'],
    });
  });

  describe('staff console: each function its own reads, only viewing functions add to the audit trail', () => {
    const common = { ...XRAY, ...LOGS, 'secret:console-session': ['secretsmanager:GetSecretValue'] };
    it.each([
      ['auth (sign-in and out): no table at all', 'StaffConsoleConsoleAuthRole', {}],
      ['inbox: queries the alerts', 'StaffConsoleConsoleInboxRole', { Data: ['dynamodb:Query'] }],
      [
        'alerts: reads one, records its follow-up, adds audit entries',
        'StaffConsoleConsoleAlertsRole',
        { Data: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Audit: ['dynamodb:PutItem'] },
      ],
      [
        'readers: the subscriptions and consent, adds audit entries',
        'StaffConsoleConsoleReadersRole',
        { Data: ['dynamodb:GetItem', 'dynamodb:Query'], Audit: ['dynamodb:PutItem'] },
      ],
      [
        "results: the tenant's surveys (its configuration) and the survey partitions, nothing audited",
        'StaffConsoleConsoleResultsRole',
        { Data: ['dynamodb:Query'], Content: ['dynamodb:GetItem', 'dynamodb:Query'] },
      ],
      [
        "broadcasts: the tenant's configuration and its broadcasts (list, schedule, cancel), no reader's data, nothing audited",
        'StaffConsoleConsoleBroadcastsRole',
        { Content: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'] },
      ],
      [
        "kpi: the tenant's configuration, the subscriptions (a Scan: no tenant-wide key), survey partitions and inquiry index, the day's counters; nothing audited",
        'StaffConsoleConsoleKpiRole',
        {
          Data: ['dynamodb:Query', 'dynamodb:Scan'],
          Delivery: ['dynamodb:Query'],
          Content: ['dynamodb:GetItem', 'dynamodb:Query'],
        },
      ],
      [
        'reports: delivery counters and the audit trail, read only',
        'StaffConsoleConsoleReportsRole',
        { Delivery: ['dynamodb:Query'], Audit: ['dynamodb:Query'] },
      ],
    ])('%s', (_label, role, tables) => {
      expect(policyOf(role)).toEqual({ ...common, ...tables });
    });

    it("inquiries: threads (Query, a transaction's Put and Delete, the delivery mark), tenants, audit entries; replies pushed with the tenants' LINE secrets or mailed from the email senders with the reader's link", () => {
      const senders = tenants()
        .filter((t) => t.email?.enabled)
        .flatMap((t) => [t.email!.from, t.email!.from.split('@')[1]!]);
      expect(policyOf('StaffConsoleConsoleInquiriesRole')).toEqual({
        ...common,
        Data: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Content: ['dynamodb:GetItem', 'dynamodb:Query'],
        Audit: ['dynamodb:PutItem'],
        'secret:email-token': ['secretsmanager:GetSecretValue'],
        ...lineSecrets(['secretsmanager:GetSecretValue']),
        ...Object.fromEntries(senders.map((i) => [`ses-identity:${i}`, ['ses:SendEmail', 'ses:SendRawEmail']])),
        'ses-configuration-set': ['ses:SendEmail', 'ses:SendRawEmail'],
      });
    });
  });

  it('passes cdk-nag AwsSolutions with every acknowledgement reasoned', () => {
    expect(nagViolations(built.app)).toEqual([]);
    const acks = acknowledgements(built.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(40);
  });
});
