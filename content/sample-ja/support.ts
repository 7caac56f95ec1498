// The optional bereavement-support series, offered after a reader reports a loss (miscarriage, stillbirth,
// the death of a child). Day 0 is the day of the report; the series is short, sparse and asks nothing of the
// reader. Sample text written for hagukumi, not medical or psychological advice.
export const SUPPORT_BY_DAY: Readonly<Record<number, string>> = {
  1: 'お知らせくださって、ありがとうございました。いまは何も考えられなくても、涙が止まらなくても、それは自然なことです。どうかご自分を責めないでください。',
  3: '眠れない、食べられない、体が重い。そんな日が続くこともあります。体の回復のためにも、困ったときは産婦人科や保健センターに遠慮なく相談してください。',
  7: '悲しみの感じ方や表し方は、人によって、またパートナーと自分とでも違います。違っていても、どちらも大切な思いです。',
  14: '同じ経験をした人の集まり（自助グループ）や、専門の相談窓口があります。話したくなったときに、話せる場所があることを覚えておいてください。',
  30: 'ひと月がたちました。思い出すことがつらい日も、少し穏やかな日もあるかもしれません。どちらの日も、そのままで大丈夫です。',
  60: '周りの言葉に傷つくこともあるかもしれません。気持ちを話せる人がいないときは、保健センターの保健師に連絡してみてください。',
  90: 'これで、このお便りは最後です。これからも、つらいときはいつでも相談窓口を頼ってください。あなたとご家族の毎日が、少しずつ穏やかでありますように。',
};
