import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { startLineEmulator, type LineEmulator } from '../../../local/line-emulator';

export const SECRET = 'test-channel-secret';
export const TOKEN = 'test-access-token';
export const userId = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
export const text = (t: string): messagingApi.TextMessage => ({ type: 'text', text: t });

/** A controllable clock: the emulator's 24 h, 1 min and 1 s windows are tested without waiting. */
export function fakeClock(start = Date.parse('2025-04-01T00:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

export async function startWithChannel(now?: () => number) {
  const emu: LineEmulator = await startLineEmulator({ now });
  const { channelId } = emu.registerChannel({ channelSecret: SECRET, accessToken: TOKEN });
  const line = new messagingApi.MessagingApiClient({ channelAccessToken: TOKEN, baseURL: emu.url });
  return { emu, channelId, line };
}

/** The SDK throws on every non-2xx; tests want the error to look at its status, headers and body. */
export async function lineError(
  p: Promise<unknown>,
): Promise<HTTPFetchError & { json: { message: string; details?: { message: string; property: string }[] } }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof HTTPFetchError)) throw e;
    return Object.assign(e, { json: JSON.parse(e.body) });
  }
  throw new Error('expected the LINE call to fail');
}

export interface ReceivedWebhook {
  headers: IncomingMessage['headers'];
  raw: string;
  body: { destination: string; events: Record<string, any>[] };
}

/** Our stand-in for the webhook Lambda: records what LINE sent and lets a test react (e.g. reply). */
export async function startWebhookReceiver(onEvent: (w: ReceivedWebhook) => Promise<void> | void = () => {}) {
  const received: ReceivedWebhook[] = [];
  // A test's receiver: the server ignores the handler's promise, and a failure fails the test that caused it.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const w = { headers: req.headers, raw, body: JSON.parse(raw) };
    received.push(w);
    await onEvent(w);
    res.writeHead(200).end('OK');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
