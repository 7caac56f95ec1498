import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { EmailNotAcceptedError, EmailRejectedError, SesEmailSender } from '../../../lambdas/adapters/email-sender';
import { BotSdkLineSender, Pacer, workerPacing } from '../../../lambdas/adapters/line-sender';
import type { SESv2Client } from '@aws-sdk/client-sesv2';

/** An SDK error as the SES client throws it: a name, and where the answer came from. */
function sesError(name: string, fault: 'client' | 'server' | undefined, status?: number) {
  return Object.assign(new Error(name), {
    name,
    ...(fault && { $fault: fault }),
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });
}
const mail = { from: 'news@town.example.jp', to: 'a@example.jp', subject: 's', text: 't' };

describe('SesEmailSender tells what SES did with a mail', () => {
  const sender = (answer: () => unknown) =>
    new SesEmailSender({ send: async () => answer() } as unknown as SESv2Client);

  it('resolves with the message id when SES accepted it', async () => {
    await expect(sender(() => ({ MessageId: 'mid-1' })).send(mail)).resolves.toEqual({ messageId: 'mid-1' });
  });

  it.each([
    {
      label: 'a rejected message is refused for good',
      err: sesError('MessageRejected', 'client', 400),
      want: EmailRejectedError,
    },
    {
      label: 'an unverified sender is refused for good',
      err: sesError('MailFromDomainNotVerifiedException', 'client', 400),
      want: EmailRejectedError,
    },
    {
      label: 'throttling proves SES did not take it',
      err: sesError('TooManyRequestsException', 'client', 429),
      want: EmailNotAcceptedError,
    },
    {
      label: 'paused sending proves SES did not take it',
      err: sesError('SendingPausedException', 'client', 400),
      want: EmailNotAcceptedError,
    },
    { label: 'a server fault leaves the fate unknown', err: sesError('InternalFailure', 'server', 500), want: Error },
    { label: 'no answer at all leaves the fate unknown', err: sesError('TimeoutError', undefined), want: Error },
  ])('$label', async ({ err, want }) => {
    const thrown = await sender(() => {
      throw err;
    })
      .send(mail)
      .catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(want);
    if (want === Error) {
      expect(thrown).not.toBeInstanceOf(EmailRejectedError);
      expect(thrown).not.toBeInstanceOf(EmailNotAcceptedError);
    }
  });

  it('hands SES both parts, the headers, reply-to, the configuration set and the tenant tag', async () => {
    const inputs: unknown[] = [];
    const ses = { send: async (cmd: { input: unknown }) => (inputs.push(cmd.input), { MessageId: 'm' }) };
    await new SesEmailSender(ses as unknown as SESv2Client, 'hagukumi-dev').send({
      ...mail,
      fromName: 'みなと市',
      replyTo: 'help@town.example.jp',
      html: '<p>t</p>',
      headers: [{ name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' }],
      tags: { tenant: 'town' },
    });
    expect(inputs).toEqual([
      {
        // RFC 2047: みなと市 in UTF-8, base64.
        FromEmailAddress: '=?UTF-8?B?44G/44Gq44Go5biC?= <news@town.example.jp>',
        Destination: { ToAddresses: ['a@example.jp'] },
        ReplyToAddresses: ['help@town.example.jp'],
        ConfigurationSetName: 'hagukumi-dev',
        Content: {
          Simple: {
            Subject: { Data: 's', Charset: 'UTF-8' },
            Body: { Text: { Data: 't', Charset: 'UTF-8' }, Html: { Data: '<p>t</p>', Charset: 'UTF-8' } },
            Headers: [{ Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' }],
          },
        },
        EmailTags: [{ Name: 'tenant', Value: 'town' }],
      },
    ]);
  });

  it.each([
    { label: 'an ASCII name is quoted', name: 'Town "A"', want: '"Town \\"A\\"" <news@town.example.jp>' },
    {
      label: 'a line break cannot start a header',
      name: 'Town\r\nBcc: x',
      want: '"Town  Bcc: x" <news@town.example.jp>',
    },
  ])('formats the sender: $label', async ({ name, want }) => {
    const { formatAddress } = await import('../../../lambdas/adapters/email-sender');
    expect(formatAddress(name, 'news@town.example.jp')).toBe(want);
  });

  it('asks SES once: the SDK retries nothing itself', async () => {
    const { createSesClient } = await import('../../../lambdas/adapters/email-sender');
    expect(await createSesClient().config.maxAttempts()).toBe(1);
  });
});

describe('BotSdkLineSender classifies LINE answers', () => {
  const headers = (h: Record<string, string> = {}) => new Headers(h);
  const fetchError = (status: number, body = '{}', h: Record<string, string> = {}) =>
    new HTTPFetchError(`LINE answered ${status}`, { status, statusText: 'x', headers: headers(h), body });
  const senderThat = (answers: (() => unknown)[]) => {
    let n = 0;
    const client = {
      pushMessage: async () => (answers[n++] ?? answers.at(-1)!)(),
      multicast: async () => (answers[n++] ?? answers.at(-1)!)(),
    } as unknown as messagingApi.MessagingApiClient;
    return {
      sender: new BotSdkLineSender(
        client,
        { attempts: 3, startingDelayMs: 1, maxDelayMs: 2, requestTimeoutMs: 1_000 },
        { multicastPerSecond: 1_000, pushPerSecond: 1_000 },
      ),
      calls: () => n,
    };
  };
  const text = [{ type: 'text' as const, text: 'hi' }];
  const fail = (e: unknown) => () => {
    throw e;
  };

  it.each([
    { label: 'accepted', answers: [() => ({})], want: { status: 'sent' }, calls: 1 },
    {
      label: 'a repeat of an accepted retry key',
      answers: [fail(fetchError(409, '{}', { 'x-line-accepted-request-id': 'r1' }))],
      want: { status: 'duplicate' },
      calls: 1,
    },
    {
      label: 'the monthly limit, never retried',
      answers: [fail(fetchError(429, '{"message":"You have reached your monthly limit."}'))],
      want: { status: 'monthly-limit' },
      calls: 1,
    },
    {
      label: 'a 400 for good, never retried',
      answers: [fail(fetchError(400))],
      want: { status: 'rejected', httpStatus: 400 },
      calls: 1,
    },
    { label: 'a 429 then accepted', answers: [fail(fetchError(429)), () => ({})], want: { status: 'sent' }, calls: 2 },
    { label: 'a 500 then accepted', answers: [fail(fetchError(500)), () => ({})], want: { status: 'sent' }, calls: 2 },
  ])('$label', async ({ answers, want, calls }) => {
    const s = senderThat(answers);
    await expect(s.sender.push('U1', text, 'key')).resolves.toEqual(want);
    expect(s.calls()).toBe(calls);
  });

  it('gives up after its attempts on lasting 5xx with a named error', async () => {
    const s = senderThat([fail(fetchError(503))]);
    await expect(s.sender.multicast(['U1', 'U2'], text, 'key')).rejects.toMatchObject({ name: 'LineUnavailableError' });
    expect(s.calls()).toBe(3);
  });
});

describe('Pacer spaces requests evenly', () => {
  it('grants slots 1/rate apart and never two at once', async () => {
    let now = 0;
    const pacer = new Pacer(100, () => now);
    const granted: number[] = [];
    // Each take() that would wait is resolved by advancing the fake clock past its slot.
    for (let i = 0; i < 5; i++) {
      const p = pacer.take().then(() => granted.push(now));
      now += 10;
      await p;
    }
    expect(granted).toEqual([10, 20, 30, 40, 50]);
  });
});

describe('workerPacing: each worker paces at its share of its channel', () => {
  const channel = { multicastPerSecond: 200, pushPerSecond: 2000 };
  it.each([
    { label: 'a 1-shard town gets the whole channel', shards: 1, max: 1000, want: [200, 2000] },
    { label: '50 shards that may all run at once share it', shards: 50, max: 1000, want: [4, 40] },
    { label: 'no more workers than the event source runs at once', shards: 256, max: 4, want: [50, 500] },
    { label: 'without a cap, the shard count', shards: 8, max: undefined, want: [25, 250] },
  ])('$label', ({ shards, max, want }) => {
    expect(workerPacing(channel, shards, max)).toEqual({ multicastPerSecond: want[0], pushPerSecond: want[1] });
  });
});
