// Shapes shared by the in-process emulator and its HTTP client, so a test can take either.

export interface FaultConfig {
  rate429?: number;
  rate500?: number;
  rateTimeout?: number;
  timeoutMs?: number;
  monthlyLimit?: boolean;
  seed?: number;
}

export interface ChannelConfig {
  channelSecret: string;
  accessToken: string;
  webhookUrl?: string;
  channelId?: string;
}

export interface RecordedRequest {
  at: string;
  channelId?: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  status: number;
}

export type LineMessage = { type: string } & Record<string, unknown>;
export type SendVia = 'push' | 'multicast' | 'reply';

export interface DeliveredMessage {
  at: string;
  via: SendVia;
  requestId: string;
  retryKey?: string;
  message: LineMessage;
}

export type ChatEntry =
  | { at: string; from: 'bot'; via: SendVia; message: LineMessage }
  | {
      at: string;
      from: 'user';
      action: 'follow' | 'unfollow' | 'text' | 'postback';
      text?: string;
      data?: string;
      params?: PostbackParams;
      /** What the chat shows for a tapped postback: the offering action's displayText, else its label. */
      displayText?: string;
    };

export interface PostbackParams {
  date?: string;
  time?: string;
  datetime?: string;
}

export interface WebhookResult {
  status: number;
  body: string;
  webhookEventId: string;
  replyToken?: string;
  durationMs: number;
}

export interface SimulatedUser {
  follow(opts?: { isUnblocked?: boolean }): Promise<WebhookResult>;
  unfollow(): Promise<WebhookResult>;
  sendText(text: string): Promise<WebhookResult>;
  postback(data: string, params?: PostbackParams): Promise<WebhookResult>;
  redeliver(webhookEventId: string): Promise<WebhookResult>;
}

type Awaitable<T> = T | Promise<T>;

/** What both LineEmulator (sync) and LineEmulatorClient (over HTTP) offer; always `await` the results. */
export interface LineEmulatorControl {
  url: string;
  registerChannel(c: ChannelConfig): Awaitable<{ channelId: string }>;
  setWebhookUrl(channelId: string, url: string): Awaitable<void>;
  setFaults(f: FaultConfig, channelId?: string): Awaitable<void>;
  requests(filter?: { channelId?: string }): Awaitable<RecordedRequest[]>;
  deliveries(channelId: string): Awaitable<Map<string, DeliveredMessage[]>>;
  chat(channelId: string, userId: string): Awaitable<ChatEntry[]>;
  reset(): Awaitable<void>;
  user(channelId: string, userId: string): SimulatedUser;
}
