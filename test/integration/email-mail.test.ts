import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { SubscriptionRepository } from '../../lambdas/adapters/subscription-repository';
import { addDays } from '../../lambdas/domain';
import { bucketOfAnchor } from '../../lambdas/domain/shard';
import { verifyEmailToken } from '../../lambdas/services/email-tokens';
import { LOCAL_SES_EVENTS_PATH } from '../../local/api-server';
import { runDelivery, sesEmails, type SesStoredEmail, type TenantRunSummary } from '../../local/stack';
import { bounceEvent, complaintEvent } from '../../local/ses-events';
import { startTestStack, type TestStack } from './helpers';

const DAY1: IsoDate = '2026-12-01';
const DAY2 = addDays(DAY1, 1);
jest.setTimeout(180_000);

/**
 * The daily mail on the local stack, read back from the SES emulator, and SES's bounce and complaint events
 * delivered to the bundled email-events handler (the emulator emits none): suppressed readers get nothing the
 * next day and are counted as such.
 */
describe('the daily mail and its bounces, on the real emulators', () => {
  let stack: TestStack;
  let tenantId: string;
  let from: string;
  const readers = ['bounce', 'complaint', 'transient', 'fine'] as const;
  const addressOf = (who: (typeof readers)[number]) => `${who}.${tenantId}@example.jp`;
  let day1: TenantRunSummary[];
  let day1Mail: SesStoredEmail[];

  afterAll(async () => {
    await stack.api?.close();
  });

  beforeAll(async () => {
    // The local API serves the stand-in for the EventBridge rule (POST /local/ses-events).
    stack = await startTestStack('email-mail', { webhook: true });
    const tenant = stack.tenants.find((t) => t.email?.enabled)!;
    tenantId = tenant.tenantId;
    from = tenant.email!.from;
    const repo = new SubscriptionRepository(stack.db, stack.tables.data);
    // Pregnant readers due on both days (gestational day 100 on DAY1), each on email with signed links.
    const anchorDate = addDays(DAY1, 180);
    for (const [i, who] of readers.entries()) {
      const address = addressOf(who);
      const sub: Subscription = {
        tenantId,
        readerKey: stack.readerKeys.email(address),
        subscriptionId: `s-${who}`,
        channel: 'email',
        address,
        track: 'maternity',
        anchorDate,
        audience: 'parent',
        nickname: `<b>${who}</b>`,
        status: 'active',
        registeredOn: addDays(DAY1, -10),
        familyId: `f-${i}`,
        bucket: bucketOfAnchor(anchorDate),
        version: 0,
        tokenVersion: `tv-${who}`,
      };
      await repo.put(sub);
    }
    const since = Math.floor(Date.now() / 1000) - 1;
    day1 = await runDelivery(stack, { date: DAY1, schedules: [tenant] });
    day1Mail = (await sesEmails(stack.endpoints.ses, since)).filter((m) => m.from === from);
  });

  it('mails every reader once, with a text part and an HTML part carrying their messages, escaped', () => {
    expect(day1.flatMap((s) => s.problems)).toEqual([]);
    expect(
      day1Mail
        .map((m) => m.destination.to)
        .flat()
        .sort(),
    ).toEqual(readers.map(addressOf).sort());
    for (const m of day1Mail) {
      const who = m.destination.to[0]!.split('.')[0];
      expect(m.body.text).toContain(`<b>${who}</b>`);
      expect(m.body.html).toContain(`&lt;b&gt;${who}&lt;/b&gt;`);
      expect(m.body.html).not.toContain(`<b>${who}</b>`);
      expect(m.body.html).toMatch(/^<!DOCTYPE html>/);
    }
  });

  it('carries List-Unsubscribe with the reader’s own signed https link, and List-Unsubscribe-Post', () => {
    for (const m of day1Mail) {
      const header = (name: string) => m.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
      expect(header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
      const link = /^<(https:\/\/[^>]+\/email\/([a-z0-9-]+)\/unsubscribe\?token=([^>]+))>$/.exec(
        header('List-Unsubscribe') ?? '',
      );
      expect(link).not.toBeNull();
      expect(link![2]).toBe(tenantId);
      const verified = verifyEmailToken(stack.emailTokenKeys, decodeURIComponent(link![3]!), {
        tenantId,
        purpose: 'unsubscribe',
        now: Math.floor(Date.now() / 1000),
      });
      expect(verified.ok && verified.claims.readerKey).toBe(stack.readerKeys.email(m.destination.to[0]!));
      // The same link is visible in both parts, next to the preferences link.
      expect(m.body.text).toContain(link![1]);
      expect(m.body.text).toMatch(/\/preferences\?token=/);
      expect(m.body.html).toContain('配信を停止する');
    }
  });

  describe('after SES reports a permanent bounce, a complaint and one transient bounce', () => {
    let day2: TenantRunSummary[];
    let day2Mail: SesStoredEmail[];
    const outcomes: unknown[] = [];

    beforeAll(async () => {
      const events = [
        bounceEvent('Permanent', { to: [addressOf('bounce')], tenant: tenantId, source: from }),
        complaintEvent({ to: [addressOf('complaint')], tenant: tenantId, source: from }),
        bounceEvent('Transient', { to: [addressOf('transient')], tenant: tenantId, source: from, feedbackId: 'fb-1' }),
        // A redelivery of the permanent bounce changes nothing more.
        bounceEvent('Permanent', { to: [addressOf('bounce')], tenant: tenantId, source: from }),
      ];
      for (const e of events) {
        const res = await fetch(`${stack.api!.url}${LOCAL_SES_EVENTS_PATH}`, {
          method: 'POST',
          body: JSON.stringify(e),
        });
        expect(res.status).toBe(200);
        outcomes.push(await res.json());
      }
      const since = Math.floor(Date.now() / 1000) - 1;
      const tenant = stack.tenants.find((t) => t.tenantId === tenantId)!;
      day2 = await runDelivery(stack, { date: DAY2, schedules: [tenant] });
      // `since` has one-second steps: day 1's mail, sent within the last second, is left out by content.
      const day1 = new Set(day1Mail.map((m) => JSON.stringify(m)));
      day2Mail = (await sesEmails(stack.endpoints.ses, since)).filter(
        (m) => m.from === from && !day1.has(JSON.stringify(m)),
      );
    });

    it('the handler suppresses the bounced and the complaining reader, and counts the transient bounce', () => {
      expect(outcomes).toEqual([
        expect.objectContaining({ suppressed: 1 }),
        expect.objectContaining({ suppressed: 1 }),
        expect.objectContaining({ suppressed: 0, transientCounted: 1 }),
        expect.objectContaining({ suppressed: 0, alreadySuppressed: 1 }),
      ]);
    });

    it('the next day mails only the readers still deliverable, and counts the suppressed ones', () => {
      expect(day2.flatMap((s) => s.problems)).toEqual([]);
      expect(
        day2Mail
          .map((m) => m.destination.to)
          .flat()
          .sort(),
      ).toEqual([addressOf('fine'), addressOf('transient')].sort());
      const ledger = day2.find((s) => s.tenantId === tenantId)!.ledger;
      expect(ledger.suppressed).toBe(2);
      expect(ledger.emails).toBe(2);
    });

    it('keeps no address in any key of the suppression records', async () => {
      const items = (await stack.db.send(new ScanCommand({ TableName: stack.tables.data }))).Items ?? [];
      const records = items.filter((i) => i.sk === 'SUPPRESSION');
      expect(records).toHaveLength(3);
      for (const r of records) {
        expect(String(r.pk)).not.toContain('@');
        expect(JSON.stringify(r)).not.toContain('@example.jp');
      }
    });
  });
});
