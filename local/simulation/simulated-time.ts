// The simulated run's clock: every `Date` in this process (the in-process handlers, the LINE and SES
// emulators, the AWS SDK) reads the real clock shifted by an offset, so a reader who registers "on" a simulated
// day is registered on that day, and the next delivery sees it as yesterday's registration. Production code is
// unchanged: handlers call `new Date()` as in Lambda.
//
// Hand-written rather than @sinonjs/fake-timers: fake-timers' Date stands still, or moves in ticks of a
// real interval that lag behind under load; the stack needs the real clock, running, shifted by an offset (the
// emulators' rate windows and the SQS poller's waits measure real durations). A Proxy keeps `instanceof Date`,
// `Date.UTC`, `Date.parse` and dates made before the shift working.

const RealDate = Date;
let offsetMs = 0;
let installed = false;

const SimulatedDate = new Proxy(RealDate, {
  construct(target, args: unknown[]) {
    return args.length === 0
      ? new target(RealDate.now() + offsetMs)
      : new (target as unknown as new (...a: unknown[]) => Date)(...args);
  },
  apply() {
    // Date() called without new returns the current time as a string.
    return new RealDate(RealDate.now() + offsetMs).toString();
  },
  get(target, prop, receiver) {
    if (prop === 'now') return () => RealDate.now() + offsetMs;
    return Reflect.get(target, prop, receiver) as unknown;
  },
});

/**
 * From now on this process's clock shows `at` (and runs on from there). Install it before the emulators start:
 * they keep a reference to `Date.now`.
 */
export function setSimulatedNow(at: Date): void {
  offsetMs = at.getTime() - RealDate.now();
  if (!installed) {
    globalThis.Date = SimulatedDate;
    installed = true;
  }
}

/** Never moves the clock backwards: a later moment is set, an earlier one is ignored (returns the clock's time). */
export function advanceSimulatedNow(at: Date): Date {
  if (!installed || at.getTime() > RealDate.now() + offsetMs) setSimulatedNow(at);
  return new RealDate(RealDate.now() + offsetMs);
}

/** The real clock again. */
export function restoreRealTime(): void {
  if (installed) globalThis.Date = RealDate;
  installed = false;
  offsetMs = 0;
}
