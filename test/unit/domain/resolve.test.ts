import { addDays } from '../../../lambdas/domain/dates';
import { buildLibraryIndex } from '../../../lambdas/domain/library';
import {
  emailSubject,
  MessageTooLongError,
  packMessages,
  resolveReader,
  resolveSubscription,
  type ResolveContext,
} from '../../../lambdas/domain/resolve';
import type { Subscription } from '../../../schemas/subscription';
import { TenantConfigSchema, type TenantConfig } from '../../../schemas/tenant';

const tenant: TenantConfig = TenantConfigSchema.parse({
  tenantId: 'demo-minato',
  name: 'みなと市',
  deliveryTime: '07:30',
  shardCount: 4,
  library: 'sample-ja',
  line: { enabled: true, secretName: 'hagukumi/demo-minato/line' },
  birthdayMessages: { '1': '{nickname} 1歳', '2': '{nickname} 2歳', '3': '{nickname} 3歳' },
  overlays: [
    { track: 'maternity', day: 140, mode: 'append', text: 'append 140' },
    { track: 'maternity', day: 141, mode: 'replace', text: 'replace 141' },
    { track: 'maternity', day: 142, mode: 'append', text: 'general 142' },
    { track: 'maternity', day: 142, mode: 'replace', audience: 'partner', text: 'partner 142' },
    { track: 'maternity', day: 143, mode: 'append', audience: 'parent', text: 'parent-only 143' },
    { track: 'maternity', day: 150, mode: 'replace', text: 'replace on an empty day 150' },
    { track: 'maternity', day: 151, mode: 'append', text: 'append on an empty day 151' },
    { track: 'childcare', day: 365, mode: 'append', text: 'childcare 365 {nickname}' },
  ],
});

// Due date 2026-12-08: gestational day d falls on 2026-12-08 - (280 - d).
// Birthday 2026-06-15: age d falls on 2026-06-15 + d; 1st birthday 2027-06-15 is day 365.
const library = buildLibraryIndex([
  { track: 'maternity', day: 28, audience: 'parent', text: 'm28 {nickname}' },
  { track: 'maternity', day: 140, audience: 'parent', text: 'm140' },
  { track: 'maternity', day: 141, audience: 'parent', text: 'm141' },
  { track: 'maternity', day: 142, audience: 'parent', text: 'm142' },
  { track: 'maternity', day: 143, audience: 'parent', text: 'm143' },
  { track: 'maternity', day: 280, audience: 'parent', text: 'm280 {nickname}' },
  { track: 'maternity', day: 280, audience: 'partner', text: 'm280 partner {nickname}' },
  { track: 'maternity', day: 293, audience: 'parent', text: 'm293' },
  { track: 'childcare', day: 0, audience: 'parent', text: 'c0 {nickname}' },
  { track: 'childcare', day: 45, audience: 'parent', text: 'c45 {nickname} {unknown}' },
  { track: 'childcare', day: 365, audience: 'parent', text: 'c365' },
  { track: 'childcare', day: 731, audience: 'parent', text: 'c731' },
  { track: 'childcare', day: 1096, audience: 'parent', text: 'c1096' },
]);

const ctx: ResolveContext = { tenant, library };

const pregnancy: Subscription = {
  tenantId: 'demo-minato',
  readerKey: 'line:U1',
  subscriptionId: 'S-preg',
  channel: 'line',
  address: 'U1',
  track: 'maternity',
  anchorDate: '2026-12-08',
  audience: 'parent',
  nickname: 'まめちゃん',
  status: 'active',
  registeredOn: '2026-01-01',
  familyId: 'F1',
  bucket: 0,
  version: 0,
};
const child: Subscription = {
  ...pregnancy,
  subscriptionId: 'S-child',
  track: 'childcare',
  anchorDate: '2026-06-15',
  nickname: 'たろう',
};

describe('resolveSubscription', () => {
  it.each<{ label: string; sub: Subscription; today: string; want: string[] }>([
    { label: 'library text with nickname', sub: pregnancy, today: '2026-03-31', want: ['m28 まめちゃん'] },
    { label: 'a day without library text gives nothing', sub: pregnancy, today: '2026-04-01', want: [] },
    { label: 'due date today (day 280)', sub: pregnancy, today: '2026-12-08', want: ['m280 まめちゃん'] },
    { label: 'last slot 41w6d', sub: pregnancy, today: '2026-12-21', want: ['m293'] },
    { label: 'one past the last slot: nothing', sub: pregnancy, today: '2026-12-22', want: [] },
    { label: 'before 4w0d: nothing', sub: pregnancy, today: '2026-03-30', want: [] },
    {
      label: 'default nickname when none given',
      sub: { ...pregnancy, nickname: undefined },
      today: '2026-12-08',
      want: ['m280 赤ちゃん'],
    },
    {
      label: 'default nickname when blank',
      sub: { ...pregnancy, nickname: '  ' },
      today: '2026-12-08',
      want: ['m280 赤ちゃん'],
    },
    {
      label: 'replacement patterns in a nickname stay literal',
      sub: { ...pregnancy, nickname: "$&$'" },
      today: '2026-12-08',
      want: ["m280 $&$'"],
    },
    {
      label: 'partner variant',
      sub: { ...pregnancy, audience: 'partner' },
      today: '2026-12-08',
      want: ['m280 partner まめちゃん'],
    },
    {
      label: 'partner falls back to the parent text',
      sub: { ...pregnancy, audience: 'partner' },
      today: '2026-12-21',
      want: ['m293'],
    },
    { label: 'overlay append', sub: pregnancy, today: '2026-07-21', want: ['m140', 'append 140'] },
    { label: 'overlay replace', sub: pregnancy, today: '2026-07-22', want: ['replace 141'] },
    { label: 'general overlay for the parent', sub: pregnancy, today: '2026-07-23', want: ['m142', 'general 142'] },
    {
      label: 'partner overlay wins over the general one',
      sub: { ...pregnancy, audience: 'partner' },
      today: '2026-07-23',
      want: ['partner 142'],
    },
    {
      label: 'parent-only overlay for the parent',
      sub: pregnancy,
      today: '2026-07-24',
      want: ['m143', 'parent-only 143'],
    },
    {
      label: 'parent-only overlay skips the partner',
      sub: { ...pregnancy, audience: 'partner' },
      today: '2026-07-24',
      want: ['m143'],
    },
    {
      label: 'replace on a day without library text',
      sub: pregnancy,
      today: '2026-07-31',
      want: ['replace on an empty day 150'],
    },
    {
      label: 'append on a day without library text',
      sub: pregnancy,
      today: '2026-08-01',
      want: ['append on an empty day 151'],
    },
    { label: 'childcare birthday is day 0', sub: child, today: '2026-06-15', want: ['c0 たろう'] },
    { label: 'unknown placeholders stay', sub: child, today: '2026-07-30', want: ['c45 たろう {unknown}'] },
    {
      label: '1st birthday: library, overlay, greeting',
      sub: child,
      today: '2027-06-15',
      want: ['c365', 'childcare 365 たろう', 'たろう 1歳'],
    },
    { label: '2nd birthday (day 731 over a leap day)', sub: child, today: '2028-06-15', want: ['c731', 'たろう 2歳'] },
    { label: '3rd birthday, the last day', sub: child, today: '2029-06-15', want: ['c1096', 'たろう 3歳'] },
    { label: 'after the 3rd birthday: nothing', sub: child, today: '2029-06-16', want: [] },
    { label: 'before the birthday: nothing', sub: child, today: '2026-06-14', want: [] },
    {
      label: 'birthday greeting with the default nickname',
      sub: { ...child, nickname: undefined },
      today: '2028-06-15',
      want: ['c731', '赤ちゃん 2歳'],
    },
    {
      label: 'birthday greeting for the partner too',
      sub: { ...child, audience: 'partner' },
      today: '2028-06-15',
      want: ['c731', 'たろう 2歳'],
    },
    {
      label: 'Feb 29 child greeted on Feb 28 2027',
      sub: { ...child, anchorDate: '2024-02-29' },
      today: '2027-02-28',
      want: ['たろう 3歳'],
    },
    {
      label: 'Feb 29 child not on Mar 1 2027',
      sub: { ...child, anchorDate: '2024-02-29' },
      today: '2027-03-01',
      want: [],
    },
    {
      label: 'Feb 29 child: Feb 28 2027 is the last day',
      sub: { ...child, anchorDate: '2024-02-29', nickname: 'はな' },
      today: '2027-02-28',
      want: ['はな 3歳'],
    },
    {
      label: 'paused until a later date: nothing',
      sub: { ...pregnancy, pausedUntil: '2026-12-09' },
      today: '2026-12-08',
      want: [],
    },
    {
      label: 'paused until today: delivered',
      sub: { ...pregnancy, pausedUntil: '2026-12-08' },
      today: '2026-12-08',
      want: ['m280 まめちゃん'],
    },
    {
      label: 'paused until an earlier date: delivered',
      sub: { ...pregnancy, pausedUntil: '2026-11-01' },
      today: '2026-12-08',
      want: ['m280 まめちゃん'],
    },
    {
      label: 'before registration: nothing',
      sub: { ...pregnancy, registeredOn: '2026-12-09' },
      today: '2026-12-08',
      want: [],
    },
    {
      label: 'registered today: delivered',
      sub: { ...pregnancy, registeredOn: '2026-12-08' },
      today: '2026-12-08',
      want: ['m280 まめちゃん'],
    },
    { label: 'status paused: nothing', sub: { ...pregnancy, status: 'paused' }, today: '2026-12-08', want: [] },
    { label: 'status stopped: nothing', sub: { ...pregnancy, status: 'stopped' }, today: '2026-12-08', want: [] },
    { label: 'status lost: nothing', sub: { ...pregnancy, status: 'lost' }, today: '2026-12-08', want: [] },
    { label: 'status ended: nothing', sub: { ...pregnancy, status: 'ended' }, today: '2026-12-08', want: [] },
  ])('$label', ({ sub, today, want }) => {
    expect(resolveSubscription(sub, today, ctx)).toEqual(want);
  });
});

describe('resolveReader', () => {
  const twinA: Subscription = { ...child, subscriptionId: 'S-twin-a', nickname: 'ゆい' };
  const twinB: Subscription = { ...child, subscriptionId: 'S-twin-b', nickname: 'あお' };
  const toddler: Subscription = { ...child, anchorDate: '2025-12-08', nickname: 'けん' };
  const nextPregnancy: Subscription = { ...pregnancy, nickname: undefined };

  it.each<{ label: string; subs: Subscription[]; today: string; want: string[] }>([
    { label: 'nothing due', subs: [twinA, twinB], today: '2026-06-16', want: [] },
    {
      label: 'twins with different nicknames: one text naming both, in subscription id order',
      subs: [twinB, twinA],
      today: '2026-06-15',
      want: ['c0 ゆいとあお'],
    },
    {
      label: 'twins without nicknames: the same text once, not two identical bubbles',
      subs: [
        { ...twinA, nickname: undefined },
        { ...twinB, nickname: undefined },
      ],
      today: '2026-06-15',
      want: ['c0 赤ちゃん'],
    },
    {
      label: 'twins with the same nickname: once',
      subs: [twinA, { ...twinB, nickname: 'ゆい' }],
      today: '2026-06-15',
      want: ['c0 ゆい'],
    },
    {
      label: 'twins on their 1st birthday: the library text once, the overlay and the greeting naming both',
      subs: [twinA, twinB],
      today: '2027-06-15',
      want: ['c365', 'childcare 365 ゆいとあお', 'ゆいとあお 1歳'],
    },
    {
      label: 'triplets, one without a nickname: every child named, the default word for that one',
      subs: [twinA, twinB, { ...child, subscriptionId: 'S-twin-c', nickname: undefined }],
      today: '2026-06-15',
      want: ['c0 ゆいとあおと赤ちゃん'],
    },
    {
      label: 'siblings on different days keep their own texts',
      subs: [twinA, { ...twinB, anchorDate: '2025-06-15' }],
      today: '2026-06-15',
      want: ['c365', 'childcare 365 あお', 'あお 1歳', 'c0 ゆい'],
    },
    // Toddler born 2025-12-08 is 365 days old on 2026-12-08, the due date of the new pregnancy.
    {
      label: 'a toddler and a new pregnancy: maternity first',
      subs: [toddler, nextPregnancy],
      today: '2026-12-08',
      want: ['m280 赤ちゃん', 'c365', 'childcare 365 けん', 'けん 1歳'],
    },
    {
      label: 'a stopped subscription adds nothing',
      subs: [{ ...twinA, status: 'stopped' }, twinB],
      today: '2026-06-15',
      want: ['c0 あお'],
    },
  ])('$label', ({ subs, today, want }) => {
    expect(resolveReader(subs, today, ctx)).toEqual(want);
    expect(resolveReader([...subs].reverse(), today, ctx)).toEqual(want);
  });

  it('orders same-track subscriptions by anchor date before id', () => {
    const older: Subscription = { ...child, subscriptionId: 'S-z', anchorDate: '2026-06-14', nickname: 'あに' };
    const libraryWithDay1 = buildLibraryIndex([
      { track: 'childcare', day: 0, audience: 'parent', text: 'c0 {nickname}' },
      { track: 'childcare', day: 1, audience: 'parent', text: 'c1 {nickname}' },
    ]);
    expect(resolveReader([child, older], '2026-06-15', { tenant, library: libraryWithDay1 })).toEqual([
      'c1 あに',
      'c0 たろう',
    ]);
  });

  it('throws when a reader has more text than five LINE messages hold', () => {
    const days = [0, 1, 2, 3, 4, 5];
    const big = buildLibraryIndex(
      days.map((day) => ({
        track: 'childcare' as const,
        day,
        audience: 'parent' as const,
        text: `${day}`.repeat(4800),
      })),
    );
    const six = days.map((day) => ({ ...child, subscriptionId: `S${day}`, anchorDate: addDays('2026-06-15', -day) }));
    expect(() => resolveReader(six, '2026-06-15', { tenant, library: big })).toThrow(MessageTooLongError);
  });

  it('sextuplets with the same long text get it once, within the limits', () => {
    const big = buildLibraryIndex([{ track: 'childcare', day: 0, audience: 'parent', text: 'x'.repeat(4800) }]);
    const sextuplets = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ ...child, subscriptionId: id }));
    expect(resolveReader(sextuplets, '2026-06-15', { tenant, library: big })).toEqual(['x'.repeat(4800)]);
  });

  it("twins' nicknames are joined with the tenant's word when it has one", () => {
    const joined = TenantConfigSchema.parse({ ...tenant, wording: { nicknameJoiner: '・' } });
    expect(resolveReader([twinA, twinB], '2026-06-15', { tenant: joined, library })).toEqual(['c0 ゆい・あお']);
  });

  it('twins: still at most five messages when their day has more distinct texts', () => {
    const one = buildLibraryIndex(
      [0, 1, 2, 3, 4].map((day) => ({
        track: 'childcare' as const,
        day,
        audience: 'parent' as const,
        text: `c${day} {nickname}`,
      })),
    );
    // Five pairs of twins born on five days: ten subscriptions, five distinct texts, one per pair.
    const pairs = [0, 1, 2, 3, 4].flatMap((day) =>
      ['A', 'B'].map((t) => ({
        ...child,
        subscriptionId: `K${day}${t}`,
        nickname: `${t}${day}`,
        anchorDate: addDays('2026-06-15', -day),
      })),
    );
    const extra = { ...child, subscriptionId: 'K9', nickname: 'Z', anchorDate: addDays('2026-06-15', -2) };
    const noOverlays: TenantConfig = { ...tenant, overlays: [] };
    expect(resolveReader(pairs, '2026-06-15', { tenant: noOverlays, library: one })).toEqual([
      'c4 A4とB4',
      'c3 A3とB3',
      'c2 A2とB2',
      'c1 A1とB1',
      'c0 A0とB0',
    ]);
    expect(resolveReader([...pairs, extra], '2026-06-15', { tenant: noOverlays, library: one })).toEqual([
      'c4 A4とB4',
      'c3 A3とB3',
      'c2 A2とB2とZ',
      'c1 A1とB1',
      'c0 A0とB0',
    ]);
  });
});

describe('packMessages', () => {
  const x = (n: number): string => 'x'.repeat(n);

  it.each<{ label: string; texts: string[]; sources?: number[]; want: string[] }>([
    { label: 'none', texts: [], want: [] },
    { label: 'five stay as they are', texts: ['a', 'b', 'c', 'd', 'e'], want: ['a', 'b', 'c', 'd', 'e'] },
    { label: 'exactly 5,000 units is allowed', texts: [x(5000)], want: [x(5000)] },
    {
      label: 'six equal texts: the last two merged',
      texts: ['a', 'b', 'c', 'd', 'e', 'f'],
      want: ['a', 'b', 'c', 'd', 'e\n\nf'],
    },
    {
      label: 'seven: the merges that keep the longest message shortest',
      texts: ['aaaa', 'b', 'c', 'dddd', 'eeee', 'ffff', 'gggg'],
      want: ['aaaa\n\nb', 'c\n\ndddd', 'eeee', 'ffff', 'gggg'],
    },
    {
      label: 'merges within a subscription before across',
      texts: ['a1', 'b1', 'b2', 'c1', 'd1', 'e1'],
      sources: [0, 1, 1, 2, 3, 4],
      want: ['a1', 'b1\n\nb2', 'c1', 'd1', 'e1'],
    },
    {
      label: 'merges across subscriptions rather than exceed 5,000 units',
      texts: [x(4999), x(1), x(100), x(4999), x(4999), x(4999)],
      sources: [0, 0, 1, 2, 3, 4],
      want: [x(4999), `${x(1)}\n\n${x(100)}`, x(4999), x(4999), x(4999)],
    },
    {
      label: 'a merge may reach exactly 5,000 units with its separator',
      texts: [x(4990), x(4990), x(4990), x(4990), x(2499), x(2499)],
      want: [x(4990), x(4990), x(4990), x(4990), `${x(2499)}\n\n${x(2499)}`],
    },
    {
      label: 'twelve short texts into five, three-text merges only of one-digit texts',
      texts: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'],
      want: ['1\n\n2', '3\n\n4\n\n5', '6\n\n7\n\n8', '9\n\n10', '11\n\n12'],
    },
  ])('$label', ({ texts, sources, want }) => {
    const packed = packMessages(texts, sources);
    expect(packed).toEqual(want);
    expect(packed.join('\n\n')).toBe(texts.join('\n\n'));
  });

  it.each([
    { label: 'one text over 5,000 units', texts: [x(5001)] },
    { label: 'six texts that no merge fits', texts: [x(4990), x(9), x(4990), x(4990), x(4990), x(4990)] },
    { label: 'more than 25,000 units in all', texts: Array.from({ length: 11 }, () => x(2400)) },
  ])('throws MessageTooLongError: $label', ({ texts }) => {
    expect(() => packMessages(texts)).toThrow(MessageTooLongError);
  });
});

describe('emailSubject', () => {
  it.each([
    { label: 'no zero padding', today: '2026-12-01', want: '【みなと市】今日のメッセージ (2026年12月1日)' },
    { label: 'January', today: '2027-01-09', want: '【みなと市】今日のメッセージ (2027年1月9日)' },
  ])('$label', ({ today, want }) => {
    expect(emailSubject(tenant, today)).toBe(want);
  });
});
