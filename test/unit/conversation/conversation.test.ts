import fc from 'fast-check';
import {
  converse,
  type Change,
  type ConversationOutput,
  type Dialog,
  type Invite,
} from '../../../lambdas/domain/dialog';
import { addMonths, BIRTHDAY_MAX_DAYS, DUE_DATE_MAX_DAYS, INVITE_VALID_DAYS } from '../../../lambdas/domain/lifecycle';
import { postbackData, type QuickReplyItem } from '../../../lambdas/domain/replies';
import { addDays } from '../../../lambdas/domain/dates';
import { buildLibraryIndex } from '../../../lambdas/domain/library';
import { bucketOf, bucketOfAnchor } from '../../../lambdas/domain/shard';
import {
  LINE_MAX_MESSAGES_PER_REQUEST,
  LINE_QUICK_REPLY_MAX_ITEMS,
  LINE_TEXT_MAX,
  type IsoDate,
} from '../../../schemas/common';
import type { ReaderAction } from '../../../schemas/line-webhook';
import { SubscriptionSchema, type Subscription } from '../../../schemas/subscription';
import { TenantConfigSchema, type TenantConfig } from '../../../schemas/tenant';
import { DEFAULT_WORDING as W } from '../../../schemas/wording';

// ---- fixtures ----

const TODAY: IsoDate = '2026-06-01';
const TOMORROW: IsoDate = '2026-06-02';
/** Due date 2026-09-09: gestational day 180 today, which the library has a text for. */
const DUE: IsoDate = addDays(TODAY, 100);
/** Birthday 2026-05-22: day 10 today. */
const BORN: IsoDate = addDays(TODAY, -10);
/** Birthday 2025-06-01: today is the first birthday (library, overlay and greeting). */
const ONE_YEAR_AGO: IsoDate = addDays(TODAY, -365);
const USER = 'U0123456789abcdef0123456789abcdef';
const READER = `line:${USER}`;
const BUCKET = bucketOf(READER);
const CODE = 'K7WX3P';
/** A kept dialog: the output's `undefined` leaves the stored dialog as it was. */
const KEEP = undefined;

const tenant: TenantConfig = TenantConfigSchema.parse({
  tenantId: 'demo-minato',
  name: 'みなと市',
  deliveryTime: '07:30',
  shardCount: 8,
  library: 'sample-ja',
  line: { enabled: true, secretName: 'hagukumi/demo-minato/line', friendUrl: 'https://line.me/R/ti/p/@minato' },
  birthdayMessages: { '1': '{nickname}、1歳おめでとう', '2': '{nickname}、2歳', '3': '{nickname}、3歳' },
  overlays: [{ track: 'childcare', day: 365, mode: 'append', text: 'みなと市の1歳児健診のお知らせ' }],
  consultation: [
    { name: 'みなと市 保健センター', phone: '03-0000-0000', hours: '平日 9:00-17:00' },
    { name: '子育て相談ウェブ', url: 'https://example.org/soudan' },
  ],
});

const library = buildLibraryIndex([
  { track: 'maternity', day: 180, audience: 'parent', text: '妊娠180日目、{nickname}へ' },
  { track: 'maternity', day: 180, audience: 'partner', text: 'パートナーへ、{nickname}は180日目' },
  { track: 'childcare', day: 10, audience: 'parent', text: '生後10日、{nickname}' },
  { track: 'childcare', day: 365, audience: 'parent', text: '生後365日、{nickname}' },
  { track: 'support', day: 0, audience: 'parent', text: 'お便り0日目' },
]);

const sub = (over: Partial<Subscription> & Pick<Subscription, 'subscriptionId'>): Subscription => ({
  tenantId: 'demo-minato',
  readerKey: READER,
  channel: 'line',
  address: USER,
  track: 'maternity',
  anchorDate: DUE,
  audience: 'parent',
  status: 'active',
  registeredOn: '2026-01-10',
  familyId: `F-${over.subscriptionId}`,
  bucket: BUCKET,
  version: 0,
  ...over,
});
const preg = sub({ subscriptionId: 'S-preg', nickname: 'まめ' });
const preg2 = sub({ subscriptionId: 'S-preg2', anchorDate: addDays(TODAY, 30) });
const child = sub({ subscriptionId: 'S-child', track: 'childcare', anchorDate: BORN });
const support = sub({ subscriptionId: 'S-sup', track: 'support', anchorDate: addDays(TODAY, -5) });
const partnerPreg = sub({ subscriptionId: 'S-ppreg', audience: 'partner', familyId: 'F-other' });
const paused = (s: Subscription): Subscription => ({ ...s, status: 'paused' });
const lost = (s: Subscription): Subscription => ({ ...s, status: 'lost' });
const ended = (s: Subscription): Subscription => ({ ...s, status: 'ended' });
const unfollowed = (s: Subscription): Subscription => ({ ...s, status: 'stopped', stoppedReason: 'unfollow' });
const readerStopped = (s: Subscription): Subscription => ({ ...s, status: 'stopped', stoppedReason: 'reader' });

const TRACK_CHOICES = ['妊娠中', '子育て中', 'パートナー・家族として登録', 'キャンセル'];
/** A new friend may also register later. */
const GREETING_CHOICES = ['妊娠中', '子育て中', 'パートナー・家族として登録', 'あとで登録する'];
const MENU = ['登録内容の確認・変更', '子どもを追加', '出産のご報告', 'パートナー招待', 'その他'];
/** Every question keeps a way out next to its answers. */
const PICK = ['日付を選ぶ', 'キャンセル'];
const CONTACTS =
  '【相談窓口】\n・みなと市 保健センター 03-0000-0000（平日 9:00-17:00）\n・子育て相談ウェブ\n  https://example.org/soudan';
const HELP = `${W.help}\n\n${CONTACTS}`;

// ---- actions ----

const follow = (unblocked = false): ReaderAction => ({ kind: 'follow', unblocked });
const unfollow: ReaderAction = { kind: 'unfollow' };
const say = (text: string): ReaderAction => ({ kind: 'text', text });
const tap = (action: string, params: Record<string, string> = {}, date?: string): ReaderAction => ({
  kind: 'postback',
  data: postbackData(action, params),
  date,
});
const pick = (date: string | undefined): ReaderAction => tap('date', {}, date);

// ---- running one turn ----

interface Given {
  action: ReaderAction;
  today?: IsoDate;
  subscriptions?: Subscription[];
  dialog?: Dialog;
  invite?: Invite | null;
  tenant?: TenantConfig;
}

function run(g: Given): ConversationOutput {
  let n = 0;
  const out = converse({
    tenant: g.tenant ?? tenant,
    library,
    today: g.today ?? TODAY,
    userId: USER,
    readerKey: READER,
    subscriptions: g.subscriptions ?? [],
    dialog: g.dialog,
    action: g.action,
    invite: g.invite,
    newId: () => `id-${++n}`,
    newInviteCode: () => CODE,
  });
  expectWithinLineLimits(out);
  return out;
}

const chars = (s: string) => [...s].length;

/** LINE's limits on a reply, and the store's on a subscription: checked on every turn of every test. */
function expectWithinLineLimits(out: ConversationOutput) {
  expect(out.replies.length).toBeLessThanOrEqual(LINE_MAX_MESSAGES_PER_REQUEST);
  for (const r of out.replies) {
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.text.length).toBeLessThanOrEqual(LINE_TEXT_MAX);
    const items = r.quickReply?.items ?? [];
    if (r.quickReply) expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThanOrEqual(LINE_QUICK_REPLY_MAX_ITEMS);
    for (const { action } of items) {
      expect(chars(action.label)).toBeGreaterThan(0);
      expect(chars(action.label)).toBeLessThanOrEqual(20);
      if (action.type !== 'uri') expect(action.data.length).toBeLessThanOrEqual(300);
    }
  }
  for (const c of out.changes)
    if (c.type === 'put') expect(SubscriptionSchema.safeParse(c.subscription).error).toBeUndefined();
}

const lastItems = (out: ConversationOutput): QuickReplyItem[] => out.replies.at(-1)?.quickReply?.items ?? [];
const quickLabels = (out: ConversationOutput) => lastItems(out).map((i) => i.action.label);
const putsOf = (out: ConversationOutput) => out.changes.flatMap((c) => (c.type === 'put' ? [c.subscription] : []));
const otherChanges = (out: ConversationOutput) => out.changes.filter((c) => c.type !== 'put');
function pickerOf(out: ConversationOutput) {
  const item = lastItems(out).find((i) => i.action.type === 'datetimepicker');
  if (item?.action.type !== 'datetimepicker') throw new Error('no date picker in the last reply');
  const { min, max, initial, mode, data } = item.action;
  return { min, max, initial, mode, data };
}

interface Want {
  /** Each reply contains the string at the same position; exactly this many replies. */
  replies: string[];
  /** `undefined` keeps the stored dialog, `null` ends it. */
  dialog: Dialog | null | undefined;
  /** Labels of the last reply's quick reply ([] for none); unchecked when absent. */
  quick?: string[];
  /** Puts, in order, each matching these fields; none when absent. */
  puts?: Partial<Subscription>[];
  /** Every change other than a put, exactly; none when absent. */
  other?: Change[];
  picker?: { min: IsoDate; max: IsoDate; initial?: IsoDate };
}

function expectOutcome(out: ConversationOutput, want: Want) {
  expect(out.replies.map((r) => r.text)).toEqual(want.replies.map((t) => expect.stringContaining(t)));
  expect(out.dialog).toStrictEqual(want.dialog);
  if (want.quick) expect(quickLabels(out)).toEqual(want.quick);
  expect(putsOf(out)).toEqual((want.puts ?? []).map((p) => expect.objectContaining(p)));
  expect(otherChanges(out)).toEqual(want.other ?? []);
  if (want.picker) expect(pickerOf(out)).toMatchObject({ mode: 'date', data: 'a=date', ...want.picker });
}

interface Case {
  label: string;
  given: Given;
  want: Want;
}
const check = ({ given, want }: Case) => expectOutcome(run(given), want);

const DUE_RANGE = { min: TODAY, max: addDays(TODAY, DUE_DATE_MAX_DAYS), initial: addDays(TODAY, 140) };
const BIRTHDAY_RANGE = { min: addDays(TODAY, -BIRTHDAY_MAX_DAYS), max: TODAY, initial: TODAY };
const BIRTH_RANGE = { min: addDays(TODAY, -180), max: TODAY, initial: TODAY };
const GREETING = 'みなと市の子育て応援メッセージに登録いただき、ありがとうございます。';

// ---- tests ----

describe('follow and unfollow', () => {
  it.each<Case>([
    {
      label: 'a new friend is greeted with the three ways to register',
      given: { action: follow() },
      want: { replies: [GREETING], quick: GREETING_CHOICES, dialog: { step: 'track' } },
    },
    {
      label: 'an unblock resumes what the unfollow stopped, from tomorrow, and nothing else',
      given: {
        action: follow(true),
        subscriptions: [unfollowed(preg), readerStopped(child), lost(preg2), ended(support)],
      },
      want: {
        replies: [W.welcomeBack],
        quick: MENU,
        dialog: null,
        puts: [{ ...preg, status: 'active', stoppedReason: undefined, registeredOn: TOMORROW }],
      },
    },
    {
      label: 'an unblock with nothing stopped by the unfollow greets like a new friend',
      given: { action: follow(true), subscriptions: [readerStopped(child), lost(preg)] },
      want: { replies: [GREETING], quick: GREETING_CHOICES, dialog: { step: 'track' } },
    },
    {
      label: 'a follow that is not an unblock resumes nothing',
      given: { action: follow(false), subscriptions: [unfollowed(preg)] },
      want: { replies: [GREETING], quick: GREETING_CHOICES, dialog: { step: 'track' } },
    },
    {
      label: 'a follow in the middle of a dialog starts over',
      given: { action: follow(), dialog: { step: 'nickname', track: 'maternity', anchorDate: DUE } },
      want: { replies: [GREETING], quick: GREETING_CHOICES, dialog: { step: 'track' } },
    },
    {
      label:
        'an unfollow stops active subscriptions, leaves paused (until resumed), lost and reader-stopped ones, says nothing',
      given: {
        action: unfollow,
        dialog: { step: 'stop' },
        subscriptions: [preg, paused(child), lost(preg2), readerStopped(partnerPreg), support],
      },
      want: {
        replies: [],
        dialog: null,
        puts: [
          { ...preg, status: 'stopped', stoppedReason: 'unfollow' },
          { ...support, status: 'stopped', stoppedReason: 'unfollow' },
        ],
      },
    },
    {
      label: 'あとで登録する ends the dialog kindly, with the menu',
      given: { action: tap('later'), dialog: { step: 'track' } },
      want: { replies: [W.registerLaterReply], quick: MENU, dialog: null },
    },
    {
      label: 'an unfollow with nothing registered changes nothing',
      given: { action: unfollow },
      want: { replies: [], dialog: null },
    },
  ])('$label', check);
});

describe('choosing a track', () => {
  it.each<Case>([
    {
      label: 'maternity asks for the due date with a picker from today to 300 days ahead',
      given: { action: tap('track', { t: 'maternity' }), dialog: { step: 'track' } },
      want: { replies: [W.askDueDate], quick: PICK, dialog: { step: 'date', track: 'maternity' }, picker: DUE_RANGE },
    },
    {
      label: 'childcare asks for the birthday with a picker from 1095 days ago to today',
      given: { action: tap('track', { t: 'childcare' }), dialog: { step: 'track' } },
      want: {
        replies: [W.askBirthday],
        quick: PICK,
        dialog: { step: 'date', track: 'childcare' },
        picker: BIRTHDAY_RANGE,
      },
    },
    {
      label: 'a track choice works without a dialog (an old button)',
      given: { action: tap('track', { t: 'childcare' }) },
      want: { replies: [W.askBirthday], dialog: { step: 'date', track: 'childcare' }, picker: BIRTHDAY_RANGE },
    },
    {
      label: 'an unknown track gets help and keeps the dialog',
      given: { action: tap('track', { t: 'support' }), dialog: { step: 'track' } },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
    {
      label: 'the partner choice asks for an invite code',
      given: { action: tap('partner'), dialog: { step: 'track' } },
      want: { replies: [W.askInviteCode], quick: ['キャンセル'], dialog: { step: 'invite-code' } },
    },
    {
      label: '子どもを追加 offers the track choice again',
      given: { action: say('子どもを追加'), subscriptions: [child] },
      want: { replies: [W.askAddTrack], quick: TRACK_CHOICES, dialog: { step: 'track' } },
    },
  ])('$label', check);
});

describe('answering the date picker of the registration', () => {
  const accepted = (track: 'maternity' | 'childcare', date: IsoDate): Want => ({
    replies: [W.askNickname],
    quick: ['スキップ', 'キャンセル'],
    dialog: { step: 'nickname', track, anchorDate: date },
  });
  const notADate = (track: 'maternity' | 'childcare'): Want => ({
    replies: ['その日付はカレンダーにないようです'],
    quick: PICK,
    dialog: KEEP,
    picker: track === 'maternity' ? DUE_RANGE : BIRTHDAY_RANGE,
  });
  const rejected = (track: 'maternity' | 'childcare'): Want =>
    track === 'maternity'
      ? { replies: [W.dueDateOutOfRange], quick: PICK, dialog: KEEP, picker: DUE_RANGE }
      : { replies: [W.birthdayOutOfRange], quick: PICK, dialog: KEEP, picker: BIRTHDAY_RANGE };
  const dated = (track: 'maternity' | 'childcare', date: string | undefined, want: Want, label: string): Case => ({
    label,
    given: { action: pick(date), dialog: { step: 'date', track } },
    want,
  });

  it.each<Case>([
    dated('maternity', TODAY, accepted('maternity', TODAY), 'a due date of today (the minimum) is accepted'),
    dated(
      'maternity',
      addDays(TODAY, 300),
      accepted('maternity', addDays(TODAY, 300)),
      'a due date 300 days ahead (the maximum) is accepted',
    ),
    dated('maternity', DUE, accepted('maternity', DUE), 'a due date in range is accepted'),
    dated('maternity', addDays(TODAY, -1), rejected('maternity'), 'a due date yesterday is rejected'),
    dated('maternity', addDays(TODAY, 301), rejected('maternity'), 'a due date 301 days ahead is rejected'),
    dated('maternity', undefined, notADate('maternity'), 'a postback without a date is not a date'),
    dated('maternity', '2027-02-30', notADate('maternity'), 'Feb 30 (in range if it existed) is not a date'),
    dated('maternity', '2026-6-10', notADate('maternity'), 'a date without padding is not a date'),
    dated('maternity', '2026-09-09T00:00', notADate('maternity'), 'a date-time is not a date'),
    dated('maternity', 'tomorrow', notADate('maternity'), 'a word is not a date'),
    dated(
      'childcare',
      addDays(TODAY, -1095),
      accepted('childcare', addDays(TODAY, -1095)),
      'a birthday 1095 days ago (the minimum) is accepted',
    ),
    dated('childcare', TODAY, accepted('childcare', TODAY), 'a birthday of today (the maximum) is accepted'),
    dated('childcare', addDays(TODAY, -1096), rejected('childcare'), 'a birthday 1096 days ago is rejected'),
    dated('childcare', addDays(TODAY, 1), rejected('childcare'), 'a birthday tomorrow is rejected'),
    dated('childcare', '2025-02-29', notADate('childcare'), 'Feb 29 of a common year is not a date'),
    dated('childcare', '2024-02-29', accepted('childcare', '2024-02-29'), 'Feb 29 of a leap year is accepted'),
    {
      label: 'a date without a date step gets help',
      given: { action: pick(DUE), dialog: { step: 'track' } },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
    {
      label: 'a date with no dialog at all gets help',
      given: { action: pick(DUE) },
      want: { replies: [HELP], dialog: KEEP },
    },
  ])('$label', check);

  it.each<Case>([
    {
      label: 'during the due date step',
      given: { action: say('9月9日'), dialog: { step: 'date', track: 'maternity' } },
      want: { replies: [W.typedDate], quick: PICK, dialog: KEEP, picker: DUE_RANGE },
    },
    {
      label: 'during the birthday step',
      given: { action: say('先週の月曜'), dialog: { step: 'date', track: 'childcare' } },
      want: { replies: [W.typedDate], quick: PICK, dialog: KEEP, picker: BIRTHDAY_RANGE },
    },
    {
      label: 'while changing a due date',
      given: { action: say('来月'), dialog: { step: 'change-date', subscriptionId: 'S-preg' }, subscriptions: [preg] },
      want: { replies: [W.typedDate], quick: PICK, dialog: KEEP, picker: DUE_RANGE },
    },
    {
      label: 'while reporting a birth',
      given: { action: say('昨日'), dialog: { step: 'birth-date', subscriptionId: 'S-preg' }, subscriptions: [preg] },
      want: { replies: [W.typedDate], quick: PICK, dialog: KEEP, picker: BIRTH_RANGE },
    },
  ])('typed text instead of a picked date is asked again with the picker: $label', check);

  it.each<Case>([
    {
      label: 'an ISO date',
      given: { action: say('2026-05-22'), dialog: { step: 'date', track: 'childcare' } },
      want: accepted('childcare', '2026-05-22'),
    },
    {
      label: 'a Japanese date with full-width digits',
      given: { action: say('２０２６年９月９日'), dialog: { step: 'date', track: 'maternity' } },
      want: accepted('maternity', '2026-09-09'),
    },
    {
      label: 'slashes without padding',
      given: { action: say('2026/5/22'), dialog: { step: 'date', track: 'childcare' } },
      want: accepted('childcare', '2026-05-22'),
    },
    {
      label: 'a day the calendar does not have',
      given: { action: say('2027-02-30'), dialog: { step: 'date', track: 'maternity' } },
      want: notADate('maternity'),
    },
    {
      label: 'a day the calendar does not have, in Japanese',
      given: { action: say('2026年2月30日'), dialog: { step: 'date', track: 'childcare' } },
      want: notADate('childcare'),
    },
    {
      label: 'month 13',
      given: { action: say('2026/13/1'), dialog: { step: 'date', track: 'childcare' } },
      want: notADate('childcare'),
    },
    {
      label: 'a real date out of range gets the range message',
      given: { action: say('2030-01-01'), dialog: { step: 'date', track: 'maternity' } },
      want: rejected('maternity'),
    },
  ])('a typed date is read like a picked one: $label', check);
});

describe('the nickname', () => {
  it.each<{ label: string; raw: string; want: string | null }>([
    { label: 'plain', raw: 'はな', want: 'はな' },
    { label: 'trimmed', raw: '  はな  ', want: 'はな' },
    { label: 'control characters removed', raw: 'は\u0000な\u0007ちゃん\u007f', want: 'はなちゃん' },
    { label: 'a line break removed', raw: 'は\nな', want: 'はな' },
    { label: 'zero-width and direction marks removed', raw: 'は\u200bな\u202e', want: 'はな' },
    { label: 'NFKC: half-width katakana', raw: 'ﾊﾅ', want: 'ハナ' },
    { label: 'NFKC: full-width letters and digits', raw: 'ＡＢＣ１２３', want: 'ABC123' },
    { label: 'NFKC: ideographic spaces trimmed', raw: '\u3000あ\u3000', want: 'あ' },
    { label: 'inner white space folded', raw: 'は   な', want: 'は な' },
    { label: 'braces stripped', raw: '{tenantName}', want: 'tenantName' },
    { label: 'exactly 20 characters', raw: 'あ'.repeat(20), want: 'あ'.repeat(20) },
    { label: '21 characters rejected', raw: 'あ'.repeat(21), want: null },
    { label: '20 characters after trimming', raw: ` ${'a'.repeat(20)} `, want: 'a'.repeat(20) },
    { label: 'NFKC expansion over 20 rejected', raw: '㍿'.repeat(6), want: null },
    { label: 'empty rejected', raw: '', want: null },
    { label: 'spaces only rejected', raw: ' \u3000 ', want: null },
    { label: 'control characters only rejected', raw: '\u0000\u0001', want: null },
    { label: 'braces only rejected', raw: '{}', want: null },
    { label: 'exactly 20 emoji (40 UTF-16 units)', raw: '👶'.repeat(20), want: '👶'.repeat(20) },
    { label: '21 emoji rejected', raw: '👶'.repeat(21), want: null },
    { label: 'a name that is an Object.prototype key: constructor', raw: 'constructor', want: 'constructor' },
    { label: 'a name that is an Object.prototype key: __proto__', raw: '__proto__', want: '__proto__' },
    { label: 'a name that is an Object.prototype key: toString', raw: ' toString ', want: 'toString' },
  ])('$label', ({ raw, want }) => {
    const out = run({ action: say(raw), dialog: { step: 'nickname', track: 'maternity', anchorDate: DUE } });
    if (want === null) {
      expectOutcome(out, { replies: [W.nicknameInvalid], quick: ['スキップ', 'キャンセル'], dialog: KEEP });
    } else {
      expect(out.dialog).toBeNull();
      expect(putsOf(out)).toEqual([expect.objectContaining({ nickname: want })]);
    }
  });

  it('a text command typed at the nickname step runs the command instead', () => {
    check({
      label: '',
      given: {
        action: say('お休み'),
        dialog: { step: 'nickname', track: 'maternity', anchorDate: DUE },
        subscriptions: [child],
      },
      want: { replies: [W.askPause], dialog: null, quick: ['1週間', '1か月', '再開するまで', 'お休みしない'] },
    });
  });
});

describe('registering', () => {
  const nicknameStep = (track: 'maternity' | 'childcare', anchorDate: IsoDate): Dialog => ({
    step: 'nickname',
    track,
    anchorDate,
  });
  const registered = (over: Partial<Subscription>): Subscription => ({
    tenantId: 'demo-minato',
    readerKey: READER,
    subscriptionId: 'id-1',
    channel: 'line',
    address: USER,
    track: 'maternity',
    anchorDate: DUE,
    audience: 'parent',
    nickname: undefined,
    status: 'active',
    registeredOn: TOMORROW,
    familyId: 'id-2',
    // A reader without subscriptions: the bucket of the new one's anchor date.
    bucket: bucketOfAnchor(over.anchorDate ?? DUE),
    version: 0,
    ...over,
  });

  it.each<{ label: string; given: Given; put: Subscription; replies: string[]; quick: string[] }>([
    {
      label: "a pregnancy with a nickname: confirmation, then today's message with the nickname",
      given: { action: say('はな'), dialog: nicknameStep('maternity', DUE) },
      put: registered({ nickname: 'はな' }),
      replies: [
        '登録しました（妊娠中・出産予定日 2026年9月9日・呼び名「はな」）。\n明日から毎朝',
        '妊娠180日目、はなへ',
      ],
      quick: [],
    },
    {
      label: "a skipped nickname: the tenant's default word",
      given: { action: tap('skip-nick'), dialog: nicknameStep('maternity', DUE) },
      put: registered({}),
      replies: ['登録しました（妊娠中・出産予定日 2026年9月9日）', '妊娠180日目、赤ちゃんへ'],
      quick: [],
    },
    {
      label: "a first birthday: library text, the tenant's overlay and the greeting (4 messages)",
      given: { action: say('そら'), dialog: nicknameStep('childcare', ONE_YEAR_AGO) },
      put: registered({ track: 'childcare', anchorDate: ONE_YEAR_AGO, nickname: 'そら' }),
      replies: [
        '登録しました（子育て中・誕生日 2025年6月1日・呼び名「そら」）',
        '生後365日、そら',
        'みなと市の1歳児健診のお知らせ',
        'そら、1歳おめでとう',
      ],
      quick: [],
    },
    {
      label: 'nothing due today: the other confirmation, with the menu',
      given: { action: tap('skip-nick'), dialog: nicknameStep('maternity', addDays(TODAY, 101)) },
      put: registered({ anchorDate: addDays(TODAY, 101) }),
      replies: ['登録しました（妊娠中・出産予定日 2026年9月10日）。\n次のメッセージの日から'],
      quick: MENU,
    },
  ])('$label', ({ given, put, replies, quick }) => {
    const out = run(given);
    expect(putsOf(out)).toStrictEqual([put]);
    expect(otherChanges(out)).toEqual([]);
    expect(out.dialog).toBeNull();
    expect(out.replies.map((r) => r.text)).toEqual(replies.map((t) => expect.stringContaining(t)));
    expect(quickLabels(out)).toEqual(quick);
  });

  it("puts a first subscription in its anchor date's bucket, a later one in the reader's, whatever the shard count", () => {
    const single = TenantConfigSchema.parse({ ...tenant, shardCount: 1 });
    // The rule, computed here from the calendar: days since 1970-01-01, mod 256.
    const bornBucket = Math.round((Date.parse(`${BORN}T00:00:00Z`) / 86_400_000) % 256);
    const out = run({ tenant: single, action: tap('skip-nick'), dialog: nicknameStep('childcare', BORN) });
    expect(putsOf(out)[0]?.bucket).toBe(bornBucket);
    expect(putsOf(run({ action: tap('skip-nick'), dialog: nicknameStep('childcare', BORN) }))[0]?.bucket).toBe(
      bornBucket,
    );
    const later = run({ action: tap('skip-nick'), dialog: nicknameStep('childcare', BORN), subscriptions: [preg] });
    expect(BUCKET).not.toBe(bornBucket);
    expect(putsOf(later).find((s) => s.anchorDate === BORN)?.bucket).toBe(BUCKET);
  });

  it.each<Case>([
    {
      label: 'an invalid nickname keeps the step and offers the skip and a way out',
      given: { action: say('あ'.repeat(21)), dialog: nicknameStep('maternity', DUE) },
      want: { replies: [W.nicknameInvalid], quick: ['スキップ', 'キャンセル'], dialog: KEEP },
    },
    {
      label: 'a skip outside the nickname step gets help',
      given: { action: tap('skip-nick'), dialog: { step: 'date', track: 'maternity' } },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
  ])('$label', check);
});

describe('partner invitations', () => {
  const invite = (over: Partial<Invite> = {}): Invite => ({
    code: CODE,
    familyId: 'F-S-preg',
    track: 'maternity',
    anchorDate: DUE,
    nickname: 'まめ',
    expiresOn: addDays(TODAY, 6),
    ...over,
  });

  it.each<Case>([
    {
      label: 'パートナー招待 with one registration creates a code valid for 7 days',
      given: { action: say('パートナー招待'), subscriptions: [preg, lost(preg2), support] },
      want: {
        replies: ['招待コード：K7WX3P（今日を含めて7日間有効）'],
        quick: ['LINEで送る'],
        dialog: null,
        other: [{ type: 'invite', invite: invite() }],
      },
    },
    {
      label: 'a chosen registration: the code is for its family',
      given: { action: tap('invite', { s: 'S-child' }), subscriptions: [preg, child] },
      want: {
        replies: ['招待コード：K7WX3P'],
        dialog: null,
        other: [
          {
            type: 'invite',
            invite: {
              code: CODE,
              familyId: 'F-S-child',
              track: 'childcare',
              anchorDate: BORN,
              nickname: undefined,
              expiresOn: '2026-06-07',
            },
          },
        ],
      },
    },
    {
      label: 'several registrations: choose one first',
      given: { action: say('パートナー招待'), subscriptions: [preg, child] },
      want: { replies: [W.chooseWhich], quick: ['まめ 予定日9/9', '誕生日5/22', 'キャンセル'], dialog: null },
    },
    {
      label: 'nothing registered: asked to register',
      given: { action: say('パートナー招待'), subscriptions: [] },
      want: { replies: [W.nothingRegistered], quick: TRACK_CHOICES, dialog: { step: 'track' } },
    },
    {
      label: 'only a loss and its support series: kind words, not "nothing registered"',
      given: { action: say('パートナー招待'), subscriptions: [lost(preg), support] },
      want: { replies: [`${W.nothingLiveAfterLoss}\n\n${CONTACTS}`], quick: ['その他'], dialog: null },
    },
    {
      label: 'everything stopped: the way back, not "nothing registered"',
      given: { action: say('パートナー招待'), subscriptions: [readerStopped(preg)] },
      want: { replies: [W.nothingLiveStopped], quick: ['再開', ...MENU], dialog: null },
    },
  ])('$label', check);

  it('shares the code and the friend URL through a LINE share link', () => {
    const out = run({ action: say('パートナー招待'), subscriptions: [preg] });
    const [item] = lastItems(out);
    expect(item?.action.type).toBe('uri');
    const uri = item?.action.type === 'uri' ? item.action.uri : '';
    expect(uri.startsWith('https://line.me/R/share?text=')).toBe(true);
    const shared = decodeURIComponent(uri.slice('https://line.me/R/share?text='.length));
    expect(shared).toContain('みなと市の子育てメッセージ');
    expect(shared).toContain(`招待コード ${CODE}`);
    expect(shared.endsWith('\nhttps://line.me/R/ti/p/@minato')).toBe(true);
  });

  it.each<Case>([
    {
      label: 'a valid code registers the partner in the same family',
      given: { action: say('k7wx3p'), dialog: { step: 'invite-code' }, invite: invite() },
      want: {
        replies: [
          '登録しました（パートナー・家族として登録・出産予定日 2026年9月9日・呼び名「まめ」）',
          'パートナーへ、まめは180日目',
        ],
        dialog: null,
        puts: [
          {
            tenantId: 'demo-minato',
            readerKey: READER,
            subscriptionId: 'id-1',
            channel: 'line',
            address: USER,
            track: 'maternity',
            anchorDate: DUE,
            audience: 'partner',
            nickname: 'まめ',
            status: 'active',
            registeredOn: TOMORROW,
            familyId: 'F-S-preg',
            // The partner holds nothing yet: the bucket of the family's due date, the parent's too.
            bucket: bucketOfAnchor(DUE),
            version: 0,
          },
        ],
      },
    },
    {
      label: 'a code expiring today is still accepted',
      given: { action: say(CODE), dialog: { step: 'invite-code' }, invite: invite({ expiresOn: TODAY }) },
      want: {
        replies: ['登録しました（パートナー・家族として登録・出産予定日', 'パートナーへ'],
        dialog: null,
        puts: [{ audience: 'partner', familyId: 'F-S-preg' }],
      },
    },
    {
      label: 'a partner with nothing due today gets the menu',
      given: {
        action: say(CODE),
        dialog: { step: 'invite-code' },
        invite: invite({ track: 'childcare', anchorDate: addDays(TODAY, -11) }),
      },
      want: {
        replies: ['登録しました（パートナー・家族として登録・誕生日 2026年5月21日・呼び名「まめ」）'],
        quick: MENU,
        dialog: null,
        puts: [{ audience: 'partner', track: 'childcare' }],
      },
    },
    {
      label: 'an expired code is refused and the step kept',
      given: { action: say(CODE), dialog: { step: 'invite-code' }, invite: invite({ expiresOn: addDays(TODAY, -1) }) },
      want: { replies: [W.inviteCodeUnknown], quick: ['キャンセル'], dialog: KEEP },
    },
    {
      label: 'an unknown code is refused and the step kept',
      given: { action: say('XXXXXX'), dialog: { step: 'invite-code' }, invite: null },
      want: { replies: [W.inviteCodeUnknown], quick: ['キャンセル'], dialog: KEEP },
    },
    {
      label: 'cancelling the code step',
      given: { action: tap('cancel'), dialog: { step: 'invite-code' } },
      want: { replies: [W.cancelled], quick: MENU, dialog: null },
    },
  ])('$label', check);
});

describe('settings', () => {
  it.each<Case>([
    {
      label: 'lists live registrations with nickname and pause, with buttons to change each',
      given: {
        action: say('登録内容の確認・変更'),
        subscriptions: [preg, paused(child), lost(preg2), readerStopped(partnerPreg)],
        dialog: { step: 'stop' },
      },
      want: {
        replies: [
          'ご登録の内容です。\n1. 妊娠中・出産予定日 2026年9月9日・呼び名「まめ」\n2. 子育て中・誕生日 2026年5月22日（お休み中）\n' +
            W.settingsLostLine,
        ],
        quick: ['1. 日付を変更', '1. 呼び名を変更', '2. 日付を変更', '2. 呼び名を変更'],
        dialog: null,
      },
    },
    {
      label: 'a pause until a later date shows as a pause; one that ended today does not',
      given: {
        action: say('登録内容'),
        subscriptions: [
          { ...preg, pausedUntil: TOMORROW },
          { ...child, pausedUntil: TODAY },
        ],
      },
      want: {
        replies: ['1. 妊娠中・出産予定日 2026年9月9日・呼び名「まめ」（お休み中）\n2. 子育て中・誕生日 2026年5月22日'],
        dialog: null,
      },
    },
    {
      label: 'the support series is listed without change buttons',
      given: { action: say('登録内容'), subscriptions: [support] },
      want: { replies: ['ご登録の内容です。\n1. お便り'], quick: MENU, dialog: null },
    },
    {
      label: "a partner's registration is labelled as the partner's, not 妊娠中",
      given: { action: say('登録内容'), subscriptions: [partnerPreg] },
      want: { replies: ['ご登録の内容です。\n1. パートナー・家族として登録・出産予定日 2026年9月9日'], dialog: null },
    },
    {
      label: 'nothing registered: asked to register',
      given: { action: tap('menu', { m: 'settings' }), subscriptions: [] },
      want: { replies: [W.nothingRegistered], quick: TRACK_CHOICES, dialog: { step: 'track' } },
    },
    {
      label: 'after a loss (reported here or by the family): kind words, the contacts and the support series',
      given: { action: tap('menu', { m: 'settings' }), subscriptions: [lost(partnerPreg)] },
      want: {
        replies: [
          'お知らせのあったご登録のメッセージは、お届けを止めています。\nおつらいときは、いつでも次の窓口にご相談ください。\n\n' +
            CONTACTS,
        ],
        quick: ['お便りを受け取る', 'その他'],
        dialog: null,
      },
    },
    {
      label: 'after a loss with the support series accepted: the series, and the loss in kind words',
      given: { action: tap('menu', { m: 'settings' }), subscriptions: [lost(partnerPreg), support] },
      want: { replies: [`ご登録の内容です。\n1. お便り\n${W.settingsLostLine}`], quick: MENU, dialog: null },
    },
    {
      label: 'after a stop: the way back',
      given: { action: tap('menu', { m: 'settings' }), subscriptions: [readerStopped(preg), ended(child)] },
      want: {
        replies: ['いまは配信を停止しています。再開するときは「再開」と送ってください。'],
        quick: ['再開', ...MENU],
        dialog: null,
      },
    },
  ])('$label', check);

  it('the support button after a loss names the family of the loss', () => {
    const out = run({ action: say('登録内容'), subscriptions: [lost(partnerPreg)] });
    expect(lastItems(out)[0]?.action).toMatchObject({ data: 'a=loss-support&c=yes&f=F-other' });
  });

  it('offers change buttons for at most 6 registrations (12 items)', () => {
    const many = Array.from({ length: 8 }, (_, i) =>
      sub({ subscriptionId: `S${i}`, track: 'childcare', anchorDate: addDays(TODAY, -i) }),
    );
    const out = run({ action: say('登録内容'), subscriptions: many });
    expect(out.replies[0]?.text.split('\n')).toHaveLength(9);
    expect(quickLabels(out)).toHaveLength(12);
    expect(quickLabels(out).at(-1)).toBe('6. 呼び名を変更');
  });

  // BUG: the lines are numbered over every live subscription, the buttons over the non-support ones only.
  it('numbers the buttons like the lines when the support series comes first', () => {
    const out = run({ action: say('登録内容'), subscriptions: [support, child] });
    expect(out.replies[0]?.text).toContain('1. お便り\n2. 子育て中');
    expect(quickLabels(out)).toEqual(['2. 日付を変更', '2. 呼び名を変更']);
  });
});

describe('changing a date or a nickname', () => {
  it.each<Case>([
    {
      label: 'changing a due date asks with the due date picker',
      given: { action: tap('change-date', { s: 'S-preg' }), subscriptions: [preg, child] },
      want: {
        replies: [W.askDueDate],
        quick: PICK,
        dialog: { step: 'change-date', subscriptionId: 'S-preg' },
        picker: DUE_RANGE,
      },
    },
    {
      label: 'changing a birthday asks with the birthday picker',
      given: { action: tap('change-date', { s: 'S-child' }), subscriptions: [preg, child] },
      want: {
        replies: [W.askBirthday],
        dialog: { step: 'change-date', subscriptionId: 'S-child' },
        picker: BIRTHDAY_RANGE,
      },
    },
    {
      label: 'the support series has no date to change',
      given: { action: tap('change-date', { s: 'S-sup' }), subscriptions: [support] },
      want: { replies: [HELP], quick: MENU, dialog: null },
    },
    {
      label: 'an unknown or lost registration has no date to change',
      given: { action: tap('change-date', { s: 'S-preg' }), subscriptions: [lost(preg)] },
      want: { replies: [HELP], dialog: null },
    },
    {
      label: 'a new due date is stored and passed to the family',
      given: {
        action: pick(addDays(TODAY, 110)),
        dialog: { step: 'change-date', subscriptionId: 'S-preg' },
        subscriptions: [preg],
      },
      want: {
        replies: ['変更しました（妊娠中・出産予定日 2026年9月19日・呼び名「まめ」）。'],
        quick: MENU,
        dialog: null,
        puts: [{ ...preg, anchorDate: '2026-09-19' }],
        other: [
          { type: 'family', familyId: 'F-S-preg', set: { anchorDate: '2026-09-19' } },
          {
            type: 'notify',
            familyId: 'F-S-preg',
            message: {
              type: 'text',
              text: 'ご家族が出産予定日を2026年9月19日に変更しました。これからは新しい日付に合わせてメッセージをお届けします。',
            },
          },
        ],
      },
    },
    {
      label: 'a new birthday is stored and passed to the family',
      given: {
        action: pick(addDays(TODAY, -1095)),
        dialog: { step: 'change-date', subscriptionId: 'S-child' },
        subscriptions: [child],
      },
      want: {
        replies: ['変更しました（子育て中・誕生日 2023年6月2日）。'],
        dialog: null,
        puts: [{ ...child, anchorDate: '2023-06-02' }],
        other: [
          { type: 'family', familyId: 'F-S-child', set: { anchorDate: '2023-06-02' } },
          {
            type: 'notify',
            familyId: 'F-S-child',
            message: {
              type: 'text',
              text: 'ご家族がお子さんの誕生日を2023年6月2日に変更しました。これからは新しい日付に合わせてメッセージをお届けします。',
            },
          },
        ],
      },
    },
    {
      label: 'a due date out of range is asked again',
      given: {
        action: pick(addDays(TODAY, -1)),
        dialog: { step: 'change-date', subscriptionId: 'S-preg' },
        subscriptions: [preg],
      },
      want: { replies: [W.dueDateOutOfRange], quick: PICK, dialog: KEEP, picker: DUE_RANGE },
    },
    {
      label: 'a birthday in the future is asked again',
      given: {
        action: pick(TOMORROW),
        dialog: { step: 'change-date', subscriptionId: 'S-child' },
        subscriptions: [child],
      },
      want: { replies: [W.birthdayOutOfRange], dialog: KEEP, picker: BIRTHDAY_RANGE },
    },
    {
      label: 'a registration that went away meanwhile ends the dialog',
      given: {
        action: pick(addDays(TODAY, -3)),
        dialog: { step: 'change-date', subscriptionId: 'S-preg' },
        subscriptions: [lost(preg)],
      },
      want: { replies: [HELP], dialog: null },
    },
    {
      label: 'changing a nickname asks for it',
      given: { action: tap('change-nick', { s: 'S-preg' }), subscriptions: [preg] },
      want: {
        replies: [W.askNewNickname],
        quick: ['キャンセル'],
        dialog: { step: 'change-nickname', subscriptionId: 'S-preg' },
      },
    },
    {
      label: 'changing the nickname of an unknown registration gets help',
      given: { action: tap('change-nick', { s: 'S-nope' }), subscriptions: [preg] },
      want: { replies: [HELP], dialog: null },
    },
    {
      label: 'a new nickname is sanitised and stored',
      given: {
        action: say(' ﾘﾝ\u0000 '),
        dialog: { step: 'change-nickname', subscriptionId: 'S-preg' },
        subscriptions: [preg],
      },
      want: {
        replies: ['変更しました（妊娠中・出産予定日 2026年9月9日・呼び名「リン」）。'],
        quick: MENU,
        dialog: null,
        puts: [{ ...preg, nickname: 'リン' }],
      },
    },
    {
      label: 'an invalid new nickname is refused and the step kept',
      given: {
        action: say('\u0000'),
        dialog: { step: 'change-nickname', subscriptionId: 'S-preg' },
        subscriptions: [preg],
      },
      want: { replies: [W.nicknameInvalid], quick: ['キャンセル'], dialog: KEEP },
    },
    {
      label: 'a new nickname for a registration that went away ends the dialog',
      given: {
        action: say('りん'),
        dialog: { step: 'change-nickname', subscriptionId: 'S-preg' },
        subscriptions: [readerStopped(preg)],
      },
      want: { replies: [HELP], dialog: null },
    },
  ])('$label', check);
});

describe('reporting a birth', () => {
  it('a pregnancy chosen from the list is not congratulated twice', () => {
    const out = run({ action: tap('birth', { s: 'S-preg2' }), subscriptions: [preg, preg2] });
    expect(out.replies.map((r) => r.text)).toEqual([W.askBirthDate]);
  });

  it.each<Case>([
    {
      label: 'one pregnancy: asked for the birthday (up to 180 days ago)',
      given: { action: say('出産のご報告'), subscriptions: [preg, child, lost(preg2)] },
      want: {
        replies: ['ご出産おめでとうございます。\nお子さんの誕生日を選んでください。'],
        quick: PICK,
        dialog: { step: 'birth-date', subscriptionId: 'S-preg' },
        picker: BIRTH_RANGE,
      },
    },
    {
      label: 'a partner may report the birth of the pregnancy they follow',
      given: { action: say('出産のご報告'), subscriptions: [partnerPreg] },
      want: {
        replies: [W.askBirthDate],
        quick: PICK,
        dialog: { step: 'birth-date', subscriptionId: partnerPreg.subscriptionId },
        picker: BIRTH_RANGE,
      },
    },
    {
      label: 'several pregnancies: choose one first',
      given: { action: say('出産のご報告'), subscriptions: [preg, preg2] },
      want: {
        replies: ['ご出産おめでとうございます。\nどのご登録についてですか？'],
        quick: ['まめ 予定日9/9', '予定日7/1', 'キャンセル'],
        dialog: null,
      },
    },
    {
      label: 'a chosen pregnancy',
      given: { action: tap('birth', { s: 'S-preg2' }), subscriptions: [preg, preg2] },
      want: {
        // Congratulated in the list's message already: the question alone.
        replies: [W.askBirthDate],
        dialog: { step: 'birth-date', subscriptionId: 'S-preg2' },
        picker: BIRTH_RANGE,
      },
    },
    {
      label: 'no live pregnancy',
      given: { action: tap('menu', { m: 'birth' }), subscriptions: [child, lost(preg)] },
      want: { replies: [W.noPregnancy], quick: MENU, dialog: null },
    },
    {
      label: "the birthday turns the pregnancy into a child, for the family too, and sends today's message",
      given: { action: pick(BORN), dialog: { step: 'birth-date', subscriptionId: 'S-preg' }, subscriptions: [preg] },
      want: {
        replies: [
          'ご出産おめでとうございます！これからは子育てのメッセージをお届けします（子育て中・誕生日 2026年5月22日・呼び名「まめ」）。',
          '生後10日、まめ',
        ],
        dialog: null,
        puts: [{ ...preg, track: 'childcare', anchorDate: BORN, registeredOn: TOMORROW }],
        other: [
          { type: 'family', familyId: 'F-S-preg', set: { track: 'childcare', anchorDate: BORN } },
          {
            type: 'notify',
            familyId: 'F-S-preg',
            message: {
              type: 'text',
              text: 'ご家族から、ご出産のお知らせがありました。おめでとうございます！\nこれからは子育てのメッセージをお届けします（お子さんの誕生日 2026年5月22日）。',
            },
          },
        ],
      },
    },
    {
      label: 'a birthday 180 days ago is accepted',
      given: {
        action: pick(addDays(TODAY, -180)),
        dialog: { step: 'birth-date', subscriptionId: 'S-preg' },
        subscriptions: [preg],
      },
      want: {
        replies: ['ご出産おめでとうございます！'],
        dialog: null,
        puts: [{ track: 'childcare', anchorDate: addDays(TODAY, -180) }],
        other: [
          { type: 'family', familyId: 'F-S-preg', set: { track: 'childcare', anchorDate: addDays(TODAY, -180) } },
          {
            type: 'notify',
            familyId: 'F-S-preg',
            message: { type: 'text', text: expect.stringContaining('2025年12月3日') },
          },
        ],
      },
    },
    {
      label: 'a birthday 181 days ago is asked again',
      given: {
        action: pick(addDays(TODAY, -181)),
        dialog: { step: 'birth-date', subscriptionId: 'S-preg' },
        subscriptions: [preg],
      },
      want: { replies: [W.birthDateOutOfRange], quick: PICK, dialog: KEEP, picker: BIRTH_RANGE },
    },
    {
      label: 'a birthday tomorrow is asked again',
      given: {
        action: pick(TOMORROW),
        dialog: { step: 'birth-date', subscriptionId: 'S-preg' },
        subscriptions: [preg],
      },
      want: { replies: [W.birthDateOutOfRange], dialog: KEEP, picker: BIRTH_RANGE },
    },
  ])('$label', check);
});

describe('pausing and resuming', () => {
  const pauseMenu = ['1週間', '1か月', '再開するまで', 'お休みしない'];
  it.each<Case>([
    {
      label: 'お休み offers three lengths and a cancel',
      given: { action: say('お休み'), subscriptions: [preg], dialog: { step: 'stop' } },
      want: { replies: [W.askPause], quick: pauseMenu, dialog: null },
    },
    {
      label: 'a week: active subscriptions resume 7 days from today; others untouched',
      given: { action: tap('pause', { p: 'week' }), subscriptions: [preg, child, paused(preg2), lost(partnerPreg)] },
      want: {
        replies: ['メッセージをお休みします。2026年6月8日から再開します。'],
        dialog: null,
        puts: [
          { ...preg, pausedUntil: '2026-06-08' },
          { ...child, pausedUntil: '2026-06-08' },
        ],
      },
    },
    {
      label: 'a month: the same day next month',
      given: { action: tap('pause', { p: 'month' }), subscriptions: [preg] },
      want: {
        replies: ['2026年7月1日から再開します'],
        dialog: null,
        puts: [{ ...preg, status: 'active', pausedUntil: '2026-07-01' }],
      },
    },
    {
      label: 'a month from Jan 31: the last day of February',
      given: { today: '2027-01-31', action: tap('pause', { p: 'month' }), subscriptions: [child] },
      want: { replies: ['2027年2月28日から再開します'], dialog: null, puts: [{ ...child, pausedUntil: '2027-02-28' }] },
    },
    {
      label: 'until resumed: paused, any end date dropped',
      given: { action: tap('pause', { p: 'resumed' }), subscriptions: [{ ...preg, pausedUntil: '2026-06-05' }] },
      want: {
        replies: [W.pausedIndefinitely],
        dialog: null,
        puts: [{ ...preg, status: 'paused', pausedUntil: undefined }],
      },
    },
    {
      label: 'an unknown length changes nothing',
      given: { action: tap('pause', { p: 'year' }), subscriptions: [preg] },
      want: { replies: [W.cancelled], quick: MENU, dialog: null },
    },
    {
      label: 'nothing active: nothing to pause',
      given: { action: tap('pause', { p: 'week' }), subscriptions: [readerStopped(child), lost(preg)] },
      want: { replies: ['いまお届けしているメッセージはありません。'], quick: MENU, dialog: null },
    },
    {
      label: 'paused already: the way back, not "nothing to pause"',
      given: { action: tap('pause', { p: 'week' }), subscriptions: [paused(preg), readerStopped(child)] },
      want: { replies: ['いまはお休み中です。再開するときは「再開」と送ってください。'], quick: MENU, dialog: null },
    },
    {
      label: '再開 resumes a paused subscription from tomorrow',
      given: { action: say('再開'), subscriptions: [paused(preg)] },
      want: {
        replies: [W.resumed],
        dialog: null,
        puts: [{ ...preg, status: 'active', pausedUntil: undefined, stoppedReason: undefined, registeredOn: TOMORROW }],
      },
    },
    {
      label: '再開 ends a dated pause early',
      given: { action: say('再開'), subscriptions: [{ ...preg, pausedUntil: TOMORROW }] },
      want: { replies: [W.resumed], dialog: null, puts: [{ ...preg, pausedUntil: undefined, registeredOn: TOMORROW }] },
    },
    {
      label: '再開 resumes what the reader stopped',
      given: { action: tap('menu', { m: 'resume' }), subscriptions: [readerStopped(child)] },
      want: {
        replies: [W.resumed],
        dialog: null,
        puts: [{ ...child, status: 'active', stoppedReason: undefined, registeredOn: TOMORROW }],
      },
    },
    {
      label: '再開 leaves lost, ended, unfollow-stopped and plainly active ones alone',
      given: {
        action: say('再開'),
        subscriptions: [lost(preg), ended(preg2), unfollowed(child), support, { ...partnerPreg, pausedUntil: TODAY }],
      },
      want: { replies: [W.nothingToResume], quick: MENU, dialog: null },
    },
  ])('$label', check);

  it.each([
    { label: 'Jan 31 to Feb 28', date: '2027-01-31', months: 1, want: '2027-02-28' },
    { label: 'Jan 31 to Feb 29 in a leap year', date: '2028-01-31', months: 1, want: '2028-02-29' },
    { label: 'Mar 31 to Apr 30', date: '2026-03-31', months: 1, want: '2026-04-30' },
    { label: 'Dec 15 to Jan 15 of the next year', date: '2026-12-15', months: 1, want: '2027-01-15' },
    { label: 'Feb 28 to Mar 28', date: '2027-02-28', months: 1, want: '2027-03-28' },
    { label: 'twelve months', date: '2028-02-29', months: 12, want: '2029-02-28' },
  ])('addMonths: $label', ({ date, months, want }) => {
    expect(addMonths(date, months)).toBe(want);
  });
});

describe('stopping and deleting', () => {
  const stopMenu = ['配信を停止する', '停止してデータ削除', '停止しない'];
  it.each<Case>([
    {
      label: '配信停止 asks first',
      given: { action: say('配信停止'), subscriptions: [preg] },
      want: { replies: [W.askStop], quick: stopMenu, dialog: { step: 'stop' } },
    },
    {
      label: "confirmed: live subscriptions stop by the reader's wish",
      given: {
        action: tap('stop', { c: 'stop' }),
        dialog: { step: 'stop' },
        subscriptions: [preg, paused(child), lost(preg2), unfollowed(partnerPreg)],
      },
      want: {
        replies: [W.stopped],
        dialog: null,
        puts: [
          { ...preg, status: 'stopped', stoppedReason: 'reader' },
          { ...child, status: 'stopped', stoppedReason: 'reader' },
        ],
      },
    },
    {
      label: 'a stop button without the question (an old message) changes nothing',
      given: { action: tap('stop', { c: 'stop' }), subscriptions: [preg] },
      want: { replies: [W.cancelled], quick: MENU, dialog: null },
    },
    {
      label: 'cancelled',
      given: { action: tap('cancel'), dialog: { step: 'stop' }, subscriptions: [preg] },
      want: { replies: [W.cancelled], quick: MENU, dialog: null },
    },
    {
      label: '停止しない keeps everything',
      given: { action: tap('stop', { c: 'keep' }), dialog: { step: 'stop' }, subscriptions: [preg] },
      want: { replies: ['そのままにしました。'], quick: MENU, dialog: null },
    },
    {
      label: 'stop and delete asks a second time, deleting nothing yet',
      given: { action: tap('stop', { c: 'delete' }), dialog: { step: 'stop' }, subscriptions: [preg] },
      want: { replies: [W.askDelete], quick: ['削除する', '削除しない'], dialog: { step: 'delete' } },
    },
    {
      label: 'the second confirmation deletes the reader, and only that',
      given: { action: tap('delete', { c: 'yes' }), dialog: { step: 'delete' }, subscriptions: [preg, child] },
      want: { replies: [W.deleted], dialog: null, other: [{ type: 'delete-reader' }] },
    },
    {
      label: 'a delete button without the second question deletes nothing',
      given: { action: tap('delete', { c: 'yes' }), dialog: { step: 'stop' }, subscriptions: [preg] },
      want: { replies: [W.cancelled], quick: MENU, dialog: null },
    },
    {
      label: 'the second question declined',
      given: { action: tap('delete', { c: 'no' }), dialog: { step: 'delete' }, subscriptions: [preg] },
      want: { replies: [W.cancelled], quick: MENU, dialog: null },
    },
  ])('$label', check);
});

describe('a loss', () => {
  const ACK = 'おつらいなか、お知らせくださりありがとうございます。';
  const KEEP_BUTTONS = ['配信を止める', '今は止めない'];
  const SUPPORT_BUTTONS = ['受け取る', '受け取らない'];
  /** What the other member of the family is told: one message, with the contacts and the support offer. */
  const notice = (familyId: string): Change => ({
    type: 'notify',
    familyId,
    message: {
      type: 'text',
      text:
        'ご家族から、おつらいお知らせをいただきました。心よりお悔やみ申し上げます。\nこのご登録のメッセージは、もうお届けしません。\nお話ししたくなったときは、次の窓口にご相談ください。\n\n' +
        `${CONTACTS}\n\n${W.lossSupportOffer}`,
      quickReply: {
        items: [
          {
            type: 'action',
            action: {
              type: 'postback',
              label: '受け取る',
              data: `a=loss-support&c=yes&f=${familyId}`,
              displayText: '受け取る',
            },
          },
          {
            type: 'action',
            action: {
              type: 'postback',
              label: '受け取らない',
              data: `a=loss-support&c=no&f=${familyId}`,
              displayText: '受け取らない',
            },
          },
        ],
      },
    },
  });
  const supportPut = {
    tenantId: 'demo-minato',
    readerKey: READER,
    subscriptionId: 'id-1',
    channel: 'line' as const,
    address: USER,
    track: 'support' as const,
    anchorDate: TODAY,
    audience: 'parent' as const,
    status: 'active' as const,
    registeredOn: TOMORROW,
    familyId: 'id-2',
    bucket: BUCKET,
    version: 0,
  };

  it.each<Case>([
    {
      label: 'one registration: acknowledged first, then asked with buttons that cannot be mistaken',
      given: { action: say('赤ちゃんを亡くされた方へ'), subscriptions: [preg, support] },
      want: {
        replies: [
          `${ACK}\n妊娠中・出産予定日 2026年9月9日・呼び名「まめ」のメッセージを、いまから止めてもよろしいですか？`,
        ],
        quick: KEEP_BUTTONS,
        dialog: { step: 'loss', subscriptionId: 'S-preg' },
      },
    },
    {
      label: "a partner's registration is named as the partner's",
      given: { action: say('赤ちゃんを亡くされた方へ'), subscriptions: [partnerPreg] },
      want: {
        replies: [`${ACK}\nパートナー・家族として登録・出産予定日 2026年9月9日のメッセージを`],
        quick: KEEP_BUTTONS,
        dialog: { step: 'loss', subscriptionId: 'S-ppreg' },
      },
    },
    {
      label: 'several registrations: acknowledged first, then asked which, with 今は止めない as the way out',
      given: { action: say('赤ちゃんを亡くされた方へ'), subscriptions: [preg, child] },
      want: {
        replies: [`${ACK}\nどのご登録についてですか？`],
        quick: ['まめ 予定日9/9', '誕生日5/22', '今は止めない'],
        dialog: null,
      },
    },
    {
      label: 'twins without nicknames: their buttons are numbered, so they cannot be mistaken',
      given: {
        action: say('赤ちゃんを亡くされた方へ'),
        subscriptions: [child, { ...child, subscriptionId: 'S-twin' }, preg],
      },
      want: {
        replies: [`${ACK}\nどのご登録についてですか？`],
        quick: ['1. 誕生日5/22', '2. 誕生日5/22', 'まめ 予定日9/9', '今は止めない'],
        dialog: null,
      },
    },
    {
      label: 'a chosen registration: asked without a second acknowledgement',
      given: { action: tap('loss', { s: 'S-child' }), subscriptions: [preg, child] },
      want: {
        replies: ['子育て中・誕生日 2026年5月22日のメッセージを、いまから止めてもよろしいですか？'],
        quick: KEEP_BUTTONS,
        dialog: { step: 'loss', subscriptionId: 'S-child' },
      },
    },
    {
      label: 'nothing registered: acknowledged, with the contacts',
      given: { action: tap('menu', { m: 'loss' }), subscriptions: [] },
      want: {
        replies: [`${ACK}\nお話ししたくなったときは、いつでも次の窓口にご相談ください。\n\n${CONTACTS}`],
        quick: MENU,
        dialog: null,
      },
    },
    {
      label: 'told already (by the family or earlier): kind words, the contacts and the support series',
      given: { action: tap('menu', { m: 'loss' }), subscriptions: [lost(preg)] },
      want: {
        replies: [`${W.nothingLiveAfterLoss}\n\n${CONTACTS}`],
        quick: ['お便りを受け取る', 'その他'],
        dialog: null,
      },
    },
    {
      label:
        'confirmed: lost for the reader and the family, condolences with the contacts, the support offer, and one notice to the family',
      given: {
        action: tap('loss-confirm', { c: 'yes' }),
        dialog: { step: 'loss', subscriptionId: 'S-preg' },
        subscriptions: [preg, child],
      },
      want: {
        replies: [`${W.lossRecorded}\n\n${CONTACTS}`, W.lossSupportOffer],
        quick: SUPPORT_BUTTONS,
        dialog: { step: 'loss-support' },
        puts: [{ ...preg, status: 'lost' }],
        other: [{ type: 'family', familyId: 'F-S-preg', set: { status: 'lost' } }, notice('F-S-preg')],
      },
    },
    {
      label: 'confirmed by the partner: the parent is the one told',
      given: {
        action: tap('loss-confirm', { c: 'yes' }),
        dialog: { step: 'loss', subscriptionId: 'S-ppreg' },
        subscriptions: [partnerPreg],
      },
      want: {
        replies: [`${W.lossRecorded}\n\n${CONTACTS}`, W.lossSupportOffer],
        quick: SUPPORT_BUTTONS,
        dialog: { step: 'loss-support' },
        puts: [{ ...partnerPreg, status: 'lost' }],
        other: [{ type: 'family', familyId: 'F-other', set: { status: 'lost' } }, notice('F-other')],
      },
    },
    {
      label: '今は止めない: kept, said so kindly',
      given: {
        action: tap('loss-confirm', { c: 'no' }),
        dialog: { step: 'loss', subscriptionId: 'S-preg' },
        subscriptions: [preg],
      },
      want: {
        replies: [
          'わかりました。メッセージはこのままお届けします。\n必要なときは、いつでもメニューの「赤ちゃんを亡くされた方へ」からお知らせください。',
        ],
        quick: MENU,
        dialog: null,
      },
    },
    {
      label: '今は止めない from the list of registrations',
      given: { action: tap('loss-confirm', { c: 'no' }), subscriptions: [preg, child] },
      want: { replies: [W.lossKept], quick: MENU, dialog: null },
    },
    {
      label: 'a confirmation without the question changes nothing',
      given: { action: tap('loss-confirm', { c: 'yes' }), subscriptions: [preg] },
      want: { replies: [W.cancelled], dialog: null },
    },
    {
      label: 'a confirmation for a registration that is no longer live changes nothing',
      given: {
        action: tap('loss-confirm', { c: 'yes' }),
        dialog: { step: 'loss', subscriptionId: 'S-preg' },
        subscriptions: [lost(preg)],
      },
      want: { replies: [W.cancelled], dialog: null },
    },
    {
      label: 'support accepted: a support subscription of its own family, anchored today, from tomorrow',
      given: {
        action: tap('loss-support', { c: 'yes', f: 'F-S-preg' }),
        dialog: { step: 'loss-support' },
        subscriptions: [lost(preg)],
      },
      want: { replies: [W.lossSupportAccepted], dialog: null, puts: [supportPut] },
    },
    {
      label: 'support accepted from an old button without the family',
      given: {
        action: tap('loss-support', { c: 'yes' }),
        dialog: { step: 'loss-support' },
        subscriptions: [lost(preg)],
      },
      want: { replies: [W.lossSupportAccepted], dialog: null, puts: [supportPut] },
    },
    {
      label: 'support accepted by the member who was told (no dialog; the family is lost for them too)',
      given: { action: tap('loss-support', { c: 'yes', f: 'F-other' }), subscriptions: [lost(partnerPreg), child] },
      want: { replies: [W.lossSupportAccepted], dialog: null, puts: [supportPut] },
    },
    {
      label: 'support declined by the member who was told: no "we send you nothing" while a child is followed',
      given: { action: tap('loss-support', { c: 'no', f: 'F-other' }), subscriptions: [lost(partnerPreg), child] },
      want: { replies: ['承知しました。お便りはお送りしません。'], dialog: null },
    },
    {
      label: 'support accepted twice: one series only',
      given: { action: tap('loss-support', { c: 'yes', f: 'F-S-preg' }), subscriptions: [lost(preg), support] },
      want: { replies: [W.lossSupportAccepted], dialog: null },
    },
    {
      label: 'support declined',
      given: {
        action: tap('loss-support', { c: 'no' }),
        dialog: { step: 'loss-support' },
        subscriptions: [lost(preg)],
      },
      want: { replies: [W.lossSupportDeclined], dialog: null },
    },
    {
      label: 'a support answer without the offer gets help',
      given: { action: tap('loss-support', { c: 'yes' }), subscriptions: [lost(preg)] },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
    {
      label: 'a support answer naming a family that is not lost gets help',
      given: { action: tap('loss-support', { c: 'yes', f: 'F-S-preg' }), subscriptions: [preg] },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
  ])('$label', check);

  it('support accepted has no nickname and passes the subscription schema', () => {
    const [put] = putsOf(run({ action: tap('loss-support', { c: 'yes' }), dialog: { step: 'loss-support' } }));
    expect(put?.nickname).toBeUndefined();
    expect(SubscriptionSchema.parse(put)).toEqual(put);
  });
});

describe('anything else', () => {
  it.each<Case>([
    {
      label: 'an unknown postback gets help and keeps the dialog',
      given: { action: tap('launch-rockets'), dialog: { step: 'stop' } },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
    {
      label: 'malformed postback data gets help',
      given: { action: { kind: 'postback', data: '%%%&&=' } },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
    {
      label: 'an unknown menu entry gets help',
      given: { action: tap('menu', { m: 'constructor' }) },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
    {
      label: 'unknown text gets help',
      given: { action: say('こんにちは') },
      want: { replies: [HELP], quick: MENU, dialog: KEEP },
    },
    {
      label: 'text during the track choice gets help',
      given: { action: say('妊娠'), dialog: { step: 'track' } },
      want: { replies: [HELP], dialog: KEEP },
    },
    {
      label: 'text during the loss question gets help',
      given: { action: say('はい'), dialog: { step: 'loss', subscriptionId: 'S-preg' }, subscriptions: [preg] },
      want: { replies: [HELP], dialog: KEEP },
    },
    {
      label: 'その他 (trimmed) offers pause, resume, stop, the loss entry and surveys',
      given: { action: say(' その他 ') },
      want: {
        replies: [W.moreMenu],
        quick: ['お休み', '再開', '配信停止', '赤ちゃんを亡くされた方へ', 'アンケート'],
        dialog: null,
      },
    },
  ])('$label', check);

  it('help without consultation contacts is just the help text', () => {
    const quiet = TenantConfigSchema.parse({ ...tenant, consultation: [] });
    expect(run({ tenant: quiet, action: say('?') }).replies.map((r) => r.text)).toEqual([W.help]);
  });

  it.each([
    { command: '登録内容の確認・変更', first: W.settingsHeader },
    { command: '登録内容', first: W.settingsHeader },
    { command: '子どもを追加', first: W.askAddTrack },
    { command: '出産のご報告', first: W.askBirthDate },
    { command: 'お休み', first: W.askPause },
    { command: '再開', first: W.nothingToResume },
    { command: '配信停止', first: W.askStop },
    { command: 'パートナー招待', first: '招待コード：' },
    { command: 'その他', first: W.moreMenu },
    { command: '赤ちゃんを亡くされた方へ', first: W.lossAcknowledge },
  ])('the text command $command works like the menu', ({ command, first }) => {
    const out = run({ action: say(command), subscriptions: [preg] });
    expect(out.replies[0]?.text).toContain(first);
  });

  it('every quick reply of the menu is a postback whose label is also its display text', () => {
    for (const item of lastItems(run({ action: say('?') }))) {
      expect(item.action).toMatchObject({ type: 'postback', displayText: item.action.label });
    }
  });
});

describe("a tenant's wording", () => {
  const worded = TenantConfigSchema.parse({
    ...tenant,
    wording: {
      greeting: '{tenantName}へようこそ！',
      skip: 'あとで',
      chooseMaternity: 'おなかに赤ちゃんがいる方（妊娠中の方はこちらを選んでください）',
      pickDate: 'カレンダーから日付を選んでくださいね、ここです',
    },
  });

  it('replaces the default text, with placeholders filled', () => {
    const out = run({ tenant: worded, action: follow() });
    expect(out.replies.map((r) => r.text)).toEqual(['みなと市へようこそ！']);
  });

  it('replaces a button label', () => {
    expect(
      quickLabels(run({ tenant: worded, action: pick(DUE), dialog: { step: 'date', track: 'maternity' } })),
    ).toEqual(['あとで', 'キャンセル']);
  });

  it('cuts a long label to 20 characters but keeps the whole text as the display text', () => {
    const [first] = lastItems(run({ tenant: worded, action: follow() }));
    expect(first?.action.label).toBe('おなかに赤ちゃんがいる方（妊娠中の方は…');
    expect(first?.action.type === 'postback' && first.action.displayText).toBe(
      'おなかに赤ちゃんがいる方（妊娠中の方はこちらを選んでください）',
    );
    const [picker] = lastItems(run({ tenant: worded, action: tap('track', { t: 'maternity' }) }));
    expect(picker?.action).toMatchObject({ type: 'datetimepicker', label: 'カレンダーから日付を選んでくださいね、こ' });
  });

  it('leaves the other texts at their defaults', () => {
    expect(run({ tenant: worded, action: say('?') }).replies[0]?.text).toBe(HELP);
  });
});

// ---- properties: random conversations ----

type Step =
  | { kind: 'act'; action: ReaderAction }
  /** Taps a button of the last reply, as a reader mostly does; a date picker gets `dateOffset` days from today. */
  | { kind: 'tap'; index: number; dateOffset: number }
  | { kind: 'tick'; days: number };

const ACTIONS = [
  'track',
  'partner',
  'date',
  'skip-nick',
  'menu',
  'change-date',
  'change-nick',
  'birth',
  'invite',
  'loss',
  'pause',
  'stop',
  'delete',
  'loss-confirm',
  'loss-support',
  'cancel',
  'nope',
];
const MENUS = ['settings', 'add', 'birth', 'pause', 'resume', 'stop', 'invite', 'loss', 'more', 'toString', ''];
const COMMANDS = [
  '登録内容の確認・変更',
  '登録内容',
  '子どもを追加',
  '出産のご報告',
  'お休み',
  '再開',
  '配信停止',
  'パートナー招待',
  'その他',
  '赤ちゃんを亡くされた方へ',
];
const CODES = ['K7WX3P', 'M9QR2T'];
// Characters that exercise sanitising: kana, half- and full-width forms, spaces, controls, zero-widths, braces,
// NFKC expansions, astral characters.
const NICK_CHARS = [
  '👶',
  'あ',
  'ハ',
  'ﾊ',
  'ﾟ',
  'Ａ',
  'a',
  '1',
  ' ',
  '\u3000',
  '\t',
  '\n',
  '\u0000',
  '\u007f',
  '\u200b',
  '\u202e',
  '{',
  '}',
  '㍿',
  'ﷺ',
  '・',
];

const someDate = fc.oneof(
  fc.integer({ min: -1200, max: 400 }).map((n) => addDays(TODAY, n)),
  fc.constantFrom(undefined, '', '2026-02-30', '2026-13-01', 'tomorrow', '2026-6-1'),
);
const someText = fc.oneof(
  fc.constantFrom(...COMMANDS),
  fc.constantFrom(...CODES, ...CODES.map((c) => ` ${c.toLowerCase()} `)),
  fc.string({ unit: fc.constantFrom(...NICK_CHARS), maxLength: 30 }),
  fc.string({ maxLength: 30 }),
);
const somePostback = fc.oneof(
  fc
    .record({
      a: fc.constantFrom(...ACTIONS),
      t: fc.constantFrom('maternity', 'childcare', 'support'),
      m: fc.constantFrom(...MENUS),
      s: fc.oneof(
        fc.constant(''),
        fc.constantFrom('S-preg', 'S-preg2', 'S-child', 'S-sup', 'S-ppreg'),
        fc.integer({ min: 1, max: 40 }).map((n) => `id-${n}`),
      ),
      p: fc.constantFrom('week', 'month', 'resumed', 'year'),
      c: fc.constantFrom('yes', 'no', 'stop', 'delete'),
      date: someDate,
    })
    .map(({ a, date, ...params }): ReaderAction => ({ kind: 'postback', data: postbackData(a, params), date })),
  fc.string({ maxLength: 40 }).map((data): ReaderAction => ({ kind: 'postback', data })),
);
const someStep: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.boolean().map((unblocked): Step => ({ kind: 'act', action: { kind: 'follow', unblocked } })),
  },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'act', action: { kind: 'unfollow' } }) },
  { weight: 3, arbitrary: someText.map((text): Step => ({ kind: 'act', action: { kind: 'text', text } })) },
  { weight: 3, arbitrary: somePostback.map((action): Step => ({ kind: 'act', action })) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('tap' as const),
      index: fc.nat(12),
      // Mostly dates a picker allows, sometimes forged ones outside its range.
      dateOffset: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: -180, max: 300 }) },
        { weight: 1, arbitrary: fc.integer({ min: -1200, max: 400 }) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((days): Step => ({ kind: 'tick', days })) },
);

/** What the reader already holds when the conversation starts: some of the fixtures, in any status. */
const someStart: fc.Arbitrary<Subscription[]> = fc.subarray([preg, preg2, child, support, partnerPreg]).chain((subs) =>
  fc.tuple(
    ...subs.map((s) =>
      fc.constantFrom<Subscription>(s, paused(s), lost(s), ended(s), unfollowed(s), readerStopped(s), {
        ...s,
        pausedUntil: addDays(TODAY, 3),
      }),
    ),
  ),
);

describe('random conversations', () => {
  /** Postbacks that leave everything as it is: cancel, or the "no"/"keep" answer of a confirmation. */
  const WAY_OUT = /^a=(cancel|later)$|&c=(no|keep)(&|$)/;
  const IDENTITY: (keyof Subscription)[] = [
    'tenantId',
    'readerKey',
    'subscriptionId',
    'channel',
    'address',
    'audience',
    'familyId',
    'bucket',
  ];

  it("never throw, stay within LINE's limits, store valid subscriptions, and never revive a loss", () => {
    fc.assert(
      fc.property(someStart, fc.array(someStep, { minLength: 5, maxLength: 60, size: 'max' }), (start, steps) => {
        let today = TODAY;
        let subscriptions: Subscription[] = start;
        let dialog: Dialog | undefined;
        let last: ConversationOutput | undefined;
        const invites = new Map<string, Invite>();
        const lostIds = new Set(start.filter((s) => s.status === 'lost').map((s) => s.subscriptionId));
        let ids = 0;
        let codes = 0;

        for (const step of steps) {
          let action: ReaderAction;
          if (step.kind === 'tick') {
            today = addDays(today, step.days);
            continue;
          } else if (step.kind === 'tap') {
            const items = last?.replies.flatMap((r) => r.quickReply?.items ?? []) ?? [];
            const item = items[step.index % Math.max(items.length, 1)];
            if (!item || item.action.type === 'uri') continue;
            action = {
              kind: 'postback',
              data: item.action.data,
              date: item.action.type === 'datetimepicker' ? addDays(today, step.dateOffset) : undefined,
            };
          } else {
            action = step.action;
          }

          // As the webhook service does: the invite is looked up only for text typed at the code step.
          const invite =
            dialog?.step === 'invite-code' && action.kind === 'text'
              ? (invites.get(action.text.normalize('NFKC').replace(/\s+/g, '').toUpperCase()) ?? null)
              : undefined;
          const out = converse({
            tenant,
            library,
            today,
            userId: USER,
            readerKey: READER,
            subscriptions,
            dialog,
            action,
            invite,
            newId: () => `id-${++ids}`,
            newInviteCode: () => CODES[codes++ % CODES.length]!,
          });
          expectWithinLineLimits(out);
          if (action.kind === 'unfollow') expect(out.replies).toEqual([]);
          else expect(out.replies.length).toBeGreaterThan(0);
          // A question asked now keeps a way out next to its answers.
          if (out.dialog)
            expect(lastItems(out).some((i) => i.action.type === 'postback' && WAY_OUT.test(i.action.data))).toBe(true);

          for (const c of out.changes) {
            if (c.type === 'put') {
              const before = subscriptions.find((s) => s.subscriptionId === c.subscription.subscriptionId);
              if (lostIds.has(c.subscription.subscriptionId)) expect(c.subscription.status).toBe('lost');
              if (before) for (const k of IDENTITY) expect(c.subscription[k]).toEqual(before[k]);
              subscriptions = [...subscriptions.filter((s) => s !== before), c.subscription];
              if (c.subscription.status === 'lost') lostIds.add(c.subscription.subscriptionId);
            } else if (c.type === 'invite') {
              expect(c.invite.expiresOn).toBe(addDays(today, INVITE_VALID_DAYS - 1));
              invites.set(c.invite.code, c.invite);
            } else if (c.type === 'delete-reader') {
              expect(out.changes).toEqual([{ type: 'delete-reader' }]);
              subscriptions = [];
              lostIds.clear();
            }
          }
          if (out.dialog !== undefined) dialog = out.dialog ?? undefined;
          last = out;
          expect(
            subscriptions.filter((s) => s.track === 'support' && s.status === 'active').length,
          ).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("only a reader's own stop or unfollow stops a subscription, and only live ones", () => {
    fc.assert(
      fc.property(
        somePostback,
        fc.constantFrom<Dialog | undefined>(
          undefined,
          { step: 'stop' },
          { step: 'delete' },
          { step: 'loss', subscriptionId: 'S-preg' },
          { step: 'loss-support' },
        ),
        (action, dialog) => {
          const subscriptions = [preg, paused(child), lost(preg2), unfollowed(partnerPreg)];
          const out = run({ action, dialog, subscriptions });
          for (const put of putsOf(out)) {
            const before = subscriptions.find((s) => s.subscriptionId === put.subscriptionId);
            if (put.status === 'stopped' && before?.status !== 'stopped') {
              expect(dialog?.step).toBe('stop');
              expect(['active', 'paused']).toContain(before?.status);
            }
          }
        },
      ),
    );
  });
});
