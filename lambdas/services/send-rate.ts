/**
 * One account-wide email send rate, shared by every shard worker. SES limits the whole account (its "maximum
 * send rate"); dividing that rate by the workers' maximum concurrency (as LINE's pacing does) would let a
 * lone worker with a shard full of email readers use a tenth of it and run out of its 5 minutes. Instead the
 * workers lease tokens from one counter per second in DynamoDB (`RateWindows`): a conditional ADD that
 * succeeds only while the second's total stays within the rate. So at most `perSecond` mails start in any
 * second, across all workers, and a lone worker gets all of it.
 *
 * Each lease takes up to `leaseSize` tokens (fewer writes than one per mail); tokens not used within their
 * second expire with it. A full second is waited out, with jitter so workers do not all retry at once.
 */
export interface RateWindows {
  /** Adds `count` to the second's total if it stays within `limit`; false when it would not. */
  tryLease(windowSecond: number, count: number, limit: number): Promise<boolean>;
}

export interface SendRateOptions {
  perSecond: number;
  /** Tokens per lease; default a tenth of the rate (at least 1), so ten busy workers share evenly. */
  leaseSize?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export class SendRateLimiter {
  private window = -1;
  private left = 0;
  private readonly leaseSize: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Callers of one worker take tokens one after another, so two sends never lease for the same token. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly windows: RateWindows,
    private readonly options: SendRateOptions,
  ) {
    if (!(options.perSecond >= 1)) throw new RangeError('the send rate must be at least 1 per second');
    this.leaseSize = Math.max(1, Math.min(options.leaseSize ?? Math.floor(options.perSecond / 10), options.perSecond));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Resolves when this worker may start one more mail. */
  take(): Promise<void> {
    const next = this.queue.then(() => this.takeOne());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async takeOne(): Promise<void> {
    for (;;) {
      const now = this.now();
      const second = Math.floor(now / 1000);
      if (second === this.window && this.left > 0) {
        this.left -= 1;
        return;
      }
      // Ask for a full lease first, then for one token: the second may have room for less than a lease.
      for (const count of this.leaseSize > 1 ? [this.leaseSize, 1] : [1]) {
        if (await this.windows.tryLease(second, count, this.options.perSecond)) {
          // A lease answered after its second ended is spent: using it now would add to the next second.
          if (Math.floor(this.now() / 1000) !== second) break;
          this.window = second;
          this.left = count - 1;
          return;
        }
      }
      await this.sleep((second + 1) * 1000 - now + Math.floor(this.random() * 50));
    }
  }
}
