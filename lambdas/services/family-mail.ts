import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { renderMail } from './email-render';
import type { EmailLinkSource, EmailSender } from './ports';

/** Subject of a notice to an email family member (a birth, a new date or a loss told by the other parent). */
export const FAMILY_NOTICE_SUBJECT = (tenantName: string) => `【${tenantName}】ご家族からのお知らせ`;

export interface FamilyMailDeps {
  mail: EmailSender;
  links: EmailLinkSource;
}

/**
 * Tells an email family member what the other parent reported on LINE, in a mail with their own preferences and
 * unsubscribe links (so "stop" is one click away at a hard moment too). The caller sends it once per stored change
 * (a redelivered webhook event is not applied again) and counts a failure: the change itself is stored.
 */
export async function mailFamilyNotice(
  deps: FamilyMailDeps,
  tenant: TenantConfig,
  to: Subscription,
  text: string,
): Promise<void> {
  const email = tenant.email;
  if (!email?.enabled || to.channel !== 'email' || !to.tokenVersion) return;
  const links = await deps.links.linksFor(tenant, { readerKey: to.readerKey, tokenVersion: to.tokenVersion });
  const mail = renderMail({
    tenantName: tenant.name,
    subject: FAMILY_NOTICE_SUBJECT(tenant.name),
    paragraphs: text.split(/\n{2,}/),
    links,
  });
  await deps.mail.send({
    from: email.from,
    ...(email.fromName !== undefined && { fromName: email.fromName }),
    ...(email.replyTo !== undefined && { replyTo: email.replyTo }),
    to: to.address,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    headers: mail.headers,
    tags: { tenant: tenant.tenantId, kind: 'subscribed' },
  });
}
