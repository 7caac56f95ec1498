import { finishedLate } from '../../../lambdas/domain/delivery-deadline';

describe('finishedLate', () => {
  const issued = '2026-11-10T07:30:00+09:00';
  it.each([
    ['within the hour', '2026-11-09T22:45:00Z', false],
    ['exactly one hour after', '2026-11-09T23:30:00Z', false],
    ['one minute past the hour', '2026-11-09T23:31:00Z', true],
    ['the next day', '2026-11-10T22:30:00Z', true],
  ])('%s', (_label, finished, late) => {
    expect(finishedLate(issued, new Date(finished))).toBe(late);
  });

  it('takes another deadline', () => {
    expect(finishedLate(issued, new Date('2026-11-09T22:45:00Z'), 10)).toBe(true);
  });
});
