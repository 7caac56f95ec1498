import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { ShardTask } from '../../schemas/delivery';
import type { ShardQueue } from '../services/ports';

export class SqsShardQueue implements ShardQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly sqs = new SQSClient({}),
  ) {}

  async enqueue(tasks: ShardTask[]): Promise<void> {
    for (let i = 0; i < tasks.length; i += 10) {
      let pending = tasks.slice(i, i + 10).map((t, j) => ({ Id: String(j), MessageBody: JSON.stringify(t) }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 5) throw new Error(`SQS refused ${pending.length} shard tasks`);
        const res = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
        const failed = new Set((res.Failed ?? []).map((f) => f.Id));
        pending = pending.filter((e) => failed.has(e.Id));
      }
    }
  }
}
