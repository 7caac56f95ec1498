import { z } from 'zod';
import { IsoDateSchema } from './common';

/**
 * The email pages' inputs and stored state. Form bodies are parsed here (every field a string, as a browser
 * sends them); the lifecycle's own rules (date ranges, nickname cleaning) are checked by the service after.
 */

export const SIGNUP_TRACKS = ['maternity', 'childcare', 'partner'] as const;
export type SignupTrack = (typeof SIGNUP_TRACKS)[number];

/** RFC 5321's limit for a whole address; anything longer is not deliverable. */
export const EMAIL_MAX = 254;

const field = (max: number) => z.string().max(max).optional().default('');

/** The raw sign-up form, as typed: kept as is to show it again next to the errors. */
export const SignupFormSchema = z.object({
  email: field(EMAIL_MAX * 2),
  track: field(20),
  date: field(20),
  nickname: field(200),
  inviteCode: field(40),
  consent: field(10),
});
export type SignupForm = z.infer<typeof SignupFormSchema>;

/** Stored between the sign-up and its confirmation (double opt-in), for at most 48 hours (TTL). */
export const PendingSignupSchema = z.object({
  /** The confirm token's id: only that token confirms, once. */
  jti: z.string().min(1),
  address: z.email(),
  track: z.enum(['maternity', 'childcare']),
  anchorDate: IsoDateSchema,
  nickname: z.string().max(20).optional(),
  /** A partner's sign-up: the invite code they were given (checked again when confirming). */
  inviteCode: z.string().max(12).optional(),
  /** Epoch seconds; TTL deletes the item within days, so expiry is also checked when it is read. */
  expiresAt: z.number().int(),
});
export type PendingSignup = z.infer<typeof PendingSignupSchema>;

/** What the preferences page can be asked to do; each form names its action. */
export const PREFERENCE_ACTIONS = [
  'change-date',
  'change-nickname',
  'add',
  'birth',
  'pause',
  'resume',
  'invite',
  'loss',
  'loss-support',
  'stop',
  'delete',
  'revoke',
  /** The inquiry form: show the FAQ answers for the text, then send it to staff (services/inquiry-pages.ts). */
  'inquiry-faq',
  'inquiry-send',
] as const;
export type PreferenceAction = (typeof PREFERENCE_ACTIONS)[number];

export const PreferencesFormSchema = z.object({
  action: z.enum(PREFERENCE_ACTIONS),
  subscriptionId: field(80),
  date: field(20),
  nickname: field(200),
  track: field(20),
  period: field(20),
  /** The two confirmations of a deletion, and the confirmation of a loss. */
  confirm: field(10),
  confirmAgain: field(10),
  /** An inquiry (at most 2,000 characters; longer is refused with a message, not cut). */
  text: field(4000),
  submissionId: field(64),
});
export type PreferencesForm = z.infer<typeof PreferencesFormSchema>;

/** RFC 8058: the one-click POST's body is exactly this form field. */
export const ONE_CLICK_BODY = 'List-Unsubscribe=One-Click';
