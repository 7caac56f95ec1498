import type { InquirySave, InquiryStore, InquirySummary, ReaderInquiryRef } from '../../../lambdas/services/inquiries';
import { ConcurrentChangeError } from '../../../lambdas/services/ports';
import type { Inquiry, InquiryDraft, InquiryHeader, InquiryStatus } from '../../../schemas/inquiry';

/**
 * An in-memory InquiryStore for unit tests of services (the DynamoDB one is tested on DynamoDB Local): the same
 * conditions as the real store (version, new-only, source markers), copies in and out so callers cannot alias it.
 */
export class MemoryInquiryStore implements InquiryStore {
  readonly threads = new Map<string, Inquiry>();
  readonly sources = new Set<string>();
  readonly drafts = new Map<string, InquiryDraft>();
  /** Called before each save: a test can change the store under the caller (a concurrent writer). */
  beforeSave?: () => void;

  private key = (tenantId: string, inquiryId: string) => `${tenantId}|${inquiryId}`;

  get(tenantId: string, inquiryId: string): Promise<Inquiry | undefined> {
    const t = this.threads.get(this.key(tenantId, inquiryId));
    return Promise.resolve(t && structuredClone(t));
  }

  list(
    tenantId: string,
    q: { statuses: readonly InquiryStatus[]; order: 'newest' | 'oldest'; limit: number },
  ): Promise<InquirySummary[]> {
    const sign = q.order === 'oldest' ? 1 : -1;
    return Promise.resolve(
      [...this.threads.values()]
        .filter((t) => t.tenantId === tenantId && q.statuses.includes(t.status))
        .sort((a, b) => sign * (a.lastMessageAt - b.lastMessageAt))
        .slice(0, q.limit)
        .map(({ address: _a, messages: _m, ...rest }) => structuredClone(rest)),
    );
  }

  byReader(tenantId: string, readerKey: string): Promise<ReaderInquiryRef[]> {
    return Promise.resolve(
      [...this.threads.values()]
        .filter((t) => t.tenantId === tenantId && t.readerKey === readerKey)
        .sort((a, b) => b.lastMessageAt - a.lastMessageAt)
        .map((t) => ({
          inquiryId: t.inquiryId,
          status: t.status,
          createdAt: t.createdAt,
          lastMessageAt: t.lastMessageAt,
          messageCount: t.messageCount,
        })),
    );
  }

  save(s: InquirySave): Promise<'saved' | 'duplicate'> {
    this.beforeSave?.();
    const h: InquiryHeader = s.header;
    if (s.sourceId && this.sources.has(`${h.tenantId}|${s.sourceId}`)) return Promise.resolve('duplicate');
    const k = this.key(h.tenantId, h.inquiryId);
    const stored = this.threads.get(k);
    if (s.readVersion === undefined ? stored : stored?.version !== s.readVersion)
      return Promise.reject(new ConcurrentChangeError({ cause: 'version' }));
    if (s.sourceId) this.sources.add(`${h.tenantId}|${s.sourceId}`);
    const messages = [...(stored?.messages ?? []), ...(s.message ? [s.message] : [])];
    this.threads.set(
      k,
      structuredClone({ ...h, version: s.readVersion === undefined ? 0 : s.readVersion + 1, messages }),
    );
    return Promise.resolve('saved');
  }

  markDelivery(tenantId: string, inquiryId: string, seq: number, delivery: 'sent' | 'failed'): Promise<void> {
    const m = this.threads.get(this.key(tenantId, inquiryId))?.messages.find((x) => x.seq === seq);
    if (m) m.delivery = delivery;
    return Promise.resolve();
  }

  draft(tenantId: string, readerKey: string): Promise<InquiryDraft | undefined> {
    const d = this.drafts.get(`${tenantId}|${readerKey}`);
    return Promise.resolve(d && structuredClone(d));
  }

  putDraft(tenantId: string, readerKey: string, draft: InquiryDraft): Promise<void> {
    this.drafts.set(`${tenantId}|${readerKey}`, structuredClone(draft));
    return Promise.resolve();
  }

  deleteDraft(tenantId: string, readerKey: string): Promise<void> {
    this.drafts.delete(`${tenantId}|${readerKey}`);
    return Promise.resolve();
  }
}
