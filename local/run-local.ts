import { seedDemoAlerts } from './seed-console';
import { seedDemoInquiries } from './seed-inquiries';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar, Presets } from 'cli-progress';
import type { IsoDate } from '../schemas/common';
import type { TenantConfig } from '../schemas/tenant';
import { addDays } from '../lambdas/domain';
import { answerDemoSurveys } from './demo-answers';
import { startEmulators, type Emulators } from './emulators';
import { makeClock, momentOn, nextMoment, schedulesOf, type ClockMode, type Schedule } from './local-clock';
import { recordFile } from './line-emulator/record-file';
import { activeReaders, Simulation, type DayActivity, type SimulationOptions } from './simulation/simulate';
import { advanceSimulatedNow, setSimulatedNow } from './simulation/simulated-time';
import {
  loadRepoTenants,
  loadSampleLibrary,
  provision,
  REPO_ROOT,
  runAlertRetry,
  runDelivery,
  seedDemo,
  type Provisioned,
  type TenantRunSummary,
  persistentEmailTokenSecret,
  persistentReaderKeySecret,
} from './stack';

export interface LocalRunOptions {
  date: IsoDate;
  subscribers: number;
  reset: boolean;
  json?: string;
  recordLine?: string;
  /** State kept between runs (DynamoDB Local's files, endpoints.json); default `.local/`. */
  dataDir?: string;
  /** Where the tenant files are (default: the repository's tenants/). */
  tenantsDir?: string;
  /** Progress and summary go here; tests pass a sink. */
  out?: NodeJS.WritableStream;
  /**
   * Simulated readers act between the deliveries (local/simulation), and this process's clock shows the
   * simulated day (each delivery at its delivery time, the activity at noon). Without it, nothing but the
   * deliveries happens.
   */
  simulate?: SimulationOptions;
}

export interface DayResult {
  date: IsoDate;
  tenants: TenantRunSummary[];
  seconds: number;
}

export interface LocalRunResult extends DayResult {
  seeded: Record<string, number>;
  /** Every delivery of this run, the first day's included, in the order they ran. */
  days: DayResult[];
}

export interface LocalStack {
  emulators: Emulators;
  stack: Provisioned;
  tenants: TenantConfig[];
  result: LocalRunResult;
  /** Runs what the given schedules deliver on `date` (default: every tenant), prints and verifies it. */
  deliver(date: IsoDate, schedules?: Schedule[]): Promise<DayResult>;
  /** With `simulate`: the simulation, whose first day of activity has run after the first delivery. */
  simulation?: Simulation;
  /** With `simulate`: one day of activity on `date` (after its delivery), printed as one line. */
  simulateDay?(date: IsoDate): Promise<DayActivity>;
  stop(): Promise<void>;
}

/**
 * One line per phase. On a terminal a progress bar runs while the phase does; elsewhere (CI, a pipe, a log
 * file) only the closing line is written, so logs stay plain.
 */
function phase(out: NodeJS.WritableStream, label: string, total: number, unit: string) {
  const tty = (out as { isTTY?: boolean }).isTTY === true;
  const started = performance.now();
  let bar: SingleBar | undefined;
  if (tty) {
    bar = new SingleBar(
      { format: `${label} |{bar}| {value}/{total} ${unit}{extra}`, stream: out, hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(total, 0, { extra: '' });
  }
  return {
    tick: (extra?: string) => bar?.increment(1, { extra: extra ? ` | ${extra}` : '' }),
    update: (extra: string) => bar?.update({ extra: ` | ${extra}` }),
    seconds: () => ((performance.now() - started) / 1000).toFixed(1),
    done(line: string) {
      bar?.stop();
      out.write(`${line}\n`);
    },
  };
}

/** `npm start`: the whole system on the emulators, the first day's delivery through the real handlers. */
export async function startLocal(o: LocalRunOptions): Promise<LocalStack> {
  const out = o.out ?? process.stdout;
  const dataDir = o.dataDir ?? join(REPO_ROOT, '.local');
  // Tenant files first: a broken one fails with the same message as synth, before anything starts.
  const tenants = loadRepoTenants(o.tenantsDir);
  if (o.reset) rmSync(dataDir, { recursive: true, force: true });
  // The simulated clock goes in before the emulators start (they keep a reference to Date.now): just before
  // the first delivery time of the first date.
  const firstMoment = (date: IsoDate) =>
    new Date(Math.min(...schedulesOf(tenants).map((s) => momentOn(s, date).getTime())));
  if (o.simulate) setSimulatedNow(new Date(firstMoment(o.date).getTime() - 60_000));
  // Durations from the monotonic clock: a simulated run moves Date forward between phases.
  const t0 = performance.now();
  const starting = phase(out, 'starting emulators', 5, 'emulators');
  const emulators = await startEmulators({
    dynamoDataDir: join(dataDir, 'dynamodb'),
    onStarted: (name) => starting.tick(name),
  });
  starting.done(
    `emulators ready in ${starting.seconds()} s (DynamoDB Local, SQS, SES, Secrets Manager, LINE on 127.0.0.1)`,
  );
  try {
    const creating = phase(out, 'creating tables, queues, tenants', 1, 'steps');
    const stack = await provision({
      prefix: 'hagukumi-local',
      endpoints: emulators.endpoints,
      line: emulators.line,
      tenants,
      libraries: [loadSampleLibrary()],
      // Four workers drain the queue here (the poller's concurrency); each paces at its tenant's share of LINE's
      // per-channel limits, as in AWS.
      handlerEnv: {
        LINE_RETRY_BASE_MS: '50',
        SEND_CONCURRENCY: '16',
        SHARD_WORKER_MAX_CONCURRENCY: '4',
      },
      webhook: true,
      console: true,
      // Longer than a shard takes here, so a slow shard is not handed to a second worker while it runs; a
      // failed one comes back within a minute (AWS: 6 x the worker timeout).
      queue: { visibilityTimeoutSeconds: 60 },
      // Tables made for a simulated run have no TTL (see ProvisionOptions.timeToLive); kept tables keep theirs.
      timeToLive: !o.simulate,
      // The kept tables hold reader keys made with this secret.
      readerKeySecret: persistentReaderKeySecret(join(dataDir, 'reader-key')),
      emailTokenSecret: persistentEmailTokenSecret(join(dataDir, 'email-token')),
    });
    creating.done(
      `tables, queues, content and ${tenants.length} tenants (${tenants.map((t) => t.tenantId).join(', ')}) ready in ${creating.seconds()} s`,
    );

    const seeding = phase(out, 'seeding demo subscribers', tenants.length, 'tenants');
    const seeded = await seedDemo(stack, o.subscribers, o.date, (tenantId) => seeding.tick(tenantId));
    const seededTotal = [...seeded.values()].reduce((a, b) => a + b, 0);
    seeding.done(
      seededTotal > 0
        ? `seeded ${seededTotal} demo subscriptions relative to ${o.date} in ${seeding.seconds()} s`
        : 'kept the existing subscribers (--reset starts over)',
    );

    if (stack.console) {
      for (const t of tenants) await seedDemoAlerts(stack.db, stack.tables.data, t.tenantId, Date.now());
      for (const t of tenants)
        if (t.inquiries?.enabled) await seedDemoInquiries(stack.db, stack.tables.data, t.tenantId, Date.now());
      out.write(
        `staff console: ${stack.console.url}/inbox (sign-in at the local identity provider, ${stack.console.issuer})\n`,
      );
      for (const l of stack.console.logins)
        out.write(`  ${l.tenantId} ${l.role.padEnd(5)}  user ${l.username}  password ${l.password}\n`);
    }

    const days: DayResult[] = [];
    const deliver = async (date: IsoDate, schedules?: Schedule[]): Promise<DayResult> => {
      const delivering = schedules ? tenants.filter((t) => schedules.some((s) => sameSchedule(s, t))) : tenants;
      if (o.simulate) advanceSimulatedNow(firstMoment(date));
      const shards = delivering.reduce((n, t) => n + t.shardCount, 0);
      const bar = phase(out, `delivering ${date}`, shards, 'shards');
      let retried = 0;
      const summaries = await runDelivery(stack, {
        date,
        schedules,
        onShardDone: (_t, failed) => {
          if (failed) bar.update(`${++retried} retried`);
          else bar.tick();
        },
      });
      // The deployed 5-minute alert retry, played after each delivery (and every 5 minutes while it keeps running).
      const retried2 = await runAlertRetry();
      if (retried2.pending > 0)
        out.write(`screening alert mails owed: ${retried2.pending}, sent now: ${retried2.sent}\n`);
      const seconds = Number(bar.seconds());
      bar.done(
        `delivered ${date} for ${delivering.map((t) => `${t.tenantId} (${t.deliveryTime})`).join(', ')}: ${shards} shards in ${seconds} s${retried ? `, ${retried} retried` : ''}`,
      );
      const day = { date, tenants: summaries, seconds };
      days.push(day);
      out.write(formatSummary(day));
      out.write(formatVerification(day));
      return day;
    };

    const first = await deliver(o.date);
    let simulation: Simulation | undefined;
    let simulateDay: LocalStack['simulateDay'];
    // A state that holds a simulated run keeps only what its simulated readers did: demo answers written later
    // (stamped with the real clock, the PHQ-9's first run a month before) would land in its reports.
    const simulatedMarker = join(dataDir, 'simulated');
    if (o.simulate) {
      // The simulated readers answer in the chat themselves: no demo answers written straight to the table.
      writeFileSync(simulatedMarker, `${JSON.stringify({ from: o.date, seed: o.simulate.seed })}\n`);
      simulation = await Simulation.start(stack, o.simulate);
      const sim = simulation;
      simulateDay = async (date) => {
        advanceSimulatedNow(new Date(momentOn({ timeZone: 'Asia/Tokyo', deliveryTime: '12:00' }, date)));
        const acting = phase(out, `simulated readers acting on ${date}`, 1, 'days');
        const activity = await sim.day(date);
        const active = await activeReaders(stack);
        const sent = days.find((d) => d.date === date);
        acting.done(`${formatActivity(activity, active, sent).trimEnd()} (${acting.seconds()} s)\n`);
        return activity;
      };
      await simulateDay(o.date);
    } else if (existsSync(simulatedMarker)) {
      out.write('demo survey answers left out: this state holds a simulated run (--reset starts over)\n');
    } else {
      const answering = phase(out, 'demo readers answering surveys', tenants.length, 'tenants');
      let answers = 0;
      for (const tenant of tenants) {
        answers += await answerDemoSurveys(stack.db, stack.tables.data, tenant, o.date, Date.now());
        answering.tick(tenant.tenantId);
      }
      answering.done(
        `${answers} demo readers answered surveys (see: npm run hagukumi -- surveys results --tenant ${tenants[0]?.tenantId ?? 'ID'} --survey reader-survey-2027)`,
      );
    }
    const result: LocalRunResult = { ...first, seeded: Object.fromEntries(seeded), days };
    out.write(`total ${((performance.now() - t0) / 1000).toFixed(1)} s including emulator start-up\n`);
    const stop = async () => {
      if (o.json) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
      if (o.recordLine) {
        writeFileSync(o.recordLine, recordFile(emulators.line.requests()));
      }
      await stack.console?.close();
      await stack.api?.close();
      await emulators.stop();
    };
    return { emulators, stack, tenants, result, deliver, stop, simulation, simulateDay };
  } catch (err) {
    await emulators.stop();
    throw err;
  }
}

const sameSchedule = (a: Schedule, b: Schedule) => a.timeZone === b.timeZone && a.deliveryTime === b.deliveryTime;

export interface KeepDeliveringOptions {
  clock: ClockMode;
  /** The date the stack delivered when it started. */
  startDate: IsoDate;
  /** Stop after this many days, the start date included; otherwise run until `signal` aborts. */
  days?: number;
  signal: AbortSignal;
  out?: NodeJS.WritableStream;
}

/**
 * Delivers at each tenant's delivery time, as the deployed schedules do. On the real clock that is the next
 * delivery time in the tenant's time zone; on a fast clock the simulated time starts after the start date's
 * last delivery and runs one day per `secondsPerDay`, so every following day comes in order, none skipped.
 */
export async function keepDelivering(local: LocalStack, o: KeepDeliveringOptions): Promise<void> {
  const out = o.out ?? process.stdout;
  let schedules = schedulesOf(local.tenants);
  const lastDate = o.days === undefined ? undefined : addDays(o.startDate, o.days - 1);
  const startedAt =
    o.clock.kind === 'real'
      ? new Date()
      : new Date(Math.max(...schedules.map((s) => momentOn(s, o.startDate).getTime())));
  const clock = makeClock(o.clock, startedAt);
  let after = startedAt;
  // The alert retry's schedule (rate 5 minutes), on the real clock.
  const retry = setInterval(() => void runAlertRetry().catch(() => undefined), 5 * 60_000);
  retry.unref();
  o.signal.addEventListener('abort', () => clearInterval(retry));
  for (;;) {
    if (lastDate) schedules = schedules.filter((s) => nextMoment([s], after).date <= lastDate);
    if (schedules.length === 0 || o.signal.aborted) return;
    const next = nextMoment(schedules, after);
    after = next.at;
    // The start date was delivered at start-up, whatever the hour.
    if (next.date === o.startDate) continue;
    if (clock.realMsUntil(next.at) > 0)
      out.write(
        `next delivery: ${next.date} ${next.deliveryTime} ${next.timeZone}${o.clock.kind === 'fast' ? ' (simulated clock)' : ''}\n`,
      );
    // Short naps, so a changed system clock or a sleeping laptop does not push a delivery hours late.
    for (let ms = clock.realMsUntil(next.at); ms > 0; ms = clock.realMsUntil(next.at)) {
      try {
        await sleep(Math.min(ms, 30_000), undefined, { signal: o.signal });
      } catch {
        return;
      }
    }
    await local.deliver(next.date, [next]);
  }
}

/** Sends of a delivery: LINE requests (multicast and push) and mails this run made. */
export const sendsOf = (d: DayResult | undefined) =>
  (d?.tenants ?? []).reduce((n, t) => n + t.thisRun.lineMulticast + t.thisRun.linePush + t.thisRun.emails, 0);
const deliveredOf = (d: DayResult | undefined) => (d?.tenants ?? []).reduce((n, t) => n + t.ledger.recipients, 0);

/** One line per simulated day: counts only, never who. */
export function formatActivity(a: DayActivity, active: number, delivery: DayResult | undefined): string {
  const c = a.counts;
  return (
    `simulated ${a.date}: ${c.register} registered, ${c.birth} births, ${c.pause} paused, ${c.resume} resumed, ` +
    `${c.stop} stopped, ${c.unfollow} unfollowed, ${c.loss} losses, ${c.survey} surveys answered, ` +
    `${c.screening} screenings, ` +
    `${c.inquiry} inquiries (${c['faq-solved']} solved by the FAQ), ${c.reply} staff replies; ` +
    `${active} readers active; delivery: ${deliveredOf(delivery)} readers, ${sendsOf(delivery)} sends\n`
  );
}

/** The whole simulated run, for the final lines of `npm start -- --from D --days N`. */
export function formatSimulationSummary(sim: Simulation, days: DayResult[], active: number, seconds: number): string {
  const count = (k: string, f: (e: Simulation['events'][number]) => boolean = () => true) =>
    sim.events.filter((e) => e.kind === k && f(e)).length;
  const registered = (ch: string, aud: string) =>
    count('register', (e) => e.kind === 'register' && e.channel === ch && e.audience === aud);
  const unverified = days.filter((d) => d.tenants.some((t) => t.problems.length > 0)).length;
  return [
    `simulation: ${days.length} days from ${days[0]?.date ?? '?'} in ${seconds.toFixed(1)} s`,
    `  registrants ${count('register')} (LINE parents ${registered('line', 'parent')}, LINE partners ${registered('line', 'partner')}, email ${registered('email', 'parent')}), births ${count('birth')}, losses ${count('loss')}`,
    `  left ${count('stop') + count('unfollow')} (stopped ${count('stop')}, unfollowed ${count('unfollow')}), paused ${count('pause')}, resumed ${count('resume')}`,
    `  active readers at the end ${active}`,
    `  sends ${days.reduce((n, d) => n + sendsOf(d), 0)} (LINE requests and mails), deliveries ${days.reduce((n, d) => n + deliveredOf(d), 0)} (readers reached)`,
    `  screenings ${count('screening')} (${count('screening', (e) => e.kind === 'screening' && e.positive)} at or over the cut-off), survey answers ${count('survey')}, inquiries ${count('inquiry')} (and ${count('faq-solved')} solved by the FAQ), staff replies ${count('reply')}`,
    `  ${unverified === 0 ? `every day verified: each due reader got exactly one send` : `${unverified} days NOT VERIFIED (see above)`}`,
    `  ${sim.failedSteps.length} simulated steps the chat did not offer${sim.failedSteps.length ? `: ${[...new Set(sim.failedSteps)].slice(0, 5).join('; ')}` : ''}`,
    '',
  ].join('\n');
}

export function formatSummary(r: DayResult): string {
  const rows = r.tenants.map((t) => [
    t.tenantId,
    t.ledger.subscriptionsDue,
    t.dueReaders,
    t.ledger.recipients,
    t.ledger.multicastRequests,
    t.ledger.pushRequests,
    t.ledger.emails,
    t.ledger.failures,
    `${t.thisRun.lineMulticast}/${t.thisRun.linePush}/${t.thisRun.emails}`,
    `${t.thisRun.lineErrors}/${t.thisRun.lineDuplicates}`,
    t.seconds.toFixed(2),
  ]);
  const head = [
    'tenant',
    'subs due',
    'readers due',
    'delivered',
    'multicast',
    'push',
    'emails',
    'failures',
    'sent now (mc/push/mail)',
    'LINE 4xx-5xx/409',
    'seconds',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const fmt = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  ');
  return `
Delivery for ${r.date}
${fmt(head)}
${rows.map(fmt).join('\n')}
  subs due      subscriptions with a message on this date (twins are two, a toddler and a new pregnancy two)
  readers due   people those belong to: each gets one send with all their messages (checked afresh below)
  delivered     readers the ledger records as sent; multicast/push: LINE requests; emails: mails sent
  failures      sends LINE or SES refused for good (a blocked account, a rejected address)
  sent now      what this run sent (mc/push/mail); 0/0/0 when an earlier run had delivered the date already
  LINE 4xx-5xx/409  LINE error answers (retried) / duplicates LINE recognised by their retry key
`;
}

export function formatVerification(r: DayResult): string {
  const problems = r.tenants.flatMap((t) => t.problems.map((m) => `${t.tenantId}: ${m}`));
  if (problems.length) return `NOT VERIFIED for ${r.date}:\n  ${problems.join('\n  ')}\n`;
  const parts = r.tenants.map((t) => {
    const now = t.thisRun.lineMulticast + t.thisRun.linePush + t.thisRun.emails > 0;
    return `${t.tenantId} ${t.dueReaders} (${now ? 'sent now' : 'sent by an earlier run'})`;
  });
  return `verified for ${r.date}: every due reader got exactly one send with exactly their messages, nobody else got one: ${parts.join(', ')}\n`;
}
