import MiniSearch from 'minisearch';
import type { FaqEntry } from '../../schemas/faq';

/**
 * Self-service before an inquiry reaches staff: the tenant's FAQ entries ranked by relevance to what the reader
 * wrote. Ranking is MiniSearch's BM25+; this module only supplies Japanese terms, since Japanese has no spaces:
 * the words of `Intl.Segmenter` (ICU's dictionary segmentation) plus the character bigrams of each run of
 * letters, because ICU splits compounds residents write as one word (健診 -> 健|診) and bigrams match them
 * whichever way either side was segmented. Text is NFKC-normalised (full-width digits, half-width kana).
 */
export interface FaqMatch {
  id: string;
  score: number;
}

const segmenter = new Intl.Segmenter('ja', { granularity: 'word' });
/** Particles and auxiliaries that match every question; BM25 would weigh them low, dropping them keeps noise out. */
const STOP = new Set([
  'の',
  'は',
  'が',
  'を',
  'に',
  'で',
  'と',
  'も',
  'か',
  'へ',
  'や',
  'な',
  'て',
  'た',
  'です',
  'ます',
  'でき',
  'する',
  'し',
  'ください',
  'いい',
  'どう',
  'どこ',
  'いつ',
  'ありますか',
]);

export function japaneseTerms(text: string): string[] {
  const normal = text.normalize('NFKC').toLowerCase();
  const terms: string[] = [];
  for (const s of segmenter.segment(normal)) if (s.isWordLike && !STOP.has(s.segment)) terms.push(s.segment);
  for (const run of normal.split(/[^\p{L}\p{N}]+/u)) {
    const chars = [...run];
    for (let i = 0; i + 1 < chars.length; i++) terms.push(chars[i]! + chars[i + 1]!);
  }
  return terms;
}

export class FaqIndex {
  private readonly search: MiniSearch<FaqEntry & { keywordText: string }>;

  constructor(entries: readonly FaqEntry[]) {
    this.search = new MiniSearch({
      fields: ['question', 'keywordText', 'answer'],
      tokenize: japaneseTerms,
      // Terms are already normalised by the tokenizer.
      processTerm: (t) => t,
      searchOptions: { boost: { question: 3, keywordText: 3, answer: 1 }, combineWith: 'OR' },
    });
    this.search.addAll(entries.map((e) => ({ ...e, keywordText: e.keywords.join(' ') })));
  }

  /** At most `limit` entries, best first; none when nothing the reader wrote matches any entry. */
  rank(text: string, limit = 3): FaqMatch[] {
    return this.search
      .search(text)
      .slice(0, limit)
      .map((r) => ({ id: String(r.id), score: r.score }));
  }
}
