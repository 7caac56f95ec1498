import type { TenantConfig } from '../../schemas/tenant';
import type { MailLinks } from './email-render';
import type { EmailLinkSource } from './ports';

export class EmailLinksUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmailLinksUnavailableError';
  }
}

/**
 * The reader's links from the opaque token stored on their subscription, under the tenant's public API base.
 * Stands in until the signed tokens of services/email-tokens.ts are wired here (one port, so the shard worker
 * and the renderer do not change when they are).
 */
export class StoredTokenLinks implements EmailLinkSource {
  linksFor(tenant: TenantConfig, reader: { readerKey: string; unsubscribeToken?: string }): Promise<MailLinks> {
    const base = tenant.email?.unsubscribeBaseUrl.replace(/\/$/, '');
    if (!base) return Promise.reject(new EmailLinksUnavailableError(`tenant ${tenant.tenantId} has no email settings`));
    if (!reader.unsubscribeToken)
      return Promise.reject(new EmailLinksUnavailableError('the reader has no unsubscribe token'));
    const token = encodeURIComponent(reader.unsubscribeToken);
    return Promise.resolve({
      unsubscribe: `${base}/email/${tenant.tenantId}/unsubscribe?token=${token}`,
      preferences: `${base}/email/${tenant.tenantId}/preferences?token=${token}`,
    });
  }
}
