// The LINE platform, as far as hagukumi uses it: the Messaging API endpoints we call, LINE's documented limits
// and retry-key semantics, and users who follow, talk and tap, delivered to our webhook with a real signature.
// There is no official LINE emulator; this one exists so every test and `npm start` run offline.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  LINE_USER_ID,
  UUID,
  validateMessages,
  validateMulticastTo,
  validateRichMenu,
  type ErrorDetail,
} from './validate';
import type {
  ChannelConfig,
  ChatEntry,
  DeliveredMessage,
  FaultConfig,
  LineEmulatorControl,
  LineMessage,
  PostbackParams,
  RecordedRequest,
  SendVia,
  SimulatedUser,
  WebhookResult,
} from './types';
import { createWebhookEvent, findPostbackDisplay, sendWebhook, type WebhookEvent } from './webhook';

export type * from './types';

export interface LineEmulatorOptions {
  port?: number;
  host?: string;
  /** Milliseconds since the epoch; inject to test retry-key expiry, reply-token expiry and rate windows. */
  now?: () => number;
}

export interface LineEmulator extends LineEmulatorControl {
  close(): Promise<void>;
  registerChannel(c: ChannelConfig): { channelId: string };
  setWebhookUrl(channelId: string, url: string): void;
  setFaults(f: FaultConfig, channelId?: string): void;
  requests(filter?: { channelId?: string }): RecordedRequest[];
  deliveries(channelId: string): Map<string, DeliveredMessage[]>;
  chat(channelId: string, userId: string): ChatEntry[];
  /** Forget requests, deliveries, chats, retry keys, reply tokens, follow state, rich menus and faults; keep channels. */
  reset(): void;
  /** LINE's per-channel rate limits on (the default) or off: the bench measures what remains without them. */
  setRateLimited(on: boolean): void;
}

const MAX_BODY = 2 * 1024 * 1024;
const MAX_RICH_MENU_IMAGE = 1024 * 1024;
const RETRY_KEY_TTL = 24 * 60 * 60 * 1000;
const REPLY_TOKEN_TTL = 60 * 1000;
const RATE_LIMIT_PER_SECOND = { push: 2000, multicast: 200, reply: 2000, profile: 2000 } as const;
const QUOTABLE = new Set(['text', 'textV2', 'sticker', 'image', 'video']);

const MSG = {
  auth: 'Authentication failed. Confirm that the access token in the authorization header is valid.',
  notFound: 'Not found',
  rateLimit: 'The API rate limit has been exceeded. Try again later.',
  monthly: 'You have reached your monthly limit.',
  internal: 'Internal server error',
  conflict: 'The retry key is already accepted',
  replyToken: 'Invalid reply token',
};

interface Faults {
  config: FaultConfig;
  random: () => number;
}
interface SentMessage {
  id: string;
  quoteToken?: string;
}
interface RichMenu {
  richMenuId: string;
  body: Record<string, unknown>;
  image?: { contentType: string; bytes: number };
}
interface Channel extends Required<Omit<ChannelConfig, 'webhookUrl'>> {
  webhookUrl?: string;
  botUserId: string;
  faults?: Faults;
  retryKeys: Map<string, { requestId: string; acceptedAt: number; sentMessages?: SentMessage[] }>;
  windows: Map<string, number[]>;
  following: Map<string, boolean>;
  deliveries: Map<string, DeliveredMessage[]>;
  chats: Map<string, ChatEntry[]>;
  replyTokens: Map<string, { userId: string; issuedAt: number; used: boolean }>;
  events: Map<string, { userId: string; event: WebhookEvent }>;
  richMenus: Map<string, RichMenu>;
  defaultRichMenuId?: string;
}
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

const error = (status: number, message: string, details?: ErrorDetail[]): Reply => ({
  status,
  body: details?.length ? { message, details } : { message },
});
const bodyErrors = (details: ErrorDetail[]): Reply | undefined =>
  details.length ? error(400, `The request body has ${details.length} error(s)`, details) : undefined;

/** mulberry32: tiny, seedable, good enough to make fault injection reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const makeFaults = (config: FaultConfig): Faults => ({ config, random: mulberry32(config.seed ?? 0x5eed) });

let messageSeq = 0n;
const nextMessageId = () => String(580000000000000000n + ++messageSeq);
const quoteToken = () => randomBytes(48).toString('base64url');
const sentFor = (messages: LineMessage[]): SentMessage[] =>
  messages.map((m) => ({ id: nextMessageId(), ...(QUOTABLE.has(m.type) ? { quoteToken: quoteToken() } : {}) }));

export async function startLineEmulator(opts: LineEmulatorOptions = {}): Promise<LineEmulator> {
  const now = opts.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const channels = new Map<string, Channel>();
  const recorded: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let globalFaults: Faults | undefined;
  let rateLimited = true;

  const channel = (channelId: string): Channel => {
    const ch = channels.get(channelId);
    if (!ch) throw new Error(`unknown channel ${channelId}`);
    return ch;
  };
  const byToken = (auth: string | undefined) => {
    const token = auth?.match(/^Bearer (.+)$/)?.[1];
    return token ? [...channels.values()].find((c) => c.accessToken === token) : undefined;
  };
  const clearState = (ch: Channel) => {
    for (const m of [
      ch.retryKeys,
      ch.windows,
      ch.following,
      ch.deliveries,
      ch.chats,
      ch.replyTokens,
      ch.events,
      ch.richMenus,
    ])
      m.clear();
    ch.defaultRichMenuId = undefined;
    ch.faults = undefined;
  };
  const append = <T>(map: Map<string, T[]>, key: string, item: T) =>
    void (map.get(key) ?? map.set(key, []).get(key)!).push(item);

  function deliver(
    ch: Channel,
    userIds: string[],
    messages: LineMessage[],
    via: SendVia,
    requestId: string,
    retryKey?: string,
  ) {
    const at = iso();
    for (const userId of new Set(userIds)) {
      // LINE accepts sends to users who blocked the account and silently drops them.
      if (ch.following.get(userId) === false) continue;
      for (const message of messages) {
        append(ch.deliveries, userId, { at, via, requestId, ...(retryKey ? { retryKey } : {}), message });
        append(ch.chats, userId, { at, from: 'bot', via, message });
      }
    }
  }

  function overRateLimit(ch: Channel, endpoint: keyof typeof RATE_LIMIT_PER_SECOND): boolean {
    const t = now();
    const recent = (ch.windows.get(endpoint) ?? []).filter((s) => s > t - 1000);
    if (recent.length >= RATE_LIMIT_PER_SECOND[endpoint]) return (ch.windows.set(endpoint, recent), true);
    ch.windows.set(endpoint, [...recent, t]);
    return false;
  }

  /** Shared by push and multicast: retry-key checks, then acceptance (which is what a 409 later refers to). */
  function send(
    ch: Channel,
    retryKey: string | undefined,
    requestId: string,
    via: 'push' | 'multicast',
    to: string[],
    messages: LineMessage[],
  ): Reply {
    const t = now();
    const prior = retryKey ? ch.retryKeys.get(retryKey) : undefined;
    if (retryKey && prior && t - prior.acceptedAt < RETRY_KEY_TTL) {
      const body =
        via === 'push' ? { message: MSG.conflict, sentMessages: prior.sentMessages } : { message: MSG.conflict };
      return { status: 409, body, headers: { 'x-line-accepted-request-id': prior.requestId } };
    }
    const sentMessages = sentFor(messages);
    deliver(ch, to, messages, via, requestId, retryKey);
    if (retryKey) ch.retryKeys.set(retryKey, { requestId, acceptedAt: t, sentMessages });
    return { status: 200, body: via === 'push' ? { sentMessages } : {} };
  }

  function messagingApi(
    ch: Channel,
    route: Route,
    req: IncomingMessage,
    body: unknown,
    raw: Buffer,
    requestId: string,
  ): Reply {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const retryKey = header(req, 'x-line-retry-key');
    if (retryKey !== undefined && route.name !== 'push' && route.name !== 'multicast') {
      return error(400, 'The X-Line-Retry-Key header is not supported for this endpoint');
    }
    if (retryKey !== undefined && !UUID.test(retryKey))
      return error(400, 'The value of the X-Line-Retry-Key header is invalid');
    switch (route.name) {
      case 'push': {
        if (typeof b.to !== 'string' || !LINE_USER_ID.test(b.to)) {
          return error(400, "The property, 'to', in the request body is invalid (line: -, column: -)");
        }
        return (
          bodyErrors(validateMessages(b.messages)) ??
          send(ch, retryKey, requestId, 'push', [b.to], b.messages as LineMessage[])
        );
      }
      case 'multicast': {
        const invalid = bodyErrors([...validateMulticastTo(b.to), ...validateMessages(b.messages)]);
        return invalid ?? send(ch, retryKey, requestId, 'multicast', b.to as string[], b.messages as LineMessage[]);
      }
      case 'reply': {
        const invalid = bodyErrors(validateMessages(b.messages));
        if (invalid) return invalid;
        const token = typeof b.replyToken === 'string' ? ch.replyTokens.get(b.replyToken) : undefined;
        if (!token || token.used || now() - token.issuedAt >= REPLY_TOKEN_TTL) return error(400, MSG.replyToken);
        token.used = true;
        deliver(ch, [token.userId], b.messages as LineMessage[], 'reply', requestId);
        return { status: 200, body: { sentMessages: sentFor(b.messages as LineMessage[]) } };
      }
      case 'profile': {
        const userId = route.params[0] ?? '';
        if (ch.following.get(userId) !== true) return error(404, MSG.notFound);
        return { status: 200, body: { userId, displayName: `テストユーザー${userId.slice(-4)}`, language: 'ja' } };
      }
      case 'richmenu.create': {
        const invalid = bodyErrors(validateRichMenu(body));
        if (invalid) return invalid;
        const richMenuId = `richmenu-${randomBytes(16).toString('hex')}`;
        ch.richMenus.set(richMenuId, { richMenuId, body: b });
        return { status: 200, body: { richMenuId } };
      }
      case 'richmenu.list':
        return {
          status: 200,
          body: { richmenus: [...ch.richMenus.values()].map((m) => ({ richMenuId: m.richMenuId, ...m.body })) },
        };
    }
    const menu = ch.richMenus.get(route.params[0] ?? '');
    if (!menu) return error(404, MSG.notFound);
    switch (route.name) {
      case 'richmenu.content': {
        const contentType = header(req, 'content-type')?.split(';')[0]?.trim() ?? '';
        if (contentType !== 'image/png' && contentType !== 'image/jpeg')
          return error(400, 'The content type must be image/jpeg or image/png');
        if (raw.length > MAX_RICH_MENU_IMAGE) return error(400, 'The image must be 1 MB or smaller');
        if (menu.image) return error(400, 'An image has already been uploaded to the rich menu');
        menu.image = { contentType, bytes: raw.length };
        return { status: 200, body: {} };
      }
      case 'richmenu.default':
        if (!menu.image) return error(400, 'An image has not been uploaded to the rich menu');
        ch.defaultRichMenuId = menu.richMenuId;
        return { status: 200, body: {} };
      case 'richmenu.delete':
        ch.richMenus.delete(menu.richMenuId);
        if (ch.defaultRichMenuId === menu.richMenuId) ch.defaultRichMenuId = undefined;
        return { status: 200, body: {} };
    }
    return error(404, MSG.notFound);
  }

  /** Auth, faults, rate limits, then the endpoint: the order a client of the real platform would observe. */
  function api(
    req: IncomingMessage,
    path: string,
    raw: Buffer,
    tooLarge: boolean,
    requestId: string,
    record: RecordedRequest,
  ): Reply {
    const route = matchRoute(req.method ?? 'GET', path);
    if (!route) return error(404, MSG.notFound);
    const ch = byToken(header(req, 'authorization'));
    if (!ch) return error(401, MSG.auth);
    record.channelId = ch.channelId;
    if (tooLarge) return error(413, 'Request Entity Too Large');
    let body: unknown;
    if (route.json) {
      record.body = raw.toString('utf8');
      try {
        body = record.body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
      } catch {
        return error(400, 'The request body could not be parsed as JSON');
      }
    }
    const faults = ch.faults ?? globalFaults;
    const isSend = route.name === 'push' || route.name === 'multicast';
    if (isSend && faults?.config.monthlyLimit) return error(429, MSG.monthly);
    let delayMs: number | undefined;
    if (faults) {
      const { rate429 = 0, rate500 = 0, rateTimeout = 0, timeoutMs = 5000 } = faults.config;
      const roll = faults.random();
      if (roll < rate429) return error(429, MSG.rateLimit);
      if (roll < rate429 + rate500) return error(500, MSG.internal);
      if (roll < rate429 + rate500 + rateTimeout) delayMs = timeoutMs;
    }
    const limited =
      route.name in RATE_LIMIT_PER_SECOND ? (route.name as keyof typeof RATE_LIMIT_PER_SECOND) : undefined;
    if (limited && rateLimited && overRateLimit(ch, limited)) return error(429, MSG.rateLimit);
    return { ...messagingApi(ch, route, req, body, raw, requestId), delayMs };
  }

  function registerChannel(c: ChannelConfig): { channelId: string } {
    if (!c.channelSecret || !c.accessToken) throw new Error('channelSecret and accessToken are required');
    let channelId = c.channelId;
    // Several test processes may share one emulator: never hand out an id someone registered explicitly.
    for (let n = channels.size + 1; !channelId; n++)
      if (!channels.has(String(2000000000 + n))) channelId = String(2000000000 + n);
    const clash = [...channels.values()].find((o) => o.accessToken === c.accessToken && o.channelId !== channelId);
    if (clash) throw new Error(`access token already used by channel ${clash.channelId}`);
    const ch: Channel = {
      channelId,
      channelSecret: c.channelSecret,
      accessToken: c.accessToken,
      webhookUrl: c.webhookUrl,
      botUserId: `U${createHash('md5').update(`bot:${channelId}`).digest('hex')}`,
      retryKeys: new Map(),
      windows: new Map(),
      following: new Map(),
      deliveries: new Map(),
      chats: new Map(),
      replyTokens: new Map(),
      events: new Map(),
      richMenus: new Map(),
    };
    channels.set(channelId, ch);
    return { channelId };
  }

  function user(channelId: string, userId: string): SimulatedUser {
    if (!LINE_USER_ID.test(userId)) throw new Error(`not a LINE user id (U + 32 hex): ${userId}`);
    const ch = channel(channelId);
    const act = (entry: Omit<Extract<ChatEntry, { from: 'user' }>, 'at' | 'from'>) => {
      // Fail before changing any state, so a test that forgot the webhook sees a clean error.
      if (!ch.webhookUrl) throw new Error(`channel ${channelId} has no webhook URL`);
      append(ch.chats, userId, { at: iso(), from: 'user', ...entry });
    };
    const emit = async (
      type: string,
      fields: Record<string, unknown>,
      withReplyToken: boolean,
    ): Promise<WebhookResult> => {
      const replyToken = withReplyToken ? randomBytes(16).toString('hex') : undefined;
      if (replyToken) ch.replyTokens.set(replyToken, { userId, issuedAt: now(), used: false });
      const event = createWebhookEvent(type, userId, now(), replyToken, fields);
      ch.events.set(event.webhookEventId, { userId, event });
      return sendWebhook(ch, event);
    };
    return {
      follow: async (o) => {
        const wasBlocked = ch.following.get(userId) === false;
        act({ action: 'follow' });
        ch.following.set(userId, true);
        return emit('follow', { follow: { isUnblocked: o?.isUnblocked ?? wasBlocked } }, true);
      },
      unfollow: async () => {
        act({ action: 'unfollow' });
        ch.following.set(userId, false);
        return emit('unfollow', {}, false);
      },
      sendText: async (text) => {
        act({ action: 'text', text });
        return emit(
          'message',
          { message: { id: nextMessageId(), type: 'text', quoteToken: quoteToken(), text } },
          true,
        );
      },
      postback: async (data, params?: PostbackParams) => {
        const displayText = findPostbackDisplay(ch.chats.get(userId) ?? [], data, params);
        act({ action: 'postback', data, ...(params ? { params } : {}), ...(displayText ? { displayText } : {}) });
        return emit('postback', { postback: params ? { data, params } : { data } }, true);
      },
      redeliver: async (webhookEventId) => {
        const sent = ch.events.get(webhookEventId);
        if (sent?.userId !== userId) throw new Error(`no event ${webhookEventId} was sent for ${userId}`);
        return sendWebhook(ch, { ...sent.event, deliveryContext: { isRedelivery: true } });
      },
    };
  }

  const emulator: Omit<LineEmulator, 'url' | 'close'> = {
    registerChannel,
    setRateLimited: (on) => void (rateLimited = on),
    setWebhookUrl: (channelId, url) => void (channel(channelId).webhookUrl = url),
    setFaults: (f, channelId) => {
      if (channelId) channel(channelId).faults = makeFaults(f);
      else {
        globalFaults = makeFaults(f);
        for (const ch of channels.values()) ch.faults = undefined;
      }
    },
    requests: (filter) => recorded.filter((r) => !filter?.channelId || r.channelId === filter.channelId),
    deliveries: (channelId) => new Map([...channel(channelId).deliveries].map(([k, v]) => [k, [...v]])),
    chat: (channelId, userId) => [...(channel(channelId).chats.get(userId) ?? [])],
    reset: () => {
      recorded.length = 0;
      globalFaults = undefined;
      for (const ch of channels.values()) clearState(ch);
    },
    user,
  };

  async function admin(method: string, url: URL, raw: Buffer): Promise<Reply> {
    const body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    const q = (k: string) => url.searchParams.get(k) ?? undefined;
    const need = (k: string) =>
      q(k) ??
      (() => {
        throw new Error(`query parameter ${k} is required`);
      })();
    const path = url.pathname.replace(/^\/_emulator/, '');
    const ok = (b: unknown = {}): Reply => ({ status: 200, body: b });
    const userAction = /^\/users\/([^/]+)\/(follow|unfollow|text|postback|redeliver)$/.exec(path);
    if (method === 'POST' && userAction) {
      const u = user(need('channelId'), decodeURIComponent(userAction[1] ?? ''));
      switch (userAction[2]) {
        case 'follow':
          return ok(await u.follow(body));
        case 'unfollow':
          return ok(await u.unfollow());
        case 'text':
          return ok(await u.sendText(body.text));
        case 'postback':
          return ok(await u.postback(body.data, body.params));
        default:
          return ok(await u.redeliver(body.webhookEventId));
      }
    }
    const webhook = /^\/channels\/([^/]+)\/webhook$/.exec(path);
    if (method === 'POST' && webhook) return ok(emulator.setWebhookUrl(decodeURIComponent(webhook[1] ?? ''), body.url));
    switch (`${method} ${path}`) {
      case 'POST /channels':
        return ok(registerChannel(body));
      case 'POST /faults':
        return ok(emulator.setFaults(body, q('channelId')));
      case 'GET /requests':
        return ok(emulator.requests({ channelId: q('channelId') }));
      case 'GET /deliveries':
        return ok(Object.fromEntries(emulator.deliveries(need('channelId'))));
      case 'GET /chat':
        return ok(emulator.chat(need('channelId'), need('userId')));
      case 'POST /reset':
        return ok(emulator.reset());
    }
    return error(404, MSG.notFound);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const { raw, tooLarge } = await readBody(req);
    const write = (reply: Reply) => {
      if (res.destroyed) return;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    };
    if (url.pathname.startsWith('/_emulator/')) {
      try {
        return write(await admin(req.method ?? 'GET', url, raw));
      } catch (e) {
        return write(error(400, e instanceof Error ? e.message : String(e)));
      }
    }
    const requestId = randomUUID();
    const headers = Object.fromEntries(
      Object.entries(req.headers)
        .filter(([k]) => k !== 'authorization')
        .map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const body =
      raw.length && !header(req, 'content-type')?.includes('json')
        ? { contentType: header(req, 'content-type'), bytes: raw.length }
        : undefined;
    const record: RecordedRequest = {
      at: iso(),
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      headers,
      body,
      status: 0,
    };
    let reply: Reply;
    try {
      reply = api(req, url.pathname, raw, tooLarge, requestId, record);
    } catch (e) {
      reply = error(500, MSG.internal);
      console.error('line-emulator:', e);
    }
    record.status = reply.status;
    recorded.push(record);
    reply.headers = { 'x-line-request-id': requestId, ...reply.headers };
    if (!reply.delayMs) return write(reply);
    // The request was accepted and its effects are visible; only the answer is late, as on a timed-out call.
    const timer = setTimeout(() => (timers.delete(timer), write(reply)), reply.delayMs);
    timers.add(timer);
  }

  // A client that hangs up mid-body (a timed-out test call) must not take the emulator down.
  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  // Never close an idle keep-alive socket from this side: a busy client (fetch keeps sockets 4 s) could send
  // on one that is closing and get "other side closed". The client closes its idle sockets itself.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    ...emulator,
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Route {
  name: string;
  params: string[];
  json: boolean;
}
const ROUTES: [string, RegExp, string, boolean][] = [
  ['POST', /^\/v2\/bot\/message\/push$/, 'push', true],
  ['POST', /^\/v2\/bot\/message\/multicast$/, 'multicast', true],
  ['POST', /^\/v2\/bot\/message\/reply$/, 'reply', true],
  ['GET', /^\/v2\/bot\/profile\/([^/]+)$/, 'profile', false],
  ['POST', /^\/v2\/bot\/richmenu$/, 'richmenu.create', true],
  ['GET', /^\/v2\/bot\/richmenu\/list$/, 'richmenu.list', false],
  ['POST', /^\/v2\/bot\/richmenu\/([^/]+)\/content$/, 'richmenu.content', false],
  ['POST', /^\/v2\/bot\/user\/all\/richmenu\/([^/]+)$/, 'richmenu.default', false],
  ['DELETE', /^\/v2\/bot\/richmenu\/([^/]+)$/, 'richmenu.delete', false],
];
function matchRoute(method: string, path: string): Route | undefined {
  for (const [m, re, name, json] of ROUTES) {
    const match = method === m ? path.match(re) : null;
    if (match) return { name, params: match.slice(1).map(decodeURIComponent), json };
  }
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<{ raw: Buffer; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Keep draining past the limit so the client gets our 413 instead of a reset connection.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  return { raw: Buffer.concat(chunks), tooLarge: size > MAX_BODY };
}
