import type { Server } from 'node:http';
import { startLineEmulator, type LineEmulator } from './line-emulator';
import { startDynamoDbLocal } from './dynamodb-local';
import { startSecretsEmulator } from './secrets-emulator';

export interface Endpoints {
  dynamodb: string;
  sqs: string;
  ses: string;
  secretsManager: string;
  line: string;
}

export interface Emulators {
  endpoints: Endpoints;
  /** The in-process LINE platform emulator (other processes use its HTTP admin API). */
  line: LineEmulator;
  stop(): Promise<void>;
}

/**
 * Starts every emulator the local stack needs, on free ports of 127.0.0.1, in parallel:
 * DynamoDB Local (java child process), fauxqs (SQS), aws-ses-v2-local (SES), our Secrets Manager subset
 * and our LINE platform emulator (all in-process).
 */
export async function startEmulators(
  opts: {
    dynamoDataDir?: string;
    /** A DynamoDB Local some other process runs (the parallel chaos jobs share one JVM, the costliest emulator). */
    dynamodbEndpoint?: string;
    onStarted?: (name: string) => void;
  } = {},
): Promise<Emulators> {
  const started: { stop(): Promise<void> }[] = [];
  const up = <T extends { stop(): Promise<void> }>(name: string, s: T): T => {
    started.push(s);
    opts.onStarted?.(name);
    return s;
  };
  try {
    const [dynamo, sqs, ses, secrets, line] = await Promise.all([
      opts.dynamodbEndpoint !== undefined
        ? { endpoint: opts.dynamodbEndpoint }
        : startDynamoDbLocal({ dataDir: opts.dynamoDataDir }).then((d) => up('DynamoDB Local', d)),
      startSqs().then((s) => up('SQS', s)),
      startSes().then((s) => up('SES', s)),
      startSecretsEmulator().then((s) => up('Secrets Manager', s)),
      startLineEmulator({ host: '127.0.0.1', port: 0 }).then((l) => {
        up('LINE', { stop: () => l.close() });
        return l;
      }),
    ]);
    return {
      endpoints: {
        dynamodb: dynamo.endpoint,
        sqs: sqs.endpoint,
        ses: ses.endpoint,
        secretsManager: secrets.endpoint,
        line: line.url,
      },
      line,
      stop: async () => {
        await Promise.allSettled(started.map((s) => s.stop()));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw err;
  }
}

async function startSqs() {
  // fauxqs is ESM-only; Node's own import() loads it from CommonJS.
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, defaultRegion: 'ap-northeast-1' });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

async function startSes() {
  const mod = await import('aws-ses-v2-local');
  // The CommonJS default export sits one level deeper when loaded through import().
  const start =
    ((mod as { default: unknown }).default as { default?: unknown }).default ?? (mod as { default: unknown }).default;
  const server = await (start as (c: { host: string; port: number }) => Promise<Server>)({
    host: '127.0.0.1',
    port: 0,
  });
  // Idle sockets are closed by the client (see the LINE emulator).
  server.keepAliveTimeout = 0;
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('SES emulator did not bind');
  return { endpoint: `http://127.0.0.1:${addr.port}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Points the AWS SDK (every client the handlers create) at the emulators, the way AWS_ENDPOINT_URL_* works in the SDK. */
export function awsEnvFor(endpoints: Endpoints): Record<string, string> {
  return {
    AWS_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SESV2: endpoints.ses,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
  };
}
