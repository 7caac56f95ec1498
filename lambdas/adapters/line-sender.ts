import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { backOff } from 'exponential-backoff';
import type { LineTextMessage } from '../../schemas/delivery';
import type { TenantConfig } from '../../schemas/tenant';
import type { LineCredentialsSource, LineSender, LineSenderFactory, LineSendResult } from '../services/ports';

export interface LineRetryPolicy {
  /** Attempts per request, the first included. */
  attempts: number;
  startingDelayMs: number;
  maxDelayMs: number;
  /** @line/bot-sdk has no timeout option; a request slower than this is abandoned and retried with the same retry key. */
  requestTimeoutMs: number;
}

export const DEFAULT_LINE_RETRY: LineRetryPolicy = {
  attempts: 6,
  startingDelayMs: 250,
  maxDelayMs: 8_000,
  requestTimeoutMs: 10_000,
};

/** 429/5xx/timeouts that outlasted the retry policy; the SQS message goes back to the queue. */
export class LineUnavailableError extends Error {
  constructor(options: { cause: unknown }) {
    super('LINE did not accept the request after retries', options);
    this.name = 'LineUnavailableError';
  }
}

class RequestTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer from LINE within ${ms} ms`);
    this.name = 'RequestTimeoutError';
  }
}

const isMonthlyLimit = (e: HTTPFetchError) => e.status === 429 && /monthly limit/i.test(e.body);
const isTransient = (e: unknown) =>
  e instanceof RequestTimeoutError ||
  (e instanceof HTTPFetchError
    ? (e.status === 429 && !isMonthlyLimit(e)) || e.status >= 500
    : e instanceof TypeError); /* fetch network error */

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RequestTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Spaces requests evenly at `perSecond` (no bursts). LINE limits multicast to 200 and push to 2,000 requests/s
 * per channel; with at most N workers of a tenant at once, each worker pacing itself at 1/N of that never trips
 * the limit, so 429s stay the exception the backoff is for.
 * Hand-written: the maintained rate limiters on npm are ESM-only or far larger than these lines.
 */
export class Pacer {
  private next = 0;
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}
  async take(): Promise<void> {
    const t = this.now();
    const slot = Math.max(t, this.next);
    this.next = slot + 1000 / this.perSecond;
    if (slot > t) await new Promise((r) => setTimeout(r, slot - t));
  }
}

export interface LinePacing {
  multicastPerSecond: number;
  pushPerSecond: number;
}
/** LINE's limits for one channel [LINE]: multicast 200 requests/s, push 2,000 requests/s. */
export const LINE_CHANNEL_LIMITS: LinePacing = { multicastPerSecond: 200, pushPerSecond: 2000 };

/**
 * One worker's share of its channel's limits. A tenant's day has `shardCount` shards, and no more than
 * `maxWorkers` workers run at once (the event source's maximum concurrency), so at most the smaller of the two
 * send to one channel at the same time. A 1-shard town gets the whole channel; a 50-shard city's worker 1/50.
 */
export function workerPacing(channel: LinePacing, shardCount: number, maxWorkers = Infinity): LinePacing {
  const workers = Math.max(1, Math.min(shardCount, maxWorkers));
  return { multicastPerSecond: channel.multicastPerSecond / workers, pushPerSecond: channel.pushPerSecond / workers };
}

export class BotSdkLineSender implements LineSender {
  private readonly multicastPacer: Pacer;
  private readonly pushPacer: Pacer;

  constructor(
    private readonly client: messagingApi.MessagingApiClient,
    private readonly policy: LineRetryPolicy,
    pacing: LinePacing = LINE_CHANNEL_LIMITS,
  ) {
    this.multicastPacer = new Pacer(pacing.multicastPerSecond);
    this.pushPacer = new Pacer(pacing.pushPerSecond);
  }

  multicast(to: string[], messages: LineTextMessage[], retryKey: string): Promise<LineSendResult> {
    return this.send(this.multicastPacer, () => this.client.multicast({ to, messages }, retryKey));
  }

  push(to: string, messages: LineTextMessage[], retryKey: string): Promise<LineSendResult> {
    return this.send(this.pushPacer, () => this.client.pushMessage({ to, messages }, retryKey));
  }

  private async send(pacer: Pacer, call: () => Promise<unknown>): Promise<LineSendResult> {
    try {
      await backOff(
        async () => {
          await pacer.take();
          return withTimeout(call(), this.policy.requestTimeoutMs);
        },
        {
          numOfAttempts: this.policy.attempts,
          startingDelay: this.policy.startingDelayMs,
          maxDelay: this.policy.maxDelayMs,
          jitter: 'full',
          retry: (e) => isTransient(e),
        },
      );
      return { status: 'sent' };
    } catch (e) {
      if (e instanceof HTTPFetchError) {
        // LINE already accepted a request with this retry key: it was delivered once, which is what we want.
        if (e.status === 409 && e.headers.get('x-line-accepted-request-id')) return { status: 'duplicate' };
        if (isMonthlyLimit(e)) return { status: 'monthly-limit' };
        // Refused for good (a bad id, a blocked account): an outcome of this send, not a failure of the shard.
        if (!isTransient(e)) return { status: 'rejected', httpStatus: e.status };
      }
      throw new LineUnavailableError({ cause: e });
    }
  }
}

export interface LineSenderOptions {
  baseURL?: string;
  retry?: LineRetryPolicy;
  /** One channel's limits (LINE's by default), shared by the tenant's workers that may run at once. */
  channelLimits?: LinePacing;
  /** The most workers that run at once in the whole deployment (the event source's maximum concurrency). */
  maxWorkers?: number;
}

export class BotSdkLineSenderFactory implements LineSenderFactory {
  /**
   * Keyed by token (the credentials source caches secrets for minutes, so a rotated token gets a new client) and
   * share: workers that live in one process (the local stack) share one pacer, which keeps them under the limit.
   */
  private readonly senders = new Map<string, LineSender>();

  constructor(
    private readonly credentials: LineCredentialsSource,
    private readonly opts: LineSenderOptions = {},
  ) {}

  async forTenant(tenant: TenantConfig, shardCount: number): Promise<LineSender> {
    const { channelAccessToken } = await this.credentials.get(tenant);
    const pacing = workerPacing(this.opts.channelLimits ?? LINE_CHANNEL_LIMITS, shardCount, this.opts.maxWorkers);
    const key = `${pacing.multicastPerSecond}|${pacing.pushPerSecond}|${channelAccessToken}`;
    let sender = this.senders.get(key);
    if (!sender) {
      sender = new BotSdkLineSender(
        new messagingApi.MessagingApiClient({ channelAccessToken, baseURL: this.opts.baseURL }),
        this.opts.retry ?? DEFAULT_LINE_RETRY,
        pacing,
      );
      this.senders.set(key, sender);
    }
    return sender;
  }
}
