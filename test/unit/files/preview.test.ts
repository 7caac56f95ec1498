import { previewDays } from '../../../bin/preview';
import type { ContentItem } from '../../../schemas/content';
import { TenantConfigSchema } from '../../../schemas/tenant';

// A reader walked through 60 days: the expected texts come from this test's own date arithmetic (gestational
// day = 280 - days until the due date) and its own reading of the library, overlays and announcements below.
const tenant = TenantConfigSchema.parse({
  tenantId: 'town',
  name: 'town',
  deliveryTime: '07:30',
  shardCount: 1,
  library: 'lib',
  defaultNickname: 'あかちゃん',
  line: { enabled: true, secretName: 'hagukumi/town/line' },
  birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
  overlays: [
    { track: 'maternity', day: 150, mode: 'append', text: 'overlay 150' },
    { track: 'maternity', day: 160, mode: 'replace', text: 'replaces 160' },
  ],
  announcements: [{ date: '2026-12-24', text: 'クリスマス会のお知らせ、{nickname}' }],
});
// Every third gestational day has a library text.
const items: ContentItem[] = Array.from({ length: 266 }, (_, k) => 28 + k)
  .filter((d) => d % 3 === 0)
  .map((day) => ({ track: 'maternity', day, audience: 'parent', text: `day ${day} {nickname}` }));

const DAY = 86_400_000;
const utc = (d: string) => Date.parse(`${d}T00:00:00Z`);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

it('walks a pregnancy through 60 days: stage label and texts of each day', async () => {
  const due = '2027-04-20';
  const from = '2026-12-01';
  const days = await previewDays(tenant, items, {
    track: 'maternity',
    anchorDate: due,
    from,
    days: 60,
    audience: 'parent',
  });
  expect(days).toHaveLength(60);
  for (const [i, d] of days.entries()) {
    const date = iso(utc(from) + i * DAY);
    const gd = 280 - (utc(due) - utc(date)) / DAY;
    const texts: string[] = [];
    if (gd % 3 === 0 && gd !== 160) texts.push(`day ${gd} あかちゃん`);
    if (gd === 150) texts.push('overlay 150');
    if (gd === 160) texts.push('replaces 160');
    if (date === '2026-12-24') texts.push('クリスマス会のお知らせ、あかちゃん');
    expect(d).toEqual({ date, stage: `${Math.floor(gd / 7)}w${gd % 7}d`, messages: texts });
  }
  // The walk covers the overlay days and the announcement.
  expect(days.some((d) => d.messages.includes('overlay 150'))).toBe(true);
  expect(days.some((d) => d.messages.includes('replaces 160'))).toBe(true);
  expect(days.filter((d) => d.messages.some((m) => m.startsWith('クリスマス会'))).map((d) => d.date)).toEqual([
    '2026-12-24',
  ]);
});
