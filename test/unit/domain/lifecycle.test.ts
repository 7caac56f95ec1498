import type { Subscription } from '../../../schemas/subscription';
import * as lifecycle from '../../../lambdas/domain/lifecycle';
import type { Reader } from '../../../lambdas/domain/lifecycle';

// Expected values are written out from the rules (DESIGN.md, the LINE chat's behaviour), not computed.
const TODAY = '2027-01-31';

let ids = 0;
const reader = (subscriptions: Subscription[] = [], channel: 'line' | 'email' = 'email'): Reader => ({
  tenantId: 'demo-minato',
  readerKey: 'email:abcdefghijklmnopqrstuvwxyz012345',
  channel,
  address: 'hanako@example.jp',
  today: TODAY,
  subscriptions,
  newId: () => `id-${++ids}`,
});
const sub = (over: Partial<Subscription> = {}): Subscription => ({
  tenantId: 'demo-minato',
  readerKey: 'email:abcdefghijklmnopqrstuvwxyz012345',
  subscriptionId: `s-${++ids}`,
  channel: 'email',
  address: 'hanako@example.jp',
  track: 'maternity',
  anchorDate: '2027-05-01',
  audience: 'parent',
  status: 'active',
  registeredOn: '2027-01-01',
  familyId: 'fam-1',
  bucket: 3,
  version: 2,
  ...over,
});

describe('lifecycle (shared by the LINE chat and the email pages)', () => {
  it('registers on the reader’s channel, active from tomorrow, a parent in a new family', () => {
    const s = lifecycle.register(reader(), 'maternity', '2027-06-01', 'はな');
    expect(s).toMatchObject({
      channel: 'email',
      address: 'hanako@example.jp',
      track: 'maternity',
      anchorDate: '2027-06-01',
      nickname: 'はな',
      audience: 'parent',
      status: 'active',
      registeredOn: '2027-02-01',
      version: 0,
    });
    expect(s.familyId).not.toBe(s.subscriptionId);
  });

  it('joins a family with a valid invite, as a partner; not with an expired one or into an own family', () => {
    const invite = {
      code: 'ABC234',
      familyId: 'fam-9',
      track: 'childcare' as const,
      anchorDate: '2026-12-01',
      expiresOn: TODAY,
    };
    expect(lifecycle.joinFamily(reader(), invite)).toMatchObject({
      audience: 'partner',
      familyId: 'fam-9',
      track: 'childcare',
      anchorDate: '2026-12-01',
    });
    expect(lifecycle.joinFamily(reader(), { ...invite, expiresOn: '2027-01-30' })).toBeUndefined();
    expect(lifecycle.joinFamily(reader([sub({ familyId: 'fam-9' })]), invite)).toBeUndefined();
    expect(lifecycle.joinFamily(reader(), null)).toBeUndefined();
  });

  it.each([
    ['due-date', TODAY, 'ok'],
    ['due-date', '2027-11-27', 'ok'], // today + 300 days (day 31 + 300 = day 331 of 2027)
    ['due-date', '2027-11-28', 'out-of-range'],
    ['due-date', '2027-01-30', 'out-of-range'],
    ['birthday', '2024-02-01', 'ok'], // today - 1095 days
    ['birthday', '2024-01-31', 'out-of-range'],
    ['birthday', '2027-02-01', 'out-of-range'],
    ['birth-date', '2026-08-04', 'ok'], // today - 180 days
    ['birth-date', '2026-08-03', 'out-of-range'],
    ['birth-date', '2027-02-30', 'not-a-date'],
    ['birthday', '', 'not-a-date'],
    ['birthday', '27-1-1', 'not-a-date'],
  ] as const)('checks a %s of %s: %s', (kind, date, want) => {
    expect(lifecycle.checkDate(TODAY, kind, date)).toBe(want);
  });

  it('pauses a week or a month (to the month’s last day when it is shorter), or until resumed', () => {
    const r = reader([sub()]);
    expect(lifecycle.pause(r, 'week')).toMatchObject({ outcome: 'paused', until: '2027-02-07' });
    expect(lifecycle.pause(r, 'month')).toMatchObject({ outcome: 'paused', until: '2027-02-28' });
    const indefinite = lifecycle.pause(r, 'resumed');
    expect(indefinite).toMatchObject({ outcome: 'paused', until: undefined });
    expect(indefinite.outcome === 'paused' && indefinite.puts[0]!.status).toBe('paused');
    expect(lifecycle.pause(reader([sub({ status: 'paused' })]), 'week')).toEqual({ outcome: 'paused-already' });
    expect(lifecycle.pause(reader([sub({ status: 'stopped' })]), 'week')).toEqual({ outcome: 'nothing-to-pause' });
  });

  it('resumes what is paused and what the reader stopped, from tomorrow; not what a block or a loss stopped', () => {
    const paused = sub({ status: 'paused' });
    const stopped = sub({ status: 'stopped', stoppedReason: 'reader' });
    const blocked = sub({ status: 'stopped', stoppedReason: 'unfollow' });
    const lost = sub({ status: 'lost' });
    const r = lifecycle.resume(reader([paused, stopped, blocked, lost]));
    expect(r.resumable).toBe(true);
    expect(r.puts.map((s) => s.subscriptionId).sort()).toEqual([paused.subscriptionId, stopped.subscriptionId].sort());
    for (const s of r.puts) expect(s).toMatchObject({ status: 'active', registeredOn: '2027-02-01' });
    expect(lifecycle.resume(reader([blocked, lost])).resumable).toBe(false);
  });

  it('stops every live subscription (never a lost one) for the reader’s own reason', () => {
    const puts = lifecycle.stop(reader([sub(), sub({ status: 'paused' }), sub({ status: 'lost' })]));
    expect(puts).toHaveLength(2);
    for (const s of puts) expect(s).toMatchObject({ status: 'stopped', stoppedReason: 'reader' });
  });

  it('a birth turns the pregnancy into a child from tomorrow, and the family follows', () => {
    const s = sub();
    const { born, changes } = lifecycle.birth(reader([s]), s, '2027-01-29');
    expect(born).toMatchObject({ track: 'childcare', anchorDate: '2027-01-29', registeredOn: '2027-02-01' });
    // Delivery starts anew; the registration stays the pregnancy's, through a later resume too.
    expect(born.firstRegisteredOn).toBe(s.registeredOn);
    expect(born.firstRegisteredOn).not.toBe(born.registeredOn);
    const paused = { ...born, status: 'paused' as const };
    const { puts } = lifecycle.resume({ ...reader([paused]), today: '2027-02-10' });
    expect(puts[0]).toMatchObject({ registeredOn: '2027-02-11', firstRegisteredOn: s.registeredOn });
    expect(changes).toContainEqual({
      type: 'family',
      familyId: 'fam-1',
      set: { track: 'childcare', anchorDate: '2027-01-29' },
    });
  });

  it('a loss is lost for the reader and the family; the support series starts once', () => {
    const s = sub();
    expect(lifecycle.loss(s)).toEqual([
      { type: 'put', subscription: { ...s, status: 'lost' } },
      { type: 'family', familyId: 'fam-1', set: { status: 'lost' } },
    ]);
    const after = reader([{ ...s, status: 'lost' }]);
    expect(lifecycle.supportOffered(after, 'fam-1')).toBe(true);
    expect(lifecycle.supportOffered(after, 'fam-2')).toBe(false);
    const support = lifecycle.startSupport(after)!;
    expect(support).toMatchObject({ track: 'support', anchorDate: TODAY, status: 'active' });
    expect(lifecycle.startSupport(reader([{ ...s, status: 'lost' }, support]))).toBeUndefined();
  });

  it('an invite is valid for seven days, today included', () => {
    expect(lifecycle.invite(reader(), sub(), 'XYZ234')).toMatchObject({
      code: 'XYZ234',
      familyId: 'fam-1',
      expiresOn: '2027-02-06',
    });
  });

  it('cleans nicknames: NFKC, control characters out, at most 20 characters', () => {
    expect(lifecycle.sanitizeNickname('  ＨＡＮＡ\u0000 ちゃん ')).toBe('HANA ちゃん');
    expect(lifecycle.sanitizeNickname('\u200b')).toBeUndefined();
    expect(lifecycle.sanitizeNickname('あ'.repeat(21))).toBeUndefined();
    expect(lifecycle.sanitizeNickname('{name}')).toBe('name');
  });
});
