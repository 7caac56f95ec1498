import { randomBytes } from 'node:crypto';
import type { ReaderAction } from '../../schemas/line-webhook';
import type { InquiryDraft } from '../../schemas/inquiry';
import type { TenantConfig } from '../../schemas/tenant';
import { draftText, inquiryCommand, InquiryWords, tooLong } from '../domain/inquiry-dialog';
import { openThreadOf } from '../domain/inquiries';
import type { BotMessage } from '../domain/replies';
import { submitInquiry, type InquiryDeps } from './inquiries';

export interface InquiryChatInput {
  tenant: TenantConfig;
  readerKey: string;
  userId: string;
  action: ReaderAction;
  /** The text is not a chat command and no registration step waits for it (domain/dialog.ts). */
  freeText: boolean;
  /** The LINE event: a redelivered 送信する is stored once. */
  webhookEventId: string;
  now: Date;
}

export interface InquiryChatOutput {
  replies: BotMessage[];
  /** The registration dialog is ended (お問い合わせ tapped in the middle of it: the next text is the question). */
  endDialog: boolean;
}

const newDraftId = () => randomBytes(9).toString('base64url');

/**
 * The inquiry part of a LINE event: undefined when the event is not about inquiries (or the tenant takes none),
 * else the replies. The draft (what the reader wrote, before they agreed to send it) is kept in the reader's
 * partition for a day; only 送信する stores the inquiry, keyed by the event so that a redelivery stores nothing.
 */
export async function handleInquiryChat(
  i: InquiryChatInput,
  deps: InquiryDeps,
): Promise<InquiryChatOutput | undefined> {
  if (!i.tenant.inquiries?.enabled) return undefined;
  const cmd = inquiryCommand(i.action, i.freeText);
  if (!cmd) return undefined;
  const t = i.tenant.tenantId;
  const words = new InquiryWords(i.tenant);
  const now = i.now.getTime();
  const out = (replies: BotMessage[], endDialog = false): InquiryChatOutput => ({ replies, endDialog });
  const draft = await deps.store.draft(t, i.readerKey);

  switch (cmd.kind) {
    case 'start': {
      const d: InquiryDraft = { draftId: newDraftId(), text: '-', step: 'write', at: now };
      await deps.store.putDraft(t, i.readerKey, d);
      return out([words.askToWrite(d.draftId)], true);
    }
    case 'text': {
      const text = draftText(draft, cmd.text, now);
      if (tooLong(text)) return out([words.tooLong()]);
      const d: InquiryDraft = { draftId: newDraftId(), text, step: 'faq', at: now };
      await deps.store.putDraft(t, i.readerKey, d);
      return out(words.offer(d, i.tenant.faq));
    }
    default:
      break;
  }
  // Buttons of a draft that is gone or replaced since.
  if (draft?.draftId !== cmd.draftId) return out([words.stale()]);
  switch (cmd.kind) {
    case 'solved':
      await deps.store.deleteDraft(t, i.readerKey);
      return out([words.solved()]);
    case 'cancel':
      await deps.store.deleteDraft(t, i.readerKey);
      return out([words.cancelled()]);
    case 'to-staff': {
      if (draft.step === 'write') return out([words.stale()]);
      const open = openThreadOf(await deps.store.byReader(t, i.readerKey));
      await deps.store.putDraft(t, i.readerKey, { ...draft, step: 'confirm' });
      return out([words.confirm(draft, open !== undefined)]);
    }
    case 'send': {
      if (draft.step !== 'confirm') return out([words.stale()]);
      const r = await submitInquiry(
        i.tenant,
        { readerKey: i.readerKey, channel: 'line', address: i.userId, text: draft.text, sourceId: i.webhookEventId },
        deps,
      );
      if (r.outcome === 'invalid') return out([words.tooLong()]);
      await deps.store.deleteDraft(t, i.readerKey);
      return out([words.acknowledged()]);
    }
  }
}
