import { converse, type ConversationOutput, type Dialog } from '../../../lambdas/domain/dialog';
import { postbackData } from '../../../lambdas/domain/replies';
import { buildLibraryIndex } from '../../../lambdas/domain/library';
import { bucketOf } from '../../../lambdas/domain/shard';
import type { IsoDate } from '../../../schemas/common';
import type { ReaderAction } from '../../../schemas/line-webhook';
import type { Subscription } from '../../../schemas/subscription';
import { TenantConfigSchema } from '../../../schemas/tenant';

/**
 * A loss as BOTH members of a family meet it, every word written out: the one who reports it (in the chat) and
 * the other one (told by the notice the service pushes). Set TRANSCRIPT=1 to print both conversations.
 */

const TODAY: IsoDate = '2026-06-01';
const tenant = TenantConfigSchema.parse({
  tenantId: 'demo-minato',
  name: 'みなと市',
  deliveryTime: '07:30',
  shardCount: 4,
  library: 'sample-ja',
  line: { enabled: true, secretName: 'hagukumi/demo-minato/line' },
  birthdayMessages: { '1': '1歳', '2': '2歳', '3': '3歳' },
  consultation: [
    { name: 'みなと市 保健センター', phone: '03-0000-0000', hours: '平日 9:00-17:00' },
    { name: 'にんしん・子育て相談ダイヤル', phone: '0120-000-000' },
  ],
});
const library = buildLibraryIndex([]);

const PARENT = `U${'a'.repeat(32)}`;
const PARTNER = `U${'b'.repeat(32)}`;
const member = (userId: string, audience: 'parent' | 'partner'): Subscription => ({
  tenantId: 'demo-minato',
  readerKey: `line:${userId}`,
  subscriptionId: `S-${audience}`,
  channel: 'line',
  address: userId,
  track: 'maternity',
  anchorDate: '2026-09-09',
  audience,
  nickname: 'まめ',
  status: 'active',
  registeredOn: '2026-01-10',
  familyId: 'F1',
  bucket: bucketOf(`line:${userId}`),
  version: 0,
});

interface Reader {
  userId: string;
  subscriptions: Subscription[];
  dialog: Dialog | undefined;
  transcript: string[];
}

function turn(reader: Reader, action: ReaderAction, shown: string): ConversationOutput {
  let n = 0;
  const out = converse({
    tenant,
    library,
    today: TODAY,
    userId: reader.userId,
    readerKey: `line:${reader.userId}`,
    subscriptions: reader.subscriptions,
    dialog: reader.dialog,
    action,
    newId: () => `${reader.userId.slice(0, 3)}-${++n}`,
    newInviteCode: () => 'K7WX3P',
  });
  reader.transcript.push(`> ${shown}`);
  for (const r of out.replies) reader.transcript.push(botLine(r.text, r.quickReply?.items));
  for (const c of out.changes) {
    if (c.type === 'put')
      reader.subscriptions = [
        ...reader.subscriptions.filter((s) => s.subscriptionId !== c.subscription.subscriptionId),
        c.subscription,
      ];
  }
  if (out.dialog !== undefined) reader.dialog = out.dialog ?? undefined;
  return out;
}

const botLine = (text: string, items?: { action: { label: string } }[]) =>
  `< ${text}${items?.length ? `\n  [${items.map((i) => i.action.label).join('] [')}]` : ''}`;

function tapLabel(reader: Reader, out: ConversationOutput, label: string) {
  const item = out.replies.flatMap((r) => r.quickReply?.items ?? []).find((i) => i.action.label === label);
  if (item?.action.type !== 'postback') throw new Error(`no button ${label}`);
  return turn(reader, { kind: 'postback', data: item.action.data }, `(${label})`);
}

const CONTACTS =
  '【相談窓口】\n・みなと市 保健センター 03-0000-0000（平日 9:00-17:00）\n・にんしん・子育て相談ダイヤル 0120-000-000';

describe('a loss as both members of the family see it', () => {
  it.each([
    { label: 'the parent reports, the partner is told', reporterIs: 'parent' as const },
    { label: 'the partner reports, the parent is told', reporterIs: 'partner' as const },
  ])('$label', ({ reporterIs }) => {
    const parent: Reader = {
      userId: PARENT,
      subscriptions: [member(PARENT, 'parent')],
      dialog: undefined,
      transcript: [],
    };
    const partner: Reader = {
      userId: PARTNER,
      subscriptions: [member(PARTNER, 'partner')],
      dialog: undefined,
      transcript: [],
    };
    const [reporter, other] = reporterIs === 'parent' ? [parent, partner] : [partner, parent];
    const label =
      reporterIs === 'parent'
        ? '妊娠中・出産予定日 2026年9月9日・呼び名「まめ」'
        : 'パートナー・家族として登録・出産予定日 2026年9月9日・呼び名「まめ」';

    const asked = turn(reporter, { kind: 'text', text: '赤ちゃんを亡くされた方へ' }, '赤ちゃんを亡くされた方へ');
    const confirmed = tapLabel(reporter, asked, '配信を止める');
    const accepted = tapLabel(reporter, confirmed, '受け取る');
    expect(accepted.changes).toEqual([
      { type: 'put', subscription: expect.objectContaining({ track: 'support', status: 'active' }) },
    ]);

    expect(reporter.transcript).toEqual([
      '> 赤ちゃんを亡くされた方へ',
      `< おつらいなか、お知らせくださりありがとうございます。\n${label}のメッセージを、いまから止めてもよろしいですか？\nご家族として登録している方がいれば、その方へのメッセージも止まり、その方にもそっとお知らせします。\n  [配信を止める] [今は止めない]`,
      '> (配信を止める)',
      `< 心よりお悔やみ申し上げます。メッセージの配信を止めました。\nお話ししたくなったときは、次の窓口にご相談ください。\n\n${CONTACTS}`,
      '< ご希望の方には、これから3か月の間に数回、心と体をいたわるための短いお便りをお届けしています。受け取りますか？\n  [受け取る] [受け取らない]',
      '> (受け取る)',
      '< 承知しました。ときどき短いお便りをお届けします。いつでも「配信停止」で止められます。',
    ]);

    // What the service pushes to the other member, once; the family change makes their registration lost.
    const notices = confirmed.changes.flatMap((c) => (c.type === 'notify' ? [c] : []));
    expect(notices).toHaveLength(1);
    const notice = notices[0]!.message;
    other.transcript.push('(push)', botLine(notice.text, notice.quickReply?.items));
    other.subscriptions = other.subscriptions.map((s) => ({ ...s, status: 'lost' }));
    turn(other, { kind: 'text', text: '登録内容の確認・変更' }, '登録内容の確認・変更');
    const declined = turn(
      other,
      {
        kind: 'postback',
        data: notice.quickReply!.items[1]!.action.type === 'postback' ? notice.quickReply!.items[1]!.action.data : '',
      },
      '(受け取らない)',
    );
    expect(declined.changes).toEqual([]);
    // The offer stays open in the settings: tapping it later starts the series for this member.
    const later = turn(
      other,
      { kind: 'postback', data: postbackData('loss-support', { c: 'yes', f: 'F1' }) },
      '(お便りを受け取る)',
    );
    expect(later.changes).toEqual([
      { type: 'put', subscription: expect.objectContaining({ track: 'support', readerKey: `line:${other.userId}` }) },
    ]);

    expect(other.transcript).toEqual([
      '(push)',
      `< ご家族から、おつらいお知らせをいただきました。心よりお悔やみ申し上げます。\nこのご登録のメッセージは、もうお届けしません。\nお話ししたくなったときは、次の窓口にご相談ください。\n\n${CONTACTS}\n\nご希望の方には、これから3か月の間に数回、心と体をいたわるための短いお便りをお届けしています。受け取りますか？\n  [受け取る] [受け取らない]`,
      '> 登録内容の確認・変更',
      `< お知らせのあったご登録のメッセージは、お届けを止めています。\nおつらいときは、いつでも次の窓口にご相談ください。\n\n${CONTACTS}\n  [お便りを受け取る] [その他]`,
      '> (受け取らない)',
      '< 承知しました。お便りはお送りしません。',
      '> (お便りを受け取る)',
      '< 承知しました。ときどき短いお便りをお届けします。いつでも「配信停止」で止められます。',
    ]);

    if (process.env.TRANSCRIPT)
      console.log(
        `${reporterIs} reports:\n${reporter.transcript.join('\n')}\n\n${reporterIs === 'parent' ? 'partner' : 'parent'} is told:\n${other.transcript.join('\n')}`,
      );
  });
});
