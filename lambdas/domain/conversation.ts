import { LINE_MAX_MESSAGES_PER_REQUEST, type IsoDate, type Track } from '../../schemas/common';
import type { ReaderAction } from '../../schemas/line-webhook';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import type { Dialog, Invite } from '../../schemas/dialog';
import { DEFAULT_WORDING, type Wording } from '../../schemas/wording';
import { addDays, parseIsoDate } from './dates';
import type { LibraryIndex } from './library';
import { packMessages, resolveSubscription } from './resolve';
import { bucketOf } from './shard';

/**
 * The LINE conversation as a pure function: (what the reader did, what we know) -> (replies, new dialog state,
 * changes to store). The webhook service loads the inputs, stores the changes in one transaction, then replies.
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
  | { type: 'put'; subscription: Subscription }
  /** Apply to every other reader's subscription of the family (the partner's): a birth, a date change, a loss. */
  | { type: 'family'; familyId: string; set: Partial<Pick<Subscription, 'track' | 'anchorDate' | 'status'>> }
  | { type: 'invite'; invite: Invite }
  /**
   * One message for every OTHER live reader of the family (the partner when the parent acted, the parent when
   * the partner did): a loss, a birth, a changed date. The text is channel-neutral (the other member may read it
   * in an email); LINE shows the quick reply, if any, under it.
   */
  | { type: 'notify'; familyId: string; message: BotMessage }
  | { type: 'delete-reader' };

export interface QuickReplyItem {
  type: 'action';
  action:
    | { type: 'postback'; label: string; data: string; displayText: string }
    | {
        type: 'datetimepicker';
        label: string;
        data: string;
        mode: 'date';
        initial: IsoDate;
        min: IsoDate;
        max: IsoDate;
      }
    | { type: 'uri'; label: string; uri: string };
}
export interface BotMessage {
  type: 'text';
  text: string;
  quickReply?: { items: QuickReplyItem[] };
}

export interface ConversationOutput {
  replies: BotMessage[];
  /** `null` ends the dialog; `undefined` leaves it as it was. */
  dialog: Dialog | null | undefined;
  changes: Change[];
}

/** Due dates up to ~10 months ahead; birthdays within the last 3 years (the childcare track's range). */
export const DUE_DATE_MAX_DAYS = 300;
export const BIRTHDAY_MAX_DAYS = 1095;
export const NICKNAME_MAX = 20;
export const INVITE_VALID_DAYS = 7;
/** LINE's limits for a quick reply button's label and the text it shows in the chat. */
const LABEL_MAX = 20;
const DISPLAY_TEXT_MAX = 300;

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

export function converse(input: ConversationInput): ConversationOutput {
  const c = new Conversation(input);
  return c.handle();
}

/** Postback data is a query string: `a=<action>&...`. Unknown or malformed data is treated as no action. */
export function postbackData(action: string, params: Record<string, string> = {}): string {
  return new URLSearchParams({ a: action, ...params }).toString();
}

/** Trims, folds white space and drops control characters; undefined when nothing usable remains. */
export function sanitizeNickname(raw: string): string | undefined {
  const cleaned = raw
    .normalize('NFKC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (cleaned.length === 0 || [...cleaned].length > NICKNAME_MAX) return undefined;
  // Braces would read as placeholders in templates.
  return cleaned.replace(/[{}]/g, '');
}

const live = (s: Subscription) => s.status === 'active' || s.status === 'paused';

class Conversation {
  private readonly w: Wording;
  private readonly out: ConversationOutput = { replies: [], dialog: undefined, changes: [] };

  constructor(private readonly i: ConversationInput) {
    this.w = { ...DEFAULT_WORDING, ...i.tenant.wording };
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
    const resumable = this.oneSupportSeries(
      this.i.subscriptions.filter((s) => s.status === 'stopped' && s.stoppedReason === 'unfollow'),
    );
    if (unblocked && resumable.length > 0) {
      for (const s of resumable)
        this.put({ ...s, status: 'active', stoppedReason: undefined, registeredOn: this.tomorrow });
      this.say(this.w.welcomeBack, this.menuItems());
      this.out.dialog = null;
      return;
    }
    this.askTrack(this.fill(this.w.greeting), this.postbackItem(this.w.registerLater, postbackData('later')));
  }

  private onUnfollow() {
    // Blocked: nothing can reach the reader any more, so every active subscription stops at once
    // (one paused until resumed stays paused, and stays so after following again).
    for (const s of this.i.subscriptions.filter((x) => x.status === 'active'))
      this.put({ ...s, status: 'stopped', stoppedReason: 'unfollow' });
    this.out.dialog = null;
  }

  private onText(raw: string) {
    const text = raw.trim();
    const command = Object.hasOwn(TEXT_COMMANDS, text) ? TEXT_COMMANDS[text] : undefined;
    if (command) return this.menu(command);
    const d = this.i.dialog;
    switch (d?.step) {
      case 'nickname': {
        const nickname = sanitizeNickname(text);
        if (!nickname) return this.say(this.w.nicknameInvalid, [this.skipItem(), this.cancelItem()]);
        return this.register(d.track, d.anchorDate, nickname);
      }
      case 'change-nickname': {
        const sub = this.find(d.subscriptionId);
        const nickname = sanitizeNickname(text);
        if (!sub) return this.endDialog();
        if (!nickname) return this.say(this.w.nicknameInvalid, [this.cancelItem()]);
        this.put({ ...sub, nickname });
        this.out.dialog = null;
        return this.say(this.fill(this.w.updated, { label: this.describe({ ...sub, nickname }) }), this.menuItems());
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
        return this.say(this.w.askInviteCode, [this.cancelItem()]);
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
        return this.say(this.w.askNewNickname, [this.cancelItem()]);
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
        return this.say(this.w.cancelled, this.menuItems());
      case 'later':
        this.out.dialog = null;
        return this.say(this.w.registerLaterReply, this.menuItems());
      default:
        return this.help();
    }
  }

  private onDate(date: string | undefined) {
    const d = this.i.dialog;
    if (!d || (d.step !== 'date' && d.step !== 'change-date' && d.step !== 'birth-date')) return this.help();
    const range = this.rangeFor(d);
    // A day the calendar does not have (a forged postback, 2027-02-30 typed) is not "out of range": say so.
    if (!date || !isIsoDate(date)) return this.askDate(this.w.notADate, d);
    if (date < range.min || date > range.max) {
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
      return this.say(this.w.askNickname, [this.skipItem(), this.cancelItem()]);
    }
    const sub = this.find(d.subscriptionId);
    if (!sub) return this.endDialog();
    this.out.dialog = null;
    if (d.step === 'change-date') {
      const changed = { ...sub, anchorDate: date };
      this.put(changed);
      this.out.changes.push({ type: 'family', familyId: sub.familyId, set: { anchorDate: date } });
      // Either member may correct the family's date (the partner often hears the new date first at the check-up);
      // the other member is told, so that nobody's messages move without them knowing.
      this.notify(sub.familyId, {
        type: 'text',
        text: this.fill(sub.track === 'maternity' ? this.w.dueDateChangedNotice : this.w.birthdayChangedNotice, {
          date: japaneseDate(date),
        }),
      });
      return this.say(this.fill(this.w.updated, { label: this.describe(changed) }), this.menuItems());
    }
    // A birth: the pregnancy becomes a child, and the partner's linked subscription follows.
    const born: Subscription = { ...sub, track: 'childcare', anchorDate: date, registeredOn: this.tomorrow };
    this.put(born);
    this.out.changes.push({ type: 'family', familyId: sub.familyId, set: { track: 'childcare', anchorDate: date } });
    this.notify(sub.familyId, { type: 'text', text: this.fill(this.w.birthNotice, { date: japaneseDate(date) }) });
    this.say(this.fill(this.w.birthRecorded, { label: this.describe(born) }));
    this.todaysMessages(born);
  }

  // ---- flows ----

  private askTrack(text: string, wayOut = this.cancelItem()) {
    this.out.dialog = { step: 'track' };
    this.say(text, [
      this.postbackItem(this.w.chooseMaternity, postbackData('track', { t: 'maternity' })),
      this.postbackItem(this.w.chooseChildcare, postbackData('track', { t: 'childcare' })),
      this.postbackItem(this.w.choosePartner, postbackData('partner')),
      wayOut,
    ]);
  }

  /** A new active subscription of this reader; the daily delivery starts tomorrow (today's part is in the reply). */
  private newSubscription(
    fields: Pick<Subscription, 'track' | 'anchorDate' | 'audience' | 'nickname'> & { familyId?: string },
  ): Subscription {
    return {
      tenantId: this.i.tenant.tenantId,
      readerKey: this.i.readerKey,
      subscriptionId: this.i.newId(),
      channel: 'line',
      address: this.i.userId,
      status: 'active',
      registeredOn: this.tomorrow,
      bucket: bucketOf(this.i.readerKey),
      version: 0,
      ...fields,
      familyId: fields.familyId ?? this.i.newId(),
    };
  }

  private register(track: Exclude<Track, 'support'>, anchorDate: IsoDate, nickname: string | undefined) {
    const sub = this.newSubscription({ track, anchorDate, audience: 'parent', nickname });
    this.put(sub);
    this.out.dialog = null;
    this.registeredReply(sub, this.w.registered, this.w.registeredNoMessageToday);
  }

  private joinWithInvite() {
    const invite = this.i.invite;
    const ownFamily = invite && this.i.subscriptions.some((s) => s.familyId === invite.familyId);
    if (!invite || invite.expiresOn < this.i.today || ownFamily)
      return this.say(this.w.inviteCodeUnknown, [this.cancelItem()]);
    const sub = this.newSubscription({
      track: invite.track,
      anchorDate: invite.anchorDate,
      audience: 'partner',
      nickname: invite.nickname,
      familyId: invite.familyId,
    });
    this.put(sub);
    this.out.dialog = null;
    this.registeredReply(sub, this.w.partnerRegistered, this.w.partnerRegistered);
  }

  private registeredReply(sub: Subscription, withMessage: string, withoutMessage: string) {
    const texts = this.todaysTexts(sub);
    this.say(
      this.fill(texts.length ? withMessage : withoutMessage, { label: this.describe(sub) }),
      texts.length ? undefined : this.menuItems(),
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
          this.postbackItem(this.w.pauseWeek, postbackData('pause', { p: 'week' })),
          this.postbackItem(this.w.pauseMonth, postbackData('pause', { p: 'month' })),
          this.postbackItem(this.w.pauseUntilResumed, postbackData('pause', { p: 'resumed' })),
          this.postbackItem(this.w.pauseKeep, postbackData('cancel')),
        ]);
      case 'resume':
        return this.resume();
      case 'stop':
        this.out.dialog = { step: 'stop' };
        return this.say(this.w.askStop, [
          this.postbackItem(this.w.stopOnly, postbackData('stop', { c: 'stop' })),
          this.postbackItem(this.w.stopAndDelete, postbackData('stop', { c: 'delete' })),
          this.postbackItem(this.w.stopKeep, postbackData('stop', { c: 'keep' })),
        ]);
      case 'invite':
        return this.createInvite('');
      case 'loss':
        return this.startLoss('');
      case 'more':
        this.out.dialog = null;
        return this.say(this.w.moreMenu, [
          this.postbackItem('お休み', postbackData('menu', { m: 'pause' })),
          this.postbackItem('再開', postbackData('menu', { m: 'resume' })),
          this.postbackItem('配信停止', postbackData('menu', { m: 'stop' })),
          this.postbackItem(this.w.lossMenuLabel, postbackData('menu', { m: 'loss' })),
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
      (s, n) =>
        `${n + 1}. ${this.describe(s)}${s.status === 'paused' || (s.pausedUntil && s.pausedUntil > this.i.today) ? '（お休み中）' : ''}`,
    );
    if (this.i.subscriptions.some((s) => s.status === 'lost')) lines.push(this.w.settingsLostLine);
    // Buttons carry the number of their line in the list above, so they never point at the wrong registration.
    const items = subs
      .map((s, n) => ({ s, n }))
      .filter(({ s }) => s.track !== 'support')
      .slice(0, 6)
      .flatMap(({ s, n }) => [
        this.postbackItem(`${n + 1}. ${this.w.changeDate}`, postbackData('change-date', { s: s.subscriptionId })),
        this.postbackItem(`${n + 1}. ${this.w.changeNickname}`, postbackData('change-nick', { s: s.subscriptionId })),
      ]);
    this.say(`${this.w.settingsHeader}\n${lines.join('\n')}`, items.length ? items : this.menuItems());
  }

  private startBirth(s: string) {
    // Either parent or partner may report the birth; the family link carries it to the other.
    const pregnancies = this.i.subscriptions.filter((x) => live(x) && x.track === 'maternity');
    const sub = s
      ? pregnancies.find((x) => x.subscriptionId === s)
      : pregnancies.length === 1
        ? pregnancies[0]
        : undefined;
    if (!sub) {
      // Congratulate first, as the loss flow acknowledges first: the question of which one comes after.
      if (pregnancies.length > 1)
        return this.chooseSubscription(pregnancies, 'birth', `${this.w.birthCongrats}\n${this.w.chooseWhich}`);
      if (!this.i.subscriptions.some(live)) return this.nothingLive();
      this.out.dialog = null;
      return this.say(this.w.noPregnancy, this.menuItems());
    }
    const dialog: Dialog = { step: 'birth-date', subscriptionId: sub.subscriptionId };
    this.out.dialog = dialog;
    this.askDate(s ? this.w.askBirthDate : `${this.w.birthCongrats}\n${this.w.askBirthDate}`, dialog);
  }

  private createInvite(s: string) {
    const candidates = this.i.subscriptions.filter((x) => live(x) && x.track !== 'support');
    const sub = s
      ? candidates.find((x) => x.subscriptionId === s)
      : candidates.length === 1
        ? candidates[0]
        : undefined;
    if (!sub) {
      if (candidates.length > 1) return this.chooseSubscription(candidates, 'invite');
      return this.nothingLive();
    }
    const code = this.i.newInviteCode();
    this.out.changes.push({
      type: 'invite',
      invite: {
        code,
        familyId: sub.familyId,
        track: sub.track as Exclude<Track, 'support'>,
        anchorDate: sub.anchorDate,
        nickname: sub.nickname,
        expiresOn: addDays(this.i.today, INVITE_VALID_DAYS - 1),
      },
    });
    this.out.dialog = null;
    const share =
      this.fill(this.w.inviteShare, { code }) +
      (this.i.tenant.line.friendUrl ? `\n${this.i.tenant.line.friendUrl}` : '');
    this.say(this.fill(this.w.inviteCreated, { code }), [
      {
        type: 'action',
        action: {
          type: 'uri',
          label: truncate(this.w.inviteShareButton, LABEL_MAX),
          uri: `https://line.me/R/share?text=${encodeURIComponent(share)}`,
        },
      },
    ]);
  }

  private startLoss(s: string) {
    const candidates = this.i.subscriptions.filter((x) => live(x) && x.track !== 'support');
    const sub = s
      ? candidates.find((x) => x.subscriptionId === s)
      : candidates.length === 1
        ? candidates[0]
        : undefined;
    const keep = this.postbackItem(this.w.lossKeep, postbackData('loss-confirm', { c: 'no' }));
    if (!sub) {
      // Acknowledge first: the question of which registration comes after a word of sympathy, never before.
      if (candidates.length > 1)
        return this.chooseSubscription(candidates, 'loss', `${this.w.lossAcknowledge}\n${this.w.chooseWhich}`, keep);
      if (this.i.subscriptions.some((x) => x.status === 'lost')) return this.nothingLive();
      // Someone may look for this entry before (or without) registering: they still get the contacts.
      this.out.dialog = null;
      return this.say(`${this.w.lossNothingRegistered}\n\n${this.contacts()}`.trim(), this.menuItems());
    }
    this.out.dialog = { step: 'loss', subscriptionId: sub.subscriptionId };
    const question = this.fill(this.w.askLossConfirm, { label: this.describe(sub) });
    // A registration chosen from the list was acknowledged in the list's message already.
    this.say(s ? question : `${this.w.lossAcknowledge}\n${question}`, [
      this.postbackItem(this.w.lossStop, postbackData('loss-confirm', { c: 'yes' })),
      keep,
    ]);
  }

  private confirmLoss(c: string | null) {
    const d = this.i.dialog;
    const sub = d?.step === 'loss' ? this.find(d.subscriptionId) : undefined;
    if (!sub || c !== 'yes') {
      this.out.dialog = null;
      return this.say(c === 'no' ? this.w.lossKept : this.w.cancelled, this.menuItems());
    }
    // Stops at once for this reader and every linked reader: nothing stage-timed, no birthday, no survey follows.
    this.put({ ...sub, status: 'lost' });
    this.out.changes.push({ type: 'family', familyId: sub.familyId, set: { status: 'lost' } });
    this.say(`${this.w.lossRecorded}\n\n${this.contacts()}`.trim());
    this.out.dialog = { step: 'loss-support' };
    this.say(this.w.lossSupportOffer, this.supportItems(sub.familyId));
    // The other member would otherwise just stop hearing from us, and meet "nothing registered" in the settings.
    this.notify(sub.familyId, {
      type: 'text',
      text: [this.w.lossNotice, this.contacts(), this.w.lossSupportOffer].filter(Boolean).join('\n\n'),
      quickReply: { items: this.supportItems(sub.familyId) },
    });
  }

  /** The answer to the support offer names the family, so that it also works for the member who was told. */
  private supportItems(familyId: string): QuickReplyItem[] {
    return [
      this.postbackItem(this.w.lossSupportYes, postbackData('loss-support', { c: 'yes', f: familyId })),
      this.postbackItem(this.w.lossSupportNo, postbackData('loss-support', { c: 'no', f: familyId })),
    ];
  }

  private lossSupport(c: string | null, familyId: string | null) {
    const offered =
      this.i.dialog?.step === 'loss-support' ||
      (familyId !== null && this.i.subscriptions.some((s) => s.familyId === familyId && s.status === 'lost'));
    if (!offered) return this.help();
    this.out.dialog = null;
    if (c !== 'yes') return this.say(this.w.lossSupportDeclined);
    // Tapping the offer twice (or on both the reply and a later settings button) must not start two series.
    if (!this.i.subscriptions.some((s) => live(s) && s.track === 'support'))
      this.put(
        this.newSubscription({ track: 'support', anchorDate: this.i.today, audience: 'parent', nickname: undefined }),
      );
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
      const support = this.i.subscriptions.some((s) => live(s) && s.track === 'support');
      const offer = support
        ? []
        : [
            this.postbackItem(
              this.w.lossSupportStart,
              postbackData('loss-support', { c: 'yes', f: lost.at(-1)!.familyId }),
            ),
          ];
      // Not the whole menu: a "出産のご報告" button has no place under these words.
      return this.say(`${this.w.nothingLiveAfterLoss}\n\n${this.contacts()}`.trim(), [
        ...offer,
        this.postbackItem('その他', postbackData('menu', { m: 'more' })),
      ]);
    }
    if (this.i.subscriptions.some((s) => s.status === 'stopped'))
      return this.say(this.w.nothingLiveStopped, [
        this.postbackItem('再開', postbackData('menu', { m: 'resume' })),
        ...this.menuItems(),
      ]);
    return this.askTrack(this.w.nothingRegistered);
  }

  /**
   * The subscriptions about to become active again, with at most one support series among them and none when
   * one is active already (the offer can be accepted again while an older series is stopped).
   */
  private oneSupportSeries(resuming: Subscription[]): Subscription[] {
    const active = this.i.subscriptions.some(
      (s) => s.track === 'support' && s.status === 'active' && !resuming.includes(s),
    );
    const [newest] = resuming
      .filter((s) => s.track === 'support')
      .sort((a, b) => (a.anchorDate < b.anchorDate ? 1 : a.anchorDate > b.anchorDate ? -1 : 0));
    return resuming.filter((s) => s.track !== 'support' || (!active && s === newest));
  }

  private notify(familyId: string, message: BotMessage) {
    this.out.changes.push({ type: 'notify', familyId, message });
  }

  private pause(p: string | null) {
    const subs = this.i.subscriptions.filter((s) => s.status === 'active');
    this.out.dialog = null;
    if (subs.length === 0) {
      // "Nothing to pause" reads wrong to someone who is on a pause already: tell them the way back instead.
      const pausedAlready = this.i.subscriptions.some((s) => s.status === 'paused');
      return this.say(pausedAlready ? this.w.pausedAlready : this.w.nothingToPause, this.menuItems());
    }
    if (p === 'resumed') {
      for (const s of subs) this.put({ ...s, status: 'paused', pausedUntil: undefined });
      return this.say(this.w.pausedIndefinitely);
    }
    if (p !== 'week' && p !== 'month') return this.say(this.w.cancelled, this.menuItems());
    const until = p === 'week' ? addDays(this.i.today, 7) : addMonths(this.i.today, 1);
    for (const s of subs) this.put({ ...s, pausedUntil: until });
    this.say(this.fill(this.w.paused, { date: japaneseDate(until) }));
  }

  private resume() {
    this.out.dialog = null;
    const subs = this.i.subscriptions.filter(
      (s) =>
        s.status === 'paused' ||
        (s.status === 'active' && s.pausedUntil !== undefined && s.pausedUntil > this.i.today) ||
        (s.status === 'stopped' && s.stoppedReason === 'reader'),
    );
    if (subs.length === 0) return this.say(this.w.nothingToResume, this.menuItems());
    // Missed days are not sent afterwards: the next delivery is tomorrow's slot.
    for (const s of this.oneSupportSeries(subs))
      this.put({
        ...s,
        status: 'active',
        pausedUntil: undefined,
        stoppedReason: undefined,
        registeredOn: this.tomorrow,
      });
    this.say(this.w.resumed);
  }

  private stop(c: string | null) {
    // Anything but the two answers (the "keep" button among them) keeps everything as it is.
    if (this.i.dialog?.step !== 'stop' || (c !== 'stop' && c !== 'delete')) {
      this.out.dialog = null;
      return this.say(this.w.cancelled, this.menuItems());
    }
    if (c === 'delete') {
      this.out.dialog = { step: 'delete' };
      return this.say(this.w.askDelete, [
        this.postbackItem(this.w.deleteYes, postbackData('delete', { c: 'yes' })),
        this.postbackItem(this.w.deleteKeep, postbackData('delete', { c: 'no' })),
      ]);
    }
    for (const s of this.i.subscriptions.filter(live)) this.put({ ...s, status: 'stopped', stoppedReason: 'reader' });
    this.out.dialog = null;
    this.say(this.w.stopped);
  }

  private delete(c: string | null) {
    if (this.i.dialog?.step !== 'delete' || c !== 'yes') {
      this.out.dialog = null;
      return this.say(this.w.cancelled, this.menuItems());
    }
    this.out.changes = [{ type: 'delete-reader' }];
    this.out.dialog = null;
    this.say(this.w.deleted);
  }

  private chooseSubscription(
    subs: Subscription[],
    action: 'birth' | 'invite' | 'loss',
    text = this.w.chooseWhich,
    wayOut = this.cancelItem(),
  ) {
    this.out.dialog = null;
    this.say(
      text,
      subs
        .slice(0, 12)
        .map((s, n, all) => {
          // Twins without nicknames share a label; numbers tell their buttons apart.
          const label = this.shortLabel(s);
          const shared = all.some((o) => o !== s && this.shortLabel(o) === label);
          return this.postbackItem(
            shared ? `${n + 1}. ${label}` : label,
            postbackData(action, { s: s.subscriptionId }),
          );
        })
        .concat(wayOut),
    );
  }

  private help() {
    this.say(`${this.w.help}\n\n${this.contacts()}`.trim(), this.menuItems());
  }

  private endDialog() {
    this.out.dialog = null;
    this.help();
  }

  // ---- helpers ----

  private get tomorrow(): IsoDate {
    return addDays(this.i.today, 1);
  }

  private find(subscriptionId: string): Subscription | undefined {
    return this.i.subscriptions.find((s) => s.subscriptionId === subscriptionId && live(s));
  }

  private put(subscription: Subscription) {
    const i = this.out.changes.findIndex(
      (c) => c.type === 'put' && c.subscription.subscriptionId === subscription.subscriptionId,
    );
    if (i >= 0) this.out.changes.splice(i, 1);
    this.out.changes.push({ type: 'put', subscription });
  }

  private rangeFor(d: Dialog): { min: IsoDate; max: IsoDate; initial: IsoDate } {
    const today = this.i.today;
    const track =
      d.step === 'date' ? d.track : d.step === 'change-date' ? this.find(d.subscriptionId)?.track : 'childcare';
    if (d.step === 'birth-date') return { min: addDays(today, -180), max: today, initial: today };
    if (track === 'maternity')
      return { min: today, max: addDays(today, DUE_DATE_MAX_DAYS), initial: addDays(today, 140) };
    return { min: addDays(today, -BIRTHDAY_MAX_DAYS), max: today, initial: today };
  }

  /** A question answered with the date picker, with a way out next to it. */
  private askDate(text: string, d: Dialog) {
    this.say(text, [this.datePicker(this.rangeFor(d)), this.cancelItem()]);
  }

  private datePicker(r: { min: IsoDate; max: IsoDate; initial: IsoDate }): QuickReplyItem {
    return {
      type: 'action',
      action: {
        type: 'datetimepicker',
        label: this.w.pickDate.slice(0, LABEL_MAX),
        data: postbackData('date'),
        mode: 'date',
        ...r,
      },
    };
  }

  private postbackItem(label: string, data: string): QuickReplyItem {
    return {
      type: 'action',
      action: {
        type: 'postback',
        label: truncate(label, LABEL_MAX),
        data,
        displayText: truncate(label, DISPLAY_TEXT_MAX),
      },
    };
  }

  private skipItem(): QuickReplyItem {
    return this.postbackItem(this.w.skip, postbackData('skip-nick'));
  }

  private cancelItem(): QuickReplyItem {
    return this.postbackItem(this.w.cancel, postbackData('cancel'));
  }

  private menuItems(): QuickReplyItem[] {
    return [
      this.postbackItem('登録内容の確認・変更', postbackData('menu', { m: 'settings' })),
      this.postbackItem('子どもを追加', postbackData('menu', { m: 'add' })),
      this.postbackItem('出産のご報告', postbackData('menu', { m: 'birth' })),
      this.postbackItem('パートナー招待', postbackData('menu', { m: 'invite' })),
      this.postbackItem('その他', postbackData('menu', { m: 'more' })),
    ];
  }

  /** What the registration is, in the reader's terms: a partner's is the partner's, not "妊娠中". */
  private label(s: Subscription): string {
    const date = japaneseDate(s.anchorDate);
    const partner = s.audience === 'partner';
    switch (s.track) {
      case 'maternity':
        return this.fill(partner ? this.w.labelPartnerMaternity : this.w.labelMaternity, { date });
      case 'childcare':
        return this.fill(partner ? this.w.labelPartnerChildcare : this.w.labelChildcare, { date });
      case 'support':
        return this.w.labelSupport;
    }
  }

  /** The label with the nickname, so that a confirmation shows everything that was just given. */
  private describe(s: Subscription): string {
    return s.nickname
      ? `${this.label(s)}・${this.fill(this.w.labelNickname, { nickname: s.nickname })}`
      : this.label(s);
  }

  private shortLabel(s: Subscription): string {
    const name = s.nickname ? `${s.nickname} ` : '';
    const { month, day } = parseIsoDate(s.anchorDate);
    return truncate(`${name}${s.track === 'maternity' ? '予定日' : '誕生日'}${month}/${day}`, LABEL_MAX);
  }

  private contacts(): string {
    const list = this.i.tenant.consultation.map(
      (c) =>
        `・${c.name}${c.phone ? ` ${c.phone}` : ''}${c.hours ? `（${c.hours}）` : ''}${c.url ? `\n  ${c.url}` : ''}`,
    );
    return list.length ? `【${this.w.contactsHeader}】\n${list.join('\n')}` : '';
  }

  private fill(template: string, values: Record<string, string> = {}): string {
    const all: Record<string, string> = { tenantName: this.i.tenant.name, ...values };
    return template.replace(/\{(\w+)\}/g, (m, k: string) => all[k] ?? m);
  }

  private say(text: string, quickReply?: QuickReplyItem[]) {
    if (this.out.replies.length >= LINE_MAX_MESSAGES_PER_REQUEST) return;
    this.out.replies.push(
      quickReply?.length
        ? { type: 'text', text, quickReply: { items: quickReply.slice(0, 13) } }
        : { type: 'text', text },
    );
  }

  private sayAll(texts: string[]) {
    for (const t of texts) this.say(t);
  }
}

function truncate(s: string, max: number): string {
  return [...s].length <= max ? s : `${[...s].slice(0, max - 1).join('')}…`;
}

/** `2027-02-30`, `2027/2/30`, `2027年2月30日` (full-width digits too) as an ISO-shaped string, valid or not. */
function typedDate(text: string): string | undefined {
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(text.normalize('NFKC').trim());
  return m ? `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}` : undefined;
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The same day next month, or the month's last day when it has no such day. */
export function addMonths(date: IsoDate, months: number): IsoDate {
  const { year, month, day } = parseIsoDate(date);
  const m0 = year * 12 + (month - 1) + months;
  const y = Math.floor(m0 / 12);
  const m = (m0 % 12) + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return `${y}-${String(m).padStart(2, '0')}-${String(Math.min(day, last)).padStart(2, '0')}`;
}

export function japaneseDate(date: IsoDate): string {
  const { year, month, day } = parseIsoDate(date);
  return `${year}年${month}月${day}日`;
}
