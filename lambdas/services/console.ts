import type { IsoDate, Track } from '../../schemas/common';
import {
  FOLLOW_UP_STATUSES,
  FollowUpFormSchema,
  type AuditEntry,
  type FollowUpStatus,
  type StaffAlert,
} from '../../schemas/console';
import type { ShardCounters } from '../../schemas/delivery';
import { addDays, localDate, stageLabel } from '../domain';
import {
  problem,
  recordAudit,
  withStaff,
  type ConsoleAccessDeps,
  type ConsoleRequest,
  type ConsoleResult,
} from './console-access';
import { addCounters, zeroCounters } from './counters';
import type { InquiryStore, ReaderInquiryRef } from './inquiries';
import type { ConsoleStore } from './ports';

/**
 * The console's core pages: the inbox, screening alerts and their acknowledgement, the reader page, the audit
 * trail and the delivery counters. Authorisation, sessions and the audit helper are in console-access.ts.
 */
export interface ConsoleDeps extends ConsoleAccessDeps {
  store: ConsoleStore;
  /**
   * The inbox's count of inquiries waiting for staff and the reader page's inquiry history (statuses and times;
   * the text is on the audited thread page).
   */
  inquiries?: Pick<InquiryStore, 'byReader' | 'list'>;
}

export interface AlertRow extends StaffAlert {
  ageHours: number;
}

export type CoreView =
  | {
      page: 'inbox';
      alerts: AlertRow[];
      /** Inquiries waiting for staff (`new`, `open`; at most INBOX_INQUIRIES counted) and the longest wait in hours. */
      inquiries?: { waiting: number; more: boolean; longestWaitHours?: number };
    }
  | { page: 'alert'; alert: AlertRow; statuses: readonly FollowUpStatus[] }
  | {
      page: 'reader';
      readerRef: string;
      subscriptions: { channel: string; track: Track; stage: string; status: string; audience: string }[];
      /** Present only when the reader consented to share screening results. */
      screening?: AlertRow[];
      /** The reader's inquiry threads, newest first. */
      inquiries: ReaderInquiryRef[];
    }
  | { page: 'audit'; entries: AuditEntry[] }
  | { page: 'deliveries'; days: { date: IsoDate; counters: ShardCounters }[] };

const HOUR_MS = 3_600_000;
const withAge = (a: StaffAlert, now: number): AlertRow => ({ ...a, ageHours: Math.floor((now - a.at) / HOUR_MS) });

/** Open alerts first (urgent ones before the others), oldest first within each: the longest wait is on top. */
export function inboxOrder(alerts: readonly StaffAlert[]): StaffAlert[] {
  const rank = (a: StaffAlert) =>
    a.followUp === 'closed' ? 3 : a.acknowledgedAt === undefined ? (a.urgent ? 0 : 1) : 2;
  return [...alerts].sort((a, b) => rank(a) - rank(b) || a.at - b.at);
}

/** The inbox counts waiting inquiries up to this (the list itself is /console/inquiries). */
export const INBOX_INQUIRIES = 99;

/**
 * `GET /console/inbox`. Lists carry only references, instruments and ages, and the count of waiting inquiries with
 * the longest wait: no reader's data, no audit line.
 */
export function inbox(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const now = deps.clock.now().getTime();
    const alerts = inboxOrder(await deps.store.alerts(staff.tenantId)).map((a) => withAge(a, now));
    const waiting = await deps.inquiries?.list(staff.tenantId, {
      statuses: ['new', 'open'],
      order: 'oldest',
      limit: INBOX_INQUIRIES + 1,
    });
    const oldest = waiting?.[0];
    const inquiries = waiting && {
      waiting: Math.min(waiting.length, INBOX_INQUIRIES),
      more: waiting.length > INBOX_INQUIRIES,
      ...(oldest && { longestWaitHours: Math.max(0, Math.floor((now - oldest.lastMessageAt) / HOUR_MS)) }),
    };
    return { status: 200, view: { page: 'inbox', alerts, ...(inquiries && { inquiries }) } };
  });
}

const ALERT_PATH = /^\/console\/alerts\/([A-Za-z0-9_-]{1,128})$/;

/**
 * `GET /console/alerts/<reference>`: the alert, written to the audit trail before it is shown (a failed audit
 * write shows nothing). `POST` acknowledges it with a follow-up status.
 */
export function alertPage(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const reference = ALERT_PATH.exec(req.path)?.[1];
    const alert = reference ? await deps.store.alert(staff.tenantId, reference) : undefined;
    if (!alert) return problem(404, 'not-found');
    if (req.method === 'POST') {
      const form = FollowUpFormSchema.safeParse(Object.fromEntries(new URLSearchParams(req.body)));
      if (!form.success) return problem(400, 'bad-request');
      const at = deps.clock.now().getTime();
      if (
        !(await deps.store.recordFollowUp(staff.tenantId, alert.reference, {
          by: staff.username,
          at,
          followUp: form.data.followUp,
        }))
      )
        return problem(404, 'not-found');
      await recordAudit(deps, staff, 'acknowledge-alert', alert.readerKey, {
        target: alert.reference,
        detail: form.data.followUp,
      });
      return { status: 303, location: `${deps.baseUrl}/console/alerts/${alert.reference}` };
    }
    await recordAudit(deps, staff, 'view-alert', alert.readerKey, { target: alert.reference });
    return {
      status: 200,
      view: { page: 'alert', alert: withAge(alert, deps.clock.now().getTime()), statuses: FOLLOW_UP_STATUSES },
    };
  });
}

const READER_PATH = /^\/console\/readers\/((?:line|email)(?::|%3A)[A-Za-z0-9_-]{1,100})$/i;

/**
 * `GET /console/readers/<reference>`: what staff need and nothing more: channel, track and stage, status. No
 * address, nickname or dates. Screening history only with the reader's consent. Audited.
 */
export function readerPage(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const match = READER_PATH.exec(req.path)?.[1];
    const readerRef = match?.replace(/%3A/i, ':');
    const reader = readerRef ? await deps.store.reader(staff.tenantId, readerRef) : undefined;
    if (!readerRef || !reader || reader.subscriptions.length === 0) return problem(404, 'not-found');
    await recordAudit(deps, staff, 'view-reader', readerRef);
    const now = deps.clock.now();
    const today = localDate(now, deps.timeZone?.(staff.tenantId) ?? 'Asia/Tokyo');
    const screening = reader.screeningConsent
      ? (await deps.store.alerts(staff.tenantId))
          .filter((a) => a.readerKey === readerRef)
          .sort((a, b) => b.at - a.at)
          .map((a) => withAge(a, now.getTime()))
      : undefined;
    const inquiries = (await deps.inquiries?.byReader(staff.tenantId, readerRef)) ?? [];
    return {
      status: 200,
      view: {
        page: 'reader',
        readerRef,
        subscriptions: reader.subscriptions.map((s) => ({
          channel: s.channel,
          track: s.track,
          stage: stageLabel(s.track, s.anchorDate, today),
          status: s.status,
          audience: s.audience,
        })),
        ...(screening && { screening }),
        inquiries,
      },
    };
  });
}

export const AUDIT_PAGE_SIZE = 200;

/** `GET /console/audit`: the tenant's audit trail, newest first; admins only. */
export function auditPage(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    if (staff.role !== 'admin') return problem(403, 'forbidden');
    return { status: 200, view: { page: 'audit', entries: await deps.audit.list(staff.tenantId, AUDIT_PAGE_SIZE) } };
  });
}

export const DELIVERY_DAYS = 14;

/** `GET /console/deliveries`: the tenant's delivery counters (summed over shards) for the last two weeks. */
export function deliveriesPage(req: ConsoleRequest, deps: ConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const today = localDate(deps.clock.now(), deps.timeZone?.(staff.tenantId) ?? 'Asia/Tokyo');
    const days = [];
    for (let i = 0; i < DELIVERY_DAYS; i++) {
      const date = addDays(today, -i);
      const shards = await deps.store.counters(staff.tenantId, date);
      if (shards.length === 0) continue;
      const counters = shards.reduce((sum, c) => addCounters(sum, c), zeroCounters());
      days.push({ date, counters });
    }
    return { status: 200, view: { page: 'deliveries', days } };
  });
}
