import type { Subscription } from '../../../schemas/subscription';
import { birthdayIn, daysFromTo } from '../../../local/chaos/calendar';
import { expectedTexts, judge, type OracleInput, type Received } from '../../../local/chaos/oracle';
import { chaosLibrary, chaosTenant, type Reader } from '../../../local/chaos/population';

// The chaos oracle must be able to fail: each case plants one broken promise in otherwise clean evidence.
const date = '2026-12-02';
const tenant = chaosTenant('chaos-test', 2);
const items = chaosLibrary().items;

const sub = (over: Partial<Subscription>): Subscription => ({
  tenantId: tenant.tenantId,
  readerKey: 'line:U1',
  subscriptionId: 's1',
  channel: 'line',
  address: 'U1',
  track: 'maternity',
  anchorDate: '2027-03-01',
  audience: 'parent',
  status: 'active',
  registeredOn: '2026-11-01',
  familyId: 'f1',
  bucket: 0,
  version: 0,
  ...over,
});
const reader = (address: string, subs: Partial<Subscription>[], channel: 'line' | 'email' = 'line'): Reader => ({
  address,
  channel,
  readerKey: `${channel}:${address}`,
  subscriptions: subs.map((s, i) =>
    sub({ readerKey: `${channel}:${address}`, address, channel, subscriptionId: `${address}-${i}`, ...s }),
  ),
});

describe('the chaos oracle date arithmetic', () => {
  it.each([
    ['2026-12-02', '2027-03-01', 89],
    ['2024-02-28', '2024-03-01', 2],
    ['2023-02-28', '2023-03-01', 1],
  ])('from %s to %s is %i days', (from, to, days) => expect(daysFromTo(from, to)).toBe(days));

  it('keeps a Feb 29 birthday on Feb 28 in common years', () => {
    expect(birthdayIn('2024-02-29', 2025)).toBe('2025-02-28');
    expect(birthdayIn('2024-02-29', 2028)).toBe('2028-02-29');
  });
});

describe('what the chaos oracle expects', () => {
  it.each([
    // due 2027-03-01 on 2026-12-02: 89 days to go, gestational day 191
    ['a pregnancy', [{ anchorDate: '2027-03-01' }], ['M191']],
    ['a partner on a day with a partner text', [{ anchorDate: '2027-03-03', audience: 'partner' as const }], ['MP189']],
    [
      'a partner on a day without one gets the parent text',
      [{ anchorDate: '2027-03-01', audience: 'partner' as const }],
      ['M191'],
    ],
    ['a nickname slot', [{ anchorDate: '2027-03-02', nickname: 'はな' }], ['M190 はな']],
    ['the default nickname', [{ anchorDate: '2027-03-02' }], ['M190 あかちゃん']],
    ['an appended overlay', [{ anchorDate: addDaysIso(date, 140) }], ['M140 あかちゃん', 'OM140']],
    ['a replacing overlay', [{ track: 'childcare' as const, anchorDate: addDaysIso(date, -60) }], ['OC60']],
    ['a first birthday', [{ track: 'childcare' as const, anchorDate: '2025-12-02' }], ['B1 あかちゃん']],
    ['a gap in the childcare cadence', [{ track: 'childcare' as const, anchorDate: addDaysIso(date, -101) }], []],
    ['before 4w0d', [{ anchorDate: addDaysIso(date, 253) }], []],
    ['a pause until tomorrow', [{ pausedUntil: '2026-12-03' }], []],
    ['a pause ending today', [{ pausedUntil: '2026-12-02' }], ['M191']],
    ['registered for tomorrow', [{ registeredOn: '2026-12-03' }], []],
    ['stopped', [{ status: 'stopped' as const }], []],
    [
      'a toddler and a pregnancy: maternity first',
      [
        { track: 'childcare' as const, anchorDate: addDaysIso(date, -45) },
        { anchorDate: '2027-03-01', subscriptionId: 'z' },
      ],
      ['M191', 'C45'],
    ],
  ])('%s', (_label, subs, expected) => {
    expect(expectedTexts(reader('U1', subs), date, tenant, items)).toEqual(expected);
  });
});

function addDaysIso(d: string, n: number): string {
  return new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

describe('the chaos oracle verdict', () => {
  const a = reader('Ua', [{ anchorDate: '2027-03-01' }]);
  const b = reader('Ub', [{ anchorDate: '2027-03-01', audience: 'partner', familyId: 'f1' }]);
  const mail = reader('m@x.jp', [{ anchorDate: '2027-03-01' }], 'email');
  const clean = (): OracleInput => ({
    date,
    tenant: { ...tenant, shardCount: 1 },
    items,
    readers: [a, b, mail],
    received: new Map<string, Received[]>([
      ['Ua', [{ at: 100, texts: ['M191'], id: 'l1' }]],
      ['Ub', [{ at: 100, texts: ['M191'], id: 'l1' }]],
      ['m@x.jp', [{ at: 100, texts: ['M191'], id: 'e1' }]],
    ]),
    lineAccepted: { requests: 1, recipients: 2 },
    emailsAccepted: 1,
    stops: [],
    emailClaimKilled: new Set(),
    ledger: { shards: 1, recipients: 3, lineRequests: 1, emails: 1, failures: 0 },
    deadLettered: 0,
  });

  it('passes clean evidence', () => {
    expect(judge(clean())).toMatchObject({ due: 3, duplicates: 0, lost: 0, sentAfterStop: 0, problems: [] });
  });

  it('counts a second send as a duplicate', () => {
    const o = clean();
    o.received.get('Ua')!.push({ at: 200, texts: ['M191'], id: 'l2' });
    expect(judge(o).duplicates).toBe(1);
  });

  it('counts a due reader without a send as lost', () => {
    const o = clean();
    o.received.delete('Ub');
    expect(judge(o).lost).toBe(1);
  });

  it('counts a send after the stop answered, and a loss stops the partner too', () => {
    const o = clean();
    o.stops.push({ kind: 'loss', addresses: ['Ua', 'Ub'], at: 50 });
    expect(judge(o).sentAfterStop).toBe(2);
    o.stops[0]!.at = 150;
    expect(judge(o).sentAfterStop).toBe(0);
  });

  it('does not count a stopped reader without a send as lost', () => {
    const o = clean();
    o.received.delete('Ua');
    o.stops.push({ kind: 'stop', addresses: ['Ua'], at: 50 });
    expect(judge(o).lost).toBe(0);
  });

  it('counts a missing email as uncertain only when its claim was killed', () => {
    const o = clean();
    o.received.delete('m@x.jp');
    expect(judge(o)).toMatchObject({ lost: 1, emailUncertain: 0 });
    o.emailClaimKilled.add('email:m@x.jp');
    expect(judge(o)).toMatchObject({ lost: 0, emailUncertain: 1 });
  });

  it.each([
    ['wrong messages', (o: OracleInput) => void (o.received.get('Ua')![0]!.texts = ['M192'])],
    ['a stranger', (o: OracleInput) => void o.received.set('Uz', [{ at: 1, texts: ['M1'], id: 'x' }])],
    ['a ledger that counts an email SES never accepted', (o: OracleInput) => void (o.ledger.emails = 2)],
    ['a ledger missing a shard', (o: OracleInput) => void (o.ledger.shards = 0)],
    ['a task in the DLQ', (o: OracleInput) => void (o.deadLettered = 1)],
  ])('reports %s', (_label, plant) => {
    const o = clean();
    plant(o);
    expect(judge(o).problems).toHaveLength(1);
  });
});

describe('what the chaos oracle expects of twins', () => {
  it.each([
    ['the same text once', [{ nickname: 'はな' }, { nickname: 'そら' }], ['M191']],
    [
      'a text naming the child names both',
      [
        { anchorDate: '2027-03-02', nickname: 'はな' },
        { anchorDate: '2027-03-02', nickname: 'そら' },
      ],
      ['M190 はなとそら'],
    ],
    ['the default nickname once', [{ anchorDate: '2027-03-02' }, { anchorDate: '2027-03-02' }], ['M190 あかちゃん']],
  ])('%s', (_label, subs, expected) => {
    expect(expectedTexts(reader('U1', subs), date, tenant, items)).toEqual(expected);
  });
});
