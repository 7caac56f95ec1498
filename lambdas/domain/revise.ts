import type { PlannedSend } from '../../schemas/delivery';
import type { ReaderDelivery } from './grouping';
import { packMessages } from './resolve';

/**
 * What a reader whose subscriptions changed after planning should get today, read afresh right before the
 * send: their delivery, or null when nothing is due any more (stopped, paused, lost, deleted).
 */
export type FreshDeliveries = ReadonlyMap<string, ReaderDelivery | null>;

export interface Revision {
  /** The batch's sends at their planned positions (a send's retry key depends on it); null when nothing is left. */
  sends: (PlannedSend | null)[];
  /** Readers taken out of a planned send whose messages changed: they get the fresh ones in a send of their own. */
  revised: ReaderDelivery[];
  /** Readers taken out of a planned send with nothing due any more. */
  withheld: number;
}

const sameLineTexts = (fresh: ReaderDelivery, messages: readonly { text: string }[]) =>
  JSON.stringify(packMessages(fresh.texts)) === JSON.stringify(messages.map((m) => m.text));
const sameTexts = (a: readonly string[], b: readonly string[]) => JSON.stringify(a) === JSON.stringify(b);
const sameSurveys = (f: ReaderDelivery, send: Extract<PlannedSend, { kind: 'email' }>) =>
  JSON.stringify(f.surveys ?? []) === JSON.stringify(send.surveys ?? []);

/**
 * Applies the send-time check to a batch. A reader not in `fresh` keeps the planned send; a reader whose fresh
 * messages equal the planned ones keeps it too; anybody else is taken out (and, with messages left, revised).
 */
export function reviseSends(sends: readonly PlannedSend[], fresh: FreshDeliveries): Revision {
  const revised: ReaderDelivery[] = [];
  let withheld = 0;
  /** True when the reader keeps the planned send. */
  const keeps = (readerKey: string, same: (f: ReaderDelivery) => boolean): boolean => {
    if (!fresh.has(readerKey)) return true;
    const f = fresh.get(readerKey);
    if (!f) {
      withheld++;
      return false;
    }
    if (same(f)) return true;
    revised.push(f);
    return false;
  };
  const out = sends.map((send): PlannedSend | null => {
    switch (send.kind) {
      case 'push':
        return keeps(send.readerKey, (f) => sameLineTexts(f, send.messages)) ? send : null;
      case 'email':
        return keeps(send.readerKey, (f) => sameTexts(f.texts, send.texts) && sameSurveys(f, send)) ? send : null;
      case 'multicast': {
        const kept = send.readerKeys.flatMap((key, i) =>
          keeps(key, (f) => sameLineTexts(f, send.messages)) ? [i] : [],
        );
        if (kept.length === send.readerKeys.length) return send;
        if (kept.length === 0) return null;
        return {
          ...send,
          to: kept.map((i) => send.to[i]!),
          readerKeys: kept.map((i) => send.readerKeys[i]!),
        };
      }
    }
  });
  return { sends: out, revised, withheld };
}

/** Every reader a send goes to, by reader key. */
export function readerKeysOf(send: PlannedSend): readonly string[] {
  return send.kind === 'multicast' ? send.readerKeys : [send.readerKey];
}
