import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { EmailNotAcceptedError, EmailRejectedError } from '../services/delivery-errors';
import type { EmailMessage, EmailSender } from '../services/ports';

export { EmailNotAcceptedError, EmailRejectedError } from '../services/delivery-errors';

/** Refusals of this message that no retry can change. */
const PERMANENT = new Set([
  'MessageRejected',
  'BadRequestException',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
]);

/**
 * The SDK's own retries are off: a retry after a lost answer could send the mail twice, and the shard worker
 * decides itself what may be sent again (see `sendEmail` in services/send-batch.ts).
 */
export const createSesClient = () =>
  new SESv2Client({ maxAttempts: 1, requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 } });

export class SesEmailSender implements EmailSender {
  constructor(
    private readonly ses = createSesClient(),
    private readonly configurationSetName?: string,
  ) {}

  async send(m: EmailMessage): Promise<{ messageId: string }> {
    try {
      const res = await this.ses.send(
        new SendEmailCommand({
          FromEmailAddress: m.fromName ? formatAddress(m.fromName, m.from) : m.from,
          Destination: { ToAddresses: [m.to] },
          ...(m.replyTo && { ReplyToAddresses: [m.replyTo] }),
          ConfigurationSetName: this.configurationSetName,
          // SES's Simple content builds the multipart/alternative message itself and carries our headers.
          Content: {
            Simple: {
              Subject: { Data: m.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: m.text, Charset: 'UTF-8' },
                ...(m.html !== undefined && { Html: { Data: m.html, Charset: 'UTF-8' } }),
              },
              Headers: m.headers?.length ? m.headers.map((h) => ({ Name: h.name, Value: h.value })) : undefined,
            },
          },
          EmailTags: m.tags ? Object.entries(m.tags).map(([Name, Value]) => ({ Name, Value })) : undefined,
        }),
      );
      return { messageId: res.MessageId ?? '' };
    } catch (err) {
      if (err instanceof Error && PERMANENT.has(err.name)) throw new EmailRejectedError({ cause: err });
      // SES answered with a client error (throttled, a limit, sending paused): the mail was not taken.
      if (answeredWithClientError(err)) throw new EmailNotAcceptedError({ cause: err });
      // No answer or a server fault: SES may have taken the mail. The caller must not send it again.
      throw err;
    }
  }
}

function answeredWithClientError(err: unknown): boolean {
  const e = err as { $fault?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return e.$fault === 'client' && status !== undefined && status >= 400 && status < 500;
}

/**
 * `"name" <address>` with a non-ASCII name as an RFC 2047 encoded word: SES takes the From address as a
 * header value and asks for MIME encoding of anything outside ASCII. A few lines here rather than a MIME
 * library for one header.
 */
export function formatAddress(name: string, address: string): string {
  const clean = name.replace(/[\r\n]/g, ' ').trim();
  const ascii = /^[\x20-\x7e]*$/.test(clean);
  const shown = ascii
    ? `"${clean.replace(/["\\]/g, '\\$&')}"`
    : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
  return `${shown} <${address}>`;
}
