import { startInquiry, addStaffReply } from '../../../lambdas/domain/inquiries';
import {
  inquiriesPage,
  inquiryPage,
  replyPage,
  threadStatusPage,
  type InquiryConsoleDeps,
} from '../../../lambdas/services/console-inquiries';
import type { ConsoleResult } from '../../../lambdas/services/console-access';
import { inbox } from '../../../lambdas/services/console';
import type { ConsoleStore, LineReplier, LineReplierFactory, TenantDirectory } from '../../../lambdas/services/ports';
import { renderConsole } from '../../../lambdas/web/console-pages';
import { TenantConfigSchema, type TenantConfig } from '../../../schemas/tenant';
import { accessDeps, post, req, sessionFor, staffA, staffB } from './console-fixtures';
import { MemoryInquiryStore } from './inquiry-store-fake';

/**
 * The console's inquiry pages through their use cases: the in-memory inquiry store, a recording LINE channel, the
 * real token verifier and sealed sessions (console-fixtures.ts). Orders and ages are worked out from the threads
 * this test writes and its own clock.
 */
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 3, 0);
const LINE_USER = `U${'b'.repeat(32)}`;

const tenant = (tenantId: string): TenantConfig =>
  TenantConfigSchema.parse({
    tenantId,
    name: `${tenantId} 町`,
    deliveryTime: '09:00',
    shardCount: 1,
    library: 'lib',
    line: { enabled: true, secretName: `hagukumi/${tenantId}/line` },
    birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
  });

class RecordingLine implements LineReplier, LineReplierFactory {
  pushes: { to: string; text: string }[] = [];
  fail = false;
  reply() {
    return Promise.resolve();
  }
  push(to: string, messages: unknown[]) {
    if (this.fail) return Promise.reject(new Error('LINE 500'));
    this.pushes.push({ to, text: (messages[0] as { text: string }).text });
    return Promise.resolve();
  }
  forTenant() {
    return Promise.resolve(this);
  }
}

/** town-a: three threads (asked 30 h, 5 h and 2 h ago; the 5 h one answered), town-b: one. */
async function world() {
  const { deps: access, audit } = accessDeps();
  access.clock = { now: () => new Date(NOW) };
  const store = new MemoryInquiryStore();
  const line = new RecordingLine();
  const ask = async (tenantId: string, inquiryId: string, hoursAgo: number, text: string) => {
    const step = startInquiry({
      inquiryId,
      tenantId,
      readerKey: `line:reader-${inquiryId}`,
      channel: 'line',
      address: LINE_USER,
      text,
      at: NOW - hoursAgo * HOUR,
    });
    await store.save({ ...step, readVersion: undefined });
    return step;
  };
  await ask('town-a', 'inq-old-0001', 30, '健診の日程を教えてください');
  const answered = await ask('town-a', 'inq-ans-0002', 5, '母子手帳はどこで');
  await store.save({
    ...addStaffReply(answered.header, 'nurse-x', '市役所1階です', NOW - 4 * HOUR),
    readVersion: 0,
    previous: answered.header,
  });
  await ask('town-a', 'inq-new-0003', 2, '<script>alert(1)</script>\n2行目');
  await ask('town-b', 'inq-bbb-0004', 1, 'よその質問');
  const tenants = new Map([
    ['town-a', tenant('town-a')],
    ['town-b', tenant('town-b')],
  ]);
  const directory: TenantDirectory = {
    listTenants: () => Promise.resolve([...tenants.values()]),
    getTenant: (t) => Promise.resolve(tenants.get(t)),
  };
  const deps: InquiryConsoleDeps = {
    ...access,
    tenants: directory,
    inquiries: { store, clock: access.clock, line },
  };
  return { deps, store, audit, line };
}

const view = (r: ConsoleResult) => r.view as Extract<ConsoleResult['view'], { page: 'inquiries' | 'inquiry' }>;

describe('console inquiry pages', () => {
  it('lists the waiting threads oldest first with their waiting hours, the answered and closed apart; no audit', async () => {
    const { deps, audit } = await world();
    const s = await sessionFor(staffA);
    const waiting = await inquiriesPage(req({ path: '/console/inquiries', cookies: s.cookies }), deps);
    expect(waiting.status).toBe(200);
    const w = view(waiting);
    expect(w.page === 'inquiries' && w.inquiries.map((i) => [i.inquiryId, i.waitingHours])).toEqual([
      ['inq-old-0001', 30],
      ['inq-new-0003', 2],
    ]);
    const query = new URLSearchParams({ status: 'answered' });
    const answered = view(await inquiriesPage(req({ path: '/console/inquiries', cookies: s.cookies, query }), deps));
    expect(answered.page === 'inquiries' && answered.inquiries.map((i) => [i.inquiryId, i.waitingHours])).toEqual([
      ['inq-ans-0002', undefined],
    ]);
    expect(audit).toEqual([]);
    // No text of any question in the list.
    expect(renderConsole(waiting).body).not.toContain('健診');
  });

  it("the inbox counts the tenant's waiting inquiries with the longest wait, nothing else of them", async () => {
    const { deps, store } = await world();
    const noAlerts = { alerts: () => Promise.resolve([]) } as unknown as ConsoleStore;
    const page = async (claims: Record<string, unknown>) =>
      inbox(req({ path: '/console/inbox', cookies: (await sessionFor(claims)).cookies }), {
        ...deps,
        store: noAlerts,
        inquiries: store,
      });
    const a = await page(staffA);
    expect(a.view).toMatchObject({ page: 'inbox', inquiries: { waiting: 2, more: false, longestWaitHours: 30 } });
    expect(renderConsole(a).body).toContain('対応待ちのお問い合わせ：2件（最も長い待ち時間：30時間前）');
    expect(renderConsole(a).body).not.toContain('健診');
    expect((await page(staffB)).view).toMatchObject({ inquiries: { waiting: 1, longestWaitHours: 1 } });
  });

  it.each([['everything'], [''], ['new']])('refuses the filter %j with 400', async (status) => {
    const { deps } = await world();
    const s = await sessionFor(staffA);
    const query = new URLSearchParams({ status });
    expect((await inquiriesPage(req({ path: '/console/inquiries', cookies: s.cookies, query }), deps)).status).toBe(
      400,
    );
  });

  it('a thread is audited before it is shown: without a working audit trail nothing is shown', async () => {
    const { deps, audit } = await world();
    const s = await sessionFor(staffA);
    const r = await inquiryPage(req({ path: '/console/inquiries/inq-new-0003', cookies: s.cookies }), deps);
    expect(r.status).toBe(200);
    expect(audit.map((e) => [e.action, e.readerRef, e.target, e.staffName])).toEqual([
      ['view-inquiry', 'line:reader-inq-new-0003', 'inq-new-0003', 'nurse-a'],
    ]);
    const html = renderConsole(r).body!;
    // Escaped, line break kept for CSS; no LINE id.
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;\n2行目');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain(LINE_USER);
    deps.audit = { record: () => Promise.reject(new Error('audit down')), list: () => Promise.resolve([]) };
    await expect(
      inquiryPage(req({ path: '/console/inquiries/inq-new-0003', cookies: s.cookies }), deps),
    ).rejects.toThrow('audit down');
  });

  it.each([
    [
      'GET the thread',
      (d: InquiryConsoleDeps, c: Record<string, string>) =>
        inquiryPage(req({ path: '/console/inquiries/inq-old-0001', cookies: c }), d),
    ],
    [
      'reply',
      (d: InquiryConsoleDeps, c: Record<string, string>, csrf: string) =>
        replyPage(post('/console/inquiries/inq-old-0001/reply', { cookies: c }, { csrf, text: 'x' }), d),
    ],
    [
      'close',
      (d: InquiryConsoleDeps, c: Record<string, string>, csrf: string) =>
        threadStatusPage(post('/console/inquiries/inq-old-0001/close', { cookies: c }, { csrf }), d),
    ],
    [
      'reopen',
      (d: InquiryConsoleDeps, c: Record<string, string>, csrf: string) =>
        threadStatusPage(post('/console/inquiries/inq-old-0001/reopen', { cookies: c }, { csrf }), d),
    ],
  ])("another tenant's staff: %s is 404, nothing audited, changed or sent", async (_label, call) => {
    const { deps, store, audit, line } = await world();
    const before = await store.get('town-a', 'inq-old-0001');
    const s = await sessionFor(staffB);
    expect((await call(deps, s.cookies, s.csrf)).status).toBe(404);
    expect(await store.get('town-a', 'inq-old-0001')).toEqual(before);
    expect(audit).toEqual([]);
    expect(line.pushes).toEqual([]);
  });

  it('a reply is stored, pushed to the reader and audited with its delivery; then back to the thread', async () => {
    const { deps, store, audit, line } = await world();
    const s = await sessionFor(staffA);
    const r = await replyPage(
      post('/console/inquiries/inq-old-0001/reply', s, { csrf: s.csrf, text: '来週月曜です' }),
      deps,
    );
    expect(r).toMatchObject({ status: 303, location: 'https://console.test/console/inquiries/inq-old-0001' });
    expect(line.pushes.map((p) => p.to)).toEqual([LINE_USER]);
    expect(line.pushes[0]!.text).toContain('来週月曜です');
    const thread = await store.get('town-a', 'inq-old-0001');
    expect(thread).toMatchObject({ status: 'answered', firstAnsweredAt: NOW });
    expect(thread!.messages[1]).toMatchObject({ author: 'staff', staffRef: 'nurse-a', delivery: 'sent' });
    expect(audit.map((e) => [e.action, e.target, e.detail])).toEqual([['reply-inquiry', 'inq-old-0001', 'sent']]);

    line.fail = true;
    await replyPage(post('/console/inquiries/inq-old-0001/reply', s, { csrf: s.csrf, text: '追記です' }), deps);
    expect(audit.at(-1)).toMatchObject({ action: 'reply-inquiry', detail: 'failed' });
    expect((await store.get('town-a', 'inq-old-0001'))!.messages[2]!.delivery).toBe('failed');
  });

  it.each([
    ['empty', '  \n ', 400, 'empty'],
    ['too long', 'あ'.repeat(2001), 400, 'too-long'],
  ] as const)(
    'a reply that is %s: the thread again with the error and the text kept, nothing stored or sent',
    async (_l, text, status, error) => {
      const { deps, store, line } = await world();
      const s = await sessionFor(staffA);
      const before = await store.get('town-a', 'inq-old-0001');
      const r = await replyPage(post('/console/inquiries/inq-old-0001/reply', s, { csrf: s.csrf, text }), deps);
      expect(r.status).toBe(status);
      expect(view(r)).toMatchObject({ page: 'inquiry', error, draft: text });
      expect(await store.get('town-a', 'inq-old-0001')).toEqual(before);
      expect(line.pushes).toEqual([]);
    },
  );

  it('a reply without the CSRF token, or from another origin, is 403 and changes nothing', async () => {
    const { deps, store, line } = await world();
    const s = await sessionFor(staffA);
    const before = await store.get('town-a', 'inq-old-0001');
    const forms = [
      post('/console/inquiries/inq-old-0001/reply', s, { text: 'x' }),
      { ...post('/console/inquiries/inq-old-0001/reply', s, { csrf: s.csrf, text: 'x' }), origin: 'https://evil.test' },
    ];
    for (const f of forms) expect((await replyPage(f, deps)).status).toBe(403);
    expect(await store.get('town-a', 'inq-old-0001')).toEqual(before);
    expect(line.pushes).toEqual([]);
  });

  it('close and reopen: audited, a closed thread takes no reply (409), a second close changes nothing', async () => {
    const { deps, store, audit } = await world();
    const s = await sessionFor(staffA);
    const close = () => threadStatusPage(post('/console/inquiries/inq-ans-0002/close', s, { csrf: s.csrf }), deps);
    expect((await close()).status).toBe(303);
    expect(await store.get('town-a', 'inq-ans-0002')).toMatchObject({ status: 'closed', closedBy: 'nurse-a' });
    const closed = await store.get('town-a', 'inq-ans-0002');
    expect((await close()).status).toBe(303);
    expect(await store.get('town-a', 'inq-ans-0002')).toEqual(closed);
    const refused = await replyPage(
      post('/console/inquiries/inq-ans-0002/reply', s, { csrf: s.csrf, text: 'x' }),
      deps,
    );
    expect(refused.status).toBe(409);
    expect(view(refused)).toMatchObject({ error: 'closed' });
    await threadStatusPage(post('/console/inquiries/inq-ans-0002/reopen', s, { csrf: s.csrf }), deps);
    // Its last message was the staff answer.
    expect((await store.get('town-a', 'inq-ans-0002'))?.status).toBe('answered');
    expect(audit.map((e) => e.action)).toEqual(['close-inquiry', 'view-inquiry', 'reopen-inquiry']);
  });
});
