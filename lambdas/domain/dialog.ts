import { LINE_MAX_MESSAGES_PER_REQUEST, type IsoDate } from '../../schemas/common';
import type { ReaderAction } from '../../schemas/line-webhook';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import type { Dialog, Invite } from '../../schemas/dialog';
import type { Wording } from '../../schemas/wording';
import type { LibraryIndex } from './library';
import * as lifecycle from './lifecycle';
import { live, type LifecycleChange, type Reader, type RegistrableTrack } from './lifecycle';
import { japaneseDate, Phrases, postbackData, textMessage, type BotMessage, type QuickReplyItem } from './replies';
import { packMessages, resolveSubscription } from './resolve';

/**
 * The LINE conversation as a pure function: (what the reader did, what we know) -> (replies, new dialog state,
 * changes to store). The webhook service loads the inputs, stores the changes in one transaction, then replies.
 * What a step does to the subscriptions is lifecycle.ts's (shared with the email pages); the words are replies.ts's.
 */

// Stored between events, so their shapes are zod schemas (schemas/dialog.ts).
export type { Dialog, Invite } from '../../schemas/dialog';

export interface ConversationInput {
  tenant: TenantConfig;
  library: LibraryIndex;
  today: IsoDate;
  userId: string;
  readerKey: string;
  /** All of this reader's subscriptions, whatever their status. */
  subscriptions: Subscription[];
  dialog: Dialog | undefined;
  action: ReaderAction;
  /** Filled by the service when the reader is entering an invite code: the invite it names, or null. */
  invite?: Invite | null;
  newId: () => string;
  newInviteCode: () => string;
}

export type Change =
  | LifecycleChange
  /**
   * One message for every OTHER live reader of the family (the partner when the parent acted, the parent when
   * the partner did): a loss, a birth, a changed date. The text is channel-neutral (the other member may read it
   * in an email); LINE shows the quick reply, if any, under it.
   */
  | { type: 'notify'; familyId: string; message: BotMessage };

export interface ConversationOutput {
  replies: BotMessage[];
  /** `null` ends the dialog; `undefined` leaves it as it was. */
  dialog: Dialog | null | undefined;
  changes: Change[];
}

type MenuAction = 'settings' | 'add' | 'birth' | 'pause' | 'resume' | 'stop' | 'invite' | 'loss' | 'more';

/** Text commands (also the rich menu's labels): typing them works like tapping the menu. */
const TEXT_COMMANDS: Record<string, MenuAction> = {
  '登録内容の確認・変更': 'settings',
  登録内容: 'settings',
  子どもを追加: 'add',
  出産のご報告: 'birth',
  お休み: 'pause',
  再開: 'resume',
  配信停止: 'stop',
  パートナー招待: 'invite',
  その他: 'more',
  赤ちゃんを亡くされた方へ: 'loss',
};

/** A typed menu command (the rich menu's labels): the registration dialog answers it, not the inquiry chat. */
export const isTextCommand = (text: string) => Object.hasOwn(TEXT_COMMANDS, text.trim());

/** A step of the dialog that waits for typed text (a nickname, an invite code, a typed date). */
export const dialogTakesText = (d: Dialog | undefined) =>
  d?.step === 'nickname' ||
  d?.step === 'change-nickname' ||
  d?.step === 'invite-code' ||
  d?.step === 'date' ||
  d?.step === 'change-date' ||
  d?.step === 'birth-date';

export function converse(input: ConversationInput): ConversationOutput {
  const c = new Conversation(input);
  return c.handle();
}

class Conversation {
  private readonly p: Phrases;
  private readonly w: Wording;
  private readonly r: Reader;
  private readonly out: ConversationOutput = { replies: [], dialog: undefined, changes: [] };

  constructor(private readonly i: ConversationInput) {
    this.p = new Phrases(i.tenant);
    this.w = this.p.w;
    this.r = {
      tenantId: i.tenant.tenantId,
      readerKey: i.readerKey,
      channel: 'line',
      address: i.userId,
      today: i.today,
      subscriptions: i.subscriptions,
      newId: i.newId,
    };
  }

  handle(): ConversationOutput {
    const a = this.i.action;
    switch (a.kind) {
      case 'follow':
        this.onFollow(a.unblocked);
        break;
      case 'unfollow':
        this.onUnfollow();
        break;
      case 'text':
        this.onText(a.text);
        break;
      case 'postback':
        this.onPostback(a.data, a.date);
        break;
    }
    return this.out;
  }

  // ---- events ----

  private onFollow(unblocked: boolean) {
    const resumed = lifecycle.resumeOnRefollow(this.r);
    if (unblocked && resumed.length > 0) {
      for (const s of resumed) this.put(s);
      this.say(this.w.welcomeBack, this.p.menuItems());
      this.out.dialog = null;
      return;
    }
    this.askTrack(this.p.fill(this.w.greeting), this.p.postbackItem(this.w.registerLater, postbackData('later')));
  }

  private onUnfollow() {
    for (const s of lifecycle.stopOnUnfollow(this.r)) this.put(s);
    this.out.dialog = null;
  }

  private onText(raw: string) {
    const text = raw.trim();
    const command = Object.hasOwn(TEXT_COMMANDS, text) ? TEXT_COMMANDS[text] : undefined;
    if (command) return this.menu(command);
    const d = this.i.dialog;
    switch (d?.step) {
      case 'nickname': {
        const nickname = lifecycle.sanitizeNickname(text);
        if (!nickname) return this.say(this.w.nicknameInvalid, [this.p.skipItem(), this.p.cancelItem()]);
        return this.register(d.track, d.anchorDate, nickname);
      }
      case 'change-nickname': {
        const sub = this.find(d.subscriptionId);
        const nickname = lifecycle.sanitizeNickname(text);
        if (!sub) return this.endDialog();
        if (!nickname) return this.say(this.w.nicknameInvalid, [this.p.cancelItem()]);
        const changed = lifecycle.changeNickname(sub, nickname);
        this.put(changed);
        this.out.dialog = null;
        return this.say(this.p.fill(this.w.updated, { label: this.p.describe(changed) }), this.p.menuItems());
      }
      case 'invite-code':
        return this.joinWithInvite();
      case 'date':
      case 'change-date':
      case 'birth-date': {
        // A date typed the way people write one is taken like a picked one; anything else asks for the picker.
        const typed = typedDate(text);
        if (typed !== undefined) return this.onDate(typed);
        return this.askDate(this.w.typedDate, d);
      }
      default:
        return this.help();
    }
  }

  private onPostback(data: string, date: string | undefined) {
    const p = new URLSearchParams(data);
    const s = p.get('s') ?? '';
    switch (p.get('a')) {
      case 'track': {
        const t = p.get('t');
        if (t !== 'maternity' && t !== 'childcare') return this.help();
        const dialog: Dialog = { step: 'date', track: t };
        this.out.dialog = dialog;
        return this.askDate(t === 'maternity' ? this.w.askDueDate : this.w.askBirthday, dialog);
      }
      case 'partner':
        this.out.dialog = { step: 'invite-code' };
        return this.say(this.w.askInviteCode, [this.p.cancelItem()]);
      case 'date':
        return this.onDate(date);
      case 'skip-nick': {
        const d = this.i.dialog;
        return d?.step === 'nickname' ? this.register(d.track, d.anchorDate, undefined) : this.help();
      }
      case 'menu':
        return this.menu((p.get('m') ?? '') as MenuAction);
      case 'change-date': {
        const sub = this.find(s);
        if (!sub || sub.track === 'support') return this.endDialog();
        const dialog: Dialog = { step: 'change-date', subscriptionId: sub.subscriptionId };
        this.out.dialog = dialog;
        return this.askDate(sub.track === 'maternity' ? this.w.askDueDate : this.w.askBirthday, dialog);
      }
      case 'change-nick':
        if (!this.find(s)) return this.endDialog();
        this.out.dialog = { step: 'change-nickname', subscriptionId: s };
        return this.say(this.w.askNewNickname, [this.p.cancelItem()]);
      case 'birth':
        return this.startBirth(s);
      case 'invite':
        return this.createInvite(s);
      case 'loss':
        return this.startLoss(s);
      case 'pause':
        return this.pause(p.get('p'));
      case 'stop':
        return this.stop(p.get('c'));
      case 'delete':
        return this.delete(p.get('c'));
      case 'loss-confirm':
        return this.confirmLoss(p.get('c'));
      case 'loss-support':
        return this.lossSupport(p.get('c'), p.get('f'));
      case 'cancel':
        this.out.dialog = null;
        return this.say(this.w.cancelled, this.p.menuItems());
      case 'later':
        this.out.dialog = null;
        return this.say(this.w.registerLaterReply, this.p.menuItems());
      default:
        return this.help();
    }
  }

  private onDate(date: string | undefined) {
    const d = this.i.dialog;
    if (!d || (d.step !== 'date' && d.step !== 'change-date' && d.step !== 'birth-date')) return this.help();
    const checked = lifecycle.checkDate(this.i.today, this.dateKind(d), date);
    if (checked === 'not-a-date' || date === undefined) return this.askDate(this.w.notADate, d);
    if (checked === 'out-of-range') {
      const track = d.step === 'date' ? d.track : this.find(d.subscriptionId)?.track;
      const message =
        d.step === 'birth-date'
          ? this.w.birthDateOutOfRange
          : track === 'maternity'
            ? this.w.dueDateOutOfRange
            : this.w.birthdayOutOfRange;
      return this.askDate(message, d);
    }
    if (d.step === 'date') {
      this.out.dialog = { step: 'nickname', track: d.track, anchorDate: date };
      return this.say(this.w.askNickname, [this.p.skipItem(), this.p.cancelItem()]);
    }
    const sub = this.find(d.subscriptionId);
    if (!sub) return this.endDialog();
    this.out.dialog = null;
    if (d.step === 'change-date') {
      const changed = { ...sub, anchorDate: date };
      this.apply(lifecycle.changeDate(sub, date));
      // Either member may correct the family's date (the partner often hears the new date first at the check-up);
      // the other member is told, so that nobody's messages move without them knowing.
      this.notify(sub.familyId, {
        type: 'text',
        text: this.p.fill(sub.track === 'maternity' ? this.w.dueDateChangedNotice : this.w.birthdayChangedNotice, {
          date: japaneseDate(date),
        }),
      });
      return this.say(this.p.fill(this.w.updated, { label: this.p.describe(changed) }), this.p.menuItems());
    }
    const { born, changes } = lifecycle.birth(this.r, sub, date);
    this.apply(changes);
    this.notify(sub.familyId, { type: 'text', text: this.p.fill(this.w.birthNotice, { date: japaneseDate(date) }) });
    this.say(this.p.fill(this.w.birthRecorded, { label: this.p.describe(born) }));
    this.todaysMessages(born);
  }

  // ---- flows ----

  private askTrack(text: string, wayOut = this.p.cancelItem()) {
    this.out.dialog = { step: 'track' };
    this.say(text, [
      this.p.postbackItem(this.w.chooseMaternity, postbackData('track', { t: 'maternity' })),
      this.p.postbackItem(this.w.chooseChildcare, postbackData('track', { t: 'childcare' })),
      this.p.postbackItem(this.w.choosePartner, postbackData('partner')),
      wayOut,
    ]);
  }

  private register(track: RegistrableTrack, anchorDate: IsoDate, nickname: string | undefined) {
    const sub = lifecycle.register(this.r, track, anchorDate, nickname);
    this.put(sub);
    this.out.dialog = null;
    this.registeredReply(sub, this.w.registered, this.w.registeredNoMessageToday);
  }

  private joinWithInvite() {
    const sub = lifecycle.joinFamily(this.r, this.i.invite);
    if (!sub) return this.say(this.w.inviteCodeUnknown, [this.p.cancelItem()]);
    this.put(sub);
    this.out.dialog = null;
    this.registeredReply(sub, this.w.partnerRegistered, this.w.partnerRegistered);
  }

  private registeredReply(sub: Subscription, withMessage: string, withoutMessage: string) {
    const texts = this.todaysTexts(sub);
    this.say(
      this.p.fill(texts.length ? withMessage : withoutMessage, { label: this.p.describe(sub) }),
      texts.length ? undefined : this.p.menuItems(),
    );
    this.sayAll(texts);
  }

  private todaysMessages(sub: Subscription) {
    this.sayAll(this.todaysTexts(sub));
  }

  private todaysTexts(sub: Subscription): string[] {
    const texts = resolveSubscription({ ...sub, registeredOn: this.i.today }, this.i.today, {
      tenant: this.i.tenant,
      library: this.i.library,
    });
    return packMessages(texts).slice(0, LINE_MAX_MESSAGES_PER_REQUEST - this.out.replies.length);
  }

  private menu(m: MenuAction) {
    switch (m) {
      case 'settings':
        return this.settings();
      case 'add':
        return this.askTrack(this.w.askAddTrack);
      case 'birth':
        return this.startBirth('');
      case 'pause':
        this.out.dialog = null;
        return this.say(this.w.askPause, [
          this.p.postbackItem(this.w.pauseWeek, postbackData('pause', { p: 'week' })),
          this.p.postbackItem(this.w.pauseMonth, postbackData('pause', { p: 'month' })),
          this.p.postbackItem(this.w.pauseUntilResumed, postbackData('pause', { p: 'resumed' })),
          this.p.postbackItem(this.w.pauseKeep, postbackData('cancel')),
        ]);
      case 'resume':
        return this.resume();
      case 'stop':
        this.out.dialog = { step: 'stop' };
        return this.say(this.w.askStop, [
          this.p.postbackItem(this.w.stopOnly, postbackData('stop', { c: 'stop' })),
          this.p.postbackItem(this.w.stopAndDelete, postbackData('stop', { c: 'delete' })),
          this.p.postbackItem(this.w.stopKeep, postbackData('stop', { c: 'keep' })),
        ]);
      case 'invite':
        return this.createInvite('');
      case 'loss':
        return this.startLoss('');
      case 'more':
        this.out.dialog = null;
        return this.say(this.w.moreMenu, [
          this.p.postbackItem('お休み', postbackData('menu', { m: 'pause' })),
          this.p.postbackItem('再開', postbackData('menu', { m: 'resume' })),
          this.p.postbackItem('配信停止', postbackData('menu', { m: 'stop' })),
          this.p.postbackItem(this.w.lossMenuLabel, postbackData('menu', { m: 'loss' })),
          // Surveys are answered in services/survey-chat.ts; these start or resume them.
          this.p.postbackItem('アンケート', postbackData('sv-start')),
          ...(this.i.tenant.screening?.enabled
            ? [this.p.postbackItem('こころの健康チェック', postbackData('sv-screen'))]
            : []),
          // Inquiries are handled in services/inquiry-chat.ts.
          ...(this.i.tenant.inquiries?.enabled ? [this.p.postbackItem('お問い合わせ', postbackData('inq-start'))] : []),
        ]);
      default:
        return this.help();
    }
  }

  private settings() {
    const subs = this.i.subscriptions.filter(live);
    this.out.dialog = null;
    if (subs.length === 0) return this.nothingLive();
    const lines = subs.map(
      (s, n) => `${n + 1}. ${this.p.describe(s)}${lifecycle.onPause(s, this.i.today) ? '（お休み中）' : ''}`,
    );
    if (this.i.subscriptions.some((s) => s.status === 'lost')) lines.push(this.w.settingsLostLine);
    // Buttons carry the number of their line in the list above, so they never point at the wrong registration.
    const items = subs
      .map((s, n) => ({ s, n }))
      .filter(({ s }) => s.track !== 'support')
      .slice(0, 6)
      .flatMap(({ s, n }) => [
        this.p.postbackItem(`${n + 1}. ${this.w.changeDate}`, postbackData('change-date', { s: s.subscriptionId })),
        this.p.postbackItem(`${n + 1}. ${this.w.changeNickname}`, postbackData('change-nick', { s: s.subscriptionId })),
      ]);
    this.say(`${this.w.settingsHeader}\n${lines.join('\n')}`, items.length ? items : this.p.menuItems());
  }

  private startBirth(s: string) {
    // Either parent or partner may report the birth; the family link carries it to the other.
    const pregnancies = lifecycle.pregnancies(this.r);
    const sub = pick(pregnancies, s);
    if (!sub) {
      // Congratulate first, as the loss flow acknowledges first: the question of which one comes after.
      if (pregnancies.length > 1)
        return this.chooseSubscription(pregnancies, 'birth', `${this.w.birthCongrats}\n${this.w.chooseWhich}`);
      if (!this.i.subscriptions.some(live)) return this.nothingLive();
      this.out.dialog = null;
      return this.say(this.w.noPregnancy, this.p.menuItems());
    }
    const dialog: Dialog = { step: 'birth-date', subscriptionId: sub.subscriptionId };
    this.out.dialog = dialog;
    this.askDate(s ? this.w.askBirthDate : `${this.w.birthCongrats}\n${this.w.askBirthDate}`, dialog);
  }

  private createInvite(s: string) {
    const candidates = lifecycle.invitable(this.r);
    const sub = pick(candidates, s);
    if (!sub) {
      if (candidates.length > 1) return this.chooseSubscription(candidates, 'invite');
      return this.nothingLive();
    }
    const code = this.i.newInviteCode();
    this.out.changes.push({ type: 'invite', invite: lifecycle.invite(this.r, sub, code) });
    this.out.dialog = null;
    const share =
      this.p.fill(this.w.inviteShare, { code }) +
      (this.i.tenant.line.friendUrl ? `\n${this.i.tenant.line.friendUrl}` : '');
    this.say(this.p.fill(this.w.inviteCreated, { code }), [
      this.p.uriItem(this.w.inviteShareButton, `https://line.me/R/share?text=${encodeURIComponent(share)}`),
    ]);
  }

  private startLoss(s: string) {
    const candidates = lifecycle.invitable(this.r);
    const sub = pick(candidates, s);
    const keep = this.p.postbackItem(this.w.lossKeep, postbackData('loss-confirm', { c: 'no' }));
    if (!sub) {
      // Acknowledge first: the question of which registration comes after a word of sympathy, never before.
      if (candidates.length > 1)
        return this.chooseSubscription(candidates, 'loss', `${this.w.lossAcknowledge}\n${this.w.chooseWhich}`, keep);
      if (this.i.subscriptions.some((x) => x.status === 'lost')) return this.nothingLive();
      // Someone may look for this entry before (or without) registering: they still get the contacts.
      this.out.dialog = null;
      return this.say(`${this.w.lossNothingRegistered}\n\n${this.p.contacts()}`.trim(), this.p.menuItems());
    }
    this.out.dialog = { step: 'loss', subscriptionId: sub.subscriptionId };
    const question = this.p.fill(this.w.askLossConfirm, { label: this.p.describe(sub) });
    // A registration chosen from the list was acknowledged in the list's message already.
    this.say(s ? question : `${this.w.lossAcknowledge}\n${question}`, [
      this.p.postbackItem(this.w.lossStop, postbackData('loss-confirm', { c: 'yes' })),
      keep,
    ]);
  }

  private confirmLoss(c: string | null) {
    const d = this.i.dialog;
    const sub = d?.step === 'loss' ? this.find(d.subscriptionId) : undefined;
    if (!sub || c !== 'yes') {
      this.out.dialog = null;
      return this.say(c === 'no' ? this.w.lossKept : this.w.cancelled, this.p.menuItems());
    }
    this.apply(lifecycle.loss(sub));
    this.say(`${this.w.lossRecorded}\n\n${this.p.contacts()}`.trim());
    this.out.dialog = { step: 'loss-support' };
    this.say(this.w.lossSupportOffer, this.p.supportItems(sub.familyId));
    // The other member would otherwise just stop hearing from us, and meet "nothing registered" in the settings.
    this.notify(sub.familyId, this.p.lossNotice(sub.familyId));
  }

  private lossSupport(c: string | null, familyId: string | null) {
    const offered = this.i.dialog?.step === 'loss-support' || lifecycle.supportOffered(this.r, familyId);
    if (!offered) return this.help();
    this.out.dialog = null;
    if (c !== 'yes') return this.say(this.w.lossSupportDeclined);
    const support = lifecycle.startSupport(this.r);
    if (support) this.put(support);
    this.say(this.w.lossSupportAccepted);
  }

  /**
   * Nothing live to show or act on. Which words fit depends on why: after a loss "nothing registered, please
   * register" would be wrong and unkind; after a stop the way back is 再開.
   */
  private nothingLive() {
    this.out.dialog = null;
    const lost = this.i.subscriptions.filter((s) => s.status === 'lost');
    if (lost.length > 0) {
      const offer = lifecycle.hasLiveSupport(this.r)
        ? []
        : [
            this.p.postbackItem(
              this.w.lossSupportStart,
              postbackData('loss-support', { c: 'yes', f: lost.at(-1)!.familyId }),
            ),
          ];
      // Not the whole menu: a "出産のご報告" button has no place under these words.
      return this.say(`${this.w.nothingLiveAfterLoss}\n\n${this.p.contacts()}`.trim(), [
        ...offer,
        this.p.postbackItem('その他', postbackData('menu', { m: 'more' })),
      ]);
    }
    if (this.i.subscriptions.some((s) => s.status === 'stopped'))
      return this.say(this.w.nothingLiveStopped, [
        this.p.postbackItem('再開', postbackData('menu', { m: 'resume' })),
        ...this.p.menuItems(),
      ]);
    return this.askTrack(this.w.nothingRegistered);
  }

  private notify(familyId: string, message: BotMessage) {
    this.out.changes.push({ type: 'notify', familyId, message });
  }

  private pause(p: string | null) {
    this.out.dialog = null;
    const period = p === 'week' || p === 'month' || p === 'resumed' ? p : undefined;
    // Asked first, so that "nothing to pause" wins over a stale or forged button as before.
    const result = lifecycle.pause(this.r, period ?? 'resumed');
    if (result.outcome !== 'paused')
      return this.say(
        result.outcome === 'paused-already' ? this.w.pausedAlready : this.w.nothingToPause,
        this.p.menuItems(),
      );
    if (!period) return this.say(this.w.cancelled, this.p.menuItems());
    for (const s of result.puts) this.put(s);
    if (result.until === undefined) return this.say(this.w.pausedIndefinitely);
    this.say(this.p.fill(this.w.paused, { date: japaneseDate(result.until) }));
  }

  private resume() {
    this.out.dialog = null;
    const { resumable, puts } = lifecycle.resume(this.r);
    if (!resumable) return this.say(this.w.nothingToResume, this.p.menuItems());
    for (const s of puts) this.put(s);
    this.say(this.w.resumed);
  }

  private stop(c: string | null) {
    // Anything but the two answers (the "keep" button among them) keeps everything as it is.
    if (this.i.dialog?.step !== 'stop' || (c !== 'stop' && c !== 'delete')) {
      this.out.dialog = null;
      return this.say(this.w.cancelled, this.p.menuItems());
    }
    if (c === 'delete') {
      this.out.dialog = { step: 'delete' };
      return this.say(this.w.askDelete, [
        this.p.postbackItem(this.w.deleteYes, postbackData('delete', { c: 'yes' })),
        this.p.postbackItem(this.w.deleteKeep, postbackData('delete', { c: 'no' })),
      ]);
    }
    for (const s of lifecycle.stop(this.r)) this.put(s);
    this.out.dialog = null;
    this.say(this.w.stopped);
  }

  private delete(c: string | null) {
    if (this.i.dialog?.step !== 'delete' || c !== 'yes') {
      this.out.dialog = null;
      return this.say(this.w.cancelled, this.p.menuItems());
    }
    // A deletion replaces whatever else this event would have written.
    this.out.changes = lifecycle.deleteReader();
    this.out.dialog = null;
    this.say(this.w.deleted);
  }

  private chooseSubscription(
    subs: Subscription[],
    action: 'birth' | 'invite' | 'loss',
    text = this.w.chooseWhich,
    wayOut = this.p.cancelItem(),
  ) {
    this.out.dialog = null;
    this.say(
      text,
      subs
        .slice(0, 12)
        .map((s, n, all) => {
          // Twins without nicknames share a label; numbers tell their buttons apart.
          const label = this.p.shortLabel(s);
          const shared = all.some((o) => o !== s && this.p.shortLabel(o) === label);
          return this.p.postbackItem(
            shared ? `${n + 1}. ${label}` : label,
            postbackData(action, { s: s.subscriptionId }),
          );
        })
        .concat(wayOut),
    );
  }

  private help() {
    this.say(`${this.w.help}\n\n${this.p.contacts()}`.trim(), this.p.menuItems());
  }

  private endDialog() {
    this.out.dialog = null;
    this.help();
  }

  // ---- helpers ----

  private find(subscriptionId: string): Subscription | undefined {
    return lifecycle.liveSubscription(this.r, subscriptionId);
  }

  /** A later change to the same subscription within one event replaces the earlier one. */
  private put(subscription: Subscription) {
    const i = this.out.changes.findIndex(
      (c) => c.type === 'put' && c.subscription.subscriptionId === subscription.subscriptionId,
    );
    if (i >= 0) this.out.changes.splice(i, 1);
    this.out.changes.push({ type: 'put', subscription });
  }

  private apply(changes: LifecycleChange[]) {
    for (const c of changes)
      if (c.type === 'put') this.put(c.subscription);
      else this.out.changes.push(c);
  }

  private dateKind(d: Dialog): lifecycle.DateKind {
    if (d.step === 'birth-date') return 'birth-date';
    const track =
      d.step === 'date' ? d.track : d.step === 'change-date' ? this.find(d.subscriptionId)?.track : undefined;
    return lifecycle.dateKindOf(track);
  }

  /** A question answered with the date picker, with a way out next to it. */
  private askDate(text: string, d: Dialog) {
    this.say(text, [this.p.datePicker(lifecycle.dateRange(this.i.today, this.dateKind(d))), this.p.cancelItem()]);
  }

  private say(text: string, quickReply?: QuickReplyItem[]) {
    if (this.out.replies.length >= LINE_MAX_MESSAGES_PER_REQUEST) return;
    this.out.replies.push(textMessage(text, quickReply));
  }

  private sayAll(texts: string[]) {
    for (const t of texts) this.say(t);
  }
}

/** The one named, or the only candidate when none is named. */
function pick(candidates: Subscription[], s: string): Subscription | undefined {
  return s ? candidates.find((x) => x.subscriptionId === s) : candidates.length === 1 ? candidates[0] : undefined;
}

/** `2027-02-30`, `2027/2/30`, `2027年2月30日` (full-width digits too) as an ISO-shaped string, valid or not. */
function typedDate(text: string): string | undefined {
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(text.normalize('NFKC').trim());
  return m ? `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}` : undefined;
}
