import {
  INQUIRY_FILTERS,
  InquiryFilterSchema,
  InquiryReplyFormSchema,
  type InquiryFilter,
} from '../../schemas/console';
import { INQUIRY_TEXT_MAX, type Inquiry, type InquiryMessage, type InquiryStatus } from '../../schemas/inquiry';
import { awaitsStaff, timeToFirstAnswer } from '../domain/inquiries';
import {
  problem,
  recordAudit,
  withStaff,
  type Authorised,
  type ConsoleAccessDeps,
  type ConsoleRequest,
  type ConsoleResult,
} from './console-access';
import {
  closeInquiry,
  getInquiry,
  listInquiries,
  reopenInquiry,
  replyToInquiry,
  type InquiryDeps,
  type InquirySummary,
} from './inquiries';
import type { TenantDirectory } from './ports';

/**
 * The staff side of inquiries: the list (waiting first: nobody answered or the reader wrote again, the longest
 * wait on top), a thread with its reply form, close and reopen. A thread shows a reader's words, so every view is
 * written to the audit trail before it is shown (a failed write shows nothing), and every reply, close and reopen
 * after it is stored. The list holds no text: statuses, channels, counts and times only, not audited. An inquiry
 * id of another tenant is not found (404), like one that does not exist. Any staff member of the tenant (`staff`
 * or `admin`) may answer. The use cases are lambdas/services/inquiries.ts's, as the residents' side uses them.
 */
export interface InquiryConsoleDeps extends ConsoleAccessDeps {
  tenants: TenantDirectory;
  /** The store, and the LINE and SES senders a reply goes out through (with the email reader's own link). */
  inquiries: InquiryDeps;
}

export interface InquiryRow extends InquirySummary {
  /** Hours since the reader's last message, while the thread waits for staff. */
  waitingHours?: number;
}

export type ReplyError = 'empty' | 'too-long' | 'full' | 'closed';

export interface ThreadView extends Omit<Inquiry, 'address' | 'messages'> {
  messages: InquiryMessage[];
  waitingHours?: number;
  /** Minutes from the question to the first answer. */
  firstAnswerMinutes?: number;
}

export type InquiriesView =
  | { page: 'inquiries'; filter: InquiryFilter; filters: readonly InquiryFilter[]; inquiries: InquiryRow[] }
  | { page: 'inquiry'; inquiry: ThreadView; maxLength: number; error?: ReplyError; draft?: string };

const HOUR_MS = 3_600_000;

/** Which statuses a filter shows, and in which order: waiting ones oldest first, the others newest first. */
const FILTERS: Record<InquiryFilter, { statuses: InquiryStatus[]; order: 'oldest' | 'newest' }> = {
  waiting: { statuses: ['new', 'open'], order: 'oldest' },
  answered: { statuses: ['answered'], order: 'newest' },
  closed: { statuses: ['closed'], order: 'newest' },
};

export const INQUIRY_LIST_SIZE = 100;

const waiting = (status: InquiryStatus, lastMessageAt: number, now: number) =>
  awaitsStaff(status) ? { waitingHours: Math.max(0, Math.floor((now - lastMessageAt) / HOUR_MS)) } : {};

/** `GET /console/inquiries?status=waiting|answered|closed` (waiting when absent); another value is 400. */
export function inquiriesPage(req: ConsoleRequest, deps: InquiryConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const filter = InquiryFilterSchema.safeParse(req.query.get('status') ?? 'waiting');
    if (!filter.success) return problem(400, 'bad-request');
    const now = deps.clock.now().getTime();
    const list = await listInquiries(
      staff.tenantId,
      { ...FILTERS[filter.data], limit: INQUIRY_LIST_SIZE },
      deps.inquiries,
    );
    return {
      status: 200,
      view: {
        page: 'inquiries',
        filter: filter.data,
        filters: INQUIRY_FILTERS,
        inquiries: list.map((i) => ({ ...i, ...waiting(i.status, i.lastMessageAt, now) })),
      },
    };
  });
}

const THREAD_PATH = /^\/console\/inquiries\/([A-Za-z0-9_-]{8,64})(?:\/(reply|close|reopen))?$/;

const threadPath = (deps: ConsoleAccessDeps, inquiryId: string) => `${deps.baseUrl}/console/inquiries/${inquiryId}`;

/** The thread as staff see it: everything but the reader's LINE id or address. */
function threadView(t: Inquiry, now: number): ThreadView {
  const { address: _address, ...rest } = t;
  const first = timeToFirstAnswer(t);
  return {
    ...rest,
    ...waiting(t.status, t.lastMessageAt, now),
    ...(first !== undefined && { firstAnswerMinutes: Math.round(first / 60_000) }),
  };
}

/** Audits the view, then shows the thread (with the reply form's error and the text as typed, after a refused reply). */
async function showThread(
  deps: InquiryConsoleDeps,
  { staff }: Authorised,
  thread: Inquiry,
  refused?: { status: number; error: ReplyError; draft: string },
): Promise<ConsoleResult> {
  await recordAudit(deps, staff, 'view-inquiry', thread.readerKey, { target: thread.inquiryId });
  return {
    status: refused?.status ?? 200,
    view: {
      page: 'inquiry',
      inquiry: threadView(thread, deps.clock.now().getTime()),
      maxLength: INQUIRY_TEXT_MAX,
      ...(refused && { error: refused.error, draft: refused.draft }),
    },
  };
}

/** `GET /console/inquiries/<inquiryId>`: the thread, audited before it is shown. */
export function inquiryPage(req: ConsoleRequest, deps: InquiryConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async (auth) => {
    const m = THREAD_PATH.exec(req.path);
    const thread = m && !m[2] ? await getInquiry(auth.staff.tenantId, m[1]!, deps.inquiries) : undefined;
    if (!thread) return problem(404, 'not-found');
    return showThread(deps, auth, thread);
  });
}

/**
 * `POST /console/inquiries/<inquiryId>/reply` (`text`): stored, sent on the reader's channel, audited, then back
 * to the thread (303). Empty, too long, a full or closed thread: the thread again with the error at the form and
 * the text kept, nothing stored or sent.
 */
export function replyPage(req: ConsoleRequest, deps: InquiryConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async (auth) => {
    const m = THREAD_PATH.exec(req.path);
    const tenant = await deps.tenants.getTenant(auth.staff.tenantId);
    if (m?.[2] !== 'reply' || !tenant) return problem(404, 'not-found');
    const inquiryId = m[1]!;
    const form = InquiryReplyFormSchema.safeParse(Object.fromEntries(new URLSearchParams(req.body)));
    if (!form.success) return problem(400, 'bad-request');
    const result = await replyToInquiry(tenant, inquiryId, auth.staff.username, form.data.text, deps.inquiries);
    if (result.outcome === 'not-found') return problem(404, 'not-found');
    if (result.outcome === 'answered') {
      await recordAudit(deps, auth.staff, 'reply-inquiry', result.inquiry.readerKey, {
        target: inquiryId,
        detail: result.delivered ? 'sent' : 'failed',
      });
      return { status: 303, location: threadPath(deps, inquiryId) };
    }
    const thread = await getInquiry(auth.staff.tenantId, inquiryId, deps.inquiries);
    if (!thread) return problem(404, 'not-found');
    const error: ReplyError = result.outcome === 'closed' ? 'closed' : result.reason;
    return showThread(deps, auth, thread, {
      status: error === 'closed' || error === 'full' ? 409 : 400,
      error,
      draft: form.data.text,
    });
  });
}

/** `POST /console/inquiries/<inquiryId>/close` and `.../reopen`: audited; already so is no change (a double post). */
export function threadStatusPage(req: ConsoleRequest, deps: InquiryConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const m = THREAD_PATH.exec(req.path);
    const tenant = await deps.tenants.getTenant(staff.tenantId);
    const action = m?.[2];
    if (!m || (action !== 'close' && action !== 'reopen') || !tenant) return problem(404, 'not-found');
    const inquiryId = m[1]!;
    const result =
      action === 'close'
        ? await closeInquiry(tenant, inquiryId, staff.username, deps.inquiries)
        : await reopenInquiry(tenant, inquiryId, deps.inquiries);
    if (result.outcome === 'not-found') return problem(404, 'not-found');
    if (result.outcome === 'closed' || result.outcome === 'reopened')
      await recordAudit(
        deps,
        staff,
        action === 'close' ? 'close-inquiry' : 'reopen-inquiry',
        result.inquiry.readerKey,
        {
          target: inquiryId,
        },
      );
    return { status: 303, location: threadPath(deps, inquiryId) };
  });
}
