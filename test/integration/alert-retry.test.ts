import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { surveyKeys } from '../../lambdas/adapters/keys';
import { SesEmailSender } from '../../lambdas/adapters/email-sender';
import { SurveyRepository } from '../../lambdas/adapters/survey-repository';
import { askedSurveys } from '../../lambdas/domain/surveys';
import type { EmailMessage, EmailSender } from '../../lambdas/services/ports';
import { completeRun, alertMail } from '../../lambdas/services/survey-completion';
import { runAlertRetry, sesEmails } from '../../local/stack';
import { TenantConfigSchema, type TenantConfig } from '../../schemas/tenant';
import { startTestStack, testTenants, type TestStack } from './helpers';

jest.setTimeout(120_000);

const STAFF = ['hoken-a@example.jp', 'hoken-b@example.jp'];

/**
 * A screening alert whose mail SES did not take is retried by the scheduled function until accepted, never
 * twice to a recipient who has it: DynamoDB Local for the outbox, the SES emulator for the mail, failures
 * injected in front of the real SES client (a dead endpoint; a client that fails the second recipient).
 */
describe('screening alert mail retry (outbox, SES emulator)', () => {
  let stack: TestStack;
  let tenant: TenantConfig;
  let repo: SurveyRepository;
  let alertFrom: string;

  beforeAll(async () => {
    stack = await startTestStack('alert-retry', {
      tenants: (px) =>
        testTenants(px).map((t, i) =>
          i > 0
            ? t
            : TenantConfigSchema.parse({
                ...t,
                screening: { enabled: true, alertTo: STAFF, alertFrom: `alert.${px}@example.jp` },
              }),
        ),
    });
    tenant = stack.tenants[0]!;
    alertFrom = tenant.screening!.alertFrom;
    repo = new SurveyRepository(stack.db, stack.tables.data);
  });

  const epds = () => askedSurveys(tenant).find((s) => s.id === 'epds')!;
  const context = { track: 'childcare', stageBand: 'childcare-0-100d', audience: 'parent', channel: 'email' };
  /** A completed EPDS with the given item scores, raising its alert through the shared completion code. */
  async function screen(readerKey: string, scores: number[], alertMailer: EmailSender) {
    const run = { surveyId: 'epds', runId: 't1', next: 10, picked: [], startedAt: 0 };
    for (const [i, score] of scores.entries())
      await repo.putAnswer(
        tenant.tenantId,
        'epds',
        readerKey,
        't1',
        { questionId: `i${i + 1}`, value: 0, score },
        {
          ...context,
          answeredAt: 1,
        },
      );
    return completeRun(tenant, epds(), readerKey, run, { ...context, answeredAt: 2 }, new Date(), {
      surveys: repo,
      alertMail: alertMailer,
    });
  }
  const mailsFor = async (subjectPart: string) =>
    (await sesEmails(stack.endpoints.ses)).filter((m) => m.from.includes(alertFrom) && m.subject.includes(subjectPart));
  const outbox = async () =>
    (
      await stack.db.send(
        new QueryCommand({
          TableName: stack.tables.data,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': surveyKeys.outboxPk },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  const alertItem = async (reference: string) =>
    (
      await stack.db.send(
        new GetCommand({
          TableName: stack.tables.data,
          Key: { pk: surveyKeys.alertPk(tenant.tenantId), sk: surveyKeys.alertSk(reference) },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('SES unreachable: the alert waits in the outbox; the retry mails each staff member once; a second retry sends nothing', async () => {
    const dead = new SesEmailSender(
      new SESv2Client({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1, region: 'ap-northeast-1' }),
    );
    // 9 = a total at the cut-off (EPDS >= 9), item 10 at 0: not urgent.
    const result = await screen('email:retry-1', [1, 1, 1, 1, 1, 1, 1, 1, 1, 0], dead);
    expect(result).toMatchObject({ total: 9, positive: true, urgent: false });
    const entries = await outbox();
    expect(entries).toHaveLength(1);
    const reference = String(entries[0]!.alert.reference);
    expect(await alertItem(reference)).toMatchObject({ mailed: false });
    expect(await mailsFor(reference)).toEqual([]);

    expect(await runAlertRetry()).toMatchObject({ pending: 1, sent: 1, failed: 0 });
    const mails = await mailsFor(reference);
    expect(
      mails
        .map((m) => m.destination.to)
        .flat()
        .sort(),
    ).toEqual([...STAFF].sort());
    expect(mails[0]!.subject).toBe(alertMail(tenant, entries[0]!.alert as never).subject);
    expect(await outbox()).toEqual([]);
    expect(await alertItem(reference)).toMatchObject({ mailed: true, mailedAt: expect.any(Number) });

    expect(await runAlertRetry()).toMatchObject({ pending: 0, sent: 0 });
    expect(await mailsFor(reference)).toHaveLength(STAFF.length);
  });

  it('SES takes the first recipient and fails the second: the retry mails only the second', async () => {
    const real = new SesEmailSender();
    const secondFails: EmailSender = {
      send: (m: EmailMessage) => (m.to === STAFF[1] ? Promise.reject(new Error('throttled')) : real.send(m)),
    };
    await screen('email:retry-2', [3, 3, 3, 0, 0, 0, 0, 0, 0, 0], secondFails);
    const [entry] = await outbox();
    const reference = String(entry!.alert.reference);
    expect(entry!.sentTo).toEqual([STAFF[0]]);
    expect((await mailsFor(reference)).map((m) => m.destination.to[0])).toEqual([STAFF[0]]);
    expect(await runAlertRetry()).toMatchObject({ sent: 1 });
    const mails = await mailsFor(reference);
    expect(mails.map((m) => m.destination.to[0]).sort()).toEqual([...STAFF].sort());
    expect(await outbox()).toEqual([]);
  });

  it('the same completion again (a redelivered answer) raises no second alert', async () => {
    const before = (await sesEmails(stack.endpoints.ses)).filter((m) => m.from.includes(alertFrom)).length;
    await screen('email:retry-1', [1, 1, 1, 1, 1, 1, 1, 1, 1, 0], new SesEmailSender());
    expect(await outbox()).toEqual([]);
    expect((await sesEmails(stack.endpoints.ses)).filter((m) => m.from.includes(alertFrom))).toHaveLength(before);
  });
});
