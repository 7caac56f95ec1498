import { buildLibraryIndex } from '../../../lambdas/domain/library';
import { resolveReader, resolveSubscription, type ResolveContext } from '../../../lambdas/domain/resolve';
import type { Subscription } from '../../../schemas/subscription';
import { TenantConfigSchema } from '../../../schemas/tenant';

// Municipal announcements on calendar dates, beside the per-slot overlays.
const tenant = TenantConfigSchema.parse({
  tenantId: 'town',
  name: 'town',
  deliveryTime: '07:30',
  shardCount: 1,
  library: 'lib',
  line: { enabled: true, secretName: 'hagukumi/town/line' },
  birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
  overlays: [{ track: 'maternity', day: 140, mode: 'append', text: 'overlay m140' }],
  announcements: [
    { date: '2026-08-01', text: '熱中症に気をつけて、{nickname}' },
    { date: '2026-08-01', text: '両親学級のお知らせ', track: 'maternity' },
    { date: '2026-08-01', text: 'パートナーの方へ：育休の相談会', audience: 'partner' },
    { date: '2026-08-02', text: '予防接種の週間です', track: 'childcare' },
  ],
});
const library = buildLibraryIndex([
  { track: 'maternity', day: 140, audience: 'parent', text: 'm140' },
  { track: 'childcare', day: 45, audience: 'parent', text: 'c45' },
  { track: 'support', day: 10, audience: 'parent', text: 's10' },
]);
const ctx: ResolveContext = { tenant, library };

// 2026-08-01 is gestational day 140 for the due date 2026-12-19 (140 days later is day 280) and childcare day
// 45 for the birthday 2026-06-17.
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

describe('announcements', () => {
  it.each([
    ['a maternity parent', sub({}), ['m140', 'overlay m140', '熱中症に気をつけて、ゆい', '両親学級のお知らせ']],
    [
      'a maternity partner',
      sub({ audience: 'partner' }),
      ['m140', 'overlay m140', '熱中症に気をつけて、ゆい', '両親学級のお知らせ', 'パートナーの方へ：育休の相談会'],
    ],
    ['a childcare parent', sub({ track: 'childcare', anchorDate: '2026-06-17' }), ['c45', '熱中症に気をつけて、ゆい']],
    // After a loss only the support series: no municipal message.
    ['a reader on the support series', sub({ track: 'support', anchorDate: '2026-07-22' }), ['s10']],
    ['a paused reader', sub({ pausedUntil: '2026-08-10' }), []],
  ])('on their date: %s', (_label, subscription, expected) => {
    expect(resolveSubscription(subscription, '2026-08-01', ctx)).toEqual(expected);
  });

  it('only on their date, and by track', () => {
    expect(resolveSubscription(sub({}), '2026-08-02', ctx)).toEqual([]);
    expect(resolveSubscription(sub({ track: 'childcare', anchorDate: '2026-06-17' }), '2026-08-02', ctx)).toEqual([
      '予防接種の週間です',
    ]);
  });

  it('come once to a reader with a pregnancy and a toddler, naming both where they name the child', () => {
    const texts = resolveReader(
      [sub({}), sub({ subscriptionId: 'S2', track: 'childcare', anchorDate: '2025-06-17', nickname: 'あお' })],
      '2026-08-01',
      ctx,
    );
    expect(texts).toEqual(['m140', 'overlay m140', '熱中症に気をつけて、ゆいとあお', '両親学級のお知らせ']);
  });

  it('are checked like every message text: a real date and known placeholders', () => {
    const parsed = TenantConfigSchema.safeParse({
      ...tenant,
      announcements: [
        { date: '2026-02-30', text: 'x' },
        { date: '2026-08-01', text: '{name}さん' },
      ],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'announcements.0.date: not a real calendar date',
      'announcements.1.text: unknown placeholder {name} (known: {nickname})',
    ]);
  });
});
