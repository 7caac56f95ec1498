import type { IsoDate } from '../../schemas/common';
import { demoSubscriptions } from '../../local/seed';
import { runDelivery, seedDemo } from '../../local/stack';
import { expectExactlyOnce } from './expectations';
import { startTestStack, testLibrary } from './helpers';

jest.setTimeout(180_000);

// One stack per test file: the handlers build their dependencies once per module instance, like a Lambda container.
describe('a storm of 429 and 500 answers', () => {
  it('ends with everyone delivered exactly once', async () => {
    const stack = await startTestStack('storm', { handlerEnv: { LINE_RETRY_ATTEMPTS: '4', LINE_RETRY_BASE_MS: '2' } });
    const date: IsoDate = '2026-12-01';
    const seeded = await seedDemo(stack, 300, date);
    const population = new Map(
      stack.tenants.map(
        (t) => [t.tenantId, demoSubscriptions(t, seeded.get(t.tenantId) ?? 0, date, stack.readerKeys)] as const,
      ),
    );
    for (const channel of stack.channels.values())
      await stack.line.setFaults({ rate429: 0.3, rate500: 0.2, seed: 42 }, channel.channelId);
    const summary = await runDelivery(stack, { date });
    await expectExactlyOnce(stack, population, date, testLibrary());
    expect(summary.reduce((n, s) => n + s.thisRun.lineErrors, 0)).toBeGreaterThan(20);
    for (const s of summary) expect(s.ledger.failures).toBe(0);
  });
});
