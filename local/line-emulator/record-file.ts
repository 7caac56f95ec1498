import type { RecordedRequest } from './types';

/**
 * One line of `--record-line` (JSON lines): the request as served, without the Authorization header (the
 * emulator never records it), and the channel it went to, since LINE's recipients and multicast groups are per
 * channel. `channelId` is null for a request no channel's token authenticated.
 */
export function recordLine(r: RecordedRequest): string {
  return JSON.stringify({
    at: r.at,
    channelId: r.channelId ?? null,
    method: r.method,
    path: r.path,
    status: r.status,
    headers: r.headers,
    body: r.body,
  });
}

export const recordFile = (requests: readonly RecordedRequest[]): string =>
  requests.length ? `${requests.map(recordLine).join('\n')}\n` : '';
