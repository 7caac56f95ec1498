// Seeded delivery days under faults, over the local stack: the real Lambda handlers (esbuild bundles), DynamoDB
// Local, fauxqs, aws-ses-v2-local, the Secrets Manager emulator and our LINE emulator, with the fault proxy in
// front of everything the handlers call. One set of emulators and tables serves the whole process; each run
// gets a tenant of its own (id from its seed) and a population seeded for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { IsoDate } from '../../schemas/common';
import { ENV } from '../../schemas/tables';
import { batchPut } from '../../lambdas/adapters/batch-write';
import { writeTenant } from '../../lambdas/adapters/content-writer';
import { createDocumentClient } from '../../lambdas/adapters/dynamo-client';
import { dataKeys, deliveryKeys } from '../../lambdas/adapters/keys';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import type { Endpoints } from '../emulators';
import { loadHandler } from '../handlers';
import { lambdaContext } from '../lambda-context';
import type { LineEmulatorControl, RecordedRequest } from '../line-emulator/types';
import { isEmpty } from '../sqs-poller';
import { provision, sesEmails, type Provisioned } from '../stack';
import { todayIn } from './calendar';
import { awsError, startFaultProxy, type FaultProxy, type ProxiedRequest, type ProxyDecision } from './fault-proxy';
import { expectedTexts, judge, type LedgerFigures, type OracleVerdict, type Received, type StopEvent } from './oracle';
import { chaosLibrary, chaosPopulation, chaosTenant, type Reader } from './population';
import { Rng } from './rng';
import { drawSchedule, type InvocationFault, type PausePoint, type ReaderEventKind } from './schedule';

/** Handlers' knobs for chaos: one send at a time (a deterministic request order), short LINE waits, no pacing. */
const HANDLER_ENV = {
  SEND_CONCURRENCY: '1',
  LINE_RETRY_ATTEMPTS: '3',
  LINE_RETRY_BASE_MS: '5',
  LINE_REQUEST_TIMEOUT_MS: '600',
  LINE_MULTICAST_PER_SECOND: '100000',
  LINE_PUSH_PER_SECOND: '100000',
};
/** The emulator's "timeout": LINE accepts the request, the answer comes after the worker gave up on it. */
const LINE_TIMEOUT_MS = 900;
/** A run that needs more invocations than this is stuck; it fails instead of running forever. */
const MAX_INVOCATIONS = 40;
const CONTAINERS = 3;

export interface ChaosStackOptions {
  endpoints: Endpoints;
  line: LineEmulatorControl;
  prefix: string;
  /**
   * Seeds of every run this stack will serve. Their tenants are written up front: the fan-out and the webhook
   * cache the tenant list per container (5 minutes), as deployed, and the webhook API has one route per tenant.
   */
  seeds: number[];
}

export interface ChaosStack {
  p: Provisioned;
  proxy: FaultProxy;
  db: DynamoDBDocumentClient;
  secrets: SecretsManagerClient;
  line: LineEmulatorControl;
  endpoints: Endpoints;
  webhookUrl: string;
  date: IsoDate;
  close(): Promise<void>;
}

export const tenantIdForSeed = (seed: number) => `chaos-${seed.toString(36)}`;
const scheduleForSeed = (seed: number) => drawSchedule(new Rng(seed).fork('schedule'));
const tenantForSeed = (seed: number) => chaosTenant(tenantIdForSeed(seed), scheduleForSeed(seed).shardCount);

export async function startChaosStack(o: ChaosStackOptions): Promise<ChaosStack> {
  const proxy = await startFaultProxy({
    dynamodb: o.endpoints.dynamodb,
    ses: o.endpoints.ses,
    secrets: o.endpoints.secretsManager,
    line: o.line.url,
  });
  const worker: Endpoints = {
    ...o.endpoints,
    dynamodb: proxy.endpoint('dynamodb', 'worker'),
    ses: proxy.endpoint('ses', 'worker'),
    secretsManager: proxy.endpoint('secrets', 'worker'),
  };
  const p = await provision({
    prefix: o.prefix,
    endpoints: worker,
    line: o.line,
    tenants: [],
    libraries: [chaosLibrary()],
    handlerEnv: { ...HANDLER_ENV, [ENV.lineApiBaseUrl]: proxy.endpoint('line', 'worker') },
    queue: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
  });
  const direct = { region: 'ap-northeast-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const db = createDocumentClient(new DynamoDBClient({ ...direct, endpoint: o.endpoints.dynamodb }));
  const secrets = new SecretsManagerClient({ ...direct, endpoint: o.endpoints.secretsManager });
  const child = await startWebhookProcess({
    ...process.env,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint('dynamodb', 'webhook'),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint('secrets', 'webhook'),
    [ENV.lineApiBaseUrl]: o.line.url,
    CHAOS_TENANT_IDS: JSON.stringify(o.seeds.map(tenantIdForSeed)),
  });
  const tenants = o.seeds.map(tenantForSeed);
  for (let i = 0; i < tenants.length; i += 200)
    await Promise.all(tenants.slice(i, i + 200).map((t) => writeTenant(db, p.tables.content, t)));
  return {
    p,
    proxy,
    db,
    secrets,
    line: o.line,
    endpoints: o.endpoints,
    webhookUrl: child.url,
    date: todayIn('Asia/Tokyo'),
    close: async () => {
      child.process.stdin?.end();
      child.process.kill('SIGTERM');
      await proxy.close();
    },
  };
}

async function startWebhookProcess(env: NodeJS.ProcessEnv): Promise<{ url: string; process: ChildProcess }> {
  const root = join(__dirname, '..', '..');
  const child = spawn(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(__dirname, 'webhook-main.ts')],
    { cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('chaos webhook did not start within 60 s')), 60_000);
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer);
      resolve((JSON.parse(l) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`chaos webhook exited with ${code}`)));
  });
  return { url, process: child };
}

export interface RunReport {
  seed: number;
  tenantId: string;
  readers: number;
  faults: number;
  faultKinds: Record<string, number>;
  invocations: number;
  verdict: OracleVerdict;
  ms: number;
  /** Where the run's time went (setup, fan-out, worker, oracle), for tuning the run size. */
  phases: Record<string, number>;
}

interface RunState {
  faults: Record<string, number>;
  stops: StopEvent[];
  emailClaimKilled: Set<string>;
  problems: string[];
  readers: Reader[];
  byAddress: Map<string, Reader>;
  gone: Set<string>;
}

const count = (s: RunState, kind: string, n = 1) => void (s.faults[kind] = (s.faults[kind] ?? 0) + n);
const isLineSend = (r: ProxiedRequest) => r.service === 'line' && /\/v2\/bot\/message\/(push|multicast)$/.test(r.path);
const isPlanHeader = (r: ProxiedRequest) =>
  r.service === 'dynamodb' && /^(PutItem|TransactWriteItems)$/.test(r.operation) && r.body.includes('#PLAN"');
const isOutcome = (r: ProxiedRequest) =>
  r.service === 'dynamodb' && /^(UpdateItem|TransactWriteItems)$/.test(r.operation) && r.body.includes('outcome');
const emailClaimKey = (r: ProxiedRequest): string | undefined =>
  r.service === 'dynamodb' && /^(PutItem|UpdateItem)$/.test(r.operation)
    ? /"EMAIL#((?:[^"\\]|\\.)*)"/.exec(r.body)?.[1]
    : undefined;

/** What one worker invocation meets at the proxy: its faults, armed when it starts, and the kill switch. */
class Invocation {
  killed = false;
  private lineSends = 0;
  private outcomes = 0;
  private claims = new Set<string>();
  private throttled = new Map<InvocationFault, number>();
  private paused = new Set<InvocationFault>();
  private slowSeen = 0;
  private dynamoRequests = 0;
  /** Email claims written by this invocation whose mail SES has not been handed yet: a kill now leaves them open. */
  private openClaims = new Set<string>();

  constructor(
    private readonly faults: InvocationFault[],
    private readonly state: RunState,
    private readonly onPause: (
      f: Extract<InvocationFault, { kind: 'reader-event' }>,
      req: ProxiedRequest,
    ) => Promise<void>,
  ) {}

  async decide(req: ProxiedRequest): Promise<ProxyDecision> {
    if (req.client === 'webhook') return this.webhook(req);
    if (this.killed) return afterDeath(req);
    const line = isLineSend(req);
    if (line) this.lineSends++;
    if (req.service === 'dynamodb') this.dynamoRequests++;
    const outcome = isOutcome(req);
    if (outcome) this.outcomes++;
    const claim = emailClaimKey(req);
    const newClaim = claim !== undefined && !this.claims.has(claim);
    if (newClaim) this.claims.add(claim);
    if (newClaim) this.openClaims.add(JSON.parse(`"${claim}"`) as string);
    if (req.service === 'ses')
      for (const to of sesRecipients(req.body)) {
        const key = this.state.byAddress.get(to)?.readerKey;
        if (key) this.openClaims.delete(key);
      }
    const matches = (p: PausePoint) =>
      (p.at === 'first' && req.service === 'dynamodb' && this.dynamoRequests === 1) ||
      (p.at === 'plan' && isPlanHeader(req)) ||
      (p.at === 'line' && line && this.lineSends === p.n) ||
      (p.at === 'outcome' && outcome && this.outcomes === p.n) ||
      (p.at === 'email-claim' && newClaim && this.claims.size === p.n);

    for (const f of this.faults) {
      if (f.kind === 'reader-event' && !this.paused.has(f) && matches(f.point)) {
        this.paused.add(f);
        await this.onPause(f, req);
      }
    }
    for (const f of this.faults) {
      switch (f.kind) {
        case 'kill': {
          const p = f.point;
          if (p.at === 'outcome' && outcome && this.outcomes === p.n) return this.kill('kill-before-ledger', false);
          if (p.at === 'plan' && isPlanHeader(req)) return this.kill('kill-after-plan', true);
          if (p.at === 'line' && line && this.lineSends === p.n) return this.kill('kill-mid-batch', true);
          if (p.at === 'email-claim' && newClaim && this.claims.size === p.n)
            return this.kill('kill-after-email-claim', true);
          break;
        }
        case 'throttle': {
          const n = this.throttled.get(f) ?? 0;
          if (req.service === 'dynamodb' && req.operation === f.operation && n < f.times) {
            this.throttled.set(f, n + 1);
            count(this.state, `dynamodb-${f.error}`);
            const message =
              f.error === 'ThrottlingException'
                ? 'Rate of requests exceeds the allowed throughput.'
                : 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
            return {
              kind: 'reply',
              status: 400,
              body: awsError(`com.amazonaws.dynamodb.v20120810#${f.error}`, message),
            };
          }
          break;
        }
        case 'transaction-conflict': {
          const n = this.throttled.get(f) ?? 0;
          if (req.service === 'dynamodb' && req.operation === 'TransactWriteItems' && n < f.times) {
            this.throttled.set(f, n + 1);
            count(this.state, 'dynamodb-TransactionConflict');
            return transactionConflict(req.body);
          }
          break;
        }
        case 'secret-unreadable': {
          const n = this.throttled.get(f) ?? 0;
          if (req.service === 'secrets' && req.operation === 'GetSecretValue' && n < f.times) {
            this.throttled.set(f, n + 1);
            count(this.state, 'secret-unreadable');
            return {
              kind: 'reply',
              status: 500,
              body: awsError('InternalServiceError', 'An error occurred on the server side.'),
            };
          }
          break;
        }
        case 'slow-line':
          if (line && ++this.slowSeen % f.every === 0) {
            count(this.state, 'line-slow');
            return { kind: 'forward', delayMs: f.delayMs };
          }
          break;
      }
    }
    return { kind: 'forward' };
  }

  private kill(kind: string, forwardFirst: boolean): ProxyDecision {
    this.killed = true;
    // Whatever the kill point, a claim written before it whose mail SES never saw is the documented window.
    for (const key of this.openClaims) this.state.emailClaimKilled.add(key);
    count(this.state, kind);
    return { kind: forwardFirst ? 'forward-then-reset' : 'reset' };
  }

  private webhookConflicts = 0;
  /** Armed by a reader event: the webhook's first transaction meets a conflict, LINE redelivers the event. */
  webhookConflictPending = false;
  private webhook(req: ProxiedRequest): ProxyDecision {
    if (this.webhookConflictPending && req.service === 'dynamodb' && req.operation === 'TransactWriteItems') {
      this.webhookConflictPending = false;
      this.webhookConflicts++;
      count(this.state, 'webhook-TransactionConflict');
      return transactionConflict(req.body);
    }
    return { kind: 'forward' };
  }
}

/**
 * What the rest of a killed invocation meets. The kill point itself resets the connection; a dead container
 * sends nothing after it, so every later request of the invocation must have no effect. Resetting those too
 * would make the SDK back off and retry each of them (seconds per killed run); a non-retryable refusal ends the
 * leftover code path at once and has the same effect on the world: nothing of it reaches a table or an emulator.
 */
function afterDeath(req: ProxiedRequest): ProxyDecision {
  if (req.service === 'line')
    return {
      kind: 'reply',
      status: 400,
      body: { message: 'chaos: the container is dead' },
      contentType: 'application/json',
    };
  return { kind: 'reply', status: 400, body: awsError('AccessDeniedException', 'chaos: the container is dead') };
}

function sesRecipients(body: string): string[] {
  try {
    return (JSON.parse(body) as { Destination?: { ToAddresses?: string[] } }).Destination?.ToAddresses ?? [];
  } catch {
    return [];
  }
}

/** DynamoDB's answer when another transaction holds one of the items: one cancellation reason per item. */
function transactionConflict(body: string): ProxyDecision {
  let items = 1;
  try {
    items = (JSON.parse(body) as { TransactItems?: unknown[] }).TransactItems?.length ?? 1;
  } catch {
    /* a malformed body gets one reason */
  }
  const reasons = Array.from({ length: items }, (_, i) =>
    i === 0 ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
  );
  return {
    kind: 'reply',
    status: 400,
    body: awsError(
      'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      { CancellationReasons: reasons },
    ),
  };
}

/** The taps a LINE user makes for each change of mind (the bot's own postback data). */
function reactionSteps(kind: ReaderEventKind, subscriptionId: string): string[] {
  switch (kind) {
    case 'stop':
      return ['a=menu&m=stop', 'a=stop&c=stop'];
    case 'delete':
      return ['a=menu&m=stop', 'a=stop&c=delete', 'a=delete&c=yes'];
    case 'unfollow':
      return ['unfollow'];
    case 'loss':
      return [`a=loss&s=${subscriptionId}`, 'a=loss-confirm&c=yes'];
  }
}

export interface RunOptions {
  readers: number;
  /** Empty the LINE and SES emulators' records after the run (only when this process owns the emulators). */
  clearEmulators?: boolean;
}

const profile = new Map<string, [number, number]>();
process.on('exit', () => {
  if (process.env.CHAOS_PROFILE)
    for (const [k, [n, ms]] of [...profile].sort((a, b) => b[1][1] - a[1][1]))
      console.log(`${k}: ${n} requests, ${ms} ms`);
});

export async function runChaosSeed(stack: ChaosStack, seed: number, opts: RunOptions): Promise<RunReport> {
  const started = Date.now();
  const rng = new Rng(seed);
  const schedule = scheduleForSeed(seed);
  const tenant = tenantForSeed(seed);
  const tenantId = tenant.tenantId;
  const date = stack.date;
  const readers = chaosPopulation(tenantId, opts.readers, date, rng.fork('population'), stack.p.readerKeys);
  const state: RunState = {
    faults: {},
    stops: [],
    emailClaimKilled: new Set(),
    problems: [],
    readers,
    byAddress: new Map(readers.map((r) => [r.address, r])),
    gone: new Set(),
  };
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    const now = Date.now();
    phases[name] = (phases[name] ?? 0) + now - mark;
    mark = now;
  };
  const { channelId } = await setUpTenant(stack, tenant, readers);
  phase('setup');
  await stack.line.setFaults({ ...schedule.line, timeoutMs: LINE_TIMEOUT_MS }, channelId);
  const pickRng = rng.fork('reactions');
  const items = chaosLibrary().items;

  // Counts what LINE itself did to the worker's requests (the emulator's seeded faults).
  const lineObserved = (req: ProxiedRequest, status: number, body: string, ms: number) => {
    if (process.env.CHAOS_PROFILE) {
      const index = /"IndexName":"([^"]+)"/.exec(req.body)?.[1];
      const what = /"KeyConditionExpression":"[^"]*"/.test(req.body) && req.body.includes('CHG#') ? ':markers' : '';
      const k = `${req.client}:${req.service}:${req.operation.replace(/^\/v2\/.*\//, '')}${index ? `:${index}` : ''}${what}`;
      profile.set(k, [(profile.get(k)?.[0] ?? 0) + 1, (profile.get(k)?.[1] ?? 0) + ms]);
    }
    if (req.client !== 'worker' || !isLineSend(req)) return;
    if (status === 429 && !/monthly/i.test(body)) count(state, 'line-429');
    else if (status === 500) count(state, 'line-500');
    else if (ms >= LINE_TIMEOUT_MS) count(state, 'line-timeout');
  };

  const onPause = async (f: Extract<InvocationFault, { kind: 'reader-event' }>, req: ProxiedRequest) => {
    const inFlight = new Set<string>();
    if (isLineSend(req)) for (const to of recipientsOf(req.body)) inFlight.add(to);
    const received = await lineRecipients(stack.line, channelId);
    const candidates = readers.filter(
      (r) =>
        r.channel === 'line' &&
        !state.gone.has(r.address) &&
        !inFlight.has(r.address) &&
        !received.has(r.address) &&
        r.subscriptions.some((s) => s.status === 'active') &&
        (f.event !== 'loss' || r.subscriptions.length === 1),
    );
    if (candidates.length === 0) return;
    // Readers with a send still pending make the change of mind matter: their send must not go out now.
    const pending = candidates.filter((r) => expectedTexts(r, date, tenant, items).length > 0);
    // Prefer a reader with a partner for a loss: the partner's pending send must stop too.
    const pool = pending.length ? pending : candidates;
    const withPartner = pool.filter((r) => partnersOf(readers, r).length > 0);
    const reader = pickRng.pick(f.event === 'loss' && withPartner.length ? withPartner : pool);
    invocation!.webhookConflictPending = f.webhookConflict;
    await react(
      stack,
      state,
      channelId,
      tenantId,
      reader,
      f.event,
      `in invocation ${invocationNo}, ${describePause(f.point)}`,
    );
  };

  let invocation: Invocation | undefined;
  let invocationNo = 0;
  stack.proxy.setPolicy({
    decide: (req) => invocation?.decide(req) ?? { kind: 'forward' },
    answered: lineObserved,
  });
  const fanOut = loadHandler<unknown, unknown>('fan-out');
  const fire = () =>
    fanOut(
      {
        deliveryTime: tenant.deliveryTime,
        timeZone: tenant.timeZone,
        scheduledTime: `${date}T07:30:00+09:00`,
        tenantIds: [tenantId],
      },
      lambdaContext('fan-out', 60_000),
    );
  try {
    if (schedule.fanOut === 'concurrent') await Promise.all([fire(), fire()]);
    else await fire();
    if (schedule.fanOut === 'twice') await fire();
    if (schedule.fanOut !== 'once') count(state, 'fan-out-twice');
    phase('fan-out');

    const queueUrl = stack.p.queues.shardQueueUrl;
    let container = 0;
    let firstBody: string | undefined;
    let n = 0;
    for (; n < MAX_INVOCATIONS;) {
      if (schedule.lateFanOutBefore === n) {
        schedule.lateFanOutBefore = undefined;
        await fire();
        count(state, 'schedule-fired-again');
      }
      if (schedule.redeliverBefore === n && firstBody) {
        schedule.redeliverBefore = undefined;
        await stack.p.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: firstBody }));
        count(state, 'sqs-redelivery');
      }
      const message = await receiveOne(stack, queueUrl);
      if (!message) {
        if (await isEmpty(stack.p.sqs, queueUrl)) break;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      firstBody ??= message.Body;
      invocationNo = n;
      invocation = new Invocation(schedule.invocations.get(n) ?? [], state, onPause);
      const handler = loadHandler<SQSEvent, SQSBatchResponse>('shard-worker', container);
      let failed: boolean;
      const invStarted = Date.now();
      try {
        const res = await handler(sqsEvent(message, queueUrl), lambdaContext('shard-worker', 120_000));
        failed = res.batchItemFailures.length > 0;
      } catch {
        failed = true;
      }
      const killed = invocation.killed;
      if (process.env.CHAOS_PROFILE)
        console.log(
          `  invocation ${n}: ${Date.now() - invStarted} ms${killed ? ' killed' : failed ? ' failed' : ''} ${message.Body}`,
        );
      invocation = undefined;
      n++;
      // A killed container never answers the event source: the message comes back when its visibility ends.
      if (killed) container = (container + 1) % CONTAINERS;
      if (killed || failed)
        await stack.p.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      else
        await stack.p.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
    await stack.proxy.idle();
    phase('worker');
    if (n >= MAX_INVOCATIONS) state.problems.push(`the day did not finish within ${MAX_INVOCATIONS} invocations`);

    const verdict = judge({
      date,
      tenant,
      items,
      readers,
      ...(await accepted(stack, channelId, tenant.email!.from)),
      stops: state.stops,
      emailClaimKilled: state.emailClaimKilled,
      ledger: await ledger(stack, tenantId, date),
      deadLettered: await drainDeadLetters(stack, tenantId),
    });
    verdict.problems.unshift(...state.problems);
    phase('oracle');
    const faults = Object.values(state.faults).reduce((a, b) => a + b, 0);
    return {
      seed,
      tenantId,
      readers: readers.length,
      faults,
      faultKinds: state.faults,
      invocations: n,
      verdict,
      ms: Date.now() - started,
      phases,
    };
  } finally {
    stack.proxy.setPolicy(undefined);
    await stack.line.setFaults({}, channelId);
    if (opts.clearEmulators) {
      // Records of earlier runs would make every later look-up slower; the channels stay registered.
      await stack.line.reset();
      await fetch(`${stack.endpoints.ses}/clear-store`, { method: 'POST' });
    }
  }
}

function partnersOf(readers: Reader[], reader: Reader): Reader[] {
  const families = new Set(reader.subscriptions.map((s) => s.familyId));
  return readers.filter((r) => r !== reader && r.subscriptions.some((s) => families.has(s.familyId)));
}

/** Acts as the reader in the LINE app: each tap is a signed webhook event; a 5xx is redelivered, as LINE does. */
function describePause(p: PausePoint): string {
  switch (p.at) {
    case 'first':
      return 'before its first request';
    case 'plan':
      return 'before the plan header was written';
    case 'line':
      return `before LINE request ${p.n}`;
    case 'outcome':
      return `before batch outcome ${p.n} was written`;
    case 'email-claim':
      return `before email claim ${p.n}`;
  }
}

async function react(
  stack: ChaosStack,
  state: RunState,
  channelId: string,
  tenantId: string,
  reader: Reader,
  kind: ReaderEventKind,
  during: string,
) {
  const user = stack.line.user(channelId, reader.address);
  const sub = reader.subscriptions[0]!;
  for (const step of reactionSteps(kind, sub.subscriptionId)) {
    let res = step === 'unfollow' ? await user.unfollow() : await user.postback(step);
    for (let attempt = 0; res.status !== 200 && attempt < 3; attempt++) res = await user.redeliver(res.webhookEventId);
    if (res.status !== 200) {
      state.problems.push(`webhook answered ${res.status} to a ${kind} step`);
      return;
    }
  }
  const at = Date.now();
  count(state, `reader-${kind}`);
  const affected = [reader, ...(kind === 'loss' ? partnersOf(state.readers, reader) : [])];
  state.stops.push({ kind, addresses: affected.map((r) => r.address), at, during });
  state.gone.add(reader.address);
  // A change that did not take hold would show up as a send after the stop; say which side failed instead.
  const items =
    (
      await stack.db.send(
        new QueryCommand({
          TableName: stack.p.tables.data,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':pk': dataKeys.readerPk(tenantId, reader.readerKey), ':s': 'SUB#' },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  // A subscription whose track is over may be marked `ended` on the way: that stops it too.
  const held =
    kind === 'delete'
      ? items.length === 0
      : kind === 'loss'
        ? items.some((i) => i.subscriptionId === sub.subscriptionId && (i.status === 'lost' || i.status === 'ended'))
        : items.every((i) => i.status !== 'active' && (kind === 'unfollow' || i.status !== 'paused'));
  if (!held) {
    const said = (await stack.line.chat(channelId, reader.address)).filter((e) => e.from === 'bot').at(-1);
    const text =
      said && 'message' in said ? JSON.stringify(said.message.text ?? said.message.type).slice(0, 80) : 'nothing';
    state.problems.push(
      `the reader's ${kind} did not take hold in the Data table (statuses ${items.map((i) => i.status).join(',') || 'none'}; the bot last said: ${text.replace(/\n/g, ' ')})`,
    );
  }
}

async function setUpTenant(stack: ChaosStack, tenant: ReturnType<typeof chaosTenant>, readers: Reader[]) {
  const items: Record<string, unknown>[] = [];
  const families = new Map<string, number>();
  for (const r of readers)
    for (const s of r.subscriptions) families.set(s.familyId, (families.get(s.familyId) ?? 0) + 1);
  for (const r of readers)
    for (const s of r.subscriptions) {
      items.push(subscriptionItem(s));
      // Family links only where a family has two readers: that is what a loss follows to the partner.
      if ((families.get(s.familyId) ?? 0) > 1)
        items.push({
          pk: dataKeys.familyPk(s.tenantId, s.familyId),
          sk: dataKeys.familySk(s.readerKey, s.subscriptionId),
          readerKey: s.readerKey,
          subscriptionId: s.subscriptionId,
        });
    }
  const channel = {
    channelSecret: hexOf(tenant.tenantId, 'secret'),
    channelAccessToken: hexOf(tenant.tenantId, 'token'),
  };
  const SecretString = JSON.stringify(channel);
  await Promise.all([
    batchPut(stack.db, stack.p.tables.data, items, 8),
    stack.secrets
      .send(new CreateSecretCommand({ Name: tenant.line.secretName, SecretString }))
      .catch(async (err: unknown) => {
        if (!(err instanceof Error && err.name === 'ResourceExistsException')) throw err;
        await stack.secrets.send(new PutSecretValueCommand({ SecretId: tenant.line.secretName, SecretString }));
      }),
  ]);
  const { channelId } = await stack.line.registerChannel({
    channelSecret: channel.channelSecret,
    accessToken: channel.channelAccessToken,
  });
  await stack.line.setWebhookUrl(channelId, `${stack.webhookUrl}/line/${tenant.tenantId}/webhook`);
  return { channelId };
}

/** Credentials live only in the emulators; a per-process random part keeps reruns in one emulator apart. */
const PROCESS_SALT = Math.random().toString(36).slice(2);
const hexOf = (tenantId: string, what: string) =>
  Buffer.from(`${tenantId}:${what}:${PROCESS_SALT}`).toString('base64url');

function recipientsOf(body: string): string[] {
  try {
    const to = (JSON.parse(body) as { to?: string | string[] }).to;
    return to === undefined ? [] : Array.isArray(to) ? to : [to];
  } catch {
    return [];
  }
}

/** A daily-delivery send LINE accepted: from the shard worker (the webhook's own pushes are conversation). */
const acceptedSend = (r: RecordedRequest) =>
  r.status === 200 && r.headers['x-chaos-client'] === 'worker' && /\/v2\/bot\/message\/(push|multicast)$/.test(r.path);

async function lineRecipients(line: LineEmulatorControl, channelId: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const r of await line.requests({ channelId }))
    if (acceptedSend(r)) for (const to of recipientsOf(JSON.stringify(r.body))) out.add(to);
  return out;
}

const SLOT_TEXT = /^(M|MP|C|B[123]|OM|OC|OCP)\d*( |$)/;

/** What LINE and SES accepted for this tenant, per recipient, with the time it arrived. */
async function accepted(stack: ChaosStack, channelId: string, from: string) {
  const received = new Map<string, Received[]>();
  const add = (to: string, r: Received) => received.set(to, [...(received.get(to) ?? []), r]);
  let requests = 0;
  let recipients = 0;
  for (const [i, r] of (await stack.line.requests({ channelId })).entries()) {
    if (!acceptedSend(r)) continue;
    const body = r.body as { to: string | string[]; messages: { text?: string }[] };
    const to = Array.isArray(body.to) ? body.to : [body.to];
    requests++;
    recipients += to.length;
    for (const t of to)
      add(t, { at: Date.parse(r.at), texts: body.messages.map((m) => m.text ?? ''), id: `line-${i}` });
  }
  const emails = (await sesEmails(stack.endpoints.ses)).filter((e) => e.from === from);
  for (const [i, e] of emails.entries())
    for (const to of e.destination.to)
      add(to, {
        at: e.at * 1000,
        // The body is the day's texts separated by blank lines, plus whatever footer the mail carries.
        texts: (e.body.text ?? '').split('\n\n').filter((t) => SLOT_TEXT.test(t)),
        id: `ses-${i}`,
      });
  return { received, lineAccepted: { requests, recipients }, emailsAccepted: emails.length };
}

async function ledger(stack: ChaosStack, tenantId: string, date: IsoDate): Promise<LedgerFigures> {
  const res = await stack.db.send(
    new QueryCommand({
      TableName: stack.p.tables.delivery,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': deliveryKeys.pk(tenantId, date), ':p': deliveryKeys.countersPrefix },
      ConsistentRead: true,
    }),
  );
  const items = res.Items ?? [];
  const sum = (k: string) => items.reduce((a, i) => a + Number(i[k] ?? 0), 0);
  return {
    shards: items.length,
    recipients: sum('recipients'),
    lineRequests: sum('multicastRequests') + sum('pushRequests'),
    emails: sum('emails'),
    failures: sum('failures'),
  };
}

async function drainDeadLetters(stack: ChaosStack, tenantId: string): Promise<number> {
  let mine = 0;
  for (;;) {
    const res = await stack.p.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.p.queues.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) return mine;
    for (const m of messages) {
      if (m.Body?.includes(`"${tenantId}"`)) mine++;
      await stack.p.sqs.send(
        new DeleteMessageCommand({ QueueUrl: stack.p.queues.dlqUrl, ReceiptHandle: m.ReceiptHandle }),
      );
    }
  }
}

async function receiveOne(stack: ChaosStack, queueUrl: string): Promise<Message | undefined> {
  const res = await stack.p.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 60,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return res.Messages?.[0];
}

function sqsEvent(m: Message, queueUrl: string): SQSEvent {
  const attrs = m.Attributes ?? {};
  return {
    Records: [
      {
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
          SentTimestamp: attrs.SentTimestamp ?? '0',
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? '0',
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:ap-northeast-1:000000000000:${queueUrl.split('/').pop()}`,
        awsRegion: 'ap-northeast-1',
      },
    ],
  };
}

export interface ChaosTotals {
  runs: number;
  faults: number;
  duplicates: number;
  lost: number;
  sentAfterStop: number;
  emailUncertain: number;
  failed: RunReport[];
}

export function totals(reports: RunReport[]): ChaosTotals {
  const sum = (f: (r: RunReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  return {
    runs: reports.length,
    faults: sum((r) => r.faults),
    duplicates: sum((r) => r.verdict.duplicates),
    lost: sum((r) => r.verdict.lost),
    sentAfterStop: sum((r) => r.verdict.sentAfterStop),
    emailUncertain: sum((r) => r.verdict.emailUncertain),
    failed: reports.filter((r) => r.verdict.problems.length > 0),
  };
}

/** The last line of `npm run chaos`, every figure counted. */
export const summaryLine = (t: ChaosTotals) =>
  `${t.runs} runs, ${t.faults} faults injected, ${t.duplicates} duplicates, ${t.lost} lost, ${t.sentAfterStop} sent after stop`;
