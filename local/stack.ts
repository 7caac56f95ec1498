import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ContentLibrary } from '../schemas/content';
import type { IsoDate } from '../schemas/common';
import type { FanOutEvent, ShardCounters } from '../schemas/delivery';

type FanOutEventInput = Partial<FanOutEvent>;
import { ENV } from '../schemas/tables';
import type { TenantConfig } from '../schemas/tenant';
import { createDocumentClient } from '../lambdas/adapters/dynamo-client';
import { writeLibrary, writeTenant } from '../lambdas/adapters/content-writer';
import { PlanRepository } from '../lambdas/adapters/plan-repository';
import { addCounters, zeroCounters } from '../lambdas/services/deliver-shard';
import { SubscriptionRepository } from '../lambdas/adapters/subscription-repository';
import { BroadcastRepository } from '../lambdas/adapters/broadcast-repository';
import { buildLibraryIndex, groupByReader, isSuppressed, resolveReader } from '../lambdas/domain';
import { SurveyRepository } from '../lambdas/adapters/survey-repository';
import { invitationTexts, mayBeInvited } from '../lambdas/services/survey-invitations';
import { readerKeys, type ReaderKeys } from '../lambdas/services/reader-keys';
import { keyringFromSecret, TokenSecretSchema, type TokenKeyring } from '../lambdas/services/email-tokens';
import { loadContentLibraryFile } from '../lib/content-file';
import { loadTenants } from '../lib/tenants';
import { awsEnvFor, type Endpoints } from './emulators';
import { startLocalApi, type LocalApi } from './api-server';
import { startIdentityProviderProcess } from './identity-provider';
import { loadHandler } from './handlers';
import { lambdaContext } from './lambda-context';
import type { DeliveredMessage, LineEmulatorControl, RecordedRequest } from './line-emulator';
import { ensureQueues, ensureTables, type LocalQueues, type LocalTables } from './resources';
import { seedDemoSubscribers } from './seed';
import { drainQueue, type SqsHandler } from './sqs-poller';

export const REPO_ROOT = join(__dirname, '..');

export function loadRepoTenants(dir = join(REPO_ROOT, 'tenants')): TenantConfig[] {
  return loadTenants(dir).map((t) => t.config);
}

export function loadSampleLibrary(file = join(REPO_ROOT, 'content', 'sample-ja.json')): ContentLibrary {
  return loadContentLibraryFile(file);
}

export interface ProvisionOptions {
  /** Table and queue names start with it; tests use a fresh prefix each. */
  prefix: string;
  endpoints: Endpoints;
  line: LineEmulatorControl;
  tenants: TenantConfig[];
  libraries: ContentLibrary[];
  /** Extra environment for the handlers (tuning knobs). */
  handlerEnv?: Record<string, string>;
  queue?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number };
  /** Serve the LINE webhook (the real handler behind a local HTTP API) and point each channel at it. */
  webhook?: boolean;
  /** The deployment's reader key secret; a fresh random one when absent (see `persistentReaderKeySecret`). */
  readerKeySecret?: string;
  /** The email token secret's JSON; a fresh key when absent (`npm start` keeps one, so mailed links keep working). */
  emailTokenSecret?: string;
  /** Serve the staff console on the local API (needs `webhook`), with a local identity provider and demo staff. */
  console?: boolean;
  /**
   * DynamoDB TTL on new tables (default on, as in AWS). A simulated run turns it off: DynamoDB Local deletes
   * expired items on the real clock while the handlers live on the simulated one, so an item stamped with a
   * simulated expiry (a dialog mid-registration, a partner invite, a webhook event's record) would vanish within
   * seconds of its write, at moments that differ from run to run. Nothing relies on TTL to be correct: TTL
   * deletion is lazy in AWS too, and every expiry that matters is checked when the item is read.
   */
  timeToLive?: boolean;
}

/** A demo staff login of the local identity provider. */
export interface LocalStaffLogin {
  tenantId: string;
  role: 'staff' | 'admin';
  username: string;
  password: string;
}

export interface LocalConsole {
  /** `http://localhost:<port>/console`: localhost, so that the browser keeps the console's Secure cookies. */
  url: string;
  issuer: string;
  logins: LocalStaffLogin[];
  close(): Promise<void>;
}

export const LOCAL_CONSOLE_CLIENT_ID = 'hagukumi-console-local';

export interface LocalChannel {
  channelId: string;
  channelSecret: string;
  channelAccessToken: string;
}

export interface Provisioned {
  tables: LocalTables;
  queues: LocalQueues;
  tenants: TenantConfig[];
  channels: Map<string, LocalChannel>;
  db: DynamoDBDocumentClient;
  sqs: SQSClient;
  line: LineEmulatorControl;
  endpoints: Endpoints;
  /** The webhook API, when provisioned with `webhook: true`; each channel's webhook URL points at it. */
  api?: LocalApi;
  libraries: ContentLibrary[];
  /** Reader keys as the handlers compute them (the same secret): the seeder and tests use these. */
  readerKeys: ReaderKeys;
  /** The email links' signing keys, as the handlers read them: tests sign their own (tampered, expired) tokens. */
  emailTokenKeys: TokenKeyring;
  /** The staff console, when provisioned with `console: true`. */
  console?: LocalConsole;
}

/**
 * `npm start` keeps its tables across runs (`.local/`), so it must keep the secret their reader keys were made
 * with: stored beside them (gitignored), created on first use.
 */
export function persistentReaderKeySecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The email token secret's shape (see SecretsManagerEmailTokenKeys), with one fresh key. */
export const newEmailTokenSecret = () =>
  JSON.stringify({ currentId: '1', current: randomBytes(32).toString('base64url') });

/** Like `persistentReaderKeySecret`, for the email token keys: links in mails of earlier runs keep working. */
export function persistentEmailTokenSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = newEmailTokenSecret();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function putSecret(secrets: SecretsManagerClient, name: string, SecretString: string): Promise<void> {
  try {
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString }));
  } catch (err) {
    if (!(err instanceof ResourceExistsException) && (err as Error).name !== 'ResourceExistsException') throw err;
    await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
  }
}

/**
 * Creates everything the deployed stack would have, against the emulators: tables and queues from the same
 * definitions as the CDK stack, tenant configs and content in the Content table, one LINE channel per tenant
 * in the LINE emulator with its secret in Secrets Manager, and the handlers' environment.
 */
export async function provision(o: ProvisionOptions): Promise<Provisioned> {
  Object.assign(process.env, awsEnvFor(o.endpoints));
  const ddb = new DynamoDBClient({});
  const db = createDocumentClient(ddb);
  const sqs = new SQSClient({});
  const tables = await ensureTables(ddb, o.prefix, { timeToLive: o.timeToLive ?? true });
  const readerKeySecretName = `${o.prefix}/reader-key`;
  const emailTokenSecretName = `${o.prefix}/email-token`;
  const queues = await ensureQueues(sqs, o.endpoints.sqs, o.prefix, o.queue);
  Object.assign(process.env, {
    [ENV.dataTable]: tables.data,
    [ENV.deliveryTable]: tables.delivery,
    [ENV.contentTable]: tables.content,
    [ENV.auditTable]: tables.audit,
    [ENV.shardQueueUrl]: queues.shardQueueUrl,
    [ENV.lineApiBaseUrl]: o.line.url,
    [ENV.readerKeySecret]: readerKeySecretName,
    [ENV.emailTokenSecret]: emailTokenSecretName,
    // Locally, logs and metrics would drown the summary; the handlers still run their Powertools code paths.
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // One process plays every function: the preferences page tells LINE family members, as in the stack.
    EMAIL_PAGES_LINE_NOTICES: 'true',
    // ... and the survey page its answers and screening alerts.
    EMAIL_PAGES_SURVEYS: 'true',
    ...o.handlerEnv,
  });
  for (const library of o.libraries) await writeLibrary(db, tables.content, library);
  const secrets = new SecretsManagerClient({});
  const readerKeySecret = o.readerKeySecret ?? randomBytes(32).toString('base64url');
  await putSecret(secrets, readerKeySecretName, readerKeySecret);
  const emailTokenSecret = o.emailTokenSecret ?? newEmailTokenSecret();
  await putSecret(secrets, emailTokenSecretName, emailTokenSecret);
  const channels = new Map<string, LocalChannel>();
  for (const tenant of o.tenants) {
    await writeTenant(db, tables.content, tenant);
    // Fresh credentials every run: they live only in the emulators, never in a file.
    const channel = {
      channelSecret: randomBytes(16).toString('hex'),
      channelAccessToken: randomBytes(32).toString('base64url'),
    };
    await putSecret(secrets, tenant.line.secretName, JSON.stringify(channel));
    const { channelId } = await o.line.registerChannel({
      channelSecret: channel.channelSecret,
      accessToken: channel.channelAccessToken,
    });
    channels.set(tenant.tenantId, { channelId, ...channel });
  }
  let api: LocalApi | undefined;
  if (o.webhook) {
    api = await startLocalApi(o.tenants.map((t) => t.tenantId));
    // The links in confirmation mails point at this API, not at the tenant's public address.
    process.env.EMAIL_PAGES_BASE_URL = api.url;
    for (const tenant of o.tenants)
      await o.line.setWebhookUrl(channels.get(tenant.tenantId)!.channelId, api.webhookUrl(tenant.tenantId));
  }
  let staffConsole: LocalConsole | undefined;
  if (o.console && api) {
    staffConsole = await startLocalConsole(secrets, `${o.prefix}/console-session`, api.url, o.tenants);
  }
  return {
    tables,
    queues,
    tenants: o.tenants,
    channels,
    db,
    sqs,
    line: o.line,
    endpoints: o.endpoints,
    api,
    ...(staffConsole && { console: staffConsole }),
    libraries: o.libraries,
    readerKeys: readerKeys(readerKeySecret),
    emailTokenKeys: keyringFromSecret(TokenSecretSchema.parse(JSON.parse(emailTokenSecret))),
  };
}

/**
 * The console's local identity: an OpenID Connect provider (its own process) with a staff and an admin user per
 * tenant, fresh passwords every run (printed by `npm start`), and the console functions' environment pointing at it.
 */
async function startLocalConsole(
  secrets: SecretsManagerClient,
  sessionSecretName: string,
  apiUrl: string,
  tenants: TenantConfig[],
): Promise<LocalConsole> {
  const base = apiUrl.replace('127.0.0.1', 'localhost');
  const logins: LocalStaffLogin[] = tenants.flatMap((t) =>
    (['staff', 'admin'] as const).map((role) => ({
      tenantId: t.tenantId,
      role,
      username: `${t.tenantId}-${role}`,
      password: randomBytes(9).toString('base64url'),
    })),
  );
  const idp = await startIdentityProviderProcess({
    clientId: LOCAL_CONSOLE_CLIENT_ID,
    redirectUris: [`${base}/console/callback`],
    postLogoutRedirectUris: [`${base}/console/signin`],
    users: logins.map((l) => ({
      username: l.username,
      password: l.password,
      sub: randomUUID(),
      groups: l.role === 'admin' ? [`${l.tenantId}:staff`, `${l.tenantId}:admin`] : [`${l.tenantId}:staff`],
    })),
  });
  await putSecret(secrets, sessionSecretName, randomBytes(32).toString('base64url'));
  Object.assign(process.env, {
    [ENV.consoleSessionSecret]: sessionSecretName,
    CONSOLE_BASE_URL: base,
    CONSOLE_CLIENT_ID: LOCAL_CONSOLE_CLIENT_ID,
    // oidc-provider's endpoints; Cognito's are /oauth2/authorize, /oauth2/token and /logout.
    CONSOLE_AUTHORIZE_URL: `${idp.issuer}/auth`,
    CONSOLE_TOKEN_URL: `${idp.issuer}/token`,
    CONSOLE_LOGOUT_URL: `${idp.issuer}/session/end`,
    CONSOLE_ISSUER: idp.issuer,
    CONSOLE_JWKS_URI: `${idp.issuer}/jwks`,
  });
  return { url: `${base}/console`, issuer: idp.issuer, logins, close: () => idp.close() };
}

export async function seedDemo(
  p: Provisioned,
  count: number,
  date: IsoDate,
  onTenantSeeded?: (tenantId: string) => void,
): Promise<Map<string, number>> {
  const seeded = new Map<string, number>();
  const perTenant = splitCount(count, p.tenants.length);
  for (const [i, tenant] of p.tenants.entries()) {
    seeded.set(
      tenant.tenantId,
      await seedDemoSubscribers(p.db, p.tables.data, tenant, perTenant[i] ?? 0, date, p.readerKeys),
    );
    onTenantSeeded?.(tenant.tenantId);
  }
  return seeded;
}

/** 1,000 over two tenants is 600 + 400: tenants of different sizes, as in real life. */
function splitCount(total: number, n: number): number[] {
  if (n === 1) return [total];
  const first = Math.round(total * 0.6);
  const rest = splitCount(total - first, n - 1);
  return [first, ...rest];
}

export interface TenantRunSummary {
  tenantId: string;
  date: IsoDate;
  /** From the ledger (what is recorded as delivered for this date, by whichever run did it). */
  ledger: ShardCounters;
  /** What this run sent: LINE requests served by the emulator (accepted / answered 409), emails. */
  thisRun: { lineMulticast: number; linePush: number; lineDuplicates: number; lineErrors: number; emails: number };
  seconds: number;
  /** Readers the domain says are due today, computed afresh from the stored subscriptions. */
  dueReaders: number;
  /** Problems found by comparing what is due with what the emulators received; empty when all is well. */
  problems: string[];
}

export interface RunOptions {
  date: IsoDate;
  onShardDone?: (tenantId: string, failed: boolean) => void;
  /** How many shard workers run at once, like the event source's maximum concurrency. */
  concurrency?: number;
  /** Number the worker containers from here: fresh containers read the environment anew (tests' tuning). */
  firstContainer?: number;
  /**
   * Only these schedules fire (what EventBridge Scheduler does at one delivery time); only their tenants are
   * verified and summarised. Default: every tenant's schedule, one after the other.
   */
  schedules?: { timeZone: string; deliveryTime: string }[];
}

/** Runs one day's delivery through the real handlers: fan-out per delivery time, then the queue drained into the shard worker. */
/**
 * Plays the deployed 5-minute schedule of the alert retry function once: screening alert mails still owed are
 * sent (the real handler, bundled like the others, against this stack's tables and the SES emulator).
 */
export async function runAlertRetry(): Promise<{ pending: number; sent: number; failed: number; busy: number }> {
  const handler = loadHandler<unknown, { pending: number; sent: number; failed: number; busy: number }>('alert-retry');
  return handler({}, lambdaContext('alert-retry'));
}

export async function runDelivery(p: Provisioned, o: RunOptions): Promise<TenantRunSummary[]> {
  const fanOutHandler = loadHandler<FanOutEventInput, unknown>('fan-out');
  const started = Date.now();
  // Only this stack's channels and this run's mail: emulators shared by many stacks (the tests) keep
  // everything, and the whole record can grow past what one answer can carry.
  const channelIds = [...p.channels.values()].map((c) => c.channelId);
  const requestsBefore = new Map<string, number>();
  for (const channelId of channelIds) requestsBefore.set(channelId, (await p.line.requests({ channelId })).length);
  const sesSince = Math.floor(started / 1000) - 1;
  const sesBefore = await sesEmails(p.endpoints.ses, sesSince);
  const startedAt = new Date(started).toISOString();
  const finished = new Map<string, number>();

  const scheduleKey = (s: { timeZone: string; deliveryTime: string }) => `${s.timeZone} ${s.deliveryTime}`;
  const firing = new Set((o.schedules ?? p.tenants).map(scheduleKey));
  const tenants = p.tenants.filter((t) => firing.has(scheduleKey(t)));
  const times = [...new Map(tenants.map((t) => [scheduleKey(t), t])).values()];
  for (const t of times) {
    await fanOutHandler(
      { deliveryTime: t.deliveryTime, timeZone: t.timeZone, date: o.date },
      lambdaContext('fan-out', 60_000),
    );
  }
  const worker = (container: number): SqsHandler => {
    const handler = loadHandler<SQSEvent, SQSBatchResponse>('shard-worker', (o.firstContainer ?? 0) + container);
    return async (event: SQSEvent, ctx) => {
      const res = await handler(event, ctx);
      const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
      for (const r of event.Records) {
        const tenantId = safeTenantOf(r.body);
        if (tenantId) finished.set(tenantId, Date.now());
        o.onShardDone?.(tenantId ?? '?', failed.has(r.messageId));
      }
      return res;
    };
  };
  await drainQueue({ sqs: p.sqs, queueUrl: p.queues.shardQueueUrl, handler: worker, concurrency: o.concurrency ?? 4 });

  const requests: RecordedRequest[] = [];
  for (const channelId of channelIds)
    requests.push(...(await p.line.requests({ channelId })).slice(requestsBefore.get(channelId)));
  const emails = (await sesEmails(p.endpoints.ses, sesSince)).slice(sesBefore.length);
  const mailOf = attributeMail(emails, p.tenants);
  const plans = new PlanRepository(p.db, p.tables.delivery);
  const out: TenantRunSummary[] = [];
  for (const tenant of tenants) {
    const channelId = p.channels.get(tenant.tenantId)?.channelId;
    const mine = requests.filter((r) => r.channelId === channelId);
    const mail = mailOf.get(tenant.tenantId) ?? [];
    const ledger = (await plans.listCounters(tenant.tenantId, o.date)).reduce(addCounters, zeroCounters());
    const line = new Map<string, DeliveredMessage[]>();
    if (channelId)
      for (const [user, got] of await p.line.deliveries(channelId)) {
        // Only this run's daily sends: replies belong to conversations, earlier sends to earlier days.
        const now = got.filter((m) => m.via !== 'reply' && m.at >= startedAt);
        if (now.length) line.set(user, now);
      }
    const { dueReaders, problems } = await verify(p, tenant, o.date, line, mail, ledger, mine.length + mail.length > 0);
    out.push({
      dueReaders,
      problems,
      tenantId: tenant.tenantId,
      date: o.date,
      ledger,
      thisRun: {
        lineMulticast: mine.filter((r) => r.path.endsWith('/multicast') && r.status === 200).length,
        linePush: mine.filter((r) => r.path.endsWith('/push') && r.status === 200).length,
        lineDuplicates: mine.filter((r) => r.status === 409).length,
        lineErrors: mine.filter((r) => r.status >= 400 && r.status !== 409).length,
        emails: mail.length,
      },
      seconds: ((finished.get(tenant.tenantId) ?? started) - started) / 1000,
    });
  }
  const unattributed = mailOf.get(UNATTRIBUTED) ?? [];
  if (unattributed.length)
    for (const s of out)
      s.problems.push(
        `${unattributed.length} emails from a shared sender name none of its tenants (no unsubscribe link)`,
      );
  return out;
}

const UNATTRIBUTED = '';

/**
 * Which of these tenants sent each email. The sender says which tenants may have (mail from senders none of
 * them uses belongs to another stack on the same emulator, and is left out). Tenants may share a sender (a
 * copied tenant file, or one town hall mailbox for several programmes), so among those the tenant named by
 * the mail's one-click unsubscribe link (`/email/<tenantId>/unsubscribe`) is the one.
 */
export function attributeMail(emails: SesStoredEmail[], tenants: TenantConfig[]): Map<string, SesStoredEmail[]> {
  const bySender = new Map<string, string[]>();
  for (const t of tenants) if (t.email) bySender.set(t.email.from, [...(bySender.get(t.email.from) ?? []), t.tenantId]);
  const out = new Map<string, SesStoredEmail[]>();
  for (const e of emails) {
    const senders = bySender.get(e.from);
    if (!senders) continue;
    const link = e.headers?.find((h) => h.name.toLowerCase() === 'list-unsubscribe')?.value ?? '';
    const named = /\/email\/([a-z0-9-]+)\/unsubscribe/.exec(link)?.[1];
    const tenantId = senders.length === 1 ? senders[0]! : named && senders.includes(named) ? named : UNATTRIBUTED;
    out.set(tenantId, [...(out.get(tenantId) ?? []), e]);
  }
  return out;
}

function safeTenantOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { tenantId?: string }).tenantId;
  } catch {
    return undefined;
  }
}

export interface SesStoredEmail {
  /** The emulator's id of the stored mail. */
  messageId?: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
  headers?: { name: string; value: string }[];
  at: number;
}

/** Mail the SES emulator accepted (its documented GET /store). */
export async function sesEmails(sesEndpoint: string, sinceEpochSeconds?: number): Promise<SesStoredEmail[]> {
  const res = await fetch(
    `${sesEndpoint}/store${sinceEpochSeconds === undefined ? '' : `?since=${sinceEpochSeconds}`}`,
  );
  return ((await res.json()) as { emails: SesStoredEmail[] }).emails;
}

/**
 * Every due reader of this tenant got exactly one send, with exactly their messages, and nobody else got one:
 * the domain's view of the day (from the stored subscriptions) against what this tenant's LINE channel and its
 * emails received in this run. When this run sent nothing for the tenant (the day was already delivered), the
 * ledger must account for every due reader.
 */
async function verify(
  p: Provisioned,
  tenant: TenantConfig,
  date: IsoDate,
  line: Map<string, DeliveredMessage[]>,
  emails: SesStoredEmail[],
  ledger: ShardCounters,
  sentNow: boolean,
) {
  const library = p.libraries.find((l) => l.libraryId === tenant.library);
  if (!library) return { dueReaders: 0, problems: [`library ${tenant.library} is not loaded`] };
  // Broadcasts as they stand now: one cancelled after planning is left out of the sends not made yet.
  const broadcasts = await new BroadcastRepository(p.db, p.tables.content).onDate(tenant.tenantId, date);
  const ctx = { tenant, library: buildLibraryIndex(library.items), broadcasts };
  const repo = new SubscriptionRepository(p.db, p.tables.data);
  const surveys = new SurveyRepository(p.db, p.tables.data);
  const due = new Map<string, { channel: string; address: string; texts: string[] }>();
  for (let shard = 0; shard < tenant.shardCount; shard++) {
    for (const subs of groupByReader((await repo.listShard(tenant.tenantId, shard, tenant.shardCount)).subscriptions)) {
      // A suppressed email reader (SES bounces, complaints) is due nothing: the pipeline skips and counts them.
      if (subs.some(isSuppressed)) continue;
      // Survey invitations recorded for the date belong in the reader's one send (after a loss there are none).
      const invitations = mayBeInvited(tenant, subs, date)
        ? await invitationTexts(
            tenant,
            await repo.listReader(tenant.tenantId, subs[0]!.readerKey),
            date,
            surveys,
            'check',
          )
        : [];
      const texts = resolveReader(subs, date, ctx, invitations);
      if (texts.length) due.set(subs[0]!.readerKey, { channel: subs[0]!.channel, address: subs[0]!.address, texts });
    }
  }
  const problems: string[] = [];
  if (!sentNow) {
    if (ledger.recipients + ledger.failures !== due.size)
      problems.push(`${due.size} readers due, the ledger accounts for ${ledger.recipients + ledger.failures}`);
    return { dueReaders: due.size, problems };
  }
  const mail = new Map<string, number>();
  for (const e of emails) for (const to of e.destination.to) mail.set(to, (mail.get(to) ?? 0) + 1);
  let wrong = 0;
  for (const d of due.values()) {
    if (d.channel === 'line') {
      const got = line.get(d.address) ?? [];
      const ok =
        new Set(got.map((m) => m.requestId)).size === 1 &&
        JSON.stringify(got.map((m) => m.message.text)) === JSON.stringify(d.texts);
      if (!ok) wrong++;
    } else if (mail.get(d.address) !== 1) wrong++;
  }
  const lineDue = new Set([...due.values()].filter((d) => d.channel === 'line').map((d) => d.address));
  const mailDue = new Set([...due.values()].filter((d) => d.channel === 'email').map((d) => d.address));
  const strangers =
    [...line.keys()].filter((a) => !lineDue.has(a)).length + [...mail.keys()].filter((a) => !mailDue.has(a)).length;
  if (wrong) problems.push(`${wrong} of ${due.size} due readers did not get exactly one send with their messages`);
  if (strangers) problems.push(`${strangers} readers who were not due got a send`);
  return { dueReaders: due.size, problems };
}
