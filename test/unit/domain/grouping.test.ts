import {
  countRecipients,
  DuplicateReaderError,
  planSends,
  type ReaderDelivery,
} from '../../../lambdas/domain/grouping';
import type { PlannedSend } from '../../../schemas/delivery';

const opts = { emailSubject: '【みなと市】今日のメッセージ (2026年12月1日)' };
const line = (id: string, texts: string[]): ReaderDelivery => ({
  readerKey: `line:${id}`,
  channel: 'line',
  address: id,
  texts,
});
const email = (address: string, texts: string[], unsubscribeToken?: string): ReaderDelivery => ({
  readerKey: `email:${address}`,
  channel: 'email',
  address,
  texts,
  ...(unsubscribeToken && { unsubscribeToken }),
});
const to = (addresses: string[]) => ({ to: addresses, readerKeys: addresses.map((a) => `line:${a}`) });
const msgs = (...texts: string[]) => texts.map((text) => ({ type: 'text' as const, text }));
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `U${String(i).padStart(4, '0')}`);

describe('planSends', () => {
  it.each<{ label: string; readers: ReaderDelivery[]; want: PlannedSend[] }>([
    { label: 'nobody', readers: [], want: [] },
    { label: 'readers without texts are skipped', readers: [line('U1', []), email('a@example.jp', [])], want: [] },
    {
      label: 'empty texts are dropped',
      readers: [line('U1', ['', 'a'])],
      want: [{ kind: 'push', to: 'U1', readerKey: 'line:U1', messages: msgs('a') }],
    },
    {
      label: 'a reader alone gets a push',
      readers: [line('U1', ['a', 'b'])],
      want: [{ kind: 'push', to: 'U1', readerKey: 'line:U1', messages: msgs('a', 'b') }],
    },
    {
      label: 'identical lists share a multicast, in reader order',
      readers: [line('U3', ['a']), line('U1', ['a']), line('U2', ['a'])],
      want: [{ kind: 'multicast', ...to(['U1', 'U2', 'U3']), messages: msgs('a') }],
    },
    {
      label: 'the same texts in another order are another group',
      readers: [line('U1', ['a', 'b']), line('U2', ['b', 'a'])],
      want: [
        { kind: 'push', to: 'U1', readerKey: 'line:U1', messages: msgs('a', 'b') },
        { kind: 'push', to: 'U2', readerKey: 'line:U2', messages: msgs('b', 'a') },
      ],
    },
    {
      label: 'groups ordered by their first reader',
      readers: [line('U4', ['b']), line('U2', ['b']), line('U3', ['a']), line('U1', ['a']), line('U0', ['c'])],
      want: [
        { kind: 'push', to: 'U0', readerKey: 'line:U0', messages: msgs('c') },
        { kind: 'multicast', ...to(['U1', 'U3']), messages: msgs('a') },
        { kind: 'multicast', ...to(['U2', 'U4']), messages: msgs('b') },
      ],
    },
    {
      label: 'email readers get one email each, even with identical texts',
      readers: [email('b@example.jp', ['a']), email('a@example.jp', ['a'], 'tok-a')],
      want: [
        {
          kind: 'email',
          to: 'a@example.jp',
          readerKey: 'email:a@example.jp',
          subject: opts.emailSubject,
          texts: ['a'],
          unsubscribeToken: 'tok-a',
        },
        {
          kind: 'email',
          to: 'b@example.jp',
          readerKey: 'email:b@example.jp',
          subject: opts.emailSubject,
          texts: ['a'],
        },
      ],
    },
    {
      label: 'email and LINE readers never share a send',
      readers: [line('U1', ['a']), email('a@example.jp', ['a'])],
      want: [
        {
          kind: 'email',
          to: 'a@example.jp',
          readerKey: 'email:a@example.jp',
          subject: opts.emailSubject,
          texts: ['a'],
        },
        { kind: 'push', to: 'U1', readerKey: 'line:U1', messages: msgs('a') },
      ],
    },
    {
      label: 'more than 5 LINE texts are merged into 5 messages',
      readers: [line('U1', ['1', '2', '3', '4', '5', '6'])],
      want: [{ kind: 'push', to: 'U1', readerKey: 'line:U1', messages: msgs('1', '2', '3', '4', '5\n\n6') }],
    },
  ])('$label', ({ readers, want }) => {
    expect(planSends(readers, opts)).toEqual(want);
    expect(planSends([...readers].reverse(), opts)).toEqual(want);
  });

  it.each([
    { label: '500 ids fit one multicast', n: 500, want: [500] },
    { label: '501 ids: 251 + 250', n: 501, want: [251, 250] },
    { label: '1000 ids: 500 + 500', n: 1000, want: [500, 500] },
    { label: '1001 ids: 334 + 334 + 333', n: 1001, want: [334, 334, 333] },
    { label: '2 ids: one multicast', n: 2, want: [2] },
  ])('balances multicast chunks: $label', ({ n, want }) => {
    const sends = planSends(
      ids(n).map((id) => line(id, ['same'])),
      opts,
    );
    expect(sends.map((send) => (send.kind === 'multicast' ? send.to.length : -1))).toEqual(want);
    expect(sends.flatMap((send) => (send.kind === 'multicast' ? send.to : []))).toEqual(ids(n));
  });

  it.each([
    { label: 'a reader key twice', readers: [line('U1', ['a']), line('U1', ['b'])] },
    {
      label: 'an address under two reader keys',
      readers: [line('U1', ['a']), { ...line('U1', ['a']), readerKey: 'line:other' }],
    },
  ])('refuses $label', ({ readers }) => {
    expect(() => planSends(readers, opts)).toThrow(DuplicateReaderError);
  });
});

describe('countRecipients', () => {
  it.each<{ label: string; sends: PlannedSend[]; want: number }>([
    { label: 'nothing', sends: [], want: 0 },
    { label: 'a push is one', sends: [{ kind: 'push', to: 'U1', readerKey: 'line:U1', messages: msgs('a') }], want: 1 },
    {
      label: 'a multicast counts its ids',
      sends: [{ kind: 'multicast', ...to(['U1', 'U2', 'U3']), messages: msgs('a', 'b') }],
      want: 3,
    },
    {
      label: 'mixed',
      sends: [
        { kind: 'multicast', ...to(['U1', 'U2']), messages: msgs('a') },
        { kind: 'push', to: 'U3', readerKey: 'line:U3', messages: msgs('b') },
        { kind: 'email', to: 'a@example.jp', readerKey: 'email:a@example.jp', subject: 's', texts: ['a'] },
      ],
      want: 4,
    },
  ])('$label', ({ sends, want }) => {
    expect(countRecipients(sends)).toBe(want);
  });
});
