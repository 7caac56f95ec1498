// `hagukumi preview`: day by day, the stage label and exactly what the pipeline would send a reader, computed by
// the code the shard worker plans with (resolveReader: library, overlays, announcements, birthday greetings,
// merged into at most 5 LINE messages) with the tenant's broadcasts on their day (read from the running local
// stack, or a deployed Content table). Survey invitations need the stored invitations and are not shown.
import type { Audience, IsoDate, Track } from '../schemas/common';
import type { ContentItem } from '../schemas/content';
import type { TenantConfig } from '../schemas/tenant';
import type { Broadcast } from '../schemas/broadcast';

export interface PreviewDay {
  date: IsoDate;
  stage: string;
  messages: string[];
}

export interface PreviewOptions {
  track: Extract<Track, 'maternity' | 'childcare'>;
  anchorDate: IsoDate;
  from: IsoDate;
  days: number;
  audience: Audience;
  nickname?: string;
}

export async function previewDays(
  tenant: TenantConfig,
  items: readonly ContentItem[],
  o: PreviewOptions,
  broadcasts: readonly Broadcast[] = [],
): Promise<PreviewDay[]> {
  const { addDays, libraryIndexFor, resolveReader, stageLabel } = await import('../lambdas/domain');
  const ctx = { tenant, library: libraryIndexFor(items), broadcasts };
  const out: PreviewDay[] = [];
  for (let i = 0; i < o.days; i++) {
    const date = addDays(o.from, i);
    const subscription = {
      tenantId: tenant.tenantId,
      readerKey: 'preview',
      subscriptionId: 'preview',
      channel: 'line' as const,
      address: 'preview',
      track: o.track,
      anchorDate: o.anchorDate,
      audience: o.audience,
      nickname: o.nickname,
      status: 'active' as const,
      registeredOn: o.from,
      familyId: 'preview',
      bucket: 0,
      version: 0,
    };
    out.push({
      date,
      stage: stageLabel(o.track, o.anchorDate, date),
      messages: resolveReader([subscription], date, ctx),
    });
  }
  return out;
}

export function formatPreview(tenant: TenantConfig, days: readonly PreviewDay[]): string {
  const lines: string[] = [];
  for (const d of days) {
    lines.push(
      `${d.date}  ${d.stage}  ${d.messages.length === 0 ? '(nothing is sent)' : `${d.messages.length} message${d.messages.length === 1 ? '' : 's'}`}`,
    );
    d.messages.forEach((m, i) => lines.push(`  [${i + 1}] ${m.replace(/\n/g, '\n      ')}`));
  }
  return `${tenant.name} (${tenant.tenantId})\n${lines.join('\n')}`;
}
