import { SurveyDefinitionSchema, type SurveyDefinition } from './survey';

/**
 * The shared survey library: surveys every municipality asks in the same words, so that their results can be
 * pooled across municipalities (`hagukumi surveys results --all --survey <id>`). A tenant asks one by naming it
 * under `sharedSurveys` with its own trigger. Changing a question's words changes what is measured: add a new
 * survey (a new id, e.g. the next year's) instead of editing one that has been asked.
 */
export const SHARED_SURVEYS: readonly SurveyDefinition[] = [
  {
    id: 'reader-survey-2027',
    title: '子育て応援メッセージ 読者アンケート（2027年度）',
    intro: 'メッセージをよりよくするため、5つの質問にお答えください。どの質問も飛ばせます。',
    audience: 'both',
    questions: [
      {
        kind: 'scale',
        id: 'satisfaction',
        text: 'メッセージの内容に満足していますか？',
        low: 'まったく満足していない',
        high: 'とても満足している',
      },
      {
        kind: 'single',
        id: 'reading',
        text: 'メッセージをどのくらい読んでいますか？',
        choices: [
          { id: 'every-day', label: 'ほぼ毎日' },
          { id: 'sometimes', label: 'ときどき' },
          { id: 'rarely', label: 'ほとんど読まない' },
        ],
      },
      {
        kind: 'multiple',
        id: 'helpful',
        text: '役に立った話題を選んでください（いくつでも）。',
        choices: [
          { id: 'health', label: '体や健康のこと' },
          { id: 'growth', label: '成長・発達' },
          { id: 'services', label: '市の制度・手続き' },
          { id: 'checkups', label: '健診・予防接種' },
          { id: 'feelings', label: '気持ちのこと' },
          { id: 'partner', label: 'パートナーのこと' },
        ],
      },
      {
        kind: 'scale',
        id: 'less-anxious',
        text: 'メッセージを読んで、妊娠・子育ての不安が軽くなったと感じますか？',
        low: 'まったく感じない',
        high: 'とても感じる',
      },
      {
        kind: 'text',
        id: 'comment',
        text: 'ご意見・ご要望があれば自由にお書きください（1,000文字まで）。',
        maxLength: 1000,
      },
    ],
  },
].map((s) => SurveyDefinitionSchema.parse(s));

export const sharedSurvey = (id: string): SurveyDefinition | undefined => SHARED_SURVEYS.find((s) => s.id === id);
