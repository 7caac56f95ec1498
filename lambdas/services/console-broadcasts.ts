import type { Broadcast } from '../../schemas/broadcast';
import { localDate } from '../domain';
import { BroadcastInputError, createBroadcast, type BroadcastDeps } from './broadcasts';
import { problem, withStaff, type ConsoleAccessDeps, type ConsoleRequest, type ConsoleResult } from './console-access';
import type { TenantDirectory } from './ports';

/**
 * The broadcasts page of the staff console, admins only (the `<tenant>:admin` group; staff get 403): the tenant's
 * broadcasts from today on, a form to schedule one and a cancel button on each scheduled one. The use cases are
 * `hagukumi broadcast`'s (lambdas/services/broadcasts.ts). Broadcasts hold staff-written texts and a segment, no
 * reader's data, so nothing here is audited; an id of another tenant is not found (404).
 */
export interface BroadcastConsoleDeps extends ConsoleAccessDeps {
  tenants: TenantDirectory;
  broadcasts: BroadcastDeps['broadcasts'];
  newId: BroadcastDeps['newId'];
}

/** The form's fields as typed, to show them again with the problems. */
export interface BroadcastForm {
  date?: string;
  lineText?: string;
  emailSubject?: string;
  emailBody?: string;
  tracks: string[];
  weeksFrom?: string;
  weeksTo?: string;
  ageUnit?: string;
  ageFrom?: string;
  ageTo?: string;
  channels: string[];
  audience?: string;
}

export interface BroadcastsView {
  page: 'broadcasts';
  broadcasts: Broadcast[];
  today: string;
  form: BroadcastForm;
  /** Each problem of the form as `field: message`. */
  problems?: string[];
  created?: string;
  cancelled?: string;
}

const emptyForm = (): BroadcastForm => ({ tracks: ['maternity', 'childcare'], channels: ['line', 'email'] });

const text = (form: URLSearchParams, name: string) => {
  const v = form.get(name)?.trim();
  return v === undefined || v === '' ? undefined : v;
};

function formOf(body: URLSearchParams): BroadcastForm {
  const f: BroadcastForm = { tracks: body.getAll('tracks'), channels: body.getAll('channels') };
  for (const key of [
    'date',
    'lineText',
    'emailSubject',
    'emailBody',
    'weeksFrom',
    'weeksTo',
    'ageUnit',
    'ageFrom',
    'ageTo',
    'audience',
  ] as const) {
    const v = text(body, key);
    if (v !== undefined) f[key] = v;
  }
  return f;
}

/** The schema's input from the form; empty fields stay absent, so the schema names what is missing. */
function inputOf(f: BroadcastForm): unknown {
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : s);
  const channels = f.channels;
  return {
    date: f.date,
    ...(channels.includes('line') && { line: { text: f.lineText } }),
    ...(channels.includes('email') && { email: { subject: f.emailSubject, body: f.emailBody } }),
    segment: {
      tracks: f.tracks,
      ...((f.weeksFrom !== undefined || f.weeksTo !== undefined) && {
        maternity: { from: f.weeksFrom, to: f.weeksTo },
      }),
      ...((f.ageFrom !== undefined || f.ageTo !== undefined) && {
        childcare: { unit: f.ageUnit ?? 'months', from: num(f.ageFrom), to: num(f.ageTo) },
      }),
      channels,
      audience: f.audience ?? 'both',
    },
  };
}

const ID = /^[A-Za-z0-9-]{8,64}$/;

async function page(
  staff: { tenantId: string },
  deps: BroadcastConsoleDeps,
  extra: Partial<BroadcastsView> = {},
  status = 200,
): Promise<ConsoleResult> {
  const tenant = await deps.tenants.getTenant(staff.tenantId);
  const today = localDate(deps.clock.now(), tenant?.timeZone ?? 'Asia/Tokyo');
  const broadcasts = await deps.broadcasts.list(staff.tenantId, today);
  return { status, view: { page: 'broadcasts', broadcasts, today, form: emptyForm(), ...extra } };
}

const adminOnly = (role: string) => (role === 'admin' ? undefined : problem(403, 'forbidden'));

/** `GET /console/broadcasts`: the list from today on and the form. */
export function broadcastsPage(req: ConsoleRequest, deps: BroadcastConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const denied = adminOnly(staff.role);
    if (denied) return denied;
    const created = req.query.get('created');
    const cancelled = req.query.get('cancelled');
    return page(staff, deps, {
      ...(created && ID.test(created) && { created }),
      ...(cancelled && ID.test(cancelled) && { cancelled }),
    });
  });
}

/** `POST /console/broadcasts`: schedules one; bad input shows the form again (400) with every problem, nothing stored. */
export function createBroadcastPage(req: ConsoleRequest, deps: BroadcastConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const denied = adminOnly(staff.role);
    if (denied) return denied;
    const tenant = await deps.tenants.getTenant(staff.tenantId);
    if (!tenant) return problem(404, 'not-found');
    const form = formOf(new URLSearchParams(req.body));
    try {
      const b = await createBroadcast(tenant, inputOf(form), staff.username, deps);
      return { status: 303, location: `${deps.baseUrl}/console/broadcasts?created=${encodeURIComponent(b.id)}` };
    } catch (err) {
      if (!(err instanceof BroadcastInputError)) throw err;
      return page(staff, deps, { form, problems: err.problems }, 400);
    }
  });
}

const CANCEL_PATH = /^\/console\/broadcasts\/([^/]+)\/cancel$/;

/** `POST /console/broadcasts/<id>/cancel`: final; an id the tenant does not have (another tenant's) is 404. */
export function cancelBroadcastPage(req: ConsoleRequest, deps: BroadcastConsoleDeps): Promise<ConsoleResult> {
  return withStaff(req, deps, async ({ staff }) => {
    const denied = adminOnly(staff.role);
    if (denied) return denied;
    const id = CANCEL_PATH.exec(req.path)?.[1];
    if (!id || !ID.test(id)) return problem(404, 'not-found');
    const outcome = await deps.broadcasts.cancel(staff.tenantId, id, staff.username, deps.clock.now().getTime());
    if (outcome === 'not-found') return problem(404, 'not-found');
    return { status: 303, location: `${deps.baseUrl}/console/broadcasts?cancelled=${encodeURIComponent(id)}` };
  });
}
