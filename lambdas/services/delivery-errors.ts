import type { ShardTask } from '../../schemas/delivery';

/** Some sends of the shard could not be completed now; the SQS message is retried and the plan resumes. */
export class ShardIncompleteError extends Error {
  constructor(
    readonly task: ShardTask,
    readonly failedSends: number,
    options: { cause: unknown },
  ) {
    super(`${failedSends} sends of ${task.tenantId}/${task.date}/shard ${task.shard} must be retried`, options);
    this.name = 'ShardIncompleteError';
  }
}

/** Too little time was left to start another send; progress is recorded and the SQS message comes back. */
export class DeadlineReachedError extends Error {
  constructor(readonly remainingMs: number) {
    super(`stopped with ${remainingMs} ms left before the function's timeout`);
    this.name = 'DeadlineReachedError';
  }
}

/** SES refused this message for good (bad address, rejected content); sending it again cannot help. */
export class EmailRejectedError extends Error {
  constructor(options: { cause: unknown }) {
    super('SES rejected the email', options);
    this.name = 'EmailRejectedError';
  }
}

/** SES answered and did not take the mail (throttled, paused, a limit): it was not sent and may be sent later. */
export class EmailNotAcceptedError extends Error {
  constructor(options: { cause: unknown }) {
    super('SES did not accept the email', options);
    this.name = 'EmailNotAcceptedError';
  }
}

/** A stored item does not match its schema. */
export class CorruptItemError extends Error {
  constructor(what: string, options: { cause: unknown }) {
    super(`a stored ${what} does not match its schema`, options);
    this.name = 'CorruptItemError';
  }
}
