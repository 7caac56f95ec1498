import { randomBytes } from 'node:crypto';
import type { TenantConfig } from '../../schemas/tenant';
import { FaqIndex } from '../domain/faq';
import { acknowledgement } from '../domain/inquiry-dialog';
import { InquiryTextError, inquiryText } from '../domain/inquiries';
import { readerInquiries, submitInquiry, type InquiryDeps } from './inquiries';

/**
 * The inquiry form of the email preferences page (services/email-pages.ts calls these): the reader writes,
 * sees up to 3 answers of the tenant's FAQ for what they wrote, and only then sends it with 職員に送る (the
 * FAQ page shows the text again: that is the confirmation). The page also shows the reader's threads, so a
 * staff answer mailed with the preferences link can be read and answered here.
 */

/** A thread as the reader sees it: their messages and the municipality's answers, no staff names. */
export interface ShownThread {
  status: 'waiting' | 'answered' | 'closed';
  messages: { fromStaff: boolean; text: string; at: string }[];
}

export type InquiryFormOutcome =
  | { kind: 'faq'; text: string; answers: { question: string; answer: string }[]; submissionId: string }
  | { kind: 'sent'; message: string }
  | { kind: 'invalid'; error: string };

export const INQUIRY_PAGE_WORDS = {
  empty: 'お問い合わせの内容を入力してください。',
  tooLong: 'お問い合わせは2,000文字までです。短くしてください。',
  ackSubject: '【{tenantName}】お問い合わせを受け付けました',
} as const;

const textError = (err: InquiryTextError) =>
  err.reason === 'empty' ? INQUIRY_PAGE_WORDS.empty : INQUIRY_PAGE_WORDS.tooLong;

export const inquiriesEnabled = (tenant: TenantConfig, deps: { inquiries?: InquiryDeps }) =>
  tenant.inquiries?.enabled === true && deps.inquiries !== undefined;

/** Step 1: the FAQ answers for the text, and a submission id that makes the send a once-only post. */
export function inquiryFaq(tenant: TenantConfig, raw: string): InquiryFormOutcome {
  let text: string;
  try {
    text = inquiryText(raw);
  } catch (err) {
    if (err instanceof InquiryTextError) return { kind: 'invalid', error: textError(err) };
    throw err;
  }
  const byId = new Map(tenant.faq.map((e) => [e.id, e]));
  const answers = new FaqIndex(tenant.faq)
    .rank(text, 3)
    .map((r) => byId.get(r.id)!)
    .map((e) => ({ question: e.question, answer: e.answer }));
  return { kind: 'faq', text, answers, submissionId: randomBytes(12).toString('base64url') };
}

/** Step 2 (職員に送る): stored once per submission id (a reload or a double click posts the same id). */
export async function sendInquiryFromPage(
  tenant: TenantConfig,
  reader: { readerKey: string; address: string },
  form: { text: string; submissionId: string },
  deps: InquiryDeps,
): Promise<InquiryFormOutcome> {
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(form.submissionId)) return { kind: 'invalid', error: INQUIRY_PAGE_WORDS.empty };
  const r = await submitInquiry(
    tenant,
    {
      readerKey: reader.readerKey,
      channel: 'email',
      address: reader.address,
      text: form.text,
      // Random per form shown: a reload or a second click of the same form is stored once.
      sourceId: `email-${form.submissionId}`,
    },
    deps,
  );
  if (r.outcome === 'invalid') return { kind: 'invalid', error: textError(new InquiryTextError(r.reason)) };
  return { kind: 'sent', message: acknowledgement(tenant, 'メール') };
}

export async function shownThreads(tenant: TenantConfig, readerKey: string, deps: InquiryDeps): Promise<ShownThread[]> {
  const when = new Intl.DateTimeFormat('ja-JP', {
    timeZone: tenant.timeZone,
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
  return (await readerInquiries(tenant.tenantId, readerKey, deps)).map((t) => ({
    status: t.status === 'closed' ? 'closed' : t.status === 'answered' ? 'answered' : 'waiting',
    messages: t.messages.map((m) => ({
      fromStaff: m.author === 'staff',
      text: m.text,
      at: when.format(new Date(m.at)),
    })),
  }));
}
