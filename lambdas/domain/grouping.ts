import { LINE_MULTICAST_MAX_RECIPIENTS, type Channel } from '../../schemas/common';
import type { LineTextMessage, PlannedSend, SurveyRunRef } from '../../schemas/delivery';
import type { Subscription } from '../../schemas/subscription';
import { packMessages } from './resolve';

/** What one reader gets today on their channel. */
export interface ReaderDelivery {
  readerKey: string;
  channel: Channel;
  /** LINE user id or email address. */
  address: string;
  texts: string[];
  unsubscribeToken?: string;
  /** Email readers: the token version their signed links are made with (a stop or deletion bumps it). */
  tokenVersion?: string;
  /** Email readers: the survey runs today's mail invites to (their texts are among `texts`). */
  surveys?: SurveyRunRef[];
}

export class DuplicateReaderError extends Error {
  override readonly name = 'DuplicateReaderError';
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits `n` into the fewest chunks of at most `max`, as equal as possible (501 -> 251 + 250). */
function balancedChunks<T>(items: readonly T[], max: number): T[][] {
  const count = Math.ceil(items.length / max);
  const chunks: T[][] = [];
  let start = 0;
  for (let c = 0; c < count; c++) {
    const size = Math.floor(items.length / count) + (c < items.length % count ? 1 : 0);
    chunks.push(items.slice(start, start + size));
    start += size;
  }
  return chunks;
}

function assertUnique(readers: readonly ReaderDelivery[]): void {
  const keys = new Set<string>();
  const addresses = new Set<string>();
  for (const reader of readers) {
    // Sending to one person twice is worse than failing the shard loudly: duplicates mean a bug upstream.
    if (keys.has(reader.readerKey)) throw new DuplicateReaderError(`reader ${reader.readerKey} appears twice`);
    const address = `${reader.channel}:${reader.address}`;
    if (addresses.has(address)) throw new DuplicateReaderError(`address ${address} appears twice`);
    keys.add(reader.readerKey);
    addresses.add(address);
  }
}

/**
 * The sends of one shard on one date. LINE readers with identical texts share multicasts (at most 500 ids);
 * a reader alone with their texts gets a push; every email reader gets one email. The result depends only
 * on the set of readers, not on their order, so a retry rebuilds the same plan.
 */
export function planSends(readers: readonly ReaderDelivery[], opts: { emailSubject: string }): PlannedSend[] {
  // An empty text would make LINE reject the whole request; a reader left with none gets nothing.
  const due = readers
    .map((reader) => ({ ...reader, texts: reader.texts.filter((text) => text.length > 0) }))
    .filter((reader) => reader.texts.length > 0);
  assertUnique(due);
  due.sort((a, b) => compareStrings(a.readerKey, b.readerKey));

  // LINE rejects requests over 5 messages or 5,000 units; a caller that skipped resolveReader still gets valid sends.
  const lineTexts = new Map<ReaderDelivery, string[]>();
  const lineGroups = new Map<string, ReaderDelivery[]>();
  for (const reader of due) {
    if (reader.channel !== 'line') continue;
    const texts = packMessages(reader.texts);
    lineTexts.set(reader, texts);
    const key = JSON.stringify(texts);
    const group = lineGroups.get(key);
    if (group) group.push(reader);
    else lineGroups.set(key, [reader]);
  }

  const sends: PlannedSend[] = [];
  const emitted = new Set<string>();
  for (const reader of due) {
    if (reader.channel === 'email') {
      sends.push({
        kind: 'email',
        to: reader.address,
        readerKey: reader.readerKey,
        subject: opts.emailSubject,
        texts: reader.texts,
        ...(reader.unsubscribeToken !== undefined && { unsubscribeToken: reader.unsubscribeToken }),
        ...(reader.tokenVersion !== undefined && { tokenVersion: reader.tokenVersion }),
        ...(reader.surveys?.length && { surveys: reader.surveys }),
      });
      continue;
    }
    const texts = lineTexts.get(reader)!;
    const key = JSON.stringify(texts);
    if (emitted.has(key)) continue;
    emitted.add(key);
    const group = lineGroups.get(key)!;
    const messages = (): LineTextMessage[] => texts.map((text) => ({ type: 'text', text }));
    if (group.length === 1) {
      sends.push({ kind: 'push', to: reader.address, readerKey: reader.readerKey, messages: messages() });
      continue;
    }
    for (const chunk of balancedChunks(group, LINE_MULTICAST_MAX_RECIPIENTS)) {
      sends.push({
        kind: 'multicast',
        to: chunk.map((member) => member.address),
        readerKeys: chunk.map((member) => member.readerKey),
        messages: messages(),
      });
    }
  }
  return sends;
}

/** People reached by the sends: what LINE's quota counts. */
export function countRecipients(sends: readonly PlannedSend[]): number {
  return sends.reduce((sum, send) => sum + (send.kind === 'multicast' ? send.to.length : 1), 0);
}

/** Subscriptions grouped per reader (one person on one channel), readers in order of first appearance. */
export function groupByReader(subs: readonly Subscription[]): Subscription[][] {
  const groups = new Map<string, Subscription[]>();
  for (const s of subs) {
    const group = groups.get(s.readerKey);
    if (group) group.push(s);
    else groups.set(s.readerKey, [s]);
  }
  return [...groups.values()];
}
