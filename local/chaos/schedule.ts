// A run's fault schedule, drawn from its seed before anything runs: which invocation of the shard worker meets
// which fault, how the fan-out fires, what LINE does, and which readers change their mind at which point.
import type { Rng } from './rng';

export type KillPoint =
  /** Right after the plan header was written. */
  | { at: 'plan' }
  /** Right after LINE accepted the k-th send of the invocation (the worker never learns of it). */
  | { at: 'line'; n: number }
  /** Instead of the n-th batch outcome write: LINE accepted the batch, the ledger never hears of it. */
  | { at: 'outcome'; n: number }
  /** Right after the n-th email claim was written, before SES saw the mail. */
  | { at: 'email-claim'; n: number };

export type PausePoint =
  | { at: 'first' }
  | { at: 'plan' }
  | { at: 'line'; n: number }
  | { at: 'outcome'; n: number }
  | { at: 'email-claim'; n: number };

export type ReaderEventKind = 'stop' | 'loss' | 'delete' | 'unfollow';

export type InvocationFault =
  | { kind: 'kill'; point: KillPoint }
  | {
      kind: 'throttle';
      operation: 'Query' | 'GetItem' | 'PutItem' | 'UpdateItem' | 'BatchWriteItem';
      error: 'ProvisionedThroughputExceededException' | 'ThrottlingException';
      times: number;
    }
  | { kind: 'transaction-conflict'; times: number }
  | { kind: 'secret-unreadable'; times: number }
  | { kind: 'slow-line'; every: number; delayMs: number }
  | { kind: 'reader-event'; point: PausePoint; event: ReaderEventKind; webhookConflict: boolean };

export interface FaultSchedule {
  shardCount: number;
  fanOut: 'once' | 'twice' | 'concurrent';
  /** Before this invocation, the schedule fires again. */
  lateFanOutBefore?: number;
  /** Before this invocation, a second copy of the first task message is sent (SQS delivers at least once). */
  redeliverBefore?: number;
  line: { rate429: number; rate500: number; rateTimeout: number; seed: number };
  /** Faults by invocation number (0 = the first shard worker invocation of the run). */
  invocations: Map<number, InvocationFault[]>;
}

const pausePoint = (rng: Rng): PausePoint => {
  switch (rng.int(0, 4)) {
    case 0:
      return { at: 'first' };
    case 1:
      return { at: 'plan' };
    case 2:
      return { at: 'line', n: rng.int(1, 6) };
    case 3:
      return { at: 'outcome', n: rng.int(1, 2) };
    default:
      return { at: 'email-claim', n: rng.int(1, 3) };
  }
};

const killPoint = (rng: Rng): KillPoint => {
  switch (rng.int(0, 3)) {
    case 0:
      return { at: 'plan' };
    case 1:
      return { at: 'line', n: rng.int(1, 8) };
    case 2:
      return { at: 'outcome', n: rng.int(1, 2) };
    default:
      return { at: 'email-claim', n: rng.int(1, 3) };
  }
};

/**
 * Several faults per run, but at most three that make an invocation fail, so no task reaches the DLQ
 * (maxReceiveCount 5) and the day must still complete: losing nothing is the promise under test.
 */
export function drawSchedule(rng: Rng): FaultSchedule {
  const shardCount = rng.int(1, 4);
  const invocations = new Map<number, InvocationFault[]>();
  const add = (i: number, f: InvocationFault) => invocations.set(i, [...(invocations.get(i) ?? []), f]);
  const span = shardCount + 2;
  const failing = rng.int(1, 3);
  for (let k = 0; k < failing; k++) {
    const i = rng.int(0, span);
    const roll = rng.next();
    if (roll < 0.55) add(i, { kind: 'kill', point: killPoint(rng) });
    else if (roll < 0.75)
      add(i, {
        kind: 'throttle',
        operation: rng.pick(['Query', 'GetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'] as const),
        error: rng.pick(['ProvisionedThroughputExceededException', 'ThrottlingException'] as const),
        // The SDK makes 3 attempts: up to 2 are absorbed, 3 or more fail the invocation.
        times: rng.pick([1, 1, 2, 3]),
      });
    else if (roll < 0.85) add(i, { kind: 'transaction-conflict', times: rng.int(1, 3) });
    else add(i, { kind: 'secret-unreadable', times: rng.int(1, 4) });
  }
  if (rng.chance(0.3)) add(rng.int(0, span), { kind: 'slow-line', every: rng.int(2, 5), delayMs: rng.int(20, 80) });
  const events = rng.int(1, 3);
  for (let k = 0; k < events; k++)
    add(rng.int(0, shardCount), {
      kind: 'reader-event',
      point: pausePoint(rng),
      event: rng.pick(['stop', 'loss', 'delete', 'unfollow'] as const),
      webhookConflict: rng.chance(0.2),
    });
  return {
    shardCount,
    fanOut: rng.pick(['once', 'once', 'twice', 'concurrent'] as const),
    lateFanOutBefore: rng.chance(0.2) ? rng.int(1, span) : undefined,
    redeliverBefore: rng.chance(0.3) ? rng.int(1, span) : undefined,
    line: {
      rate429: rng.pick([0, 0, 0.02, 0.05]),
      rate500: rng.pick([0, 0, 0.02, 0.04]),
      rateTimeout: rng.pick([0, 0, 0, 0.02]),
      seed: rng.int(1, 2 ** 31),
    },
    invocations,
  };
}
