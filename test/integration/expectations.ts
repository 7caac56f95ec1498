import type { IsoDate } from '../../schemas/common';
import type { ContentLibrary } from '../../schemas/content';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { buildLibraryIndex, emailSubject, groupByReader, resolveReader } from '../../lambdas/domain';
import type { TestStack } from './helpers';
import type { LineEmulatorClient } from '../../local/line-emulator/client';
import { sesEmails } from '../../local/stack';

/** What each reader should receive on `date`, computed by the domain from the seeded subscriptions. */
export function expectedTexts(
  tenant: TenantConfig,
  subs: Subscription[],
  library: ContentLibrary,
  date: IsoDate,
): Map<string, { channel: string; address: string; texts: string[] }> {
  const ctx = { tenant, library: buildLibraryIndex(library.items) };
  const out = new Map<string, { channel: string; address: string; texts: string[] }>();
  for (const group of groupByReader(subs)) {
    const texts = resolveReader(group, date, ctx);
    const first = group[0]!;
    if (texts.length > 0) out.set(first.readerKey, { channel: first.channel, address: first.address, texts });
  }
  return out;
}

/** For each LINE user: the requests that delivered to them (a multicast or push counts once per user). */
export async function lineDeliveriesByUser(
  line: LineEmulatorClient,
  channelId: string,
): Promise<Map<string, { requests: number; texts: string[] }>> {
  const deliveries = await line.deliveries(channelId);
  const out = new Map<string, { requests: number; texts: string[] }>();
  for (const [userId, messages] of deliveries) {
    const requests = new Set(messages.map((m) => m.requestId));
    out.set(userId, { requests: requests.size, texts: messages.map((m) => String(m.message.text)) });
  }
  return out;
}

/** Mail from one sender, optionally only that of one day (by its subject). */
export async function emailsTo(
  sesEndpoint: string,
  from: string,
  subject?: string,
): Promise<Map<string, { count: number; text: string }>> {
  const out = new Map<string, { count: number; text: string }>();
  for (const e of await sesEmails(sesEndpoint)) {
    if (e.from !== from || (subject !== undefined && e.subject !== subject)) continue;
    for (const to of e.destination.to) out.set(to, { count: (out.get(to)?.count ?? 0) + 1, text: e.body.text ?? '' });
  }
  return out;
}

/** Every due reader got exactly their messages in exactly one request (or one email); nobody else got anything. */
export async function expectExactlyOnce(
  stack: TestStack,
  population: Map<string, Subscription[]>,
  date: IsoDate,
  library: ContentLibrary,
) {
  for (const tenant of stack.tenants) {
    const expected = expectedTexts(tenant, population.get(tenant.tenantId) ?? [], library, date);
    const line = await lineDeliveriesByUser(stack.line, stack.channels.get(tenant.tenantId)?.channelId!);
    const mail = await emailsTo(stack.endpoints.ses, tenant.email?.from!, emailSubject(tenant, date));
    const lineWant = [...expected.values()].filter((e) => e.channel === 'line');
    expect(new Map([...line].sort())).toEqual(
      new Map(lineWant.map((w) => [w.address, { requests: 1, texts: w.texts }] as const).sort()),
    );
    const mailWant = [...expected.values()].filter((e) => e.channel === 'email');
    expect([...mail.keys()].sort()).toEqual(mailWant.map((w) => w.address).sort());
    for (const [, m] of mail) expect(m.count).toBe(1);
  }
}
