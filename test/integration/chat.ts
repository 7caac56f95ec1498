import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ChatEntry } from '../../local/line-emulator';
import type { Subscription } from '../../schemas/subscription';
import { SubscriptionSchema } from '../../schemas/subscription';
import type { TestStack } from './helpers';
import { dataKeys } from '../../lambdas/adapters/keys';

interface QuickAction {
  type: string;
  label: string;
  data?: string;
  uri?: string;
  min?: string;
  max?: string;
  initial?: string;
}

/** A LINE user in a test: acts through the emulator (signed webhooks) and reads their chat as the app shows it. */
export class ChatUser {
  constructor(
    private readonly stack: TestStack,
    readonly tenantId: string,
    readonly userId: string,
  ) {}

  private get channelId(): string {
    return this.stack.channels.get(this.tenantId)!.channelId;
  }
  private get user() {
    return this.stack.line.user(this.channelId, this.userId);
  }

  follow(isUnblocked = false) {
    return this.user.follow({ isUnblocked });
  }
  unfollow() {
    return this.user.unfollow();
  }
  say(text: string) {
    return this.user.sendText(text);
  }
  postback(data: string, params?: { date?: string }) {
    return this.user.postback(data, params);
  }

  async chat(): Promise<ChatEntry[]> {
    return this.stack.line.chat(this.channelId, this.userId);
  }

  /** Texts of the bot messages, in order. */
  async botTexts(): Promise<string[]> {
    return (await this.chat()).flatMap((e) => (e.from === 'bot' ? [(e.message as { text?: string }).text ?? ''] : []));
  }

  async lastBotText(): Promise<string> {
    return (await this.botTexts()).at(-1) ?? '';
  }

  /** The quick reply buttons under the latest bot message that has any. */
  async quickReplies(): Promise<QuickAction[]> {
    const bots = (await this.chat()).filter((e) => e.from === 'bot');
    for (let i = bots.length - 1; i >= 0; i--) {
      const items = (bots[i]!.message as { quickReply?: { items: { action: QuickAction }[] } }).quickReply?.items;
      if (items?.length) return items.map((it) => it.action);
    }
    return [];
  }

  /** Taps the quick reply button whose label starts with `label` (a datetimepicker needs `date`). */
  async tap(label: string, date?: string) {
    const action = (await this.quickReplies()).find((a) => a.label.startsWith(label));
    if (!action?.data) throw new Error(`no quick reply "${label}" in ${JSON.stringify(await this.quickReplies())}`);
    return this.postback(action.data, date ? { date } : undefined);
  }

  async subscriptions(): Promise<Subscription[]> {
    const res = await this.stack.db.send(
      new QueryCommand({
        TableName: this.stack.tables.data,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: {
          ':pk': dataKeys.readerPk(this.tenantId, this.stack.readerKeys.line(this.userId)),
          ':s': 'SUB#',
        },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map(({ pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, ...rest }) =>
      SubscriptionSchema.parse(rest),
    );
  }
}

/** Every item of a table, sorted: compare before and after to prove a request changed nothing. */
export async function snapshot(stack: TestStack, table: string): Promise<string> {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await stack.db.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return JSON.stringify(items.map((i) => JSON.stringify(i)).sort());
}

let counter = 0;
/** A fresh LINE user id (U + 32 hex) per call. */
export function newUserId(): string {
  counter += 1;
  return `U${(Date.now().toString(16) + process.pid.toString(16) + counter.toString(16).padStart(6, '0')).padEnd(32, '0').slice(0, 32)}`;
}
