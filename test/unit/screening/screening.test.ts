import fc from 'fast-check';
import { INSTRUMENT_SHAPE } from '../../../schemas/survey';
import {
  EPDS,
  INSTRUMENTS,
  InvalidScreeningAnswerError,
  optionScore,
  PHQ9,
  placeholderWording,
  scoreScreening,
} from '../../../lambdas/domain/screening';

// The published scoring rules, written out here independently of the engine's tables.
// EPDS (Cox et al. 1987): items 1, 2, 4 score their options 0,1,2,3 top-down; items 3 and 5-10 score 3,2,1,0.
const EPDS_REVERSED = new Set([3, 5, 6, 7, 8, 9, 10]);
const epdsScore = (item: number, option: number) => (EPDS_REVERSED.has(item) ? 3 - option : option);
// PHQ-9 (Kroenke et al. 2001): not at all 0, several days 1, more than half the days 2, nearly every day 3.
const phqScore = (_item: number, option: number) => option;

/** Item scores (item number -> score) that add up to `total`, filling items from the first one. */
function scoresWithTotal(items: number, total: number, skip: number[] = []): Map<number, number> {
  const scores = new Map<number, number>();
  let left = total;
  for (let n = 1; n <= items; n++) {
    if (skip.includes(n)) continue;
    const s = Math.min(3, left);
    scores.set(n, s);
    left -= s;
  }
  if (left > 0) throw new Error(`test data: ${total} does not fit`);
  return scores;
}
/** Like scoresWithTotal, but leaving `critical` at 0 (filled last, only if needed). */
function scoresAvoiding(items: number, total: number, critical: number): Map<number, number> {
  const scores = scoresWithTotal(items, 0);
  let left = total;
  for (let n = 1; n <= items && left > 0; n++) {
    if (n === critical) continue;
    const s = Math.min(3, left);
    scores.set(n, s);
    left -= s;
  }
  return scores;
}

describe('option scores: the chosen option is stored by its score, not its position', () => {
  const epdsCases = Array.from({ length: 10 }, (_, i) => i + 1).flatMap((item) =>
    [0, 1, 2, 3].map((option) => ({ item, option, expected: epdsScore(item, option) })),
  );
  it.each(epdsCases)('EPDS item $item option $option scores $expected', ({ item, option, expected }) => {
    expect(optionScore(EPDS, item, option)).toBe(expected);
  });
  it('EPDS items 3 and 5-10 give 3 for their first option (reverse scored), 1, 2 and 4 give 0', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((item) => optionScore(EPDS, item, 0))).toEqual([
      0, 0, 3, 0, 3, 3, 3, 3, 3, 3,
    ]);
  });
  const phqCases = Array.from({ length: 9 }, (_, i) => i + 1).flatMap((item) =>
    [0, 1, 2, 3].map((option) => ({ item, option, expected: phqScore(item, option) })),
  );
  it.each(phqCases)('PHQ-9 item $item option $option scores $expected', ({ item, option, expected }) => {
    expect(optionScore(PHQ9, item, option)).toBe(expected);
  });
  it.each([
    ['EPDS item 11', EPDS, 11, 0],
    ['EPDS option 4', EPDS, 1, 4],
    ['PHQ-9 item 10', PHQ9, 10, 0],
    ['a negative option', PHQ9, 1, -1],
  ] as const)('refuses %s', (_label, instrument, item, option) => {
    expect(() => optionScore(instrument, item, option)).toThrow(InvalidScreeningAnswerError);
  });
});

describe('EPDS totals against the cut-off (default 9, the Japanese version)', () => {
  it.each([
    { total: 0, positive: false },
    { total: 8, positive: false },
    { total: 9, positive: true },
    { total: 10, positive: true },
    { total: 27, positive: true },
  ])('total $total: positive $positive', ({ total, positive }) => {
    const r = scoreScreening(EPDS, scoresAvoiding(10, total, 10));
    expect(r).toMatchObject({ total, positive, complete: true });
    expect(r.band).toBe(positive ? 'at or over cut-off (9)' : 'below cut-off (9)');
  });
  it('30, the maximum, needs item 10 at 3: positive and urgent', () => {
    expect(scoreScreening(EPDS, scoresWithTotal(10, 30))).toMatchObject({ total: 30, positive: true, urgent: true });
  });
  it.each([
    { cutoff: 12, total: 11, positive: false },
    { cutoff: 12, total: 12, positive: true },
    { cutoff: 8, total: 7, positive: false },
    { cutoff: 8, total: 8, positive: true },
  ])("a tenant's cut-off $cutoff: total $total positive $positive", ({ cutoff, total, positive }) => {
    expect(scoreScreening(EPDS, scoresAvoiding(10, total, 10), cutoff).positive).toBe(positive);
  });
});

describe('PHQ-9 totals: bands 5/10/15/20, cut-off 10', () => {
  it.each([
    { total: 0, band: 'minimal', positive: false },
    { total: 4, band: 'minimal', positive: false },
    { total: 5, band: 'mild', positive: false },
    { total: 9, band: 'mild', positive: false },
    { total: 10, band: 'moderate', positive: true },
    { total: 14, band: 'moderate', positive: true },
    { total: 15, band: 'moderately severe', positive: true },
    { total: 19, band: 'moderately severe', positive: true },
    { total: 20, band: 'severe', positive: true },
    { total: 24, band: 'severe', positive: true },
  ])('total $total: $band, positive $positive', ({ total, band, positive }) => {
    expect(scoreScreening(PHQ9, scoresAvoiding(9, total, 9))).toMatchObject({ total, band, positive, urgent: false });
  });
  it('27 with item 9 at 3 is severe and urgent', () => {
    expect(scoreScreening(PHQ9, scoresWithTotal(9, 27))).toMatchObject({ total: 27, band: 'severe', urgent: true });
  });
});

describe('the critical item is urgent whatever the total', () => {
  it.each([
    { label: 'EPDS item 10', instrument: EPDS, items: 10, critical: 10 },
    { label: 'PHQ-9 item 9', instrument: PHQ9, items: 9, critical: 9 },
  ])(
    '$label: everything else 0, the critical item 1 -> urgent, below the cut-off',
    ({ instrument, items, critical }) => {
      const scores = scoresWithTotal(items, 0);
      scores.set(critical, 1);
      expect(scoreScreening(instrument, scores)).toMatchObject({ total: 1, positive: false, urgent: true });
    },
  );
  it.each([
    { label: 'EPDS', instrument: EPDS, items: 10 },
    { label: 'PHQ-9', instrument: PHQ9, items: 9 },
  ])('$label: a total of 0 is not urgent', ({ instrument, items }) => {
    expect(scoreScreening(instrument, scoresWithTotal(items, 0))).toMatchObject({
      total: 0,
      urgent: false,
      positive: false,
    });
  });
  it('EPDS: the cut-off reached without item 10 is positive and not urgent', () => {
    expect(scoreScreening(EPDS, scoresAvoiding(10, 9, 10))).toMatchObject({ positive: true, urgent: false });
  });
});

describe('skipped items', () => {
  it('a total below the cut-off with an item skipped is incomplete, not "below"', () => {
    const r = scoreScreening(PHQ9, scoresWithTotal(9, 3, [2]));
    expect(r).toMatchObject({ total: 3, complete: false, positive: false, band: 'incomplete' });
  });
  it('answered items reaching the cut-off are positive even with items skipped', () => {
    const r = scoreScreening(PHQ9, scoresWithTotal(9, 12, [8]));
    expect(r).toMatchObject({ total: 12, complete: false, positive: true, band: 'moderate' });
  });
  it('refuses a score an item cannot have', () => {
    expect(() => scoreScreening(PHQ9, new Map([[1, 4]]))).toThrow(InvalidScreeningAnswerError);
    expect(() => scoreScreening(EPDS, new Map([[0, 1]]))).toThrow(InvalidScreeningAnswerError);
  });
});

describe('properties', () => {
  const answersOf = (items: number) =>
    fc.array(fc.record({ item: fc.integer({ min: 1, max: items }), option: fc.integer({ min: 0, max: 3 }) }), {
      maxLength: items,
    });
  it.each([
    { instrument: EPDS, items: 10, max: 30, score: epdsScore },
    { instrument: PHQ9, items: 9, max: 27, score: phqScore },
  ])(
    '$instrument.name: totals stay within 0-$max and answering order does not matter',
    ({ instrument, items, max, score }) => {
      fc.assert(
        fc.property(answersOf(items), fc.integer(), (answers, seed) => {
          // The last answer to an item counts (a reader may go back); duplicates are dropped here first.
          const byItem = new Map(answers.map((a) => [a.item, optionScore(instrument, a.item, a.option)]));
          const shuffled = new Map(
            [...byItem].sort((a, b) => ((a[0] * 7919 + seed) % 13) - ((b[0] * 7919 + seed) % 13)),
          );
          const r = scoreScreening(instrument, byItem);
          expect(r.total).toBeGreaterThanOrEqual(0);
          expect(r.total).toBeLessThanOrEqual(max);
          expect(scoreScreening(instrument, shuffled)).toEqual(r);
          const expected = [...byItem.keys()].reduce(
            (sum, item) => sum + score(item, answers.filter((a) => a.item === item).at(-1)!.option),
            0,
          );
          expect(r.total).toBe(expected);
        }),
      );
    },
  );
});

describe('wording', () => {
  it('the schema shape of a wording pack matches the scoring definitions', () => {
    for (const [id, shape] of Object.entries(INSTRUMENT_SHAPE)) {
      const instrument = INSTRUMENTS[id as keyof typeof INSTRUMENTS];
      expect(instrument.items).toHaveLength(shape.items);
      for (const item of instrument.items) expect(item.optionScores).toHaveLength(shape.options);
    }
  });
  it('placeholders are marked as placeholders, one per item and option', () => {
    const w = placeholderWording(EPDS);
    expect(w.items).toHaveLength(10);
    for (const item of w.items) {
      expect(item.text).toMatch(/^【仮の文言】/);
      expect(item.options).toHaveLength(4);
      for (const option of item.options) expect(option).toMatch(/^【仮】/);
    }
  });
});
