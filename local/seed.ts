import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../schemas/common';
import type { Subscription } from '../schemas/subscription';
import type { TenantConfig } from '../schemas/tenant';
import { batchPut } from '../lambdas/adapters/batch-write';
import { subscriptionItem } from '../lambdas/adapters/subscription-repository';
import { addDays } from '../lambdas/domain';
import { bucketOfAnchor, readerBucket } from '../lambdas/domain/shard';
import type { ReaderKeys } from '../lambdas/services/reader-keys';

/** Deterministic pseudo-random numbers (mulberry32), so a seed gives the same demo population every time. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
export const demoLineUserId = (tenantId: string, i: number) => `U${hex(`${tenantId}:${i}`)}`;
const NICKNAMES = [
  'はなちゃん',
  'ゆうくん',
  'そらちゃん',
  'りんちゃん',
  'あおいくん',
  'めいちゃん',
  'はるくん',
  'ひなちゃん',
  'こうたくん',
  'さくらちゃん',
];

/**
 * A demo population spread over every stage of both tracks, relative to `date`: pregnancies from before
 * 4w0d to past 41w6d, children from birth to past the 3rd birthday; LINE and email readers; partners linked
 * to a family; twins and a toddler with a new pregnancy; a few paused and stopped subscriptions.
 */
export function demoSubscriptions(
  tenant: TenantConfig,
  count: number,
  date: IsoDate,
  keys: ReaderKeys,
): Subscription[] {
  const rnd = prng(parseInt(hex(tenant.tenantId).slice(0, 8), 16));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  const out: Subscription[] = [];
  let family = 0;
  for (let i = 0; out.length < count; i++) {
    const email = tenant.email?.enabled && rnd() < 0.2;
    const address = email ? `reader${i}@${tenant.tenantId}.example.jp` : demoLineUserId(tenant.tenantId, i);
    const readerKey = email ? keys.email(address) : keys.line(address);
    const maternity = rnd() < 0.5;
    // Gestational day 20..300 and age -0..1100 days: a few fall outside the tracks on purpose.
    const anchorDate = maternity
      ? addDays(date, 280 - (20 + Math.floor(rnd() * 281)))
      : addDays(date, -Math.floor(rnd() * 1101));
    const r = rnd();
    const status: Subscription['status'] = r < 0.02 ? 'stopped' : 'active';
    const base: Subscription = {
      tenantId: tenant.tenantId,
      readerKey,
      subscriptionId: `demo-${i}`,
      channel: email ? 'email' : 'line',
      address,
      track: maternity ? 'maternity' : 'childcare',
      anchorDate,
      audience: 'parent',
      nickname: rnd() < 0.5 ? pick(NICKNAMES) : undefined,
      status,
      registeredOn: addDays(date, -Math.floor(rnd() * 30)),
      pausedUntil: r > 0.97 ? addDays(date, 1 + Math.floor(rnd() * 14)) : undefined,
      familyId: `demo-family-${family++}`,
      bucket: bucketOfAnchor(anchorDate),
      version: 0,
      unsubscribeToken: email ? hex(`unsub:${address}`) : undefined,
      // Signed links in the daily mail are made with it (services/email-tokens.ts).
      tokenVersion: email ? hex(`tv:${address}`).slice(0, 16) : undefined,
    };
    out.push(base);
    const extra = rnd();
    if (extra < 0.03 && out.length < count) {
      // Twins: a second child with the same birthday or due date, and their own nickname.
      out.push({
        ...base,
        subscriptionId: `demo-${i}-twin`,
        nickname: pick(NICKNAMES),
        familyId: `demo-family-${family++}`,
      });
    } else if (extra < 0.06 && out.length < count && !maternity) {
      // A toddler and a new pregnancy. Both sit with the readers of the due date, where the shard worker moves
      // a reader after their first day (domain/shard.ts readerBucket): the population as it stands from then on.
      const next: Subscription = {
        ...base,
        subscriptionId: `demo-${i}-next`,
        track: 'maternity',
        anchorDate: addDays(date, 280 - (28 + Math.floor(rnd() * 200))),
        nickname: undefined,
        familyId: `demo-family-${family++}`,
      };
      const bucket = readerBucket([base, next]) ?? base.bucket;
      out[out.length - 1] = { ...base, bucket };
      out.push({ ...next, bucket });
    } else if (extra < 0.16 && out.length < count && !email) {
      // The partner, on LINE, following the same pregnancy or child.
      const partnerId = demoLineUserId(tenant.tenantId, 1_000_000 + i);
      const partnerKey = keys.line(partnerId);
      out.push({
        ...base,
        readerKey: partnerKey,
        address: partnerId,
        channel: 'line',
        subscriptionId: `demo-${i}-partner`,
        audience: 'partner',
        bucket: bucketOfAnchor(anchorDate),
        unsubscribeToken: undefined,
        tokenVersion: undefined,
      });
    }
  }
  return out;
}

const seedMarker = (tenantId: string) => ({ pk: 'LOCAL#SEED', sk: tenantId });

/** Seeds only an empty state: a tenant that was seeded before keeps its subscribers (and their history). */
export async function seedDemoSubscribers(
  db: DynamoDBDocumentClient,
  dataTable: string,
  tenant: TenantConfig,
  count: number,
  date: IsoDate,
  keys: ReaderKeys,
): Promise<number> {
  const marker = await db.send(new GetCommand({ TableName: dataTable, Key: seedMarker(tenant.tenantId) }));
  if (marker.Item) return 0;
  const subs = demoSubscriptions(tenant, count, date, keys);
  await batchPut(db, dataTable, subs.map(subscriptionItem), 8);
  await db.send(
    new PutCommand({
      TableName: dataTable,
      Item: { ...seedMarker(tenant.tenantId), count: subs.length, seededFor: date },
    }),
  );
  return subs.length;
}
