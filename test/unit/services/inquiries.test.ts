import {
  closeInquiry,
  listInquiries,
  readerInquiries,
  replyRetryKey,
  replyToInquiry,
  submitInquiry,
  type InquiryDeps,
} from '../../../lambdas/services/inquiries';
import type {
  EmailMessage,
  EmailSender,
  LineReplier,
  LineReplierFactory,
  SubscriptionReader,
} from '../../../lambdas/services/ports';
import { SubscriptionSchema } from '../../../schemas/subscription';
import { TenantConfigSchema, type TenantConfig } from '../../../schemas/tenant';
import { MemoryInquiryStore } from './inquiry-store-fake';

const T0 = Date.UTC(2026, 5, 1, 1, 0);
const HOUR = 3_600_000;
const LINE_USER = `U${'a'.repeat(32)}`;
const QUESTION = '離乳食の教室はいつありますか？ 子どもの名前は はなこ です';

const base = {
  name: 'みなと市',
  deliveryTime: '07:30',
  shardCount: 1,
  library: 'sample-ja',
  line: { enabled: true, secretName: 'hagukumi/demo-minato/line' },
  email: { enabled: true, from: 'kosodate@minato.example.jp', unsubscribeBaseUrl: 'https://mail.minato.example.jp' },
  birthdayMessages: { '1': '1歳', '2': '2歳', '3': '3歳' },
  inquiries: {
    enabled: true,
    answerTime: '3営業日以内',
    notifyTo: ['hoken@minato.example.jp', 'kosodate-staff@minato.example.jp'],
    notifyFrom: 'noreply@minato.example.jp',
  },
};
const minato: TenantConfig = TenantConfigSchema.parse({ ...base, tenantId: 'demo-minato' });
const yamabe: TenantConfig = TenantConfigSchema.parse({ ...base, tenantId: 'demo-yamabe', name: 'やまべ町' });

class RecordingMail implements EmailSender {
  sent: EmailMessage[] = [];
  failNext = false;
  send(m: EmailMessage) {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('SES down'));
    }
    this.sent.push(m);
    return Promise.resolve({ messageId: `m${this.sent.length}` });
  }
}
class RecordingLine implements LineReplier, LineReplierFactory {
  pushes: { to: string; messages: unknown[]; retryKey: string }[] = [];
  fail = false;
  reply() {
    return Promise.resolve();
  }
  push(to: string, messages: unknown[], retryKey: string) {
    if (this.fail) return Promise.reject(new Error('LINE 500'));
    this.pushes.push({ to, messages, retryKey });
    return Promise.resolve();
  }
  forTenant() {
    return Promise.resolve(this);
  }
}

function setup() {
  const store = new MemoryInquiryStore();
  let now = T0;
  let n = 0;
  const notify = new RecordingMail();
  const mail = new RecordingMail();
  const line = new RecordingLine();
  const emailSub = SubscriptionSchema.parse({
    tenantId: 'demo-minato',
    readerKey: 'email:hash-2',
    subscriptionId: 's1',
    channel: 'email',
    address: 'parent@example.com',
    track: 'childcare',
    anchorDate: '2026-03-01',
    audience: 'parent',
    status: 'active',
    registeredOn: '2026-03-02',
    familyId: 'f1',
    bucket: 3,
    version: 1,
    tokenVersion: 'tv7',
  });
  const subscriptions: Pick<SubscriptionReader, 'listReader'> = {
    listReader: (t, k) => Promise.resolve(t === 'demo-minato' && k === 'email:hash-2' ? [emailSub] : []),
  };
  const deps: InquiryDeps = {
    store,
    clock: { now: () => new Date(now) },
    newId: () => `inquiry-${String(++n).padStart(4, '0')}`,
    notifyMail: notify,
    consoleBaseUrl: 'https://console.example.jp/',
    line,
    mail,
    subscriptions,
    links: {
      linksFor: (_t, r) =>
        Promise.resolve({
          preferences: `https://mail.minato.example.jp/email/demo-minato/preferences?token=${r.readerKey}.${r.tokenVersion}`,
          unsubscribe: 'https://mail.minato.example.jp/u',
        }),
    },
  };
  return { store, deps, notify, mail, line, advance: (ms: number) => (now += ms) };
}

const fromLine = (sourceId: string, text = QUESTION) => ({
  readerKey: 'line:hash-1',
  channel: 'line' as const,
  address: LINE_USER,
  text,
  sourceId,
});

describe('inquiry service', () => {
  it('a question starts a new thread and each staff mailbox gets a mail with only a console link', async () => {
    const { deps, store, notify } = setup();
    const r = await submitInquiry(minato, fromLine('evt-1'), deps);
    expect(r.outcome).toBe('created');
    const stored = await store.get('demo-minato', 'inquiry-0001');
    expect(stored).toMatchObject({ status: 'new', channel: 'line', address: LINE_USER, messageCount: 1 });
    expect(stored?.messages.map((m) => m.text)).toEqual([QUESTION]);
    expect(notify.sent.map((m) => m.to)).toEqual(['hoken@minato.example.jp', 'kosodate-staff@minato.example.jp']);
    for (const m of notify.sent) {
      expect(m.from).toBe('noreply@minato.example.jp');
      expect(m.text).toContain('https://console.example.jp/console/inquiries/inquiry-0001');
      // Nothing of what was written, nor who wrote it.
      for (const secret of ['離乳食', 'はなこ', LINE_USER, 'line:hash-1'])
        expect(`${m.subject}\n${m.text}`).not.toContain(secret);
    }
  });

  it('the same source stored once: a redelivery changes nothing and mails nobody', async () => {
    const { deps, store, notify } = setup();
    await submitInquiry(minato, fromLine('evt-1'), deps);
    const again = await submitInquiry(minato, fromLine('evt-1'), deps);
    expect(again.outcome).toBe('duplicate');
    expect(store.threads.size).toBe(1);
    expect((await store.get('demo-minato', 'inquiry-0001'))?.messageCount).toBe(1);
    expect(notify.sent).toHaveLength(2);
  });

  it('a reader with an open thread adds to it; after close a new thread starts', async () => {
    const { deps, store, advance } = setup();
    await submitInquiry(minato, fromLine('evt-1'), deps);
    advance(HOUR);
    expect((await submitInquiry(minato, fromLine('evt-2', '追加です'), deps)).outcome).toBe('added');
    expect(store.threads.size).toBe(1);
    expect((await store.get('demo-minato', 'inquiry-0001'))?.messages.map((m) => m.seq)).toEqual([1, 2]);
    await closeInquiry(minato, 'inquiry-0001', 'nurse1', deps);
    expect((await submitInquiry(minato, fromLine('evt-3', '別の質問'), deps)).outcome).toBe('created');
    expect([...store.threads.keys()].sort()).toEqual(['demo-minato|inquiry-0001', 'demo-minato|inquiry-0002']);
  });

  it('a reply goes to the LINE reader as a push keyed by the message, marks answered with the time to answer', async () => {
    const { deps, store, line, advance } = setup();
    await submitInquiry(minato, fromLine('evt-1'), deps);
    advance(2 * HOUR);
    const r = await replyToInquiry(minato, 'inquiry-0001', 'nurse1', '毎月第2火曜日です。', deps);
    expect(r).toMatchObject({ outcome: 'answered', delivered: true });
    expect(line.pushes).toHaveLength(1);
    expect(line.pushes[0]!.to).toBe(LINE_USER);
    expect(line.pushes[0]!.retryKey).toBe(replyRetryKey('demo-minato', 'inquiry-0001', 2));
    expect(JSON.stringify(line.pushes[0]!.messages)).toContain('毎月第2火曜日です。');
    const stored = await store.get('demo-minato', 'inquiry-0001');
    expect(stored).toMatchObject({ status: 'answered', firstAnsweredAt: T0 + 2 * HOUR });
    expect(stored!.firstAnsweredAt! - stored!.createdAt).toBe(2 * HOUR);
    expect(stored?.messages[1]).toMatchObject({ author: 'staff', staffRef: 'nurse1', delivery: 'sent' });
  });

  it('a reply to an email reader is a mail with their signed preferences link', async () => {
    const { deps, mail } = setup();
    await submitInquiry(
      minato,
      { readerKey: 'email:hash-2', channel: 'email', address: 'parent@example.com', text: QUESTION, sourceId: 'f1' },
      deps,
    );
    const r = await replyToInquiry(minato, 'inquiry-0001', 'nurse1', '教室は毎月あります。', deps);
    expect(r).toMatchObject({ outcome: 'answered', delivered: true });
    expect(mail.sent).toHaveLength(1);
    expect(mail.sent[0]).toMatchObject({ to: 'parent@example.com', from: 'kosodate@minato.example.jp' });
    expect(mail.sent[0]!.text).toContain('教室は毎月あります。');
    expect(mail.sent[0]!.text).toContain('/email/demo-minato/preferences?token=email:hash-2.tv7');
  });

  it('a failed delivery is stored as failed, the answer is kept', async () => {
    const { deps, store, line } = setup();
    await submitInquiry(minato, fromLine('evt-1'), deps);
    line.fail = true;
    const r = await replyToInquiry(minato, 'inquiry-0001', 'nurse1', 'お答えします', deps);
    expect(r).toMatchObject({ outcome: 'answered', delivered: false });
    expect((await store.get('demo-minato', 'inquiry-0001'))?.messages[1]?.delivery).toBe('failed');
  });

  it('another tenant cannot reply to, close or read the thread: not found, nothing changed or sent', async () => {
    const { deps, store, line } = setup();
    await submitInquiry(minato, fromLine('evt-1'), deps);
    const before = structuredClone(store.threads);
    expect(await replyToInquiry(yamabe, 'inquiry-0001', 'nurse9', '返信', deps)).toEqual({ outcome: 'not-found' });
    expect(await closeInquiry(yamabe, 'inquiry-0001', 'nurse9', deps)).toEqual({ outcome: 'not-found' });
    expect(await listInquiries('demo-yamabe', {}, deps)).toEqual([]);
    expect(store.threads).toEqual(before);
    expect(line.pushes).toEqual([]);
  });

  it.each([
    ['empty', '  ', 'empty'],
    ['too long', 'あ'.repeat(2001), 'too-long'],
  ] as const)('refuses a %s reply or question, changing nothing', async (_l, text, reason) => {
    const { deps, store, line } = setup();
    expect(await submitInquiry(minato, fromLine('evt-x', text), deps)).toEqual({ outcome: 'invalid', reason });
    expect(store.threads.size).toBe(0);
    await submitInquiry(minato, fromLine('evt-1'), deps);
    const before = structuredClone(store.threads);
    expect(await replyToInquiry(minato, 'inquiry-0001', 'nurse1', text, deps)).toEqual({ outcome: 'invalid', reason });
    expect(store.threads).toEqual(before);
    expect(line.pushes).toEqual([]);
  });

  it('a closed thread refuses a reply and a second close', async () => {
    const { deps, line } = setup();
    await submitInquiry(minato, fromLine('evt-1'), deps);
    expect((await closeInquiry(minato, 'inquiry-0001', 'nurse1', deps)).outcome).toBe('closed');
    expect(await closeInquiry(minato, 'inquiry-0001', 'nurse1', deps)).toEqual({ outcome: 'closed-already' });
    expect(await replyToInquiry(minato, 'inquiry-0001', 'nurse1', '返信', deps)).toEqual({ outcome: 'closed' });
    expect(line.pushes).toEqual([]);
  });

  it('a reply that loses a race to the reader re-reads and answers the new state', async () => {
    const { deps, store } = setup();
    await submitInquiry(minato, fromLine('evt-1'), deps);
    let raced = false;
    store.beforeSave = () => {
      if (raced) return;
      raced = true;
      // The reader's second message lands between the staff's read and write.
      const t = store.threads.get('demo-minato|inquiry-0001')!;
      t.version += 1;
      t.messageCount = 2;
      t.messages.push({ seq: 2, author: 'reader', text: '追加', at: T0 });
    };
    const r = await replyToInquiry(minato, 'inquiry-0001', 'nurse1', '返信', deps);
    expect(r.outcome).toBe('answered');
    expect((await store.get('demo-minato', 'inquiry-0001'))?.messages.map((m) => [m.seq, m.author])).toEqual([
      [1, 'reader'],
      [2, 'reader'],
      [3, 'staff'],
    ]);
  });

  it('the inbox lists new and open threads oldest first; the reader sees their own threads', async () => {
    const { deps, advance } = setup();
    await submitInquiry(minato, fromLine('evt-1'), deps);
    advance(HOUR);
    await submitInquiry(
      minato,
      {
        readerKey: 'email:hash-2',
        channel: 'email',
        address: 'parent@example.com',
        text: 'メール質問',
        sourceId: 'f1',
      },
      deps,
    );
    advance(HOUR);
    await replyToInquiry(minato, 'inquiry-0001', 'nurse1', '返信', deps);
    expect((await listInquiries('demo-minato', {}, deps)).map((i) => i.inquiryId)).toEqual(['inquiry-0002']);
    advance(HOUR);
    await submitInquiry(minato, fromLine('evt-2', 'もう一度'), deps);
    const inbox = await listInquiries('demo-minato', {}, deps);
    expect(inbox.map((i) => [i.inquiryId, i.status])).toEqual([
      ['inquiry-0002', 'new'],
      ['inquiry-0001', 'open'],
    ]);
    expect(inbox.every((i) => !('address' in i))).toBe(true);
    const mine = await readerInquiries('demo-minato', 'line:hash-1', deps);
    expect(mine.map((t) => t.messages.length)).toEqual([3]);
  });

  it('a lost notification mail does not lose the inquiry', async () => {
    const { deps, store, notify } = setup();
    notify.failNext = true;
    let failed = 0;
    const r = await submitInquiry(minato, fromLine('evt-1'), { ...deps, onNotifyFailed: () => failed++ });
    expect(r.outcome).toBe('created');
    expect(failed).toBe(1);
    expect(store.threads.size).toBe(1);
  });
});
