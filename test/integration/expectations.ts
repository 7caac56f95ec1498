import type { IsoDate } from '../../schemas/common';
import type { ContentLibrary } from '../../schemas/content';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { buildLibraryIndex, resolveReader } from '../../lambdas/domain';
import type { LineEmulatorClient } from '../../local/line-emulator/client';
import { sesEmails } from '../../local/stack';

/** What each reader should receive on `date`, computed by the domain from the seeded subscriptions. */
export function expectedTexts(tenant: TenantConfig, subs: Subscription[], library: ContentLibrary, date: IsoDate): Map<string, { channel: string; address: string; texts: string[] }> {
  const ctx = { tenant, library: buildLibraryIndex(library.items) };
  const byReader = new Map<string, Subscription[]>();
  for (const s of subs) byReader.set(s.readerKey, [...(byReader.get(s.readerKey) ?? []), s]);
  const out = new Map<string, { channel: string; address: string; texts: string[] }>();
  for (const [readerKey, group] of byReader) {
    const texts = resolveReader(group, date, ctx);
    const first = group[0] as Subscription;
    if (texts.length > 0) out.set(readerKey, { channel: first.channel, address: first.address, texts });
  }
  return out;
}

/** For each LINE user: the requests that delivered to them (a multicast or push counts once per user). */
export async function lineDeliveriesByUser(line: LineEmulatorClient, channelId: string): Promise<Map<string, { requests: number; texts: string[] }>> {
  const deliveries = await line.deliveries(channelId);
  const out = new Map<string, { requests: number; texts: string[] }>();
  for (const [userId, messages] of deliveries) {
    const requests = new Set(messages.map((m) => m.requestId));
    out.set(userId, { requests: requests.size, texts: messages.map((m) => String(m.message.text)) });
  }
  return out;
}

export async function emailsTo(sesEndpoint: string, from: string): Promise<Map<string, { count: number; text: string }>> {
  const out = new Map<string, { count: number; text: string }>();
  for (const e of await sesEmails(sesEndpoint)) {
    if (e.from !== from) continue;
    for (const to of e.destination.to) out.set(to, { count: (out.get(to)?.count ?? 0) + 1, text: e.body.text ?? '' });
  }
  return out;
}
