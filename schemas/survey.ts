import { z } from 'zod';
import { IsoDateSchema, LINE_QUICK_REPLY_MAX_ITEMS, trackDayProblem } from './common';

/**
 * Surveys (広聴): definitions in a tenant file or in the shared library (asked in the same words by every
 * municipality, so their results can be pooled). Ids are stable: answers are stored under them, so a question's
 * id must never be reused for a different question (change the id, not the meaning).
 */
export const SurveyIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,39}$/, 'survey id: lower-case letters, digits and hyphens, 2-40 characters');
export const QuestionIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,29}$/, 'question id: lower-case letters, digits and hyphens, 1-30 characters');

/** LINE quick reply labels are at most 20 characters. */
const LabelSchema = z.string().min(1).max(20);
export const FREE_TEXT_MAX = 1000;

const ChoiceSchema = z.object({ id: QuestionIdSchema, label: LabelSchema });

const uniqueChoiceIds = (choices: readonly { id: string }[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  choices.forEach((c, i) => {
    if (seen.has(c.id))
      ctx.addIssue({ code: 'custom', path: ['choices', i, 'id'], message: `duplicate choice ${c.id}` });
    seen.add(c.id);
  });
};

export const SurveyQuestionSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('single'),
      id: QuestionIdSchema,
      text: z.string().min(1).max(1000),
      // Answered with LINE quick reply buttons: at most 13 of them.
      choices: z.array(ChoiceSchema).min(2).max(LINE_QUICK_REPLY_MAX_ITEMS),
    })
    .superRefine((q, ctx) => uniqueChoiceIds(q.choices, ctx)),
  z
    .object({
      kind: z.literal('multiple'),
      id: QuestionIdSchema,
      text: z.string().min(1).max(1000),
      // One quick reply button per choice plus 「選び終わった」.
      choices: z
        .array(ChoiceSchema)
        .min(2)
        .max(LINE_QUICK_REPLY_MAX_ITEMS - 1),
    })
    .superRefine((q, ctx) => uniqueChoiceIds(q.choices, ctx)),
  z.object({
    kind: z.literal('scale'),
    id: QuestionIdSchema,
    text: z.string().min(1).max(1000),
    /** Words for 1 and 5 (e.g. まったくそう思わない / とてもそう思う). */
    low: LabelSchema,
    high: LabelSchema,
  }),
  z.object({
    kind: z.literal('text'),
    id: QuestionIdSchema,
    text: z.string().min(1).max(1000),
    maxLength: z.number().int().min(1).max(FREE_TEXT_MAX).default(FREE_TEXT_MAX),
  }),
]);
export type SurveyQuestion = z.infer<typeof SurveyQuestionSchema>;

/** Who is asked: `both` means parents and partners alike (fathers and partners must find it as easy). */
export const SurveyAudienceSchema = z.enum(['parent', 'partner', 'both']);
export type SurveyAudience = z.infer<typeof SurveyAudienceSchema>;

const StageSchema = z
  .object({ track: z.enum(['maternity', 'childcare']), day: z.number().int().min(0).max(1100) })
  .superRefine((stage, ctx) => {
    // A stage outside the track is never reached: the survey would silently never be asked.
    const problem = trackDayProblem(stage.track, stage.day);
    if (problem) ctx.addIssue({ code: 'custom', path: ['day'], message: problem });
  });

export const SurveyTriggerSchema = z.discriminatedUnion('kind', [
  /** At a stage of a subscription, e.g. maternity day 196 (28w0d) or childcare day 30. */
  z.object({ kind: z.literal('stage'), stages: z.array(StageSchema).min(1).max(10) }),
  /** Every active reader once, on their first send within the window (dates inclusive, tenant-local). */
  z
    .object({ kind: z.literal('campaign'), from: IsoDateSchema, to: IsoDateSchema })
    .refine((t) => t.from <= t.to, { error: 'from must not be after to', path: ['to'] }),
  /** Every active reader on one date. */
  z.object({ kind: z.literal('date'), on: IsoDateSchema }),
  /** Never invited; started by the reader from the menu only. */
  z.object({ kind: z.literal('request') }),
]);
export type SurveyTrigger = z.infer<typeof SurveyTriggerSchema>;

const uniqueQuestionIds = (s: { questions: readonly { id: string }[] }, ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  s.questions.forEach((q, i) => {
    if (seen.has(q.id))
      ctx.addIssue({ code: 'custom', path: ['questions', i, 'id'], message: `duplicate question id ${q.id}` });
    seen.add(q.id);
  });
};

const surveyFields = {
  id: SurveyIdSchema,
  title: z.string().min(1).max(60),
  intro: z.string().max(500).optional(),
  audience: SurveyAudienceSchema.default('both'),
  questions: z.array(SurveyQuestionSchema).min(1).max(30),
};

/** A shared library survey: the same words everywhere, timing chosen by each tenant that asks it. */
export const SurveyDefinitionSchema = z.object(surveyFields).superRefine(uniqueQuestionIds);
export type SurveyDefinition = z.infer<typeof SurveyDefinitionSchema>;

/** A tenant's own survey: a definition and when it is asked. */
export const TenantSurveySchema = z
  .object({ ...surveyFields, trigger: SurveyTriggerSchema })
  .superRefine(uniqueQuestionIds);
export type TenantSurvey = z.infer<typeof TenantSurveySchema>;

/** A shared library survey the tenant asks: the words come from the library, only the timing is the tenant's. */
export const SharedSurveyUseSchema = z.object({ shared: SurveyIdSchema, trigger: SurveyTriggerSchema });
export type SharedSurveyUse = z.infer<typeof SharedSurveyUseSchema>;

export const InstrumentIdSchema = z.enum(['epds', 'phq9']);
export type InstrumentId = z.infer<typeof InstrumentIdSchema>;
/** What a wording pack must fit (the scoring in lambdas/domain/screening.ts; a unit test keeps the two equal). */
export const INSTRUMENT_SHAPE: Readonly<Record<InstrumentId, { items: number; options: number }>> = {
  epds: { items: 10, options: 4 },
  phq9: { items: 9, options: 4 },
};

/**
 * Licensed item wording (a content pack): the EPDS text may not be republished without permission, so the
 * repository ships placeholders and a municipality puts the wording it is licensed to use here. One entry per
 * item, in item order; one label per option in the order shown, the same order as the scoring definition.
 */
export const InstrumentWordingSchema = z.object({
  /** Who granted the licence, shown to nobody; kept so an audit can see where the wording came from. */
  source: z.string().min(1).max(200),
  intro: z.string().min(1).max(1000).optional(),
  items: z.array(z.object({ text: z.string().min(1).max(1000), options: z.array(LabelSchema).min(2).max(4) })),
});
export type InstrumentWording = z.infer<typeof InstrumentWordingSchema>;

/** Screening with EPDS / PHQ-9, offered only with consent; at or over the cut-off the staff get an alert. */
export const ScreeningConfigSchema = z.object({
  enabled: z.boolean(),
  /** Health staff who receive alerts (the mail carries a reference, the instrument, the band, urgency and time). */
  alertTo: z.array(z.email()).min(1),
  /** Sender of the alert mail; a verified SES identity. */
  alertFrom: z.email(),
  cutoffs: z
    .object({ epds: z.number().int().min(1).max(30).default(9), phq9: z.number().int().min(1).max(27).default(10) })
    .default({ epds: 9, phq9: 10 }),
  /** Show the reader their total in the message after the last item. */
  showScore: z.boolean().default(false),
  /** Childcare days on which parents are invited to the EPDS (the defaults follow the issue: day 14 and 30). */
  epdsDays: z.array(z.number().int().min(0).max(365)).max(6).default([14, 30]),
  /** Licensed wording; without it the placeholders are used (clearly marked as such). */
  wording: z
    .object({ epds: InstrumentWordingSchema.optional(), phq9: InstrumentWordingSchema.optional() })
    .default({})
    .superRefine((packs, ctx) => {
      for (const id of InstrumentIdSchema.options) {
        const pack = packs[id];
        if (!pack) continue;
        const shape = INSTRUMENT_SHAPE[id];
        if (pack.items.length !== shape.items)
          ctx.addIssue({
            code: 'custom',
            path: [id, 'items'],
            message: `${id} has ${shape.items} items; the wording has ${pack.items.length}`,
          });
        pack.items.forEach((item, i) => {
          if (item.options.length !== shape.options)
            ctx.addIssue({
              code: 'custom',
              path: [id, 'items', i, 'options'],
              message: `${id} items have ${shape.options} options; this one has ${item.options.length}`,
            });
        });
      }
    }),
});
export type ScreeningConfig = z.infer<typeof ScreeningConfigSchema>;

/** The stored survey state of one reader (a pointer in the reader's partition, so deletion erases it). */
export const SurveyRunSchema = z.object({
  surveyId: SurveyIdSchema,
  /** `t<n>`: the n-th stage trigger; `c`: campaign / date; `r<epoch ms>`: a run the reader started themselves. */
  runId: z.string().regex(/^[a-z0-9]{1,20}$/),
  /** Index of the next question to ask. */
  next: z.number().int().min(0),
  /** A multiple-choice question's picks so far, before 「選び終わった」. */
  picked: z.array(z.string()).default([]),
  startedAt: z.number().int(),
});
export type SurveyRun = z.infer<typeof SurveyRunSchema>;
