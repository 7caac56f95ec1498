import { z } from 'zod';
import { FaqSchema } from './faq';
import { InquiryConfigSchema } from './inquiry';
import {
  AudienceSchema,
  checkPlaceholders,
  IsoDateSchema,
  TenantIdSchema,
  TrackSchema,
  trackDayProblem,
} from './common';
import { sharedSurvey } from './shared-surveys';
import { ScreeningConfigSchema, SharedSurveyUseSchema, TenantSurveySchema } from './survey';
import { WordingSchema } from './wording';

/** A municipal message text: room for a filled `{nickname}` under LINE's 5,000, only known placeholders. */
const MessageTextSchema = z
  .string()
  .min(1)
  .max(4800)
  .superRefine((text, ctx) => checkPlaceholders(text, ctx, []));

const HhMmSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time as HH:MM (24 h)');

export const OverlaySchema = z
  .object({
    track: TrackSchema,
    day: z.number().int().min(0).max(1100),
    /** `append` adds a message after the library message; `replace` sends this instead of it. */
    mode: z.enum(['append', 'replace']),
    /** Limit to one audience; both when absent. */
    audience: AudienceSchema.optional(),
    text: z.string().min(1).max(4800),
  })
  .superRefine((overlay, ctx) => {
    const problem = trackDayProblem(overlay.track, overlay.day);
    if (problem) ctx.addIssue({ code: 'custom', path: ['day'], message: problem });
    checkPlaceholders(overlay.text, ctx, ['text']);
  });
export type Overlay = z.infer<typeof OverlaySchema>;

/**
 * A municipal announcement on a calendar date (an event, a seasonal warning): sent that day to every reader it
 * fits, after their stage message and overlays, in the same one send. Never on the support series.
 */
export const AnnouncementSchema = z.object({
  date: IsoDateSchema,
  text: MessageTextSchema,
  /** Only readers of this track; both when absent. */
  track: z.enum(['maternity', 'childcare']).optional(),
  /** Only this audience; both when absent. */
  audience: AudienceSchema.optional(),
});
export type Announcement = z.infer<typeof AnnouncementSchema>;

export const ConsultationContactSchema = z.object({
  name: z.string().min(1),
  phone: z.string().optional(),
  url: z.url().optional(),
  hours: z.string().optional(),
});

export const TenantConfigSchema = z
  .object({
    tenantId: TenantIdSchema,
    name: z.string().min(1),
    timeZone: z
      .string()
      .default('Asia/Tokyo')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'unknown IANA time zone'),
    /** Local time of the daily delivery in the tenant's time zone. */
    deliveryTime: HhMmSchema,
    /** Subscribers are spread over this many shards, each one SQS message and one worker invocation. */
    shardCount: z.number().int().min(1).max(256),
    /**
     * Days a stopped, lost or ended subscription's personal data is kept (for questions and a change of mind)
     * before DynamoDB's TTL deletes it.
     */
    retentionDays: z.number().int().min(1).max(3650).default(90),
    /** Which content library this tenant sends (libraryId). */
    library: z.string().regex(/^[a-z0-9-]{2,40}$/),
    /** Word used for `{nickname}` when a subscriber gave none. */
    defaultNickname: z.string().min(1).max(20).default('赤ちゃん'),
    line: z.object({
      enabled: z.boolean(),
      /** Name of the Secrets Manager secret holding {"channelSecret","channelAccessToken"}. Never the values. */
      secretName: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/),
      /** The account's add-friend URL (https://line.me/R/ti/p/@...), put into partner invitations. */
      friendUrl: z.url().optional(),
      /**
       * API Gateway throttle of this tenant's webhook route alone (requests/s and burst), so a flood at one tenant
       * cannot use up another's. LINE sends events in bursts (a broadcast's replies, redelivery after an outage).
       */
      webhookThrottle: z
        .object({
          rateLimit: z.number().int().min(1).max(10_000).default(200),
          burstLimit: z.number().int().min(1).max(5_000).default(400),
        })
        .refine((t) => t.burstLimit >= t.rateLimit, { error: 'burstLimit must be at least rateLimit' })
        .default({ rateLimit: 200, burstLimit: 400 }),
    }),
    email: z
      .object({
        enabled: z.boolean(),
        /** A verified SES identity (the address, or its domain with SPF/DKIM/DMARC set up: README). */
        from: z.email(),
        /** Shown before the address in the reader's inbox (`みなと市 <...>`); the bare address when absent. */
        fromName: z.string().min(1).max(60).optional(),
        /** Where readers' replies go (a staffed mailbox); replies go to `from` when absent. */
        replyTo: z.email().optional(),
        /** Base URL of the public API, used for the preferences and one-click unsubscribe links (RFC 8058). */
        unsubscribeBaseUrl: z.url(),
        /** The tenant's privacy notice, linked from the sign-up page's consent box. */
        privacyNoticeUrl: z.url().optional(),
      })
      .optional(),
    /** Birthday greetings from the municipality, by age in years. */
    birthdayMessages: z.object({
      '1': MessageTextSchema,
      '2': MessageTextSchema,
      '3': MessageTextSchema,
    }),
    overlays: z.array(OverlaySchema).default([]),
    announcements: z.array(AnnouncementSchema).default([]),
    consultation: z.array(ConsultationContactSchema).default([]),
    /** Frequent questions and the municipality's answers, offered before an inquiry goes to staff (schemas/faq.ts). */
    faq: FaqSchema.default([]),
    /** Readers' questions to staff (schemas/inquiry.ts): answer time told to readers, staff notification mail. */
    inquiries: InquiryConfigSchema.optional(),
    /** Overrides of the conversation's default Japanese wording (schemas/wording.ts). */
    wording: WordingSchema.default({}),
    /** The tenant's own surveys (schemas/survey.ts). */
    surveys: z.array(TenantSurveySchema).default([]),
    /** Shared library surveys (schemas/shared-surveys.ts) this tenant asks, with its own timing. */
    sharedSurveys: z.array(SharedSurveyUseSchema).default([]),
    /** EPDS / PHQ-9 screening with staff alerts; off when absent. */
    screening: ScreeningConfigSchema.optional(),
  })
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.overlays.forEach((o, i) => {
      const key = `${o.track}/${o.day}/${o.audience ?? '*'}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['overlays', i], message: `duplicate overlay ${key}` });
      seen.add(key);
    });
    // Answers are stored under the survey id: two surveys with one id would mix their answers.
    const surveyIds = new Map<string, string>([
      ['epds', 'the EPDS screening'],
      ['phq9', 'the PHQ-9 screening'],
    ]);
    const claim = (id: string, path: (string | number)[], what: string) => {
      const earlier = surveyIds.get(id);
      if (earlier) ctx.addIssue({ code: 'custom', path, message: `survey id "${id}" is already used by ${earlier}` });
      else surveyIds.set(id, what);
    };
    t.surveys.forEach((s, i) => claim(s.id, ['surveys', i, 'id'], `surveys.${i}`));
    t.sharedSurveys.forEach((s, i) => {
      if (!sharedSurvey(s.shared))
        ctx.addIssue({
          code: 'custom',
          path: ['sharedSurveys', i, 'shared'],
          message: `no shared survey "${s.shared}" in the library (schemas/shared-surveys.ts)`,
        });
      claim(s.shared, ['sharedSurveys', i, 'shared'], `sharedSurveys.${i}`);
    });
  });
export type TenantConfig = z.infer<typeof TenantConfigSchema>;
export type TenantConfigInput = z.input<typeof TenantConfigSchema>;
