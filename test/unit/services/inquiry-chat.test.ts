import { handleInquiryChat, type InquiryChatInput } from '../../../lambdas/services/inquiry-chat';
import type { InquiryDeps } from '../../../lambdas/services/inquiries';
import type { EmailMessage } from '../../../lambdas/services/ports';
import type { ReaderAction } from '../../../schemas/line-webhook';
import { TenantConfigSchema, type TenantConfig } from '../../../schemas/tenant';
import { MemoryInquiryStore } from './inquiry-store-fake';

const T0 = Date.UTC(2026, 5, 1, 1, 0);
const USER = `U${'d'.repeat(32)}`;

const input = {
  tenantId: 'demo-minato',
  name: 'みなと市',
  deliveryTime: '07:30',
  shardCount: 1,
  library: 'sample-ja',
  line: { enabled: true, secretName: 'hagukumi/demo-minato/line' },
  birthdayMessages: { '1': '1歳', '2': '2歳', '3': '3歳' },
  consultation: [{ name: 'みなと市 保健センター', phone: '000-0000-0000' }],
  faq: [
    { id: 'kenshin', question: '乳幼児健診の日程', answer: '4か月健診は毎月第2火曜日です。', keywords: ['健診'] },
    { id: 'teate', question: '児童手当の申請', answer: '出生から15日以内に申請してください。' },
  ],
  inquiries: {
    enabled: true,
    answerTime: '3営業日以内',
    notifyTo: ['staff@minato.example.jp'],
    notifyFrom: 'noreply@minato.example.jp',
  },
};
const minato: TenantConfig = TenantConfigSchema.parse(input);
const withoutInquiries: TenantConfig = TenantConfigSchema.parse({ ...input, inquiries: undefined });

function setup(tenant = minato) {
  const store = new MemoryInquiryStore();
  const mails: EmailMessage[] = [];
  let now = T0;
  let events = 0;
  const deps: InquiryDeps = {
    store,
    clock: { now: () => new Date(now) },
    notifyMail: { send: (m) => (mails.push(m), Promise.resolve({ messageId: 'x' })) },
    consoleBaseUrl: 'https://console.example.jp',
  };
  const act = async (action: ReaderAction, o: Partial<InquiryChatInput> = {}) =>
    handleInquiryChat(
      {
        tenant,
        readerKey: 'line:reader-1',
        userId: USER,
        action,
        freeText: action.kind === 'text',
        webhookEventId: `evt-${++events}`,
        now: new Date(now),
        ...o,
      },
      deps,
    );
  const say = (text: string, o: Partial<InquiryChatInput> = {}) => act({ kind: 'text', text }, o);
  /** Taps the quick reply with this label under the last reply. */
  const tap = async (out: Awaited<ReturnType<typeof act>>, label: string) => {
    const items = out?.replies.at(-1)?.quickReply?.items ?? [];
    const item = items.find((i) => i.action.label === label);
    if (item?.action.type !== 'postback') throw new Error(`no button ${label}`);
    return act({ kind: 'postback', data: item.action.data });
  };
  return { store, mails, act, say, tap, advance: (ms: number) => (now += ms) };
}

const texts = (out: { replies: { text: string }[] } | undefined) => out?.replies.map((r) => r.text) ?? [];

describe('the inquiry part of the LINE chat', () => {
  it('free text: the matching FAQ answer first, nothing stored until 送信する, then one thread and the acknowledgement', async () => {
    const { store, mails, say, tap } = setup();
    const offer = await say('健診の日程を教えてください');
    expect(texts(offer).some((t) => t.includes('4か月健診は毎月第2火曜日です。'))).toBe(true);
    expect(offer?.replies.at(-1)?.quickReply?.items.map((i) => i.action.label)).toEqual(['解決しました', '職員に送る']);
    const confirm = await tap(offer, '職員に送る');
    expect(texts(confirm)[0]).toContain('健診の日程を教えてください');
    expect(store.threads.size).toBe(0);
    const ack = await tap(confirm, '送信する');
    expect(store.threads.size).toBe(1);
    expect([...store.threads.values()][0]!.messages[0]!.text).toBe('健診の日程を教えてください');
    expect(texts(ack)[0]).toContain('3営業日以内');
    expect(texts(ack)[0]).toContain('みなと市 保健センター 000-0000-0000');
    expect(mails).toHaveLength(1);
    // The draft is gone: the same button again sends nothing.
    expect(texts(await tap(confirm, '送信する'))[0]).toContain('送信済み');
    expect(store.threads.size).toBe(1);
  });

  it('no FAQ match: the offer says so and still lets the reader send it', async () => {
    const { say } = setup();
    const out = await say('引っ越しの手続きについて');
    expect(texts(out)).toHaveLength(1);
    expect(texts(out)[0]).toContain('見つかりませんでした');
  });

  it.each([
    ['解決しました', '解決しました', 'よかったです'],
    ['やめる at the confirmation', 'やめる', '送信をやめました'],
  ])('%s stores nothing', async (_l, label, reply) => {
    const { store, say, tap } = setup();
    const offer = await say('児童手当はいつ申請しますか');
    const next = label === 'やめる' ? await tap(await tap(offer, '職員に送る'), 'やめる') : await tap(offer, label);
    expect(texts(next)[0]).toContain(reply);
    expect(store.threads.size).toBe(0);
    expect(store.drafts.size).toBe(0);
  });

  it('a button of an older draft never sends the newer text', async () => {
    const { store, say, tap, advance } = setup();
    const first = await say('最初の質問');
    const confirmFirst = await tap(first, '職員に送る');
    advance(2 * 3_600_000);
    await say('まったく別の質問');
    expect(texts(await tap(confirmFirst, '送信する'))[0]).toContain('送信済み');
    expect(store.threads.size).toBe(0);
  });

  it('more text within the hour is added to the draft; later it starts a new one', async () => {
    const { store, say, advance } = setup();
    await say('健診について');
    advance(10 * 60_000);
    await say('持ち物も知りたいです');
    expect([...store.drafts.values()][0]!.text).toBe('健診について\n持ち物も知りたいです');
    advance(2 * 3_600_000);
    await say('児童手当について');
    expect([...store.drafts.values()][0]!.text).toBe('児童手当について');
  });

  it('お問い合わせ asks for the question and ends the registration dialog; a too-long text is refused', async () => {
    const { store, act, say } = setup();
    const start = await act({ kind: 'text', text: 'お問い合わせ' }, { freeText: false });
    expect(start?.endDialog).toBe(true);
    expect(texts(start)[0]).toContain('メッセージで送ってください');
    expect(texts(await say('あ'.repeat(2001)))[0]).toContain('2,000文字まで');
    expect(store.threads.size).toBe(0);
  });

  it('is not about inquiries: a text that is a command or an answer, or a tenant without inquiries', async () => {
    expect(await setup().say('予定日', { freeText: false })).toBeUndefined();
    expect(await setup(withoutInquiries).say('健診の日程')).toBeUndefined();
    expect(await setup().act({ kind: 'postback', data: 'a=menu&m=settings' })).toBeUndefined();
  });

  it('a reader with an open thread is told the message continues it, and it does', async () => {
    const { store, say, tap } = setup();
    await tap(await tap(await say('最初の質問'), '職員に送る'), '送信する');
    const confirm = await tap(await say('追加の質問'), '職員に送る');
    expect(texts(confirm)[0]).toContain('前回のお問い合わせの続き');
    await tap(confirm, '送信する');
    expect(store.threads.size).toBe(1);
    expect([...store.threads.values()][0]!.messages.map((m) => m.text)).toEqual(['最初の質問', '追加の質問']);
  });
});
