// Webhook events as the LINE platform sends them: one event per request, signed with the channel secret.
import { createHmac, randomBytes } from 'node:crypto';
import type { ChatEntry, PostbackParams, WebhookResult } from './types';

export interface WebhookEvent {
  type: string;
  mode: 'active';
  timestamp: number;
  source: { type: 'user'; userId: string };
  webhookEventId: string;
  deliveryContext: { isRedelivery: boolean };
  replyToken?: string;
  [field: string]: unknown;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** LINE's webhookEventId is a ULID: 10 chars of millisecond time, 16 of randomness, Crockford base32. */
export function ulid(ms: number): string {
  let time = '';
  for (let t = ms, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32]! + time;
  return time + [...randomBytes(16)].map((b) => CROCKFORD[b % 32]).join('');
}

export function createWebhookEvent(
  type: string,
  userId: string,
  timestamp: number,
  replyToken: string | undefined,
  fields: Record<string, unknown>,
): WebhookEvent {
  return {
    type,
    ...fields,
    mode: 'active',
    timestamp,
    source: { type: 'user', userId },
    webhookEventId: ulid(timestamp),
    deliveryContext: { isRedelivery: false },
    ...(replyToken ? { replyToken } : {}),
  };
}

export const signature = (channelSecret: string, body: string) =>
  createHmac('sha256', channelSecret).update(body).digest('base64');

export async function sendWebhook(
  ch: { channelId: string; channelSecret: string; botUserId: string; webhookUrl?: string },
  event: WebhookEvent,
): Promise<WebhookResult> {
  if (!ch.webhookUrl) throw new Error(`channel ${ch.channelId} has no webhook URL`);
  const body = JSON.stringify({ destination: ch.botUserId, events: [event] });
  const started = performance.now();
  const res = await fetch(ch.webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'LineBotWebhook/2.0',
      'x-line-signature': signature(ch.channelSecret, body),
    },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text,
    webhookEventId: event.webhookEventId,
    ...(event.replyToken ? { replyToken: event.replyToken } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * A tapped postback shows up in the chat only through the offering action's displayText (or legacy text);
 * find the latest quick reply that offered this data. Date pickers show nothing.
 */
export function findPostbackDisplay(chat: ChatEntry[], data: string, params?: PostbackParams): string | undefined {
  if (params) return undefined;
  for (const entry of [...chat].reverse()) {
    if (entry.from !== 'bot') continue;
    const items =
      (entry.message.quickReply as { items?: { action?: Record<string, unknown> }[] } | undefined)?.items ?? [];
    const action = items.map((i) => i.action).find((a) => a?.type === 'postback' && a.data === data);
    if (action) return (action.displayText ?? action.text) as string | undefined;
  }
  return undefined;
}
