import { broadcastRecipients, childAgeMonths, subscriptionInSegment } from '../../../lambdas/domain/broadcasts';
import { buildLibraryIndex } from '../../../lambdas/domain/library';
import { resolveReaderDetailed, type ResolveContext } from '../../../lambdas/domain/resolve';
import {
  BroadcastInputSchema,
  BroadcastSegmentSchema,
  type Broadcast,
  type BroadcastSegment,
} from '../../../schemas/broadcast';
import type { Subscription } from '../../../schemas/subscription';
import { TenantConfigSchema } from '../../../schemas/tenant';

// Segment broadcasts: matching, merging into the day's send, what gives way. Dates worked out by hand:
// on 2026-08-01 the due date 2026-12-19 is gestational day 280 - 140 = 140 (20w0d), 2026-12-20 is day 139 (19w6d),
// 2026-10-04 is day 280 - 64 = 216 (30w6d), 2026-10-03 is day 217 (31w0d).
const DATE = '2026-08-01';

const sub = (over: Partial<Subscription>): Subscription => ({
  tenantId: 'town',
  readerKey: 'line:U1',
  subscriptionId: 'S1',
  channel: 'line',
  address: 'U1',
  track: 'maternity',
  anchorDate: '2026-12-19',
  audience: 'parent',
  nickname: 'ゆい',
  status: 'active',
  registeredOn: '2026-01-01',
  familyId: 'F1',
  bucket: 0,
  version: 1,
  ...over,
});
const segment = (s: unknown): BroadcastSegment => BroadcastSegmentSchema.parse(s);
const broadcast = (over: Partial<Broadcast> & { segment: BroadcastSegment }): Broadcast => ({
  id: `${DATE}-aaaaaaaa`,
  tenantId: 'town',
  date: DATE,
  line: { text: '両親学級のお知らせ' },
  email: { subject: '両親学級', body: '8月10日に両親学級があります' },
  status: 'scheduled',
  createdAt: 1,
  createdBy: 'staff-1',
  ...over,
});

describe('childAgeMonths', () => {
  it.each([
    ['born 2025-08-01, on 2026-08-01', '2025-08-01', '2026-08-01', 12],
    ['born 2025-08-02, on 2026-08-01', '2025-08-02', '2026-08-01', 11],
    ['born on the day', '2026-08-01', '2026-08-01', 0],
    ['born 2026-07-02, on 2026-08-01', '2026-07-02', '2026-08-01', 0],
    ['born Jan 31, on Feb 28 (month end)', '2026-01-31', '2026-02-28', 1],
    ['born Jan 31, on Feb 27', '2026-01-31', '2026-02-27', 0],
  ])('%s', (_label, birthday, today, months) => expect(childAgeMonths(birthday, today)).toBe(months));
});

describe('subscriptionInSegment', () => {
  const pregnancy20to30 = segment({ tracks: ['maternity'], maternity: { from: '20w0d', to: '30w6d' } });
  const firstYear = segment({ tracks: ['childcare'], childcare: { unit: 'months', from: 0, to: 11 } });
  it.each([
    ['20w0d, the first day of 20w0d-30w6d', sub({}), pregnancy20to30, true],
    ['19w6d, a day before', sub({ anchorDate: '2026-12-20' }), pregnancy20to30, false],
    ['30w6d, the last day', sub({ anchorDate: '2026-10-04' }), pregnancy20to30, true],
    ['31w0d, a day after', sub({ anchorDate: '2026-10-03' }), pregnancy20to30, false],
    ['a child in a maternity segment', sub({ track: 'childcare', anchorDate: '2026-06-17' }), pregnancy20to30, false],
    ['11 months in 0-11 months', sub({ track: 'childcare', anchorDate: '2025-08-02' }), firstYear, true],
    ['12 months in 0-11 months', sub({ track: 'childcare', anchorDate: '2025-08-01' }), firstYear, false],
    [
      'born today in 0-0 days',
      sub({ track: 'childcare', anchorDate: DATE }),
      segment({ childcare: { unit: 'days', from: 0, to: 0 } }),
      true,
    ],
    ['a lost pregnancy', sub({ status: 'lost' }), segment({}), false],
    ['the support series after a loss', sub({ track: 'support', anchorDate: '2026-07-20' }), segment({}), false],
    ['a stopped reader', sub({ status: 'stopped' }), segment({}), false],
    ['paused until tomorrow', sub({ pausedUntil: '2026-08-02' }), segment({}), false],
    ['paused until today', sub({ pausedUntil: DATE }), segment({}), true],
    ['registered tomorrow', sub({ registeredOn: '2026-08-02' }), segment({}), false],
    ['a partner, partners only', sub({ audience: 'partner' }), segment({ audience: 'partner' }), true],
    ['a parent, partners only', sub({}), segment({ audience: 'partner' }), false],
    ['email, LINE only', sub({ channel: 'email' }), segment({ channels: ['line'] }), false],
    ['email, everyone', sub({ channel: 'email' }), segment({}), true],
    // Gestational day 28 (4w0d) is the first delivered day: a due date 252 days after the date is day 28.
    ['before 4w0d, everyone', sub({ anchorDate: '2027-04-11' }), segment({}), false],
  ])('%s', (_label, s, seg, expected) => expect(subscriptionInSegment(s, seg, DATE)).toBe(expected));
});

describe('broadcast input validation names the field', () => {
  const valid = {
    date: DATE,
    line: { text: 'お知らせ' },
    segment: { channels: ['line'] },
  };
  it('accepts a valid broadcast with defaults', () => {
    const b = BroadcastInputSchema.parse(valid);
    expect(b.segment).toEqual({ tracks: ['maternity', 'childcare'], channels: ['line'], audience: 'both' });
  });
  it.each([
    ['a malformed date', { ...valid, date: '2026-02-30' }, 'date'],
    ['a LINE text over 5,000 units', { ...valid, line: { text: 'あ'.repeat(5001) } }, 'line.text'],
    ['an email segment without an email text', { ...valid, segment: { channels: ['email'] } }, 'email'],
    [
      'a malformed week',
      { ...valid, segment: { maternity: { from: '20w7d', to: '30w6d' } } },
      'segment.maternity.from',
    ],
    [
      'a week outside the track',
      { ...valid, segment: { maternity: { from: '2w0d', to: '30w6d' } } },
      'segment.maternity.from',
    ],
    [
      'a range upside down',
      { ...valid, segment: { maternity: { from: '30w0d', to: '20w0d' } } },
      'segment.maternity.to',
    ],
    [
      'a maternity range without the track',
      { ...valid, segment: { tracks: ['childcare'], maternity: { from: '20w0d', to: '30w6d' } } },
      'segment.maternity',
    ],
    [
      'months beyond the track',
      { ...valid, segment: { childcare: { unit: 'months', from: 0, to: 36 } } },
      'segment.childcare.to',
    ],
    ['an unknown audience', { ...valid, segment: { audience: 'grandparent' } }, 'segment.audience'],
    ['the support track', { ...valid, segment: { tracks: ['support'] } }, 'segment.tracks.0'],
    ['an unknown placeholder', { ...valid, line: { text: 'こんにちは{name}' } }, 'line.text'],
  ])('%s', (_label, input, path) => {
    const r = BroadcastInputSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});

const tenant = TenantConfigSchema.parse({
  tenantId: 'town',
  name: 'town',
  deliveryTime: '07:30',
  shardCount: 1,
  library: 'lib',
  line: { enabled: true, secretName: 'hagukumi/town/line' },
  birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
  overlays: [{ track: 'maternity', day: 140, mode: 'append', text: 'overlay m140' }],
  announcements: [{ date: DATE, text: 'announcement' }],
});
const library = buildLibraryIndex([
  { track: 'maternity', day: 140, audience: 'parent', text: 'm140' },
  { track: 'childcare', day: 45, audience: 'parent', text: 'c45' },
]);

describe('a broadcast in the day send', () => {
  const everyone = broadcast({ segment: segment({}), line: { text: '{nickname}さんへ：両親学級' } });
  const ctx: ResolveContext = { tenant, library, broadcasts: [everyone] };
  it('comes after the daily texts, once for twins, naming both', () => {
    const twins = [
      sub({ track: 'childcare', anchorDate: '2026-06-17', nickname: 'あお', subscriptionId: 'S2' }),
      sub({ track: 'childcare', anchorDate: '2026-06-17', nickname: 'ゆい', subscriptionId: 'S3' }),
    ];
    // Twins' identical texts merge, nicknames joined by the default joiner.
    const r = resolveReaderDetailed(twins, DATE, ctx);
    expect(r.broadcastIds).toEqual([everyone.id]);
    expect(r.texts).toEqual(['c45', 'announcement', 'あおとゆいさんへ：両親学級']);
  });
  it('a cancelled or other-day broadcast is not sent', () => {
    const cancelled = { ...everyone, status: 'cancelled' as const };
    const tomorrow = { ...everyone, date: '2026-08-02' };
    const r = resolveReaderDetailed([sub({})], DATE, { tenant, library, broadcasts: [cancelled, tomorrow] });
    expect(r).toEqual({ texts: ['m140', 'overlay m140', 'announcement'], broadcastIds: [] });
  });
  it('never after a loss', () => {
    const r = resolveReaderDetailed([sub({ status: 'lost' })], DATE, ctx);
    expect(r).toEqual({ texts: [], broadcastIds: [] });
  });
  it('an email reader gets the subject as a heading of the part', () => {
    const r = resolveReaderDetailed([sub({ channel: 'email' })], DATE, ctx);
    expect(r.texts.at(-1)).toBe('■ 両親学級\n8月10日に両親学級があります');
  });
  it('with invitations and three broadcasts: 5 messages, the daily texts merged first', () => {
    const three = ['x', 'y', 'z'].map((t, i) =>
      broadcast({ id: `${DATE}-b${i}bbbbbbb`, createdAt: i, line: { text: `bc ${t}` }, segment: segment({}) }),
    );
    const r = resolveReaderDetailed([sub({})], DATE, { tenant, library, broadcasts: three }, ['invitation']);
    // 7 texts into 5: the three daily texts of the one subscription become one message, the rest stay alone.
    expect(r.texts).toEqual(['m140\n\noverlay m140\n\nannouncement', 'bc x', 'bc y', 'bc z', 'invitation']);
    expect(r.broadcastIds).toHaveLength(3);
  });
  it('broadcasts that cannot fit give way, the last first; the stage message stays', () => {
    const long = (i: number) =>
      broadcast({
        id: `${DATE}-l${i}llllll`,
        createdAt: i,
        line: { text: String(i).repeat(5000) },
        segment: segment({}),
      });
    const five = [1, 2, 3, 4, 5].map(long);
    const r = resolveReaderDetailed([sub({})], DATE, { tenant, library, broadcasts: five });
    // The daily texts need one message of their own; 5,000-unit texts cannot share one: 4 broadcasts fit.
    expect(r.broadcastIds).toEqual(five.slice(0, 4).map((b) => b.id));
    expect(r.texts[0]).toBe('m140\n\noverlay m140\n\nannouncement');
    expect(r.texts).toHaveLength(5);
  });
});

describe('broadcastRecipients', () => {
  it('counts readers, not subscriptions; leaves out suppressed addresses and lost pregnancies', () => {
    const subs = [
      sub({ readerKey: 'line:A', subscriptionId: 'A1' }),
      sub({ readerKey: 'line:A', subscriptionId: 'A2', track: 'childcare', anchorDate: '2025-01-01' }),
      sub({ readerKey: 'line:B', status: 'lost' }),
      sub({ readerKey: 'email:C', channel: 'email', suppressed: { reason: 'bounce', at: 1 } }),
      sub({ readerKey: 'email:D', channel: 'email' }),
    ];
    expect([...broadcastRecipients(broadcast({ segment: segment({}) }), subs)].sort()).toEqual(['email:D', 'line:A']);
  });
});
