import { INQUIRY_TEXT_MAX, type InquiryDraft } from '../../schemas/inquiry';
import type { ReaderAction } from '../../schemas/line-webhook';
import type { FaqEntry } from '../../schemas/faq';
import type { TenantConfig } from '../../schemas/tenant';
import { FaqIndex } from './faq';
import { Phrases, postbackData, textMessage, truncate, type BotMessage } from './replies';

/**
 * The inquiry part of the LINE chat, pure: which step a reader's action is, and the words of each reply.
 * A question is never sent without the reader's consent: free text first gets up to 3 answers from the
 * tenant's FAQ with 解決しました / 職員に送る; 職員に送る asks "send this to the municipality?"; only 送信する
 * stores it (services/inquiry-chat.ts). Buttons name their draft, so a stale button never sends a newer text.
 */

export const INQUIRY_COMMAND = 'お問い合わせ';
/** A draft older than this is replaced by new text, not added to (the reader has moved on). */
export const DRAFT_FRESH_MS = 60 * 60 * 1000;

export type InquiryCommand =
  | { kind: 'start' }
  | { kind: 'text'; text: string }
  | { kind: 'solved' | 'to-staff' | 'send' | 'cancel'; draftId: string };

const POSTBACKS: Record<string, 'solved' | 'to-staff' | 'send' | 'cancel'> = {
  'inq-solved': 'solved',
  'inq-staff': 'to-staff',
  'inq-send': 'send',
  'inq-cancel': 'cancel',
};

/**
 * `freeText`: the text is not a command of the chat and no step of the registration dialog waits for it, so
 * it is the reader writing to the municipality.
 */
export function inquiryCommand(action: ReaderAction, freeText: boolean): InquiryCommand | undefined {
  if (action.kind === 'text') {
    const text = action.text.normalize('NFKC').trim();
    if (text === INQUIRY_COMMAND) return { kind: 'start' };
    return freeText && text.length > 0 ? { kind: 'text', text: action.text } : undefined;
  }
  if (action.kind !== 'postback') return undefined;
  const p = new URLSearchParams(action.data);
  const a = p.get('a') ?? '';
  if (a === 'inq-start') return { kind: 'start' };
  const kind = Object.hasOwn(POSTBACKS, a) ? POSTBACKS[a] : undefined;
  const draftId = p.get('d');
  return kind && draftId ? { kind, draftId } : undefined;
}

/** The text of the draft after the reader wrote `text`: added to a fresh draft, else a draft of its own. */
export function draftText(draft: InquiryDraft | undefined, text: string, now: number): string {
  const fresh = draft && draft.step !== 'write' && now - draft.at < DRAFT_FRESH_MS;
  return fresh ? `${draft.text}\n${text.trim()}` : text.trim();
}

export const tooLong = (text: string) => text.length > INQUIRY_TEXT_MAX;

export class InquiryWords {
  private readonly p: Phrases;

  constructor(private readonly tenant: TenantConfig) {
    this.p = new Phrases(tenant);
  }

  askToWrite(draftId: string): BotMessage {
    return textMessage(
      `${this.tenant.name}へのご質問を、このトークにメッセージで送ってください（${INQUIRY_TEXT_MAX.toLocaleString('en-US')}文字まで）。送る前に、よくあるご質問の答えをお見せします。`,
      [this.p.postbackItem('やめる', postbackData('inq-cancel', { d: draftId }))],
    );
  }

  tooLong(): BotMessage {
    return textMessage(
      `ごめんなさい、お問い合わせは${INQUIRY_TEXT_MAX.toLocaleString('en-US')}文字までです。短くしてもう一度送ってください。`,
    );
  }

  /** The FAQ answers for the text (up to 3), then the question: solved, or send it to staff? */
  offer(draft: InquiryDraft, faq: readonly FaqEntry[]): BotMessage[] {
    const ranked = new FaqIndex(faq).rank(draft.text, 3);
    const byId = new Map(faq.map((e) => [e.id, e]));
    const answers = ranked.map((r) => byId.get(r.id)!).filter(Boolean);
    const items = [
      this.p.postbackItem('解決しました', postbackData('inq-solved', { d: draft.draftId })),
      this.p.postbackItem('職員に送る', postbackData('inq-staff', { d: draft.draftId })),
    ];
    if (answers.length === 0)
      return [
        textMessage(
          `よくあるご質問には、お答えが見つかりませんでした。この内容を${this.tenant.name}の職員に送ることができます。`,
          items,
        ),
      ];
    return [
      textMessage('よくあるご質問から、お役に立ちそうな答えをお送りします。'),
      ...answers.map((e) => textMessage(`Q. ${e.question}\nA. ${e.answer}`)),
      textMessage(
        `解決しましたか？ 解決しないときは、この内容を${this.tenant.name}の職員に送ることができます。`,
        items,
      ),
    ];
  }

  /** "Send this to the municipality?", with what would be sent. */
  confirm(draft: InquiryDraft, continuesThread: boolean): BotMessage {
    return textMessage(
      [
        `次の内容を${this.tenant.name}の職員に送ります。よろしいですか？${continuesThread ? '（前回のお問い合わせの続きとして送ります）' : ''}`,
        '',
        `「${truncate(draft.text, 300)}」`,
      ].join('\n'),
      [
        this.p.postbackItem('送信する', postbackData('inq-send', { d: draft.draftId })),
        this.p.postbackItem('やめる', postbackData('inq-cancel', { d: draft.draftId })),
      ],
    );
  }

  /** Sent: when to expect an answer, and kindly, that this is not an emergency line. */
  acknowledged(): BotMessage {
    return textMessage(acknowledgement(this.tenant, 'このトーク'));
  }

  solved(): BotMessage {
    return textMessage(
      'よかったです。ほかにも気になることがあれば、いつでもメッセージを送ってください。',
      this.p.menuItems(),
    );
  }

  cancelled(): BotMessage {
    return textMessage('送信をやめました。内容は送られていません。', this.p.menuItems());
  }

  /** A button of a draft that is gone: sent already, cancelled, or expired. */
  stale(): BotMessage {
    return textMessage(
      'このボタンの内容は、送信済みか、取り消されたか、有効期限が切れています。ご質問は、もう一度メッセージで送ってください。',
    );
  }
}

/**
 * The acknowledgement on every channel (the chat, the email page and its mail): the tenant's expected answer
 * time, and the emergency contacts with the kind reminder that an inquiry is not an emergency line.
 */
export function acknowledgement(tenant: TenantConfig, where: string): string {
  const answerTime = tenant.inquiries?.answerTime ?? '数日';
  const contacts = new Phrases(tenant).contacts();
  return [
    'お問い合わせを受け付けました。ありがとうございます。',
    `${answerTime}を目安に、担当の職員から${where}でお返事します。`,
    '',
    'このお問い合わせは、急ぎのご相談には向いていません。体調が急に悪くなったときや、今すぐ相談したいときは、ためらわずに次の窓口へご連絡ください。命に関わるときは119番へ。',
    ...(contacts ? ['', contacts] : []),
  ].join('\n');
}
