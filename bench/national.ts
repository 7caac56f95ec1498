// The national projection: 5 million readers over 1,741 municipalities, from figures measured in this run.
// A model, not a measurement: its inputs (per-worker rate, sends per reader by tenant size, write units per
// delivery, cold start) are measured here; the limits are AWS's and LINE's documented ones.
import { randomBytes } from 'node:crypto';
import type { IsoDate } from '../schemas/common';
import type { TenantConfig } from '../schemas/tenant';
import { buildLibraryIndex, groupByReader, planSends, resolveReader, type ReaderDelivery } from '../lambdas/domain';
import { LINE_CHANNEL_LIMITS } from '../lambdas/adapters/line-sender';
import { readerKeys } from '../lambdas/services/reader-keys';
import { demoSubscriptions, prng } from '../local/seed';
import type { ContentLibrary } from '../schemas/content';

/** [AWS] SQS event source, standard queue: 5 concurrent batches at first, then up to 300 more a minute. */
export const ESM_START_CONCURRENCY = 5;
export const ESM_RAMP_PER_MINUTE = 300;
/** [AWS] DynamoDB: a partition takes 1,000 write units a second (a tenant's day is one Delivery partition). */
export const PARTITION_WCU_PER_SECOND = 1000;

export interface NationalInputs {
  municipalities: number;
  readers: number;
  /** Deliveries one worker makes per second of its own time, LINE waits excluded (the lifted run). */
  deliveriesPerWorkerSecond: number;
  /** Shard worker import time of a new container (cold start), seconds. */
  coldStartSeconds: number;
  /** Delivery table write units per delivery (counted). */
  writeUnitsPerDelivery: number;
  /** Our sends over the floor, measured end to end; applied to the floor of each town's size. */
  sendsOverFloor: number;
  maxConcurrency: number;
  /** Readers per shard the sizing rule aims at. */
  readersPerShard: number;
}

export interface NationalResult {
  sizes: { largest: number; over30k: number; under1k: number; median: number };
  shards: number;
  minutes: number;
  bindingLimit: string;
  bounds: Record<string, number>;
}

/**
 * Town sizes: log-normal (sigma 1.6; a few cities far above the rest, most towns small), scaled to the total.
 * Japan's municipalities range from a few hundred people to Yokohama's 3.7 million, which this shape follows.
 */
export function municipalitySizes(count: number, total: number, seed = 1741): number[] {
  const rnd = prng(seed);
  const raw = Array.from({ length: count }, () => {
    const u = Math.max(rnd(), 1e-12);
    const v = rnd();
    return Math.exp(1.6 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  });
  const scale = total / raw.reduce((a, b) => a + b, 0);
  return raw.map((x) => Math.max(20, Math.round(x * scale)));
}

/**
 * Multicast and push requests of one town's day by its size, from the demo population through the domain
 * planner (the floor: all readers of a town planned together), on a grid of sizes; in between, interpolated.
 */
export function sendsBySize(
  tenant: TenantConfig,
  library: ContentLibrary,
  date: IsoDate,
  grid: number[],
): { size: number; multicast: number; push: number; due: number }[] {
  const keys = readerKeys(randomBytes(32).toString('hex'));
  const ctx = { tenant, library: buildLibraryIndex(library.items) };
  return grid.map((size) => {
    const readers: ReaderDelivery[] = [];
    for (const group of groupByReader(demoSubscriptions({ ...tenant, email: undefined }, size, date, keys))) {
      const texts = resolveReader(group, date, ctx);
      const f = group[0]!;
      if (texts.length && f.channel === 'line')
        readers.push({ readerKey: f.readerKey, channel: f.channel, address: f.address, texts });
    }
    const sends = planSends(readers, { emailSubject: '' });
    return {
      size,
      multicast: sends.filter((s) => s.kind === 'multicast').length,
      push: sends.filter((s) => s.kind === 'push').length,
      due: readers.length,
    };
  });
}

function interpolate(grid: { size: number; multicast: number; push: number; due: number }[], n: number) {
  const i = grid.findIndex((g) => g.size >= n);
  const scaleBy = (g: (typeof grid)[number], f: number) => ({
    multicast: g.multicast * f,
    push: g.push * f,
    due: g.due * f,
  });
  if (i === 0) return scaleBy(grid[0]!, n / grid[0]!.size);
  if (i < 0) return scaleBy(grid.at(-1)!, n / grid.at(-1)!.size);
  const a = grid[i - 1]!;
  const b = grid[i]!;
  const t = (Math.log(n) - Math.log(a.size)) / (Math.log(b.size) - Math.log(a.size));
  const mix = (x: number, y: number) =>
    Math.exp(Math.log(Math.max(x, 1e-9)) * (1 - t) + Math.log(Math.max(y, 1e-9)) * t);
  return { multicast: mix(a.multicast, b.multicast), push: mix(a.push, b.push), due: mix(a.due, b.due) };
}

interface Task {
  seconds: number;
}

/** Shard tasks through an event source that ramps up (5, then +300 a minute) to `max` workers; FIFO. */
export function simulateQueue(tasks: readonly Task[], max: number): number {
  const ends: number[] = [];
  let next = 0;
  let makespan = 0;
  const step = 0.05;
  // Time as a count of steps, so no rounding error builds up over an hour of them.
  for (let k = 0, t = 0; next < tasks.length || ends.length > 0; k++, t = k * step) {
    for (let j = ends.length - 1; j >= 0; j--) if (ends[j]! <= t + 1e-9) ends.splice(j, 1);
    const cap = Math.min(max, ESM_START_CONCURRENCY + (ESM_RAMP_PER_MINUTE / 60) * t);
    while (next < tasks.length && ends.length < Math.floor(cap)) {
      const end = t + tasks[next++]!.seconds;
      ends.push(end);
      makespan = Math.max(makespan, end);
    }
    if (t > 86_400) throw new Error('the queue never drains');
  }
  return makespan;
}

export function projectNation(
  inputs: NationalInputs,
  grid: { size: number; multicast: number; push: number; due: number }[],
): NationalResult {
  const sizes = municipalitySizes(inputs.municipalities, inputs.readers);
  const towns = sizes.map((n) => {
    const s = interpolate(grid, n);
    const multicast = s.multicast * inputs.sendsOverFloor;
    const push = s.push * inputs.sendsOverFloor;
    const shards = Math.min(256, Math.max(1, Math.ceil(n / inputs.readersPerShard)));
    const lineSeconds = multicast / LINE_CHANNEL_LIMITS.multicastPerSecond + push / LINE_CHANNEL_LIMITS.pushPerSecond;
    const computeSeconds = s.due / shards / inputs.deliveriesPerWorkerSecond;
    return { n, shards, lineSeconds, computeSeconds, writeUnits: s.due * inputs.writeUnitsPerDelivery };
  });
  // Each of a town's shards paces at 1/shards of its channel, so each takes the town's LINE time.
  const tasksOf = (withLine: boolean) =>
    towns.flatMap((t) =>
      Array.from({ length: t.shards }, () => ({
        seconds: inputs.coldStartSeconds + Math.max(t.computeSeconds, withLine ? t.lineSeconds : 0),
      })),
    );
  const full = simulateQueue(tasksOf(true), inputs.maxConcurrency);
  const bounds = {
    'LINE per channel': Math.max(...towns.map((t) => t.lineSeconds)),
    'Lambda concurrency and ramp-up': simulateQueue(tasksOf(false), inputs.maxConcurrency),
    'DynamoDB partition throughput': Math.max(...towns.map((t) => t.writeUnits / PARTITION_WCU_PER_SECOND)),
  };
  const [bindingLimit] = Object.entries(bounds).sort((a, b) => b[1] - a[1])[0]!;
  const sorted = [...sizes].sort((a, b) => a - b);
  return {
    sizes: {
      largest: sorted.at(-1)!,
      over30k: sizes.filter((n) => n >= 30_000).length,
      under1k: sizes.filter((n) => n < 1000).length,
      median: sorted[Math.floor(sorted.length / 2)]!,
    },
    shards: towns.reduce((a, t) => a + t.shards, 0),
    minutes: Math.max(full, bounds['DynamoDB partition throughput']) / 60,
    bindingLimit,
    bounds,
  };
}
