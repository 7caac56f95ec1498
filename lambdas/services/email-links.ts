import type { TenantConfig } from '../../schemas/tenant';
import type { MailLinks } from './email-render';
import { emailLinks, surveyUrl } from './email-tokens';
import type { Clock, EmailLinkSource, EmailTokenKeySource } from './ports';

export class EmailLinksUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmailLinksUnavailableError';
  }
}

/**
 * The reader's preferences and unsubscribe links, signed for this tenant, reader and purpose with the
 * deployment's token keys (services/email-tokens.ts) and the reader's token version, so a stop or a deletion
 * (which bump the version) revokes every link already mailed.
 */
export class SignedEmailLinks implements EmailLinkSource {
  constructor(
    private readonly keys: EmailTokenKeySource,
    private readonly clock: Clock,
  ) {}

  async linksFor(
    tenant: TenantConfig,
    reader: { readerKey: string; tokenVersion?: string },
    surveyIds: readonly string[] = [],
  ): Promise<MailLinks> {
    if (!tenant.email) throw new EmailLinksUnavailableError(`tenant ${tenant.tenantId} has no email settings`);
    if (!reader.tokenVersion) throw new EmailLinksUnavailableError('the reader has no token version');
    const keys = await this.keys.get();
    const input = {
      baseUrl: tenant.email.unsubscribeBaseUrl,
      tenantId: tenant.tenantId,
      readerKey: reader.readerKey,
      tokenVersion: reader.tokenVersion,
      now: Math.floor(this.clock.now().getTime() / 1000),
    };
    const links = emailLinks(keys, input);
    return {
      unsubscribe: links.unsubscribeUrl,
      preferences: links.preferencesUrl,
      ...(surveyIds.length > 0 && {
        surveys: surveyIds.map((surveyId) => ({ surveyId, url: surveyUrl(keys, { ...input, surveyId }) })),
      }),
    };
  }
}
