import { readerKeys } from '../../../lambdas/services/reader-keys';
import { handleEmailEvent, type EmailEventsDeps } from '../../../lambdas/services/email-events';
import type { SuppressionStore } from '../../../lambdas/services/ports';
import type { TenantConfig } from '../../../schemas/tenant';
import { TenantConfigSchema } from '../../../schemas/tenant';
import { bounceEvent, complaintEvent } from '../../../local/ses-events';

const keys = readerKeys('k'.repeat(32));
const tenant = (tenantId: string, from: string): TenantConfig =>
  TenantConfigSchema.parse({
    tenantId,
    name: tenantId,
    deliveryTime: '07:30',
    shardCount: 1,
    library: 'lib',
    line: { enabled: false, secretName: `x/${tenantId}` },
    email: { enabled: true, from, unsubscribeBaseUrl: 'https://api.example.jp' },
    birthdayMessages: { '1': 'a', '2': 'b', '3': 'c' },
  });
const town = tenant('town', 'kosodate@town.example.jp');
const twin = tenant('town-b', 'kosodate@town.example.jp');
const other = tenant('other', 'news@other.example.jp');

/** The suppression list as the DynamoDB adapter keeps it: per tenant and reader key, idempotent. */
class MemoryStore implements SuppressionStore {
  readonly records = new Map<string, { transient: Set<string>; suppressed?: string; clearedAt?: number }>();
  private rec(t: string, k: string) {
    const key = `${t}|${k}`;
    let r = this.records.get(key);
    if (!r) this.records.set(key, (r = { transient: new Set() }));
    return r;
  }
  async suppress(t: string, k: string, s: { reason: 'bounce' | 'complaint'; mailSentAt: number }) {
    const r = this.rec(t, k);
    if (r.clearedAt !== undefined && r.clearedAt > s.mailSentAt) return 'older-than-signup' as const;
    if (r.suppressed) return 'already' as const;
    r.suppressed = s.reason;
    return 'suppressed' as const;
  }
  async countTransient(t: string, k: string, b: { feedbackId: string; mailSentAt: number }) {
    const r = this.rec(t, k);
    if (r.clearedAt !== undefined && r.clearedAt > b.mailSentAt) return 'older-than-signup' as const;
    r.transient.add(b.feedbackId);
    return r.transient.size;
  }
  async clear(t: string, k: string, at: number) {
    this.records.set(`${t}|${k}`, { transient: new Set(), clearedAt: at });
  }
  suppressedOf(t: string, address: string) {
    return this.records.get(`${t}|${keys.email(address)}`)?.suppressed;
  }
}

function deps(store = new MemoryStore(), threshold = 3): EmailEventsDeps & { store: MemoryStore } {
  const all = [town, twin, other];
  return {
    tenants: { listTenants: async () => all, getTenant: async (id) => all.find((t) => t.tenantId === id) },
    keys: { get: async () => keys },
    store,
    clock: { now: () => new Date('2026-12-02T00:00:00Z') },
    transientThreshold: threshold,
  };
}

describe('SES events suppress addresses in our own list', () => {
  it.each([
    {
      label: 'a permanent bounce',
      event: bounceEvent('Permanent', { to: ['a@example.jp'], tenant: 'town' }),
      want: 'bounce',
    },
    { label: 'a complaint', event: complaintEvent({ to: ['a@example.jp'], tenant: 'town' }), want: 'complaint' },
  ])('$label suppresses at once', async ({ event, want }) => {
    const d = deps();
    const out = await handleEmailEvent(event, d);
    expect(out.suppressed).toBe(1);
    expect(d.store.suppressedOf('town', 'a@example.jp')).toBe(want);
    // The tagged tenant only, not another tenant sharing the sender.
    expect(d.store.suppressedOf('town-b', 'a@example.jp')).toBeUndefined();
  });

  it('suppresses after the threshold of distinct transient bounces, not before', async () => {
    const d = deps(new MemoryStore(), 3);
    const transient = (n: number) =>
      bounceEvent('Transient', { to: ['a@example.jp'], tenant: 'town', feedbackId: `fb-${n}` });
    await handleEmailEvent(transient(1), d);
    await handleEmailEvent(transient(2), d);
    expect(d.store.suppressedOf('town', 'a@example.jp')).toBeUndefined();
    const third = await handleEmailEvent(transient(3), d);
    expect(third.suppressed).toBe(1);
    expect(d.store.suppressedOf('town', 'a@example.jp')).toBe('bounce');
  });

  it('counts a redelivered transient bounce once', async () => {
    const d = deps(new MemoryStore(), 2);
    const same = bounceEvent('Transient', { to: ['a@example.jp'], tenant: 'town', feedbackId: 'fb-1' });
    for (let i = 0; i < 5; i++) await handleEmailEvent(same, d);
    expect(d.store.suppressedOf('town', 'a@example.jp')).toBeUndefined();
  });

  it('treats an Undetermined bounce like a transient one', async () => {
    const d = deps(new MemoryStore(), 3);
    const out = await handleEmailEvent(bounceEvent('Undetermined', { to: ['a@example.jp'], tenant: 'town' }), d);
    expect(out).toMatchObject({ suppressed: 0, transientCounted: 1 });
  });

  it('suppresses every recipient one event names, by their reader keys', async () => {
    const d = deps();
    const out = await handleEmailEvent(
      bounceEvent('Permanent', { to: ['a@example.jp', 'B@Example.JP ', 'c@example.jp'], tenant: 'town' }),
      d,
    );
    expect(out.suppressed).toBe(3);
    for (const a of ['a@example.jp', 'b@example.jp', 'c@example.jp'])
      expect(d.store.suppressedOf('town', a)).toBe('bounce');
    // Keys are keyed hashes: no address in any stored key.
    for (const key of d.store.records.keys()) expect(key).not.toMatch(/@/);
  });

  it('reads events with fields SES added later', async () => {
    const event = complaintEvent({ to: ['a@example.jp'], tenant: 'town' }) as Record<string, unknown> & {
      detail: Record<string, unknown> & { complaint: Record<string, unknown>; mail: Record<string, unknown> };
    };
    event.detail.newTopLevel = { x: 1 };
    event.detail.complaint.complaintSubType = 'OnAccountSuppressionList';
    event.detail.complaint.futureField = ['y'];
    event.detail.mail.somethingNew = true;
    event.extraEnvelope = 'z';
    const d = deps();
    expect((await handleEmailEvent(event, d)).suppressed).toBe(1);
  });

  it('is order-independent: a complaint after a permanent bounce (or before) leaves one suppression', async () => {
    for (const order of [
      [
        bounceEvent('Permanent', { to: ['a@example.jp'], tenant: 'town' }),
        complaintEvent({ to: ['a@example.jp'], tenant: 'town' }),
      ],
      [
        complaintEvent({ to: ['a@example.jp'], tenant: 'town' }),
        bounceEvent('Permanent', { to: ['a@example.jp'], tenant: 'town' }),
      ],
    ]) {
      const d = deps();
      const outs = [];
      for (const e of order) outs.push(await handleEmailEvent(e, d));
      expect(outs.map((o) => [o.suppressed, o.alreadySuppressed])).toEqual([
        [1, 0],
        [0, 1],
      ]);
    }
  });

  it('ignores an event about a mail sent before the reader signed up anew', async () => {
    const d = deps();
    await d.store.clear('town', keys.email('a@example.jp'), Date.parse('2026-12-01T23:00:00Z'));
    const late = bounceEvent('Permanent', { to: ['a@example.jp'], tenant: 'town', sentAt: '2026-12-01T22:30:00.000Z' });
    expect((await handleEmailEvent(late, d)).olderThanSignup).toBe(1);
    expect(d.store.suppressedOf('town', 'a@example.jp')).toBeUndefined();
    const newer = bounceEvent('Permanent', {
      to: ['a@example.jp'],
      tenant: 'town',
      sentAt: '2026-12-02T07:30:00.000Z',
    });
    expect((await handleEmailEvent(newer, d)).suppressed).toBe(1);
  });

  it('finds the tenants of an untagged mail by its sender, display name and case aside', async () => {
    const d = deps();
    const untagged = bounceEvent('Permanent', {
      to: ['a@example.jp'],
      source: '=?UTF-8?B?44G/?= <KOSODATE@town.example.jp>',
    });
    expect((await handleEmailEvent(untagged, d)).suppressed).toBe(2);
    expect(d.store.suppressedOf('town', 'a@example.jp')).toBe('bounce');
    expect(d.store.suppressedOf('town-b', 'a@example.jp')).toBe('bounce');
    expect(d.store.suppressedOf('other', 'a@example.jp')).toBeUndefined();
  });

  it.each([
    {
      label: 'a delivery event',
      event: { ...complaintEvent({ to: ['a@example.jp'] }), 'detail-type': 'Email Delivered' },
    },
    { label: 'another source', event: { ...complaintEvent({ to: ['a@example.jp'] }), source: 'aws.other' } },
    { label: 'a bounce without recipients', event: bounceEvent('Permanent', { to: [], tenant: 'town' }) },
    { label: 'not an object', event: 'hello' },
  ])('ignores $label and changes nothing', async ({ event }) => {
    const d = deps();
    expect((await handleEmailEvent(event, d)).ignored).toBe(1);
    expect(d.store.records.size).toBe(0);
  });

  it('counts a mail no tenant of ours sent, and changes nothing', async () => {
    const d = deps();
    const out = await handleEmailEvent(
      bounceEvent('Permanent', { to: ['a@example.jp'], source: 'x@elsewhere.example' }),
      d,
    );
    expect(out.unknownTenant).toBe(1);
    expect(d.store.records.size).toBe(0);
  });
});
