import type { TenantConfig } from '../../../schemas/tenant';
import { keepDelivering, type LocalStack } from '../../../local/run-local';
import type { Schedule } from '../../../local/local-clock';

const tenant = (tenantId: string, timeZone: string, deliveryTime: string) =>
  ({ tenantId, timeZone, deliveryTime }) as TenantConfig;

/** A stack that only records what it was asked to deliver. */
function recordingStack(tenants: TenantConfig[], onDeliver?: (n: number) => void) {
  const calls: string[] = [];
  const local = {
    tenants,
    deliver: async (date: string, schedules?: Schedule[]) => {
      calls.push(`${date} ${schedules?.map((s) => `${s.timeZone} ${s.deliveryTime}`).join(',')}`);
      onDeliver?.(calls.length);
      return { date, tenants: [], seconds: 0 };
    },
  } as unknown as LocalStack;
  return { local, calls };
}

describe('keepDelivering', () => {
  it('delivers every following day at each schedule, in time order, and stops after --days', async () => {
    const { local, calls } = recordingStack([
      tenant('a', 'Asia/Tokyo', '07:30'),
      tenant('b', 'Asia/Tokyo', '18:00'),
      tenant('c', 'Asia/Tokyo', '07:30'),
      tenant('d', 'America/New_York', '07:30'),
    ]);
    await keepDelivering(local, {
      clock: { kind: 'fast', secondsPerDay: 0 },
      startDate: '2026-12-01',
      days: 3,
      signal: new AbortController().signal,
      out: { write: () => true } as unknown as NodeJS.WritableStream,
    });
    // The start date was delivered at start-up. New York's 07:30 (12:30 UTC) comes after Tokyo's 18:00
    // (09:00 UTC) of the same date, and before Tokyo's next 07:30 (22:30 UTC).
    expect(calls).toEqual([
      '2026-12-02 Asia/Tokyo 07:30',
      '2026-12-02 Asia/Tokyo 18:00',
      '2026-12-02 America/New_York 07:30',
      '2026-12-03 Asia/Tokyo 07:30',
      '2026-12-03 Asia/Tokyo 18:00',
      '2026-12-03 America/New_York 07:30',
    ]);
  });

  it('runs until stopped when no --days is given', async () => {
    const stop = new AbortController();
    const { local, calls } = recordingStack([tenant('a', 'Asia/Tokyo', '07:30')], (n) => n === 3 && stop.abort());
    await keepDelivering(local, {
      clock: { kind: 'fast', secondsPerDay: 0.01 },
      startDate: '2026-12-30',
      signal: stop.signal,
      out: { write: () => true } as unknown as NodeJS.WritableStream,
    });
    expect(calls).toEqual([
      '2026-12-31 Asia/Tokyo 07:30',
      '2027-01-01 Asia/Tokyo 07:30',
      '2027-01-02 Asia/Tokyo 07:30',
    ]);
  });
});
