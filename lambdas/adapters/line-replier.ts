import { messagingApi } from '@line/bot-sdk';
import type { TenantConfig } from '../../schemas/tenant';
import type { LineCredentialsSource, LineReplier, LineReplierFactory } from '../services/ports';

/** Replies are free and need no retry key (LINE rejects one on reply); a reply token is valid once, for about a minute. */
export class BotSdkLineReplierFactory implements LineReplierFactory {
  private readonly clients = new Map<string, Promise<LineReplier>>();
  constructor(private readonly credentials: LineCredentialsSource, private readonly baseURL?: string) {}

  forTenant(tenant: TenantConfig): Promise<LineReplier> {
    let client = this.clients.get(tenant.tenantId);
    if (!client) {
      client = this.credentials.get(tenant).then((c) => {
        const api = new messagingApi.MessagingApiClient({ channelAccessToken: c.channelAccessToken, baseURL: this.baseURL });
        return { reply: async (replyToken: string, messages: unknown[]) => void (await api.replyMessage({ replyToken, messages: messages as messagingApi.Message[] })) };
      });
      client.catch(() => this.clients.delete(tenant.tenantId));
      this.clients.set(tenant.tenantId, client);
    }
    return client;
  }
}
