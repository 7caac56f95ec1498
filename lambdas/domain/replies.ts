import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { DEFAULT_WORDING, type Wording } from '../../schemas/wording';
import { parseIsoDate } from './dates';

/**
 * The wording of the conversation: the tenant's phrases filled in (shared with the email pages, which show the
 * same labels, notices and consultation contacts), and LINE's message objects built from them (quick replies,
 * date pickers, postback data).
 */

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

/** LINE's limits for a quick reply button's label and the text it shows in the chat. */
export const LABEL_MAX = 20;
const DISPLAY_TEXT_MAX = 300;
const QUICK_REPLY_MAX = 13;

/** Postback data is a query string: `a=<action>&...`. Unknown or malformed data is treated as no action. */
export function postbackData(action: string, params: Record<string, string> = {}): string {
  return new URLSearchParams({ a: action, ...params }).toString();
}

export function truncate(s: string, max: number): string {
  return [...s].length <= max ? s : `${[...s].slice(0, max - 1).join('')}…`;
}

export function japaneseDate(date: IsoDate): string {
  const { year, month, day } = parseIsoDate(date);
  return `${year}年${month}月${day}日`;
}

export function textMessage(text: string, quickReply?: QuickReplyItem[]): BotMessage {
  return quickReply?.length
    ? { type: 'text', text, quickReply: { items: quickReply.slice(0, QUICK_REPLY_MAX) } }
    : { type: 'text', text };
}

/** The tenant's phrases, channel-neutral: the email pages use them as the chat does. */
export class Phrases {
  readonly w: Wording;

  constructor(private readonly tenant: TenantConfig) {
    this.w = { ...DEFAULT_WORDING, ...tenant.wording };
  }

  fill(template: string, values: Record<string, string> = {}): string {
    const all: Record<string, string> = { tenantName: this.tenant.name, ...values };
    return template.replace(/\{(\w+)\}/g, (m, k: string) => all[k] ?? m);
  }

  /** What the registration is, in the reader's terms: a partner's is the partner's, not "妊娠中". */
  label(s: Subscription): string {
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
  describe(s: Subscription): string {
    return s.nickname
      ? `${this.label(s)}・${this.fill(this.w.labelNickname, { nickname: s.nickname })}`
      : this.label(s);
  }

  shortLabel(s: Subscription): string {
    const name = s.nickname ? `${s.nickname} ` : '';
    const { month, day } = parseIsoDate(s.anchorDate);
    return truncate(`${name}${s.track === 'maternity' ? '予定日' : '誕生日'}${month}/${day}`, LABEL_MAX);
  }

  contacts(): string {
    const list = this.tenant.consultation.map(
      (c) =>
        `・${c.name}${c.phone ? ` ${c.phone}` : ''}${c.hours ? `（${c.hours}）` : ''}${c.url ? `\n  ${c.url}` : ''}`,
    );
    return list.length ? `【${this.w.contactsHeader}】\n${list.join('\n')}` : '';
  }

  // ---- LINE's quick reply items ----

  datePicker(r: { min: IsoDate; max: IsoDate; initial: IsoDate }): QuickReplyItem {
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

  postbackItem(label: string, data: string): QuickReplyItem {
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

  uriItem(label: string, uri: string): QuickReplyItem {
    return { type: 'action', action: { type: 'uri', label: truncate(label, LABEL_MAX), uri } };
  }

  skipItem(): QuickReplyItem {
    return this.postbackItem(this.w.skip, postbackData('skip-nick'));
  }

  cancelItem(): QuickReplyItem {
    return this.postbackItem(this.w.cancel, postbackData('cancel'));
  }

  menuItems(): QuickReplyItem[] {
    return [
      this.postbackItem('登録内容の確認・変更', postbackData('menu', { m: 'settings' })),
      this.postbackItem('子どもを追加', postbackData('menu', { m: 'add' })),
      this.postbackItem('出産のご報告', postbackData('menu', { m: 'birth' })),
      this.postbackItem('パートナー招待', postbackData('menu', { m: 'invite' })),
      this.postbackItem('その他', postbackData('menu', { m: 'more' })),
    ];
  }

  /** The answer to the support offer names the family, so that it also works for the member who was told. */
  supportItems(familyId: string): QuickReplyItem[] {
    return [
      this.postbackItem(this.w.lossSupportYes, postbackData('loss-support', { c: 'yes', f: familyId })),
      this.postbackItem(this.w.lossSupportNo, postbackData('loss-support', { c: 'no', f: familyId })),
    ];
  }

  /** What the other member of the family is told after a loss (an email reader reads it without the buttons). */
  lossNotice(familyId: string): BotMessage {
    return {
      type: 'text',
      text: [this.w.lossNotice, this.contacts(), this.w.lossSupportOffer].filter(Boolean).join('\n\n'),
      quickReply: { items: this.supportItems(familyId) },
    };
  }
}
