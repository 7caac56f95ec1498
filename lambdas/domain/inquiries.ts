import type { Channel } from '../../schemas/common';
import {
  INQUIRY_MESSAGES_MAX,
  INQUIRY_TEXT_MAX,
  type Inquiry,
  type InquiryHeader,
  type InquiryMessage,
  type InquiryStatus,
} from '../../schemas/inquiry';

/**
 * An inquiry thread as pure rules: a reader asks (`new`), staff answer (`answered`), the reader may write again
 * (`open`) and be answered again, staff close it (`closed`). Times are inputs; nothing here reads a clock.
 * Each step returns the header as it must be stored (version unchanged: the store increments it on its
 * condition) and the one message the step adds.
 */

export class InquiryTextError extends Error {
  constructor(readonly reason: 'empty' | 'too-long') {
    super(reason === 'empty' ? 'the text is empty' : `the text is longer than ${INQUIRY_TEXT_MAX} characters`);
    this.name = 'InquiryTextError';
  }
}

export class InquiryStateError extends Error {
  constructor(readonly reason: 'closed' | 'full' | 'not-closed') {
    super(
      reason === 'closed'
        ? 'the inquiry is closed'
        : reason === 'not-closed'
          ? 'the inquiry is not closed'
          : `the thread holds ${INQUIRY_MESSAGES_MAX} messages already`,
    );
    this.name = 'InquiryStateError';
  }
}

/**
 * The text as stored: line ends unified, surrounding blank space dropped, control characters other than line
 * breaks and tabs removed; at most INQUIRY_TEXT_MAX characters (UTF-16 code units, as LINE counts them).
 */
export function inquiryText(raw: string): string {
  const text = raw
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '')
    .trim();
  if (text.length === 0) throw new InquiryTextError('empty');
  if (text.length > INQUIRY_TEXT_MAX) throw new InquiryTextError('too-long');
  return text;
}

export interface Step {
  header: InquiryHeader;
  message: InquiryMessage;
}

export function startInquiry(i: {
  inquiryId: string;
  tenantId: string;
  readerKey: string;
  channel: Channel;
  address: string;
  text: string;
  at: number;
}): Step {
  const message: InquiryMessage = { seq: 1, author: 'reader', text: inquiryText(i.text), at: i.at };
  return {
    header: {
      inquiryId: i.inquiryId,
      tenantId: i.tenantId,
      readerKey: i.readerKey,
      channel: i.channel,
      address: i.address,
      status: 'new',
      version: 0,
      createdAt: i.at,
      lastMessageAt: i.at,
      messageCount: 1,
    },
    message,
  };
}

/** True while the reader's next question belongs in this thread. */
export const isOpenThread = (h: Pick<InquiryHeader, 'status' | 'messageCount'>) =>
  h.status !== 'closed' && h.messageCount < INQUIRY_MESSAGES_MAX;

/** The reader writes again: an answered thread is due for staff again (`open`); a new one stays `new`. */
export function addReaderMessage(h: InquiryHeader, text: string, at: number): Step {
  if (h.status === 'closed') throw new InquiryStateError('closed');
  if (h.messageCount >= INQUIRY_MESSAGES_MAX) throw new InquiryStateError('full');
  const status: InquiryStatus = h.status === 'answered' ? 'open' : h.status;
  return next(h, { author: 'reader', text: inquiryText(text), at }, status);
}

/** A staff answer: `answered`, and the first one fixes the time to first answer. */
export function addStaffReply(h: InquiryHeader, staffRef: string, text: string, at: number): Step {
  if (h.status === 'closed') throw new InquiryStateError('closed');
  if (h.messageCount >= INQUIRY_MESSAGES_MAX) throw new InquiryStateError('full');
  const step = next(h, { author: 'staff', staffRef, text: inquiryText(text), at, delivery: 'pending' }, 'answered');
  return { ...step, header: { ...step.header, firstAnsweredAt: h.firstAnsweredAt ?? at } };
}

/** Closing ends the thread for the reader (a new question starts a new one); a closed thread cannot be closed again. */
export function closeThread(h: InquiryHeader, staffRef: string, at: number): InquiryHeader {
  if (h.status === 'closed') throw new InquiryStateError('closed');
  return { ...h, status: 'closed', closedAt: at, closedBy: staffRef };
}

/**
 * Staff reopen a closed thread (closed by mistake, or more to say): it stands where it stood before the close, by
 * its last message: the reader's, never answered (`new`); the reader's after an answer (`open`); staff's
 * (`answered`). The reader's next message joins it again. Only a closed thread can be reopened.
 */
export function reopenThread(t: Inquiry): InquiryHeader {
  if (t.status !== 'closed') throw new InquiryStateError('not-closed');
  const last = t.messages.reduce<InquiryMessage | undefined>(
    (a, m) => (a === undefined || m.seq > a.seq ? m : a),
    undefined,
  );
  const status: InquiryStatus =
    last?.author === 'staff' ? 'answered' : t.firstAnsweredAt === undefined ? 'new' : 'open';
  const { messages: _messages, closedAt: _closedAt, closedBy: _closedBy, ...header } = t;
  return { ...header, status };
}

function next(h: InquiryHeader, m: Omit<InquiryMessage, 'seq'>, status: InquiryStatus): Step {
  const message: InquiryMessage = { ...m, seq: h.messageCount + 1 };
  return {
    header: { ...h, status, messageCount: message.seq, lastMessageAt: Math.max(h.lastMessageAt, m.at) },
    message,
  };
}

/** Milliseconds from the question to the first staff answer; undefined while unanswered. */
export function timeToFirstAnswer(h: Pick<InquiryHeader, 'createdAt' | 'firstAnsweredAt'>): number | undefined {
  return h.firstAnsweredAt === undefined ? undefined : h.firstAnsweredAt - h.createdAt;
}

/** Staff are due to act: nobody answered, or the reader wrote again. */
export const awaitsStaff = (s: InquiryStatus) => s === 'new' || s === 'open';

/** The reader's latest thread that still takes messages, if any. */
export function openThreadOf<T extends Pick<InquiryHeader, 'status' | 'messageCount' | 'lastMessageAt'>>(
  threads: readonly T[],
): T | undefined {
  return [...threads].filter(isOpenThread).sort((a, b) => b.lastMessageAt - a.lastMessageAt)[0];
}

export type { Inquiry };
