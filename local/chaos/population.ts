// The chaos run's own world: a library whose every text names its slot (`M123`, `C45`, `MP126`, `B1`), a tenant
// template, and a seeded population of readers relative to the delivery date. The oracle (oracle.ts) reads
// these and its own date arithmetic (calendar.ts); nothing here calls the domain functions under test.
import { createHash } from 'node:crypto';
import type { ContentItem, ContentLibrary } from '../../schemas/content';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { bucketOfAnchor } from '../../lambdas/domain/shard';
import type { ReaderKeys } from '../../lambdas/services/reader-keys';
import { addDays } from './calendar';
import type { Rng } from './rng';

export const CHAOS_LIBRARY_ID = 'chaos-lib';
export const DEFAULT_NICKNAME = 'あかちゃん';

/** The childcare cadence of the chaos library: daily to day 100, then every 3, 7 and 14 days. */
export function childcareCadence(): number[] {
  const days: number[] = [];
  for (let d = 0; d <= 100; d++) days.push(d);
  for (let d = 103; d <= 365; d += 3) days.push(d);
  for (let d = 372; d <= 730; d += 7) days.push(d);
  for (let d = 744; d <= 1094; d += 14) days.push(d);
  return days;
}

/** Every text names its slot, so what a reader received says which slot the pipeline chose. */
export function chaosLibrary(): ContentLibrary {
  const items: ContentItem[] = [];
  for (let day = 28; day <= 293; day++) {
    items.push({
      track: 'maternity',
      day,
      audience: 'parent',
      text: day % 10 === 0 ? `M${day} {nickname}` : `M${day}`,
    });
    if (day % 7 === 0) items.push({ track: 'maternity', day, audience: 'partner', text: `MP${day}` });
  }
  for (const day of childcareCadence())
    items.push({
      track: 'childcare',
      day,
      audience: 'parent',
      text: day % 10 === 0 ? `C${day} {nickname}` : `C${day}`,
    });
  return { libraryId: CHAOS_LIBRARY_ID, language: 'ja', sample: true, notice: 'chaos library: slot names', items };
}

export const CHAOS_OVERLAYS: TenantConfig['overlays'] = [
  { track: 'maternity', day: 140, mode: 'append', text: 'OM140' },
  { track: 'childcare', day: 60, mode: 'replace', audience: 'parent', text: 'OC60' },
  { track: 'childcare', day: 120, mode: 'append', audience: 'partner', text: 'OCP120' },
];

export function chaosTenant(tenantId: string, shardCount: number): TenantConfig {
  return {
    tenantId,
    name: `カオス${tenantId.slice(-6)}`,
    timeZone: 'Asia/Tokyo',
    deliveryTime: '07:30',
    shardCount,
    retentionDays: 90,
    library: CHAOS_LIBRARY_ID,
    defaultNickname: DEFAULT_NICKNAME,
    line: { enabled: true, secretName: `chaos/${tenantId}/line` },
    email: { enabled: true, from: `${tenantId}@chaos.example.jp`, unsubscribeBaseUrl: 'https://chaos.example.jp' },
    birthdayMessages: { '1': 'B1 {nickname}', '2': 'B2 {nickname}', '3': 'B3 {nickname}' },
    overlays: CHAOS_OVERLAYS,
    consultation: [{ name: 'カオス相談窓口', phone: '000-0000-0000' }],
    wording: {},
  } as TenantConfig;
}

export interface Reader {
  /** LINE user id or email address. */
  address: string;
  channel: 'line' | 'email';
  readerKey: string;
  subscriptions: Subscription[];
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
const NICKNAMES = ['はな', 'ゆう', 'そら', 'りん', 'あおい', 'めい', 'はる'];

/**
 * A few hundred readers spread over both tracks and beyond their ends, on LINE and email; partners linked to
 * a family, twins, a toddler with a new pregnancy; stopped, paused, lost, not yet started and paused-until
 * subscriptions, so the oracle also sees who must get nothing.
 */
export function chaosPopulation(tenantId: string, count: number, date: IsoDate, rng: Rng, keys: ReaderKeys): Reader[] {
  const readers: Reader[] = [];
  const make = (channel: 'line' | 'email', i: number): Reader => {
    const address = channel === 'line' ? `U${hex(`${tenantId}:${i}`)}` : `r${i}@${tenantId}.example.jp`;
    const readerKey = channel === 'line' ? keys.line(address) : keys.email(address);
    return { address, channel, readerKey, subscriptions: [] };
  };
  for (let i = 0; readers.length < count; i++) {
    const reader = make(rng.chance(0.12) ? 'email' : 'line', i);
    const maternity = rng.chance(0.5);
    const anchorDate = maternity ? addDays(date, 280 - rng.int(20, 300)) : addDays(date, -rng.int(0, 1100));
    const roll = rng.next();
    const sub: Subscription = {
      tenantId,
      readerKey: reader.readerKey,
      subscriptionId: `s${i}`,
      channel: reader.channel,
      address: reader.address,
      track: maternity ? 'maternity' : 'childcare',
      anchorDate,
      audience: 'parent',
      nickname: rng.chance(0.5) ? rng.pick(NICKNAMES) : undefined,
      status: roll < 0.03 ? 'stopped' : roll < 0.05 ? 'paused' : roll < 0.06 ? 'lost' : 'active',
      registeredOn: roll > 0.98 ? addDays(date, 1) : addDays(date, -rng.int(0, 30)),
      pausedUntil: roll > 0.95 && roll <= 0.98 ? addDays(date, rng.int(0, 3)) : undefined,
      familyId: `f${i}`,
      bucket: bucketOfAnchor(anchorDate),
      version: 0,
      ...(roll < 0.03 ? { stoppedReason: 'reader' as const } : {}),
      ...(reader.channel === 'email'
        ? { unsubscribeToken: hex(`unsub:${reader.address}`), tokenVersion: hex(`tv:${reader.address}`).slice(0, 16) }
        : {}),
    };
    reader.subscriptions.push(sub);
    readers.push(reader);
    const extra = rng.next();
    if (extra < 0.04) {
      reader.subscriptions.push({
        ...sub,
        subscriptionId: `s${i}-twin`,
        nickname: rng.pick(NICKNAMES),
        familyId: `f${i}t`,
      });
    } else if (extra < 0.08 && !maternity) {
      reader.subscriptions.push({
        ...sub,
        subscriptionId: `s${i}-next`,
        track: 'maternity',
        anchorDate: addDays(date, 280 - rng.int(28, 250)),
        nickname: undefined,
        familyId: `f${i}n`,
      });
    } else if (extra < 0.25 && reader.channel === 'line' && readers.length < count) {
      const partner = make('line', 1_000_000 + i);
      partner.subscriptions.push({
        ...sub,
        readerKey: partner.readerKey,
        address: partner.address,
        subscriptionId: `s${i}-p`,
        audience: 'partner',
        nickname: sub.nickname,
        bucket: bucketOfAnchor(anchorDate),
      });
      readers.push(partner);
    }
  }
  return readers;
}
