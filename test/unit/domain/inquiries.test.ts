import {
  addReaderMessage,
  addStaffReply,
  closeThread,
  inquiryText,
  InquiryStateError,
  InquiryTextError,
  openThreadOf,
  reopenThread,
  startInquiry,
  timeToFirstAnswer,
} from '../../../lambdas/domain/inquiries';
import { INQUIRY_MESSAGES_MAX, InquiryHeaderSchema, type InquiryHeader } from '../../../schemas/inquiry';

const T0 = Date.UTC(2026, 5, 1, 1, 0);
const MIN = 60_000;
const start = (text = '健診の予約はどこでできますか') =>
  startInquiry({
    inquiryId: 'inq-00000001',
    tenantId: 'demo-minato',
    readerKey: 'line:hash-of-reader',
    channel: 'line',
    address: `U${'a'.repeat(32)}`,
    text,
    at: T0,
  });

describe('inquiry thread rules', () => {
  it('starts new with the reader message as message 1, and the header parses', () => {
    const { header, message } = start();
    expect(header).toMatchObject({ status: 'new', version: 0, messageCount: 1, createdAt: T0, lastMessageAt: T0 });
    expect(message).toEqual({ seq: 1, author: 'reader', text: '健診の予約はどこでできますか', at: T0 });
    expect(InquiryHeaderSchema.safeParse(header).success).toBe(true);
    expect(timeToFirstAnswer(header)).toBeUndefined();
  });

  it.each([
    ['new stays new when the reader adds to it', 'new', 'new'],
    ['answered becomes open when the reader writes again', 'answered', 'open'],
    ['open stays open', 'open', 'open'],
  ] as const)('%s', (_label, from, to) => {
    const h: InquiryHeader = { ...start().header, status: from };
    const step = addReaderMessage(h, 'もう一つ質問です', T0 + 5 * MIN);
    expect(step.header.status).toBe(to);
    expect(step.message).toMatchObject({ seq: 2, author: 'reader', at: T0 + 5 * MIN });
    expect(step.header.messageCount).toBe(2);
    expect(step.header.lastMessageAt).toBe(T0 + 5 * MIN);
  });

  it('a staff reply marks answered and fixes the time to first answer once', () => {
    const first = addStaffReply(start().header, 'nurse1', '保健センターで予約できます', T0 + 90 * MIN);
    expect(first.header.status).toBe('answered');
    expect(first.message).toMatchObject({ seq: 2, author: 'staff', staffRef: 'nurse1', delivery: 'pending' });
    expect(timeToFirstAnswer(first.header)).toBe(90 * MIN);
    const again = addReaderMessage(first.header, 'ありがとうございます。土曜日は？', T0 + 100 * MIN);
    expect(again.header.status).toBe('open');
    const second = addStaffReply(again.header, 'nurse2', '土曜日は休みです', T0 + 300 * MIN);
    // The first answer's time stays: 90 minutes, not 300.
    expect(timeToFirstAnswer(second.header)).toBe(90 * MIN);
    expect(second.message.seq).toBe(4);
  });

  it('a closed thread takes no reply, no message and no second close', () => {
    const closed = closeThread(start().header, 'nurse1', T0 + MIN);
    expect(closed).toMatchObject({ status: 'closed', closedAt: T0 + MIN, closedBy: 'nurse1' });
    expect(() => addStaffReply(closed, 'nurse1', 'x', T0)).toThrow(InquiryStateError);
    expect(() => addReaderMessage(closed, 'x', T0)).toThrow(InquiryStateError);
    expect(() => closeThread(closed, 'nurse1', T0)).toThrow(InquiryStateError);
  });

  it.each([
    ['never answered: new again', [] as const, 'new'],
    ['answered last: answered again', ['staff'] as const, 'answered'],
    ['the reader wrote after the answer: open again', ['staff', 'reader'] as const, 'open'],
  ])('reopening a closed thread, %s; its close marks gone, the reader can write again', (_label, after, status) => {
    let step = start();
    const messages = [step.message];
    for (const [i, author] of after.entries()) {
      step =
        author === 'staff'
          ? addStaffReply(step.header, 'nurse1', `答え${i}`, T0 + (i + 1) * MIN)
          : addReaderMessage(step.header, `質問${i}`, T0 + (i + 1) * MIN);
      messages.push(step.message);
    }
    const closed = closeThread(step.header, 'nurse1', T0 + 10 * MIN);
    const reopened = reopenThread({ ...closed, messages });
    expect(reopened.status).toBe(status);
    expect(reopened).not.toHaveProperty('closedAt');
    expect(reopened).not.toHaveProperty('closedBy');
    expect(reopened).not.toHaveProperty('messages');
    expect(addReaderMessage(reopened, 'もう一度', T0 + 11 * MIN).header.status).toBe(status === 'new' ? 'new' : 'open');
  });

  it('only a closed thread can be reopened', () => {
    const { header, message } = start();
    expect(() => reopenThread({ ...header, messages: [message] })).toThrow(new InquiryStateError('not-closed'));
  });

  it('a full thread takes no more messages', () => {
    const full: InquiryHeader = { ...start().header, messageCount: INQUIRY_MESSAGES_MAX };
    expect(() => addReaderMessage(full, 'x', T0)).toThrow(new InquiryStateError('full'));
    expect(openThreadOf([full])).toBeUndefined();
  });

  it.each([
    ['empty', '', 'empty'],
    ['blank', ' \n\t　', 'empty'],
    ['2,001 characters', 'あ'.repeat(2001), 'too-long'],
  ] as const)('refuses %s text', (_label, text, reason) => {
    expect(() => inquiryText(text)).toThrow(new InquiryTextError(reason));
    expect(() => start(text)).toThrow(InquiryTextError);
  });

  it('keeps 2,000 characters, unifies line ends and drops control characters', () => {
    expect(inquiryText('あ'.repeat(2000))).toHaveLength(2000);
    expect(inquiryText('  一行目\r\n二行目\u0007\r三行目  ')).toBe('一行目\n二行目\n三行目');
  });

  it('the open thread is the latest one not closed', () => {
    const a = { status: 'answered', messageCount: 2, lastMessageAt: 10 } as const;
    const b = { status: 'closed', messageCount: 3, lastMessageAt: 30 } as const;
    const c = { status: 'new', messageCount: 1, lastMessageAt: 20 } as const;
    expect(openThreadOf([a, b, c])).toBe(c);
    expect(openThreadOf([b])).toBeUndefined();
  });
});
