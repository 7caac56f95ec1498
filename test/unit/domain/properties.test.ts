import fc from 'fast-check';
import { addDays } from '../../../lambdas/domain/dates';
import { countRecipients, planSends, type ReaderDelivery } from '../../../lambdas/domain/grouping';
import { buildLibraryIndex } from '../../../lambdas/domain/library';
import {
  compareSubscriptions,
  MessageTooLongError,
  packMessages,
  resolveReader,
  resolveSubscription,
} from '../../../lambdas/domain/resolve';
import {
  childcareEndDate,
  gestationalDay,
  MATERNITY_FIRST_DAY,
  MATERNITY_LAST_DAY,
} from '../../../lambdas/domain/stage';
import { LINE_MAX_MESSAGES_PER_REQUEST, LINE_MULTICAST_MAX_RECIPIENTS, LINE_TEXT_MAX } from '../../../schemas/common';
import type { ContentItem } from '../../../schemas/content';
import { PlannedSendSchema } from '../../../schemas/delivery';
import type { Subscription } from '../../../schemas/subscription';
import { TenantConfigSchema } from '../../../schemas/tenant';

const tenant = TenantConfigSchema.parse({
  tenantId: 'demo-yamabe',
  name: 'やまべ町',
  deliveryTime: '08:00',
  shardCount: 1,
  library: 'sample-ja',
  line: { enabled: true, secretName: 'hagukumi/demo-yamabe/line' },
  birthdayMessages: { '1': '{nickname} 1', '2': '{nickname} 2', '3': '{nickname} 3' },
  overlays: [
    { track: 'maternity', day: 100, mode: 'append', text: 'o100' },
    { track: 'maternity', day: 293, mode: 'replace', text: 'o293' },
    { track: 'childcare', day: 0, mode: 'append', audience: 'partner', text: 'o0' },
    { track: 'childcare', day: 1096, mode: 'append', text: 'o1096' },
  ],
});

const everyMaternityDay: ContentItem[] = [];
for (let day = MATERNITY_FIRST_DAY; day <= MATERNITY_LAST_DAY; day++) {
  everyMaternityDay.push({ track: 'maternity', day, audience: 'parent', text: `m${day} {nickname}` });
}
const everyChildcareDay: ContentItem[] = [];
for (let day = 0; day <= 1100; day++)
  everyChildcareDay.push({ track: 'childcare', day, audience: 'parent', text: `c${day}` });
const fullLibrary = buildLibraryIndex([...everyMaternityDay, ...everyChildcareDay]);

const isoDate = fc.integer({ min: 0, max: 365 * 80 }).map((n) => addDays('2000-01-01', n));

const subscription = fc.record({
  track: fc.constantFrom('maternity' as const, 'childcare' as const),
  anchorDate: isoDate,
  audience: fc.constantFrom('parent' as const, 'partner' as const),
  nickname: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  subscriptionId: fc.string({ minLength: 1, maxLength: 6 }),
  registeredOn: isoDate,
});
type SubscriptionFields = typeof subscription extends fc.Arbitrary<infer T> ? T : never;
const asSubscription = (s: SubscriptionFields): Subscription => ({
  tenantId: 'demo-yamabe',
  readerKey: 'line:U1',
  channel: 'line',
  address: 'U1',
  status: 'active',
  familyId: 'F1',
  bucket: 0,
  version: 0,
  ...s,
});

// Greedy filling gives the fewest contiguous messages, so it tells exactly whether 5 messages can hold the texts.
function fitsInFive(texts: string[]): boolean {
  let messages = 0;
  let current = -1;
  for (const text of texts) {
    if (text.length > LINE_TEXT_MAX) return false;
    if (current >= 0 && current + 2 + text.length <= LINE_TEXT_MAX) current += 2 + text.length;
    else {
      messages++;
      current = text.length;
    }
  }
  return messages <= LINE_MAX_MESSAGES_PER_REQUEST;
}

describe('resolve properties', () => {
  it('every gestational day 28..293 yields exactly the one library text', () => {
    const library = buildLibraryIndex(everyMaternityDay);
    const noOverlays = { ...tenant, overlays: [] };
    fc.assert(
      fc.property(subscription, fc.integer({ min: MATERNITY_FIRST_DAY, max: MATERNITY_LAST_DAY }), (s, day) => {
        const today = addDays(s.anchorDate, day - 280);
        const sub = asSubscription({ ...s, track: 'maternity', registeredOn: today });
        expect(gestationalDay(sub.anchorDate, today)).toBe(day);
        const texts = resolveSubscription(sub, today, { tenant: noOverlays, library });
        expect(texts).toHaveLength(1);
        expect(texts[0]).toBe(`m${day} ${sub.nickname?.trim() || tenant.defaultNickname}`);
      }),
    );
  });

  it('nothing before registration', () => {
    fc.assert(
      fc.property(subscription, fc.integer({ min: 1, max: 2000 }), (s, daysEarly) => {
        const sub = asSubscription(s);
        expect(
          resolveSubscription(sub, addDays(sub.registeredOn, -daysEarly), { tenant, library: fullLibrary }),
        ).toEqual([]);
      }),
    );
  });

  it('nothing after the last slot of the track', () => {
    fc.assert(
      fc.property(subscription, fc.integer({ min: 1, max: 2000 }), (s, daysLate) => {
        const sub = asSubscription({ ...s, registeredOn: '2000-01-01' });
        const lastDay =
          sub.track === 'maternity'
            ? addDays(sub.anchorDate, MATERNITY_LAST_DAY - 280)
            : childcareEndDate(sub.anchorDate);
        const today = addDays(lastDay, daysLate);
        expect(resolveSubscription(sub, today, { tenant, library: fullLibrary })).toEqual([]);
        expect(resolveSubscription(sub, lastDay, { tenant, library: fullLibrary }).length).toBeGreaterThan(0);
      }),
    );
  });

  it('resolveReader gives at most 5 texts of at most 5,000 units, or MessageTooLongError when they cannot fit', () => {
    fc.assert(
      fc.property(
        fc.array(subscription, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 4800 }),
        fc.integer({ min: 0, max: 1100 }),
        (subs, textLength, age) => {
          // Everyone born or due around the same time, so that several subscriptions are due on one day.
          const base = '2026-01-01';
          const today = addDays(base, age);
          const library = buildLibraryIndex([
            // Each day its own text, so that only subscriptions on the same day share one.
            ...everyMaternityDay.map((item) => ({ ...item, text: `${'m'.repeat(textLength)}${item.day}` })),
            ...everyChildcareDay.map((item) => ({ ...item, text: `${'c'.repeat(textLength)}${item.day}` })),
          ]);
          const reader = subs.map((s, i) =>
            asSubscription({
              ...s,
              subscriptionId: `S${i}`,
              registeredOn: '2000-01-01',
              anchorDate: addDays(base, s.track === 'maternity' ? age + (i % 200) : i % 30),
            }),
          );
          // A text shared by several subscriptions (twins on the same day) comes once, where it first appears.
          const all = [
            ...new Set(
              [...reader]
                .sort(compareSubscriptions)
                .flatMap((sub) => resolveSubscription(sub, today, { tenant, library })),
            ),
          ];
          if (!fitsInFive(all)) {
            expect(() => resolveReader(reader, today, { tenant, library })).toThrow(MessageTooLongError);
            return;
          }
          const texts = resolveReader(reader, today, { tenant, library });
          expect(texts.length).toBeLessThanOrEqual(LINE_MAX_MESSAGES_PER_REQUEST);
          for (const text of texts) expect(text.length).toBeLessThanOrEqual(LINE_TEXT_MAX);
          expect(texts.join('\n\n')).toBe(all.join('\n\n'));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('packMessages keeps every text, in order, in at most 5 messages of at most 5,000 units', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5100 }), { maxLength: 20 }), (lengths) => {
        const texts = lengths.map((n, i) => String.fromCharCode(97 + (i % 26)).repeat(n));
        if (!fitsInFive(texts)) {
          expect(() => packMessages(texts)).toThrow(MessageTooLongError);
          return;
        }
        const packed = packMessages(texts);
        expect(packed.length).toBe(Math.min(texts.length, LINE_MAX_MESSAGES_PER_REQUEST));
        for (const text of packed) expect(text.length).toBeLessThanOrEqual(LINE_TEXT_MAX);
        expect(packed.join('\n\n')).toBe(texts.join('\n\n'));
      }),
    );
  });
});

describe('planSends properties', () => {
  const texts = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), { maxLength: 7 });
  const readers = fc
    .uniqueArray(
      fc.record({
        id: fc.integer({ min: 0, max: 100_000 }),
        channel: fc.constantFrom('line' as const, 'email' as const),
        texts,
      }),
      { selector: (r) => r.id, maxLength: 1500 },
    )
    .map((rs) =>
      rs.map(({ id, channel, texts }): ReaderDelivery => ({
        readerKey: `${channel}:${id}`,
        channel,
        address: channel === 'line' ? `U${id}` : `r${id}@example.jp`,
        texts,
      })),
    );

  it('never more than 500 ids or 5 messages per request; every reader with texts exactly once', () => {
    fc.assert(
      fc.property(readers, fc.boolean(), (rs, mostlySame) => {
        // Many identical lists exercise multicast chunking; random ones exercise pushes.
        const input = mostlySame ? rs.map((r, i) => (i % 10 === 0 ? r : { ...r, texts: ['same'] })) : rs;
        const sends = planSends(input, { emailSubject: 's' });
        for (const send of sends) {
          expect(PlannedSendSchema.safeParse(send).success).toBe(true);
          if (send.kind === 'multicast') {
            expect(send.to.length).toBeGreaterThanOrEqual(2);
            expect(send.to.length).toBeLessThanOrEqual(LINE_MULTICAST_MAX_RECIPIENTS);
          }
          if (send.kind !== 'email') expect(send.messages.length).toBeLessThanOrEqual(LINE_MAX_MESSAGES_PER_REQUEST);
        }
        const lineIds = sends.flatMap((send) =>
          send.kind === 'multicast' ? send.to : send.kind === 'push' ? [send.to] : [],
        );
        const emails = sends.flatMap((send) => (send.kind === 'email' ? [send.to] : []));
        const due = input.filter((r) => r.texts.length > 0);
        expect([...lineIds].sort()).toEqual(
          due
            .filter((r) => r.channel === 'line')
            .map((r) => r.address)
            .sort(),
        );
        expect([...emails].sort()).toEqual(
          due
            .filter((r) => r.channel === 'email')
            .map((r) => r.address)
            .sort(),
        );
        expect(countRecipients(sends)).toBe(due.length);
        expect(planSends([...input].reverse(), { emailSubject: 's' })).toEqual(sends);
      }),
      { numRuns: 50 },
    );
  });
});
