import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { EmailMessage, EmailSender } from '../services/ports';

/** SES refused this message for good (bad address, rejected content); sending it again cannot help. */
export class EmailRejectedError extends Error {
  constructor(options: { cause: unknown }) {
    super('SES rejected the email', options);
    this.name = 'EmailRejectedError';
  }
}

const PERMANENT = new Set([
  'MessageRejected',
  'BadRequestException',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
]);

export class SesEmailSender implements EmailSender {
  constructor(
    private readonly ses = new SESv2Client({}),
    private readonly configurationSetName?: string,
  ) {}

  async send(m: EmailMessage): Promise<void> {
    try {
      await this.ses.send(
        new SendEmailCommand({
          FromEmailAddress: m.from,
          Destination: { ToAddresses: [m.to] },
          ConfigurationSetName: this.configurationSetName,
          Content: {
            Simple: {
              Subject: { Data: m.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: m.text, Charset: 'UTF-8' } },
              // RFC 8058 one-click unsubscribe, required of bulk senders.
              Headers: m.unsubscribeUrl
                ? [
                    { Name: 'List-Unsubscribe', Value: `<${m.unsubscribeUrl}>` },
                    { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
                  ]
                : undefined,
            },
          },
        }),
      );
    } catch (err) {
      if (err instanceof Error && PERMANENT.has(err.name)) throw new EmailRejectedError({ cause: err });
      throw err;
    }
  }
}
