// bench/results.json and BENCHMARKS.md from the measured figures: costs at list prices, ratios to the baseline,
// the goals of issue 12 with what binds, and a chart (Vega-Lite, rendered to SVG without a browser).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARD_WORKER_MEMORY_MB } from '../lib/stateless-stack';
import type { BundleFigures } from './bundles';
import type { Counts } from './counting';
import type { DayFigures } from './delivery';
import type { NationalResult } from './national';
import type { ScenarioResult } from './run';

/** List prices (USD). DynamoDB on-demand from ../shared/DESIGN.md; SQS standard and Lambda arm64 from AWS's pages. */
export const PRICES = {
  readUnit: 0.125 / 1e6,
  writeUnit: 0.625 / 1e6,
  sqsRequest: 0.4 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
};
/** The shard worker's memory, from the CDK stack itself (lib/stateless-stack.ts), so the two cannot drift apart. */
export const SHARD_WORKER_GB = SHARD_WORKER_MEMORY_MB / 1024;
/** Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB [AWS]. */
const VCPU_SHARE = SHARD_WORKER_MEMORY_MB / 1769;
/**
 * Billed GB-s of a task from the CPU time it used: its wall time on Lambda is at least its CPU time over the
 * function's share of a vCPU. CPU time is what a loaded machine does not inflate (wall time here grew with the
 * other work on the machine and with DynamoDB Local and the emulators sharing its 2 cores); the waits for
 * DynamoDB and LINE that wall time adds on Lambda are overlapped by the worker's concurrent sends.
 */
export const gbSecondsOfCpu = (cpuMs: number) => (cpuMs / 1000 / VCPU_SHARE) * SHARD_WORKER_GB;

export interface CostParts {
  deliveries: number;
  counts: Counts;
  gbSeconds: number;
  invocations: number;
}

/** Dollars per 1 M deliveries, by service. */
export function costSplit(c: CostParts) {
  const perM = (dollars: number) => (dollars / c.deliveries) * 1e6;
  return {
    dynamoReads: perM(c.counts.readUnits * PRICES.readUnit),
    dynamoWrites: perM(c.counts.writeUnits * PRICES.writeUnit),
    sqs: perM(c.counts.sqsRequests * PRICES.sqsRequest),
    lambda: perM(c.gbSeconds * PRICES.lambdaGbSecondArm + c.invocations * PRICES.lambdaRequest),
  };
}

export function dollarsPerMillion(c: CostParts): number {
  return Object.values(costSplit(c)).reduce((a, b) => a + b, 0);
}

const sumMs = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const costOfDay = (d: DayFigures): CostParts => ({
  deliveries: d.deliveries,
  counts: d.counts,
  // The whole bench process's CPU over the day: our code and the in-process LINE, SQS and Secrets emulators, an
  // upper bound of the handlers' own (DynamoDB Local runs in its own JVM and is not counted).
  gbSeconds: gbSecondsOfCpu(d.processCpuMs),
  invocations: d.tasks + 1,
});
/** The same day priced at the shard tasks' wall time on this machine, for comparison. */
const wallCostOfDay = (d: DayFigures): CostParts => ({
  ...costOfDay(d),
  gbSeconds: (sumMs(d.taskMs) / 1000) * SHARD_WORKER_GB,
});
const addCosts = (xs: CostParts[]): CostParts => ({
  deliveries: xs.reduce((n, x) => n + x.deliveries, 0),
  counts: {
    readUnits: xs.reduce((n, x) => n + x.counts.readUnits, 0),
    writeUnits: xs.reduce((n, x) => n + x.counts.writeUnits, 0),
    dynamoRequests: xs.reduce((n, x) => n + x.counts.dynamoRequests, 0),
    sqsRequests: xs.reduce((n, x) => n + x.counts.sqsRequests, 0),
    byKind: {},
  },
  gbSeconds: xs.reduce((n, x) => n + x.gbSeconds, 0),
  invocations: xs.reduce((n, x) => n + x.invocations, 0),
});

/** Issue 12's goal: AWS dollars per 1 million LINE deliveries. */
const COST_GOAL = 0.05;
/** The parts of the cost, by their keys in `costSplit`, in the order the report lists them. */
const SERVICES = { dynamoReads: 'DynamoDB reads', dynamoWrites: 'DynamoDB writes', sqs: 'SQS', lambda: 'Lambda' };
const per1k = (x: number, deliveries: number) => (1000 * x) / Math.max(1, deliveries);
const f = (x: number, digits = 1) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
const n0 = (x: number) => f(x, 0);

export interface ReportInput {
  quick: boolean;
  machine: { cores: number; cpu: string; memoryGB: number; node: string; loadAverageAtStart: number };
  benchMinutes: number;
  /** Where the bench's own time went, part by part, in the order they ran (to keep the full run under 20 minutes). */
  phases: { part: string; seconds: number }[];
  domain: { subscriptions: number; ms: number; perSecond: number; readersDue: number; sends: number };
  bundles: BundleFigures[];
  scenarios: ScenarioResult[];
  national: NationalResult;
  nationalInputs: { deliveriesPerWorkerSecond: number; writeUnitsPerDelivery: number; workers: number };
  root: string;
}

function dayRow(d: DayFigures) {
  return {
    deliveries: d.deliveries,
    wallSeconds: d.wallSeconds,
    readersPerSecond: d.deliveries / d.wallSeconds,
    sends: d.sends,
    multicast: d.multicast,
    push: d.push,
    floor: d.floor,
    sendsOverFloor: d.sends / d.floor,
    timeFloorSeconds: d.timeFloorSeconds,
    overTimeFloor: d.wallSeconds / d.timeFloorSeconds,
    readUnitsPer1000: per1k(d.counts.readUnits, d.deliveries),
    writeUnitsPer1000: per1k(d.counts.writeUnits, d.deliveries),
    sqsRequestsPer1000: per1k(d.counts.sqsRequests, d.deliveries),
    handlerMsPer1000: per1k(sumMs(d.taskMs), d.deliveries),
    processCpuMsPer1000: per1k(d.processCpuMs, d.deliveries),
    tasks: d.tasks,
    missing: d.missing,
    doubled: d.doubled,
  };
}

/** A run's second-day DynamoDB units per 1,000 deliveries by operation and item kind, largest first. */
const unitsByKind = (s: ReportInput['scenarios'][number]) =>
  Object.fromEntries(
    Object.entries(s.lifted.counts.byKind)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => [k, per1k(v, s.lifted.deliveries)]),
  );

export function writeReport(input: ReportInput) {
  const { scenarios, national } = input;
  const goal = scenarios.find((s) => s.spec.floorGoal)!;
  const manyTenants = scenarios.reduce((a, s) => (s.spec.tenants > a.spec.tenants ? s : a));
  // Priced on each run's second day: the first also marks every seeded subscription that is already over as ended
  // (about 1.5 % of them at once, a backlog a running system clears on the day each one ends). Counts do not
  // depend on LINE's limits; the first day's price is in the table beside it.
  const oursCost = addCosts(scenarios.map((s) => costOfDay(s.lifted)));
  const withBaseline = scenarios.find((s) => s.baseline)!;
  const b = withBaseline.baseline!;
  const baselineCost: CostParts = {
    deliveries: b.deliveries,
    counts: b.counts,
    gbSeconds: gbSecondsOfCpu(b.processCpuMs),
    invocations: withBaseline.spec.tenants,
  };
  const ours = dayRow(withBaseline.limited);
  const awsDollarsPerMillion = dollarsPerMillion(oursCost);
  const awsDollarsPerMillionAtWallTime = dollarsPerMillion(addCosts(scenarios.map((s) => wallCostOfDay(s.lifted))));
  const awsDollarsPerMillionFirstDay = dollarsPerMillion(addCosts(scenarios.map((s) => costOfDay(s.limited))));
  const baselineDollarsPerMillion = dollarsPerMillion(baselineCost);
  const sendsOverFloor = goal.limited.sends / goal.limited.floor;
  const correctnessFailures: string[] = [];
  for (const s of scenarios) {
    for (const d of [s.limited, s.lifted])
      if (d.missing || d.doubled)
        correctnessFailures.push(
          `${s.spec.label} on ${d.date}: ${d.missing} due readers missing, ${d.doubled} doubled or unexpected`,
        );
    for (const w of s.webhook ?? [])
      if (w.registrationsLost || w.registrationsDoubled || w.repliesDoubled)
        correctnessFailures.push(
          `webhook at ${w.rate}/s: ${w.registrationsLost} lost, ${w.registrationsDoubled} doubled, ${w.repliesDoubled} replies doubled`,
        );
  }

  const results = {
    generatedAt: new Date().toISOString(),
    quick: input.quick,
    machine: input.machine,
    benchMinutes: input.benchMinutes,
    benchPhases: input.phases,
    sendsOverFloor,
    nationalMinutes: national.minutes,
    bindingLimit: national.bindingLimit,
    awsDollarsPerMillion,
    baselineDollarsPerMillion,
    awsDollarsPerMillionAtWallTime,
    awsDollarsPerMillionFirstDay,
    costSplit: { ours: costSplit(oursCost), baseline: costSplit(baselineCost) },
    unitsByKind: unitsByKind(goal),
    // The run of the most tenants: what a small town's shard costs beside a city's.
    manyTenants: { label: manyTenants.spec.label, unitsByKind: unitsByKind(manyTenants) },
    goals: {
      sendsOverFloor: { target: 1.05, met: sendsOverFloor <= 1.05 },
      nationalMinutes: { target: 10, met: national.minutes <= 10 },
      awsDollarsPerMillion: { target: COST_GOAL, met: awsDollarsPerMillion <= COST_GOAL },
    },
    domain: input.domain,
    bundles: input.bundles,
    scenarios: scenarios.map((s) => ({
      name: s.spec.name,
      label: s.spec.label,
      floorGoal: s.spec.floorGoal === true,
      tenants: s.spec.tenants,
      shardCount: s.spec.shardCount,
      subscriptions: s.spec.tenants * s.spec.subscriptionsPerTenant,
      seedSeconds: s.seedSeconds,
      limited: dayRow(s.limited),
      lifted: dayRow(s.lifted),
      dollarsPerMillion: dollarsPerMillion(costOfDay(s.limited)),
      secondDayDollarsPerMillion: dollarsPerMillion(costOfDay(s.lifted)),
    })),
    baseline: {
      scenario: withBaseline.spec.name,
      deliveries: b.deliveries,
      wallSeconds: b.wallSeconds,
      sends: b.sends,
      timeFloorSeconds: b.timeFloorSeconds,
      readUnitsPer1000: per1k(b.counts.readUnits, b.deliveries),
      writeUnitsPer1000: per1k(b.counts.writeUnits, b.deliveries),
      sqsRequestsPer1000: 0,
      gbSecondsPer1000: per1k(baselineCost.gbSeconds, b.deliveries),
      oursOverBaseline: {
        sendsPer1000: per1k(ours.sends, ours.deliveries) / per1k(b.sends, b.deliveries),
        readUnitsPer1000: ours.readUnitsPer1000 / per1k(b.counts.readUnits, b.deliveries),
        writeUnitsPer1000: ours.writeUnitsPer1000 / per1k(b.counts.writeUnits, b.deliveries),
        timeFloorPer1000: per1k(ours.timeFloorSeconds, ours.deliveries) / per1k(b.timeFloorSeconds, b.deliveries),
        wallSecondsPer1000: per1k(ours.wallSeconds, ours.deliveries) / per1k(b.wallSeconds, b.deliveries),
        dollarsPerMillion: awsDollarsPerMillion / baselineDollarsPerMillion,
      },
    },
    national: { ...national, inputs: input.nationalInputs },
    webhook: scenarios.flatMap((s) => s.webhook ?? []),
    prices: PRICES,
    correctnessFailures,
  };

  const md = markdown(input, results);
  writeFileSync(join(input.root, 'BENCHMARKS.md'), md);
  return { results, correctnessFailures, markdown: md };
}

type Results = ReturnType<typeof writeReport>['results'];

function markdown(input: ReportInput, r: Results): string {
  const m = r.machine;
  const yes = (x: boolean) => (x ? 'met' : '**not met**');
  const lines: string[] = [];
  const row = (cells: (string | number)[]) => lines.push(`| ${cells.join(' | ')} |`);
  const head = (cells: string[]) => {
    row(cells);
    row(cells.map(() => '---'));
  };
  lines.push(
    '# Benchmarks',
    '',
    `Written by \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC: ` +
      `${m.cores} cores (${m.cpu}), ${m.memoryGB} GB, Node ${m.node}, load average ${m.loadAverageAtStart} at the start` +
      `${m.loadAverageAtStart >= m.cores ? ' (a machine busy with other work)' : ''}, ${f(r.benchMinutes)} minutes in all. ` +
      'Everything runs in one Node process on ' +
      'the local emulators (DynamoDB Local in its own JVM); no figure below is typed in.',
    '',
    '## Goals (issue 12)',
    '',
  );
  head(['goal', 'target', 'measured', '']);
  row([
    `LINE sends over the floor, ${input.scenarios.find((s) => s.spec.floorGoal)!.spec.label}`,
    '≤ 1.05',
    f(r.sendsOverFloor, 3),
    yes(r.goals.sendsOverFloor.met),
  ]);
  row([
    'national delivery (5 M readers, 1,741 municipalities), projected',
    '≤ 10 min',
    `${f(r.nationalMinutes)} min; binds: ${r.bindingLimit}`,
    yes(r.goals.nationalMinutes.met),
  ]);
  row([
    'AWS cost per 1 M LINE deliveries (counted units and requests, measured CPU time)',
    `≤ $${f(COST_GOAL, 2)}`,
    `$${f(r.awsDollarsPerMillion, 4)} (baseline $${f(r.baselineDollarsPerMillion, 4)})`,
    yes(r.goals.awsDollarsPerMillion.met),
  ]);
  lines.push('', '## End to end', '');
  lines.push(
    `Fan-out, then ${input.nationalInputs.workers} shard workers at once, each like its own Lambda container (its own pacers at its tenant's share ` +
      "of the channel), through the real services and adapters; the LINE emulator enforces LINE's rate limits (multicast 200/s, push 2,000/s " +
      "per channel). The floor: every distinct message list once per 500 recipients, per channel, from the emulator's record. The time floor: " +
      'multicast / 200 + push / 2,000 seconds, slowest channel. "Lifted": the same readers on the next day with the emulator\'s limits ' +
      "and the pacers off, so what remains is ours. Units and requests per 1,000 deliveries; handler ms is the shard tasks' summed " +
      "wall time (pacing waits and the machine's load included); CPU ms is the bench process's CPU time (the handlers plus the " +
      'in-process LINE, SQS and Secrets emulators), from which Lambda is priced.',
    '',
  );
  head([
    'run',
    'deliveries',
    'wall s',
    'readers/s',
    'LINE sends',
    'floor',
    'sends/floor',
    'time floor s',
    'wall/time floor',
    'lifted: wall s',
    'lifted: readers/s',
    'RRU/1k',
    'WRU/1k',
    'SQS/1k',
    'handler ms/1k',
    'CPU ms/1k',
    '$/1M',
    'day 2: $/1M',
  ]);
  for (const s of r.scenarios) {
    const a = s.limited;
    const l = s.lifted;
    row([
      s.label,
      n0(a.deliveries),
      f(a.wallSeconds),
      n0(a.readersPerSecond),
      n0(a.sends),
      n0(a.floor),
      f(a.sendsOverFloor, 3),
      f(a.timeFloorSeconds),
      f(a.overTimeFloor, 2),
      f(l.wallSeconds),
      n0(l.readersPerSecond),
      f(a.readUnitsPer1000),
      f(a.writeUnitsPer1000),
      f(a.sqsRequestsPer1000),
      n0(a.handlerMsPer1000),
      n0(a.processCpuMsPer1000),
      `$${f(s.dollarsPerMillion, 4)}`,
      `$${f(s.secondDayDollarsPerMillion, 4)}`,
    ]);
  }
  const bl = r.baseline;
  const ours = r.scenarios.find((s) => s.name === bl.scenario)!.limited;
  lines.push('', `## Ours against a typical LINE bot (${r.scenarios.find((s) => s.name === bl.scenario)!.label})`, '');
  lines.push(
    "The baseline, in the same run on the same readers: one push per reader, one ledger item per delivery written before it (a per-message idempotency store), pushes paced at the channel's 2,000/s.",
    '',
  );
  head(['per 1,000 deliveries', 'ours', 'baseline', 'ours / baseline']);
  row([
    'LINE requests',
    f(per1k(ours.sends, ours.deliveries)),
    f(per1k(bl.sends, bl.deliveries)),
    f(bl.oursOverBaseline.sendsPer1000, 3),
  ]);
  row([
    'DynamoDB read units',
    f(ours.readUnitsPer1000),
    f(bl.readUnitsPer1000),
    f(bl.oursOverBaseline.readUnitsPer1000, 3),
  ]);
  row([
    'DynamoDB write units',
    f(ours.writeUnitsPer1000),
    f(bl.writeUnitsPer1000),
    f(bl.oursOverBaseline.writeUnitsPer1000, 3),
  ]);
  row([
    "LINE's time floor, s",
    f(per1k(ours.timeFloorSeconds, ours.deliveries), 3),
    f(per1k(bl.timeFloorSeconds, bl.deliveries), 3),
    f(bl.oursOverBaseline.timeFloorPer1000, 3),
  ]);
  row([
    'wall s',
    f(per1k(ours.wallSeconds, ours.deliveries), 3),
    f(per1k(bl.wallSeconds, bl.deliveries), 3),
    f(bl.oursOverBaseline.wallSecondsPer1000, 3),
  ]);
  row([
    'AWS $ per 1 M deliveries (all runs, day 2, for ours)',
    `$${f(r.awsDollarsPerMillion, 4)}`,
    `$${f(r.baselineDollarsPerMillion, 4)}`,
    f(bl.oursOverBaseline.dollarsPerMillion, 3),
  ]);
  lines.push('', `AWS $ per 1 M deliveries by service (ours over all runs' second days / baseline):`, '');
  head(['service', 'ours', 'baseline']);
  for (const [k, label] of Object.entries(SERVICES))
    row([
      k === 'lambda' ? `${label} (GB-s from measured CPU time + requests)` : label,
      `$${f(r.costSplit.ours[k as keyof typeof SERVICES], 4)}`,
      `$${f(r.costSplit.baseline[k as keyof typeof SERVICES], 4)}`,
    ]);
  lines.push(
    '',
    'Where DynamoDB units go (day 2, per 1,000 deliveries, by operation and item kind; the ten largest of each run):',
    '',
  );
  const goalLabel = r.scenarios.find((s) => s.floorGoal)!.label;
  head(['operation and item', goalLabel, r.manyTenants.label]);
  const top = (units: Record<string, number>) => Object.keys(units).slice(0, 10);
  for (const k of [...new Set([...top(r.unitsByKind), ...top(r.manyTenants.unitsByKind)])])
    row([`\`${k}\``, f(r.unitsByKind[k] ?? 0), f(r.manyTenants.unitsByKind[k] ?? 0)]);
  const nat = r.national;
  lines.push('', '## National projection', '');
  lines.push(
    `5,000,000 readers over 1,741 municipalities, sizes log-normal (largest ${n0(nat.sizes.largest)}, median ${n0(nat.sizes.median)}, ` +
      `${nat.sizes.over30k} of 30,000 or more, ${nat.sizes.under1k} under 1,000), one shard per 5,000 readers (${n0(nat.shards)} shard tasks). ` +
      `Inputs measured here: ${f(nat.inputs.deliveriesPerWorkerSecond, 0)} deliveries per worker-second with the limits lifted (16 workers ` +
      `sharing this machine's ${r.machine.cores} cores with the emulators), ${f(nat.inputs.writeUnitsPerDelivery, 3)} write units per delivery, the shard worker's ` +
      'cold import, sends per town from the planner on the demo population times the measured sends/floor. Limits: LINE 200 multicast and ' +
      '2,000 push requests/s per channel; the SQS event source starts at 5 workers and adds up to 300 a minute, to the maximum of ' +
      "1,000 [AWS]; a DynamoDB partition takes 1,000 write units/s (a town's day is one Delivery partition).",
    '',
  );
  head(['limit', 'alone it needs', '']);
  for (const [k, v] of Object.entries(nat.bounds))
    row([k, `${f(v / 60, 2)} min`, k === nat.bindingLimit ? '**binds**' : '']);
  row(['all together (simulated)', `${f(nat.minutes, 2)} min`, '']);
  lines.push(
    '',
    'Email is not in this figure: SES sending rates outside the sandbox are set per account and use case [AWS], so a share of email ' +
      'readers needs an account rate of (email readers / 600) per second to fit in 10 minutes.',
  );
  lines.push('', '## Webhook', '');
  lines.push(
    'Open-loop signed registration traffic (follow, track, date, nickname) on loopback from the LINE emulator in the bench process to ' +
      'the local API and the bundled handler in a process of their own (bench/webhook-server.ts) and DynamoDB Local, at most 32 readers ' +
      "mid-registration. Our CPU per request is that process's CPU time (handler plus the HTTP layer that plays API Gateway) over the requests.",
    '',
  );
  head([
    'aimed at',
    'achieved',
    'events',
    'p50 ms',
    'p99 ms',
    'max ms',
    'errors',
    'lost',
    'doubled',
    'replies missing',
    'replies doubled',
    'our CPU ms/request',
  ]);
  for (const w of r.webhook)
    row([
      `${w.rate}/s for ${w.seconds} s`,
      `${f(w.achievedPerSecond, 0)}/s`,
      n0(w.events),
      n0(w.p50Ms),
      n0(w.p99Ms),
      n0(w.maxMs),
      Object.entries(w.errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || '0',
      w.registrationsLost,
      w.registrationsDoubled,
      w.repliesMissing,
      w.repliesDoubled,
      w.cpuMsPerRequest === undefined ? '–' : f(w.cpuMsPerRequest, 2),
    ]);
  lines.push('', '## Domain and bundles', '');
  lines.push(
    `Resolve and plan, one core: ${n0(r.domain.subscriptions)} subscriptions in ${n0(r.domain.ms)} ms (${n0(r.domain.perSecond)} subscriptions/s).`,
    '',
  );
  head(['Lambda', 'bundle (minified)', 'cold import']);
  for (const b of r.bundles) row([b.name, `${f(b.bytes / 1024, 0)} KiB`, `${n0(b.coldImportMs)} ms`]);
  lines.push('', "## The bench's own time", '');
  lines.push(
    `${f(r.benchMinutes)} minutes in all (goal: under 20 minutes for the full run on 2 cores, about 2 for \`--quick\`), by part:`,
    '',
  );
  head(['part', 'seconds', 'share']);
  for (const ph of r.benchPhases)
    row([ph.part, f(ph.seconds), `${f((100 * ph.seconds) / (r.benchMinutes * 60), 0)} %`]);
  lines.push(
    '',
    '![Measured delivery time against the time floor LINE imposes, and the cost per million deliveries](bench/chart.svg)',
    '',
    whatBinds(r),
  );
  return `${lines.join('\n')}\n`;
}

/** The parts of results.json the closing notes read (so they can be rendered again from the file alone). */
export interface BindsInput {
  machine: { loadAverageAtStart: number; cores: number };
  scenarios: {
    label: string;
    /** The run the floor goal and `unitsByKind` are about. */
    floorGoal: boolean;
    secondDayDollarsPerMillion: number;
    limited: { sends: number; floor: number; sendsOverFloor: number; writeUnitsPer1000: number; wallSeconds: number };
    lifted: { wallSeconds: number; writeUnitsPer1000: number; sends: number; deliveries: number };
  }[];
  manyTenants: { label: string; unitsByKind: Record<string, number> };
  sendsOverFloor: number;
  unitsByKind: Record<string, number>;
  costSplit: { ours: Record<string, number> };
  awsDollarsPerMillion: number;
  awsDollarsPerMillionFirstDay: number;
  awsDollarsPerMillionAtWallTime: number;
  nationalMinutes: number;
  bindingLimit: string;
  national: { bounds: Record<string, number> };
}

/** Where the cost goal is missed: by how much, and the part that weighs most. */
const costDistance = (dollars: number, split: Record<string, number>) => {
  if (dollars <= COST_GOAL) return '';
  const [largest] = Object.entries(split)
    .filter(([k]) => k in SERVICES)
    .sort((a, b) => b[1] - a[1]);
  const binds = SERVICES[largest![0] as keyof typeof SERVICES];
  return `: over the $${f(COST_GOAL, 2)} goal by $${f(dollars - COST_GOAL, 4)}, and what binds is ${binds}`;
};

const costRange = (scenarios: BindsInput['scenarios']) => {
  const bySecondDay = [...scenarios].sort((a, b) => a.secondDayDollarsPerMillion - b.secondDayDollarsPerMillion);
  const [low, high] = [bySecondDay[0]!, bySecondDay[bySecondDay.length - 1]!];
  return `$${f(low.secondDayDollarsPerMillion, 4)} (${low.label}) to $${f(high.secondDayDollarsPerMillion, 4)} (${high.label})`;
};

/** What binds each goal, with the numbers of this run; the reasons come from the code and its unit tests. */
export function whatBinds(r: BindsInput): string {
  const goal = r.scenarios.find((s) => s.floorGoal)!;
  const ratios = r.scenarios.map((s) => `${f(s.limited.sendsOverFloor, 3)} (${s.label})`).join(', ');
  const batchUnitsOf = (units: Record<string, number>) =>
    Object.entries(units)
      .filter(([k]) => k.endsWith(' SH#P#B') && !k.startsWith('Query'))
      .reduce((n, [, v]) => n + v, 0);
  const batchUnits = batchUnitsOf(r.unitsByKind);
  const many = r.scenarios.find((s) => s.label === r.manyTenants.label)!;
  const sendsPer1k = (s: (typeof r.scenarios)[number]) => (1000 * s.lifted.sends) / s.lifted.deliveries;
  const share = (100 * batchUnits) / goal.lifted.writeUnitsPer1000;
  const liftedOverLimited =
    r.scenarios.reduce((n, s) => n + s.lifted.wallSeconds, 0) /
    r.scenarios.reduce((n, s) => n + s.limited.wallSeconds, 0);
  const c = r.costSplit.ours;
  return [
    '## What binds',
    '',
    `- **Sends over the floor: ${ratios}.** Readers of one anchor date share a bucket, and a reader whose ` +
      'subscriptions have different anchor dates (a toddler and a new pregnancy, a birth off the due date) is moved by ' +
      'the shard worker, right after the plan of their first day, to the bucket of their latest anchor date (the ' +
      'youngest, with the daily cadence), dated so that no shard sends twice that day (README, "Changing a tenant\'s ' +
      '`shardCount`"). The seeded population is stored as the worker leaves it (local/seed.ts). What remains above the ' +
      `floor (${n0(goal.limited.sends - goal.limited.floor)} sends for the ${goal.label}) is where a list is cut at a ` +
      "shard's edge: a stage's readers span two shards when their buckets do. `test/unit/domain/anchor-buckets.test.ts` " +
      'plans 50,000 readers with births and second children within 1.05x once moved, and ' +
      '`test/unit/services/deliver-shard.test.ts` runs the day of a move in both shard orders.',
    `- **Cost: $${f(c.dynamoWrites!, 4)} DynamoDB writes, $${f(c.lambda!, 4)} Lambda, $${f(c.dynamoReads!, 4)} reads, ` +
      `$${f(c.sqs!, 4)} SQS per 1 M deliveries${costDistance(r.awsDollarsPerMillion, c)}.** Plan batches take ${f(share, 0)} % of the write units: each batch is ` +
      'written once, up to 200 sends, brotli-compressed, naming readers by reader key only (no LINE id or address: ' +
      'nothing to erase there, and a third smaller); the reader keys (random base64) are most of what remains, the ' +
      `texts the rest. In the run of the most tenants (${many.label}) batches take ` +
      `${f(batchUnitsOf(r.manyTenants.unitsByKind))} units per 1,000 deliveries against ${f(batchUnits)}: a small ` +
      `town makes more LINE requests per delivery (${f(sendsPer1k(many), 0)} per 1,000 against ${f(sendsPer1k(goal), 0)}), ` +
      "each stored with its own texts: fewer of its readers share a stage's list. " +
      'Its outcome is an item of its own, and it goes by TTL rather than a delete (which DynamoDB ' +
      'bills at the item size again). The byShard reads are the whole subscription items of the shard (the index ' +
      'projects all attributes). ' +
      "Lambda GB-s are the bench process's CPU time over the day (our code plus the in-process LINE, SQS and Secrets " +
      "emulators: an upper bound of the handlers' own) over the function's share of a vCPU (1,024 of 1,769 MB): wall " +
      `time here includes DynamoDB Local and the emulators on the same ${r.machine.cores} cores (load average ` +
      `${r.machine.loadAverageAtStart} at the start), and the waits it would add on Lambda overlap across concurrent sends. The ` +
      `same runs priced at the shard tasks' wall time: $${f(r.awsDollarsPerMillionAtWallTime, 4)}; the days with LINE's ` +
      `limits lifted took ${f(100 * liftedOverLimited, 0)} % of the limited days' time. The goal's $${f(r.awsDollarsPerMillion, 4)} ` +
      "is the runs' second days together (their dollars over their deliveries); alone they range from " +
      `${costRange(r.scenarios)}: a small tenant pays more per delivery, its shards' fixed items spread over fewer readers. ` +
      'Second days, because the first also marks every seeded subscription already over as ended (all at ' +
      "once, a backlog a running system clears on the day each one ends, once in a subscription's " +
      `life): the first days together cost $${f(r.awsDollarsPerMillionFirstDay, 4)}.`,
    `- **National: ${f(r.nationalMinutes, 1)} minutes, bound by ${r.bindingLimit}** (${Object.entries(r.national.bounds)
      .map(([k, v]) => `${k} ${f(v / 60, 1)} min`)
      .join(', ')}).`,
    '',
  ].join('\n');
}
