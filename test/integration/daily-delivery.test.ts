import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { demoSubscriptions } from '../../local/seed';
import { runDelivery, seedDemo, type TenantRunSummary } from '../../local/stack';
import { emailsTo, expectedTexts, lineDeliveriesByUser } from './expectations';
import { startTestStack, testLibrary, type TestStack } from './helpers';

const DATE: IsoDate = '2026-12-01';
const SUBSCRIBERS = 400;
jest.setTimeout(120_000);

describe('a full day for two tenants on the real emulators', () => {
  let stack: TestStack;
  let first: TenantRunSummary[];
  const library = testLibrary();
  const population = new Map<string, Subscription[]>();

  beforeAll(async () => {
    stack = await startTestStack('daily');
    const seeded = await seedDemo(stack, SUBSCRIBERS, DATE);
    for (const t of stack.tenants)
      population.set(t.tenantId, demoSubscriptions(t, seeded.get(t.tenantId) ?? 0, DATE, stack.readerKeys));
    first = await runDelivery(stack, { date: DATE });
  });

  it('delivers every due reader exactly once, with exactly their messages, and nobody else', async () => {
    let checkedLine = 0;
    let checkedEmail = 0;
    for (const tenant of stack.tenants) {
      const expected = expectedTexts(tenant, population.get(tenant.tenantId) ?? [], library, DATE);
      const channelId = stack.channels.get(tenant.tenantId)?.channelId!;
      const line = await lineDeliveriesByUser(stack.line, channelId);
      const mail = await emailsTo(stack.endpoints.ses, tenant.email?.from!);
      for (const [, want] of expected) {
        if (want.channel === 'line') {
          expect(line.get(want.address)).toEqual({ requests: 1, texts: want.texts });
          checkedLine++;
        } else {
          expect(mail.get(want.address)?.count).toBe(1);
          expect(mail.get(want.address)?.text).toContain(want.texts[0]);
          checkedEmail++;
        }
      }
      const expectedAddresses = new Set([...expected.values()].map((e) => e.address));
      expect([...line.keys()].filter((u) => !expectedAddresses.has(u))).toEqual([]);
      expect([...mail.keys()].filter((a) => !expectedAddresses.has(a))).toEqual([]);
    }
    expect(checkedLine).toBeGreaterThan(100);
    expect(checkedEmail).toBeGreaterThan(20);
  });

  it('records the same figures in the ledger as were sent', () => {
    for (const s of first) {
      expect(s.ledger.failures).toBe(0);
      expect(s.ledger.multicastRequests).toBe(s.thisRun.lineMulticast);
      expect(s.ledger.pushRequests).toBe(s.thisRun.linePush);
      // A mail whose SES answer was lost (a loaded machine's timeout) is counted uncertain, never resent.
      expect(s.ledger.emails + s.ledger.emailsUncertain).toBe(s.thisRun.emails);
      expect(s.thisRun.lineErrors).toBe(0);
    }
  });

  it('sends nothing when the same day runs again', async () => {
    const again = await runDelivery(stack, { date: DATE });
    for (const s of again) {
      expect(s.thisRun).toEqual({ lineMulticast: 0, linePush: 0, lineDuplicates: 0, lineErrors: 0, emails: 0 });
      expect(s.ledger).toEqual(first.find((f) => f.tenantId === s.tenantId)?.ledger);
    }
  });
});
