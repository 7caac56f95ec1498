import type { InstrumentId, InstrumentWording } from '../../schemas/survey';

/**
 * A scored screening instrument. The scoring is published and ships with the code; the item wording is licensed
 * content (the EPDS text may not be republished without permission) and comes from the tenant's content pack,
 * with clearly marked placeholders when none is loaded.
 */
export interface Instrument {
  id: InstrumentId;
  name: string;
  /** Per item (1-based in `number`), the score of each option in the order the options are shown. */
  items: readonly { number: number; optionScores: readonly number[] }[];
  maxTotal: number;
  defaultCutoff: number;
  /** The self-harm item: any score above 0 is urgent whatever the total. */
  criticalItem: number;
  /** Score bands for staff, lowest first: `from` is the lowest total of the band. */
  bands: readonly { from: number; name: string }[];
}

const TOP_DOWN = [0, 1, 2, 3] as const;
const REVERSED = [3, 2, 1, 0] as const;

/**
 * Edinburgh Postnatal Depression Scale (Cox, Holden & Sagovsky 1987): 10 items scored 0-3, items 1, 2 and 4
 * from the top option down, items 3 and 5-10 reverse scored; total 0-30. The Japanese version's usual cut-off
 * is 9 or more (Okano et al. 1996); item 10 asks about self-harm.
 */
export const EPDS: Instrument = {
  id: 'epds',
  name: 'EPDS',
  items: Array.from({ length: 10 }, (_, i) => ({
    number: i + 1,
    optionScores: [1, 2, 4].includes(i + 1) ? TOP_DOWN : REVERSED,
  })),
  maxTotal: 30,
  defaultCutoff: 9,
  criticalItem: 10,
  bands: [
    { from: 0, name: 'below cut-off' },
    { from: 9, name: 'at or over cut-off' },
  ],
};

/**
 * Patient Health Questionnaire-9 (Kroenke, Spitzer & Williams 2001): 9 items scored 0-3 (not at all, several
 * days, more than half the days, nearly every day), total 0-27; bands 5/10/15/20; 10 or more is the usual
 * cut-off; item 9 asks about thoughts of self-harm.
 */
export const PHQ9: Instrument = {
  id: 'phq9',
  name: 'PHQ-9',
  items: Array.from({ length: 9 }, (_, i) => ({ number: i + 1, optionScores: TOP_DOWN })),
  maxTotal: 27,
  defaultCutoff: 10,
  criticalItem: 9,
  bands: [
    { from: 0, name: 'minimal' },
    { from: 5, name: 'mild' },
    { from: 10, name: 'moderate' },
    { from: 15, name: 'moderately severe' },
    { from: 20, name: 'severe' },
  ],
};

export const INSTRUMENTS: Readonly<Record<InstrumentId, Instrument>> = { epds: EPDS, phq9: PHQ9 };

export class InvalidScreeningAnswerError extends Error {
  override readonly name = 'InvalidScreeningAnswerError';
}

/**
 * The score stored for an answer: the chosen option's score, never its position (EPDS items 3 and 5-10 count
 * their first option as 3). Throws for an item or option the instrument does not have.
 */
export function optionScore(instrument: Instrument, itemNumber: number, optionIndex: number): number {
  const item = instrument.items.find((i) => i.number === itemNumber);
  const score = item?.optionScores[optionIndex];
  if (score === undefined)
    throw new InvalidScreeningAnswerError(`${instrument.name} has no option ${optionIndex} for item ${itemNumber}`);
  return score;
}

export interface ScreeningResult {
  /** Sum of the scores of the answered items. */
  total: number;
  /** Every item answered (none skipped): only a complete result can say "below the cut-off". */
  complete: boolean;
  /** The total is at or over the cut-off (also when items were skipped: the answered ones reach it already). */
  positive: boolean;
  /** The critical item scored above 0. */
  urgent: boolean;
  /** The staff-facing band; `incomplete` when items are missing and the answered ones stay below the cut-off. */
  band: string;
}

/**
 * Scores a screening from the stored option scores by item number. Skipped items are absent. The order in which
 * the answers were given does not matter; a score outside what the item's options allow is refused.
 */
export function scoreScreening(
  instrument: Instrument,
  scores: ReadonlyMap<number, number>,
  cutoff: number = instrument.defaultCutoff,
): ScreeningResult {
  let total = 0;
  for (const [itemNumber, score] of scores) {
    const item = instrument.items.find((i) => i.number === itemNumber);
    if (!item) throw new InvalidScreeningAnswerError(`${instrument.name} has no item ${itemNumber}`);
    if (!item.optionScores.includes(score))
      throw new InvalidScreeningAnswerError(`${instrument.name} item ${itemNumber} cannot score ${score}`);
    total += score;
  }
  const complete = instrument.items.every((i) => scores.has(i.number));
  const positive = total >= cutoff;
  const urgent = (scores.get(instrument.criticalItem) ?? 0) > 0;
  const band = bandOf(instrument, total, cutoff, complete);
  return { total, complete, positive, urgent, band };
}

function bandOf(instrument: Instrument, total: number, cutoff: number, complete: boolean): string {
  if (!complete && total < cutoff) return 'incomplete';
  // EPDS has no published bands beyond its cut-off, and the tenant may move the cut-off: say where it is.
  if (instrument.id === 'epds') return total >= cutoff ? `at or over cut-off (${cutoff})` : `below cut-off (${cutoff})`;
  return [...instrument.bands].reverse().find((b) => total >= b.from)!.name;
}

/** Placeholder wording, shipped instead of the licensed text. Every item says plainly that it is a placeholder. */
export function placeholderWording(instrument: Instrument): InstrumentWording {
  return {
    source: 'placeholder (no licensed wording loaded)',
    intro: `【仮の文言】${instrument.name} の設問文はライセンスされた文言を読み込むまで表示されません。`,
    items: instrument.items.map((item) => ({
      text: `【仮の文言】${instrument.name} 設問${item.number}（自治体が許諾を得た文言に置き換えてください）`,
      options: item.optionScores.map((_, i) => `【仮】選択肢${i + 1}`),
    })),
  };
}
