import { messagingApi } from '@line/bot-sdk';
import type { TenantConfig } from '../../schemas/tenant';
import type { LineCredentialsSource, LineReplier, LineReplierFactory } from '../services/ports';

/**
 * Replies are free and need no retry key (LINE rejects one on reply); a reply token is valid once, for about a minute.
 * Pushes (notices to a family member) carry a retry key.
 */
export class BotSdkLineReplierFactory implements LineReplierFactory {
  /** Keyed by token, so a rotated token (picked up by the credentials cache) gets a new client. */
  private readonly clients = new Map<string, LineReplier>();
  constructor(
    private readonly credentials: LineCredentialsSource,
    private readonly baseURL?: string,
  ) {}

  async forTenant(tenant: TenantConfig): Promise<LineReplier> {
    const { channelAccessToken } = await this.credentials.get(tenant);
    let client = this.clients.get(channelAccessToken);
    if (!client) {
      const api = new messagingApi.MessagingApiClient({ channelAccessToken, baseURL: this.baseURL });
      client = {
        reply: async (replyToken: string, messages: unknown[]) => {
          await api.replyMessage({ replyToken, messages: messages as messagingApi.Message[] });
        },
        // A push is retried by LINE's idempotency key, not here: the caller treats a failure as a lost notice.
        push: async (to: string, messages: unknown[], retryKey: string) => {
          await api.pushMessage({ to, messages: messages as messagingApi.Message[] }, retryKey);
        },
      };
      this.clients.set(channelAccessToken, client);
    }
    return client;
  }
}
