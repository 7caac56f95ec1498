import { channelFigures } from '../../../bench/delivery';
import { municipalitySizes, simulateQueue } from '../../../bench/national';
import { dollarsPerMillion } from '../../../bench/report';
import type { RecordedRequest } from '../../../local/line-emulator/types';

const request = (path: string, to: string | string[], text: string): RecordedRequest => ({
  at: '2026-12-01T00:00:00Z',
  channelId: 'c1',
  method: 'POST',
  path,
  headers: {},
  body: { to, messages: [{ type: 'text', text }] },
  status: 200,
});
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `U${from + i}`);

describe('the floor of a channel, from the record', () => {
  it('counts every distinct message list once per 500 recipients, and LINE time as multicast/200 + push/2,000', () => {
    const record = [
      // One list split over two shards' multicasts: 300 + 300 recipients need 2 requests at least (600 / 500).
      request('/v2/bot/message/multicast', ids(300), 'a'),
      request('/v2/bot/message/multicast', ids(300, 300), 'a'),
      // The same list once more as a push of a stray reader: still within the 2.
      request('/v2/bot/message/push', 'U900', 'a'),
      // A personalised message: a push is its floor.
      request('/v2/bot/message/push', 'U901', 'b'),
    ];
    expect(channelFigures('c1', record)).toEqual({
      channelId: 'c1',
      multicast: 2,
      push: 2,
      recipients: 602,
      floor: 3,
      timeFloorSeconds: 2 / 200 + 2 / 2000,
    });
  });
});

describe('the event source ramp', () => {
  it.each([
    // 5 workers at t=0, +5 a second: 10 tasks of 60 s start at 0 (5) and 1 s (5).
    { label: 'ten long tasks', tasks: Array(10).fill(60), max: 1000, want: 61 },
    // 5 at once, each 1 s: the next 5+ start at 1 s (cap 10), so 15 tasks end by 2 s.
    { label: 'short tasks ride the ramp', tasks: Array(15).fill(1), max: 1000, want: 2 },
    // A cap of 2 (below the start of 5): 4 tasks of 10 s take two rounds.
    { label: 'the maximum concurrency holds', tasks: Array(4).fill(10), max: 2, want: 20 },
  ])('$label', ({ tasks, max, want }) => {
    expect(
      simulateQueue(
        tasks.map((seconds: number) => ({ seconds })),
        max,
      ),
    ).toBeCloseTo(want, 1);
  });
});

describe('municipality sizes', () => {
  it('adds up to the country, a few large cities, most towns small, the same for a seed', () => {
    const sizes = municipalitySizes(1741, 5_000_000);
    expect(sizes).toHaveLength(1741);
    expect(Math.abs(sizes.reduce((a, b) => a + b, 0) - 5_000_000)).toBeLessThan(1741 * 20);
    expect(sizes.filter((n) => n >= 30_000).length).toBeGreaterThan(3);
    expect(sizes.filter((n) => n < 1000).length).toBeGreaterThan(1741 / 2);
    expect(municipalitySizes(1741, 5_000_000)).toEqual(sizes);
  });
});

describe('cost at list prices', () => {
  it('adds DynamoDB units, SQS requests and Lambda GB-seconds per million deliveries', () => {
    // 1 M deliveries: 1 M write units ($0.625), 2 M read units ($0.25), 1 M SQS requests ($0.40),
    // 1,000 GB-s ($0.0133334) and 1,000 invocations ($0.0002).
    const dollars = dollarsPerMillion({
      deliveries: 1e6,
      counts: { readUnits: 2e6, writeUnits: 1e6, dynamoRequests: 0, sqsRequests: 1e6, byKind: {} },
      gbSeconds: 1000,
      invocations: 1000,
    });
    expect(dollars).toBeCloseTo(0.625 + 0.25 + 0.4 + 0.0133334 + 0.0002, 6);
  });
});
