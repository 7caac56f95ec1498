import { SendRateLimiter, type RateWindows } from '../../../lambdas/services/send-rate';

/** The shared per-second counters, as the conditional ADD in DynamoDB keeps them. */
class Windows implements RateWindows {
  readonly taken = new Map<number, number>();
  calls = 0;
  tryLease(second: number, count: number, limit: number): Promise<boolean> {
    this.calls++;
    const now = this.taken.get(second) ?? 0;
    if (now + count > limit) return Promise.resolve(false);
    this.taken.set(second, now + count);
    return Promise.resolve(true);
  }
}

/** A clock that only moves when someone sleeps. */
function fakeTime(startMs = 1_000_000_000_000) {
  let t = startMs;
  return {
    now: () => t,
    sleep: (ms: number) => {
      t += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => (t += ms),
  };
}

describe('the account-wide send rate', () => {
  it.each([
    { label: 'one worker at the rate of 14/s', workers: 1, perSecond: 14, mails: 100 },
    { label: 'ten workers sharing 14/s', workers: 10, perSecond: 14, mails: 30 },
    { label: 'four workers sharing 100/s, leases of 10', workers: 4, perSecond: 100, mails: 400 },
  ])('$label: no second leases more tokens than the rate', async ({ workers, perSecond, mails }) => {
    const windows = new Windows();
    const time = fakeTime();
    const limiters = Array.from(
      { length: workers },
      () => new SendRateLimiter(windows, { perSecond, now: time.now, sleep: time.sleep, random: () => 0.5 }),
    );
    await Promise.all(
      limiters.map(async (limiter) => {
        for (let i = 0; i < mails; i++) await limiter.take();
      }),
    );
    // Every mail started on a token of the shared count, and no second's count went past the rate.
    const leased = [...windows.taken.values()].reduce((a, b) => a + b, 0);
    expect(leased).toBeGreaterThanOrEqual(workers * mails);
    expect(Math.max(...windows.taken.values())).toBeLessThanOrEqual(perSecond);
    // The mails took at least as many seconds as the rate needs.
    expect(windows.taken.size).toBeGreaterThanOrEqual(Math.ceil((workers * mails) / perSecond));
  });

  it('lets a lone worker use the whole rate, not a share of it', async () => {
    const windows = new Windows();
    const time = fakeTime();
    const limiter = new SendRateLimiter(windows, { perSecond: 50, now: time.now, sleep: time.sleep });
    const first = Math.floor(time.now() / 1000);
    for (let i = 0; i < 50; i++) await limiter.take();
    expect(Math.floor(time.now() / 1000)).toBe(first);
  });

  it('leases several tokens per write', async () => {
    const windows = new Windows();
    const time = fakeTime();
    const limiter = new SendRateLimiter(windows, { perSecond: 100, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 100; i++) await limiter.take();
    expect(windows.calls).toBe(10);
  });

  it('does not use tokens of a second that has passed', async () => {
    const windows = new Windows();
    const time = fakeTime();
    const limiter = new SendRateLimiter(windows, { perSecond: 100, leaseSize: 10, now: time.now, sleep: time.sleep });
    await limiter.take();
    time.advance(1000);
    await limiter.take();
    expect([...windows.taken.values()]).toEqual([10, 10]);
  });

  it('refuses a rate below one mail a second', () => {
    expect(() => new SendRateLimiter(new Windows(), { perSecond: 0 })).toThrow(RangeError);
  });
});
