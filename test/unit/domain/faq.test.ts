import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FaqIndex, japaneseTerms } from '../../../lambdas/domain/faq';
import { FaqSchema, type FaqEntry } from '../../../schemas/faq';

// Questions written for this test the way residents write them (casual, other words than the FAQ's own
// question, typos of spacing and full-width digits), each labelled with the entry a nurse would point to.
const LABELLED: [string, string][] = [
  ['母子手帳ってどこでもらうんですか？', 'boshi-techo'],
  ['妊娠したみたいなのですが、まず何の手続きをすればいいですか', 'boshi-techo'],
  ['妊娠届はどこに出せばいいでしょう', 'boshi-techo'],
  ['妊婦健診の補助券を県外の病院で使えますか', 'ninpu-kenshin'],
  ['里帰り出産で健診を受けたときの払い戻しについて', 'ninpu-kenshin'],
  ['受診票は何回分ありますか', 'ninpu-kenshin'],
  ['４か月健診の日にちを知りたいです', 'nyuyoji-kenshin'],
  ['1歳半健診の日に行けないときはどうしたらいいですか', 'nyuyoji-kenshin'],
  ['3歳児健診の案内がまだ届きません', 'nyuyoji-kenshin'],
  ['ワクチンはいつから始めればいいですか', 'yobo-sesshu'],
  ['予防接種の予約はどこでするの', 'yobo-sesshu'],
  ['ロタの注射はどこで受けられますか', 'yobo-sesshu'],
  ['児童手当の手続きを教えてください', 'jido-teate'],
  ['手当の申請をマイナポータルでしたい', 'jido-teate'],
  ['子どもが生まれたらもらえるお金の申請は？', 'jido-teate'],
  ['出生届の期限はいつまでですか', 'shussei-todoke'],
  ['休日でも出生届を出せますか', 'shussei-todoke'],
  ['出生証明書は病院でもらうのですか', 'shussei-todoke'],
  ['保育園に入りたいのですが申し込みはいつですか', 'hoikuen'],
  ['途中から保育所に預けることはできますか', 'hoikuen'],
  ['4月入園の受付期間', 'hoikuen'],
  ['子どもの病院代は無料になりますか', 'iryohi-josei'],
  ['医療費の受給者証はどうやって申請しますか', 'iryohi-josei'],
  ['こども医療費の助成は何歳までですか', 'iryohi-josei'],
  ['夜中に赤ちゃんが熱を出したらどうすればいい', 'yakan-kyubyo'],
  ['休日に子どもが急に吐いて具合が悪いです', 'yakan-kyubyo'],
  ['#8000ってなんですか', 'yakan-kyubyo'],
  ['産後に助産院で休めるサービスはありますか', 'sango-care'],
  ['授乳がうまくいかなくて相談したい、産後ケアを使いたい', 'sango-care'],
  ['出産後、少し休みたいです。日帰りで使えるところは', 'sango-care'],
  ['新生児訪問はいつ来てもらえますか', 'akachan-homon'],
  ['保健師さんに赤ちゃんの体重をはかってほしい', 'akachan-homon'],
  ['出生通知票を送ったあとの訪問について', 'akachan-homon'],
  ['親子で遊べる場所はありますか', 'shien-center'],
  ['同じ月齢の子のママ友を作りたい', 'shien-center'],
  ['支援センターは予約がいりますか', 'shien-center'],
  ['出産費用はいくらかかりますか、一時金はもらえますか', 'ichijikin'],
  ['分娩費用の直接支払制度について', 'ichijikin'],
  ['国保の出産育児一時金の手続き', 'ichijikin'],
  ['引越しするのですが、このメッセージはどうなりますか', 'hikkoshi'],
  ['転出したら受診票はどうすればいい', 'hikkoshi'],
  ['別の市に住所が変わります', 'hikkoshi'],
  ['配信を止めたいです', 'haishin-henko'],
  ['出産予定日が変わったので登録を変更したい', 'haishin-henko'],
  ['しばらくメッセージをお休みしたい', 'haishin-henko'],
  ['つわりがつらくて誰かに相談したい', 'ninshin-soudan'],
  ['妊娠中で気持ちが不安です', 'ninshin-soudan'],
  ['保健師さんに妊娠中の悩みを電話で話せますか', 'ninshin-soudan'],
];

const tenantFaq = (): FaqEntry[] => {
  const file = join(__dirname, '..', '..', '..', 'tenants', 'demo-minato.json');
  return FaqSchema.parse((JSON.parse(readFileSync(file, 'utf8')) as { faq: unknown }).faq);
};

describe('FAQ self-service ranking', () => {
  const faq = tenantFaq();
  const index = new FaqIndex(faq);

  it('has a labelled question for every entry and only for entries that exist', () => {
    const ids = new Set(faq.map((e) => e.id));
    expect(new Set(LABELLED.map(([, id]) => id))).toEqual(ids);
  });

  it('puts the right entry in the top 3 for most questions residents write (figure printed)', () => {
    const misses = LABELLED.filter(([q, id]) => !index.rank(q).some((m) => m.id === id));
    const top1 = LABELLED.filter(([q, id]) => index.rank(q, 1)[0]?.id === id).length;
    const hits = LABELLED.length - misses.length;
    console.log(
      `FAQ top-3: ${hits}/${LABELLED.length} (${((hits / LABELLED.length) * 100).toFixed(0)} %), ` +
        `top-1: ${top1}/${LABELLED.length}; misses: ${misses.map(([q, id]) => `${q} -> ${id}`).join(' / ') || 'none'}`,
    );
    // A floor, not a target: below it the self-service step would send residents to staff for nothing.
    expect(hits / LABELLED.length).toBeGreaterThanOrEqual(0.85);
  });

  it('offers nothing for text that shares no words with any entry', () => {
    expect(index.rank('xyzzy')).toEqual([]);
    expect(index.rank('')).toEqual([]);
  });

  it('returns at most the limit, best first, and never throws on any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 1, max: 5 }), (text, limit) => {
        const r = index.rank(text, limit);
        expect(r.length).toBeLessThanOrEqual(limit);
        for (let i = 1; i < r.length; i++) expect(r[i - 1]!.score).toBeGreaterThanOrEqual(r[i]!.score);
      }),
    );
  });

  it('reads full-width digits and letters as their plain forms', () => {
    expect(japaneseTerms('４か月')).toEqual(japaneseTerms('4か月'));
  });

  it('rejects a duplicate FAQ id, naming the entry', () => {
    const e = { id: 'a', question: 'q', answer: 'a' };
    const r = FaqSchema.safeParse([e, e]);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual([1, 'id']);
  });
});
