// Drives an emulator running in another process through its /_emulator admin API, with the same method
// names as the in-process LineEmulator, so a test can be written once against LineEmulatorControl.
import type {
  ChannelConfig,
  ChatEntry,
  DeliveredMessage,
  FaultConfig,
  LineEmulatorControl,
  PostbackParams,
  RecordedRequest,
  SimulatedUser,
  WebhookResult,
} from './types';

export class LineEmulatorError extends Error {
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LineEmulatorError';
  }
}

export class LineEmulatorClient implements LineEmulatorControl {
  constructor(readonly url: string) {}

  private async call<T>(
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, string | undefined> = {},
    body?: unknown,
  ): Promise<T> {
    const target = new URL(`/_emulator${path}`, this.url);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) target.searchParams.set(k, v);
    const res = await fetch(target, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new LineEmulatorError(`${method} ${path}: ${res.status} ${text}`, res.status);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  registerChannel(c: ChannelConfig) {
    return this.call<{ channelId: string }>('POST', '/channels', {}, c);
  }
  async setWebhookUrl(channelId: string, url: string) {
    await this.call('POST', `/channels/${encodeURIComponent(channelId)}/webhook`, {}, { url });
  }
  async setFaults(f: FaultConfig, channelId?: string) {
    await this.call('POST', '/faults', { channelId }, f);
  }
  requests(filter?: { channelId?: string }) {
    return this.call<RecordedRequest[]>('GET', '/requests', { channelId: filter?.channelId });
  }
  async deliveries(channelId: string) {
    return new Map(
      Object.entries(await this.call<Record<string, DeliveredMessage[]>>('GET', '/deliveries', { channelId })),
    );
  }
  chat(channelId: string, userId: string) {
    return this.call<ChatEntry[]>('GET', '/chat', { channelId, userId });
  }
  async reset() {
    await this.call('POST', '/reset', {}, {});
  }
  user(channelId: string, userId: string): SimulatedUser {
    const act = (action: string, body: unknown = {}) =>
      this.call<WebhookResult>('POST', `/users/${encodeURIComponent(userId)}/${action}`, { channelId }, body);
    return {
      follow: (opts?: { isUnblocked?: boolean }) => act('follow', opts ?? {}),
      unfollow: () => act('unfollow'),
      sendText: (text: string) => act('text', { text }),
      postback: (data: string, params?: PostbackParams) => act('postback', { data, params }),
      redeliver: (webhookEventId: string) => act('redeliver', { webhookEventId }),
    };
  }
}
