import { z } from 'zod';

/**
 * Everything the LINE conversation says, in Japanese. A tenant file may override any key under `wording`
 * (validated at synth: an unknown key is an error). `{tenantName}`, `{label}`, `{code}`, `{date}`, `{nickname}`
 * are filled in where noted. Texts sent to the OTHER member of a family (`...Notice`) are channel-neutral: they
 * never mention buttons, because the partner may read them in an email.
 */
export const DEFAULT_WORDING = {
  greeting:
    '{tenantName}の子育て応援メッセージに登録いただき、ありがとうございます。\n妊娠中の方・子育て中の方に、毎朝ひとことメッセージをお届けします。\nあてはまるものを選んでください。',
  registerLater: 'あとで登録する',
  registerLaterReply: 'わかりました。登録したくなったら、メニューの「子どもを追加」からいつでもどうぞ。',
  askAddTrack: 'どちらのご登録を追加しますか？（ふたごのお子さんや、上のお子さんがいる場合など）',
  welcomeBack: 'おかえりなさい。メッセージの配信を再開しました。',
  chooseMaternity: '妊娠中',
  chooseChildcare: '子育て中',
  choosePartner: 'パートナー・家族として登録',
  askDueDate: '出産予定日を教えてください。下のボタンから選べます。',
  askBirthday: 'お子さんの誕生日を教えてください。下のボタンから選べます。',
  pickDate: '日付を選ぶ',
  dueDateOutOfRange: '出産予定日は、今日から10か月先までの日付でお願いします。もう一度選んでみてください。',
  birthdayOutOfRange:
    'このサービスは3歳のお誕生日までのお子さんが対象です。今日から3年前までの誕生日を選んでください。',
  birthDateOutOfRange: 'お誕生日は、今日から半年前までの日付を選んでください。',
  typedDate: '日付は下のボタンから選んでいただけると確実です。お手数ですが、もう一度お願いします。',
  notADate: 'その日付はカレンダーにないようです。お手数ですが、下のボタンからもう一度選んでください。',
  askNickname:
    'メッセージの中で、赤ちゃん（お子さん）をどうお呼びしましょうか。ニックネームを送ってください（20文字まで）。なくても大丈夫です。',
  skip: 'スキップ',
  nicknameInvalid: 'ニックネームは20文字までの文字でお願いします。もう一度送ってください。',
  registered: '登録しました（{label}）。\n明日から毎朝メッセージをお届けします。今日のメッセージはこちらです。',
  registeredNoMessageToday: '登録しました（{label}）。\n次のメッセージの日から、朝にお届けします。',
  labelMaternity: '妊娠中・出産予定日 {date}',
  labelChildcare: '子育て中・誕生日 {date}',
  labelPartnerMaternity: 'パートナー・家族として登録・出産予定日 {date}',
  labelPartnerChildcare: 'パートナー・家族として登録・誕生日 {date}',
  labelSupport: 'お便り',
  labelNickname: '呼び名「{nickname}」',
  askInviteCode: '登録した方から届いた招待コード（6文字）を送ってください。',
  inviteCodeUnknown:
    'その招待コードは見つかりませんでした。有効期限（7日間）が切れていないか、登録した方に確認してください。',
  partnerRegistered: '登録しました（{label}）。\n明日から毎朝、パートナー・ご家族向けのメッセージをお届けします。',
  inviteCreated:
    'パートナーやご家族に、この招待コードを伝えてください。\n招待コード：{code}（今日を含めて7日間有効）\n\nこのアカウントを友だち追加して「パートナー・家族として登録」を選び、コードを送ると登録できます。',
  inviteShareButton: 'LINEで送る',
  inviteShare:
    '{tenantName}の子育てメッセージに、一緒に登録しませんか？\n友だち追加後、「パートナー・家族として登録」を選んで招待コード {code} を送ってください。',
  settingsHeader: 'ご登録の内容です。',
  nothingRegistered: 'まだ登録がありません。「妊娠中」または「子育て中」を選んで登録してください。',
  nothingLiveStopped: 'いまは配信を停止しています。再開するときは「再開」と送ってください。',
  nothingLiveAfterLoss:
    'お知らせのあったご登録のメッセージは、お届けを止めています。\nおつらいときは、いつでも次の窓口にご相談ください。',
  lossNothingRegistered:
    'おつらいなか、お知らせくださりありがとうございます。\nお話ししたくなったときは、いつでも次の窓口にご相談ください。',
  settingsLostLine: 'お知らせのあったご登録のメッセージは、お届けを止めています。',
  lossSupportStart: 'お便りを受け取る',
  changeDate: '日付を変更',
  changeNickname: '呼び名を変更',
  askNewNickname: '新しいニックネームを送ってください（20文字まで）。',
  updated: '変更しました（{label}）。',
  dueDateChangedNotice:
    'ご家族が出産予定日を{date}に変更しました。これからは新しい日付に合わせてメッセージをお届けします。',
  birthdayChangedNotice:
    'ご家族がお子さんの誕生日を{date}に変更しました。これからは新しい日付に合わせてメッセージをお届けします。',
  chooseWhich: 'どのご登録についてですか？',
  noPregnancy: '妊娠中のご登録が見つかりませんでした。',
  birthCongrats: 'ご出産おめでとうございます。',
  askBirthDate: 'お子さんの誕生日を選んでください。',
  birthRecorded: 'ご出産おめでとうございます！これからは子育てのメッセージをお届けします（{label}）。',
  birthNotice:
    'ご家族から、ご出産のお知らせがありました。おめでとうございます！\nこれからは子育てのメッセージをお届けします（お子さんの誕生日 {date}）。',
  askPause: 'メッセージをお休みする期間を選んでください。',
  pauseWeek: '1週間',
  pauseMonth: '1か月',
  pauseUntilResumed: '再開するまで',
  paused: 'メッセージをお休みします。{date}から再開します。お休み中のメッセージは後から届きません。',
  pausedIndefinitely: 'メッセージをお休みします。再開するときは「再開」と送ってください。',
  resumed: 'メッセージを再開しました。明日の朝からお届けします。',
  nothingToResume: 'お休み中のメッセージはありません。',
  nothingToPause: 'いまお届けしているメッセージはありません。',
  pausedAlready: 'いまはお休み中です。再開するときは「再開」と送ってください。',
  pauseKeep: 'お休みしない',
  askStop: '配信を停止しますか？データの削除も選べます。',
  stopOnly: '配信を停止する',
  stopAndDelete: '停止してデータ削除',
  cancel: 'キャンセル',
  stopKeep: '停止しない',
  cancelled: 'そのままにしました。',
  stopped: '配信を停止しました。再開するときは「再開」と送ってください。',
  askDelete:
    'ご登録の内容（日付・ニックネーム・回答など）をすべて削除します。元には戻せません。削除してよろしいですか？',
  deleteYes: '削除する',
  deleteKeep: '削除しない',
  deleted: 'データを削除しました。これまでご利用いただき、ありがとうございました。',
  lossAcknowledge: 'おつらいなか、お知らせくださりありがとうございます。',
  askLossConfirm:
    '{label}のメッセージを、いまから止めてもよろしいですか？\nご家族として登録している方がいれば、その方へのメッセージも止まり、その方にもそっとお知らせします。',
  lossStop: '配信を止める',
  lossKeep: '今は止めない',
  lossKept:
    'わかりました。メッセージはこのままお届けします。\n必要なときは、いつでもメニューの「赤ちゃんを亡くされた方へ」からお知らせください。',
  lossRecorded:
    '心よりお悔やみ申し上げます。メッセージの配信を止めました。\nお話ししたくなったときは、次の窓口にご相談ください。',
  lossNotice:
    'ご家族から、おつらいお知らせをいただきました。心よりお悔やみ申し上げます。\nこのご登録のメッセージは、もうお届けしません。\nお話ししたくなったときは、次の窓口にご相談ください。',
  lossSupportOffer:
    'ご希望の方には、これから3か月の間に数回、心と体をいたわるための短いお便りをお届けしています。受け取りますか？',
  lossSupportYes: '受け取る',
  lossSupportNo: '受け取らない',
  lossSupportAccepted: '承知しました。ときどき短いお便りをお届けします。いつでも「配信停止」で止められます。',
  lossSupportDeclined: '承知しました。お便りはお送りしません。',
  moreMenu: 'その他のメニューです。',
  lossMenuLabel: '赤ちゃんを亡くされた方へ',
  contactsHeader: '相談窓口',
  /** Between the nicknames of twins named in one daily text: `ゆいとあお`. */
  nicknameJoiner: 'と',
  help: 'メッセージありがとうございます。このアカウントでは個別のご質問にはお答えできません。下のメニューからお選びください。\nご心配なことは、かかりつけの医療機関や次の窓口にご相談ください。',
} as const;

export type WordingKey = keyof typeof DEFAULT_WORDING;

export const WordingSchema = z.partialRecord(
  z.enum(Object.keys(DEFAULT_WORDING) as [WordingKey, ...WordingKey[]]),
  z.string().min(1).max(2000),
);
export type Wording = Record<WordingKey, string>;
