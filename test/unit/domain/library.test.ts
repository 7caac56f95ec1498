import { buildLibraryIndex, DuplicateSlotError, libraryText } from '../../../lambdas/domain/library';
import type { ContentItem } from '../../../schemas/content';

const items: ContentItem[] = [
  { track: 'maternity', day: 28, audience: 'parent', text: 'parent 28' },
  { track: 'maternity', day: 28, audience: 'partner', text: 'partner 28' },
  { track: 'maternity', day: 29, audience: 'parent', text: 'parent 29' },
  { track: 'maternity', day: 30, audience: 'partner', text: 'partner only 30' },
  { track: 'childcare', day: 28, audience: 'parent', text: 'childcare 28' },
];

describe('libraryText', () => {
  const index = buildLibraryIndex(items);

  it.each([
    { label: 'parent text', track: 'maternity', day: 28, audience: 'parent', want: 'parent 28' },
    { label: 'partner variant', track: 'maternity', day: 28, audience: 'partner', want: 'partner 28' },
    { label: 'partner falls back to parent', track: 'maternity', day: 29, audience: 'partner', want: 'parent 29' },
    {
      label: 'parent never gets a partner-only text',
      track: 'maternity',
      day: 30,
      audience: 'parent',
      want: undefined,
    },
    { label: 'partner-only text', track: 'maternity', day: 30, audience: 'partner', want: 'partner only 30' },
    { label: 'tracks are separate', track: 'childcare', day: 28, audience: 'partner', want: 'childcare 28' },
    { label: 'a day without an item', track: 'maternity', day: 31, audience: 'parent', want: undefined },
    { label: 'a day without an item, partner', track: 'childcare', day: 29, audience: 'partner', want: undefined },
  ] as const)('$label', ({ track, day, audience, want }) => {
    expect(libraryText(index, track, day, audience)).toBe(want);
  });

  it('refuses two items for one slot', () => {
    expect(() =>
      buildLibraryIndex([
        { track: 'maternity', day: 28, audience: 'parent', text: 'a' },
        { track: 'maternity', day: 28, audience: 'parent', text: 'b' },
      ]),
    ).toThrow(DuplicateSlotError);
  });
});
