import { z } from 'zod';
import { TenantIdSchema } from './common';

/**
 * The staff console: staff identity (from the identity provider's ID token), screening alerts as staff see
 * them, the audit trail and the forms. Staff belong to Cognito groups named `<tenantId>:<role>`.
 */
export const STAFF_ROLES = ['staff', 'admin'] as const;
export const StaffRoleSchema = z.enum(STAFF_ROLES);
export type StaffRole = z.infer<typeof StaffRoleSchema>;

/** `demo-minato:staff`: the group of a tenant's staff (or admins); the user pool has one per tenant and role. */
export const staffGroupName = (tenantId: string, role: StaffRole) => `${tenantId}:${role}`;

export const StaffSchema = z.object({
  /** The identity provider's subject: stable, not personal data. */
  sub: z.string().min(1),
  /** Shown in the header and written to the audit trail: who did it. */
  username: z.string().min(1),
  tenantId: TenantIdSchema,
  role: StaffRoleSchema,
});
export type Staff = z.infer<typeof StaffSchema>;

/** What staff record after an alert: the follow-up so far. */
export const FOLLOW_UP_STATUSES = ['contacted', 'visit-planned', 'referred', 'closed'] as const;
export const FollowUpStatusSchema = z.enum(FOLLOW_UP_STATUSES);
export type FollowUpStatus = z.infer<typeof FollowUpStatusSchema>;

/**
 * A screening alert as the listening side stores it (`T#<tenant>#ALERTS`), plus what staff add. Parsed
 * leniently: fields the console does not show are kept by the store, never required here.
 */
export const StaffAlertSchema = z.object({
  /** Opaque, random: the alert's reference in URLs and mails (never a reader's identifier). */
  reference: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
  tenantId: TenantIdSchema,
  readerKey: z.string().min(1),
  instrument: z.string().min(1),
  band: z.string().min(1),
  urgent: z.boolean(),
  /** Epoch milliseconds of the screening. */
  at: z.number().int(),
  acknowledgedAt: z.number().int().optional(),
  acknowledgedBy: z.string().optional(),
  followUp: FollowUpStatusSchema.optional(),
  followUpAt: z.number().int().optional(),
});
export type StaffAlert = z.infer<typeof StaffAlertSchema>;

export const AUDIT_ACTIONS = [
  'view-alert',
  'acknowledge-alert',
  'view-reader',
  'view-inquiry',
  'reply-inquiry',
  'close-inquiry',
  'reopen-inquiry',
] as const;
export const AuditActionSchema = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditActionSchema>;

/** One line of the audit trail: who, when, which reader (by its opaque reference), what. */
export const AuditEntrySchema = z.object({
  tenantId: TenantIdSchema,
  /** Epoch milliseconds. */
  at: z.number().int(),
  staffSub: z.string().min(1),
  staffName: z.string().min(1),
  action: AuditActionSchema,
  /** The reader's key (a keyed hash: no LINE id or address). */
  readerRef: z.string().min(1),
  /** What was looked at or changed besides the reader (an alert's reference), and the change. */
  target: z.string().optional(),
  detail: z.string().max(200).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** The acknowledge form of an alert. */
export const FollowUpFormSchema = z.object({
  csrf: z.string().min(1),
  followUp: FollowUpStatusSchema,
});

/** The reply form of an inquiry thread (the text's own rules are the domain's: lambdas/domain/inquiries.ts). */
export const InquiryReplyFormSchema = z.object({
  csrf: z.string().min(1),
  text: z.string(),
});

/** The inquiry list's filter (`?status=`): waiting for staff (new and open), answered, closed. */
export const INQUIRY_FILTERS = ['waiting', 'answered', 'closed'] as const;
export const InquiryFilterSchema = z.enum(INQUIRY_FILTERS);
export type InquiryFilter = z.infer<typeof InquiryFilterSchema>;

/**
 * The sealed session cookie's content. The ID token itself rides along, so that every request is authorised
 * afresh from it (signature, issuer, audience, expiry) rather than from anything the session claims.
 */
export const SessionSchema = z.object({
  idToken: z.string().min(1),
  /** The synchronizer token every form carries. */
  csrf: z.string().min(32),
  /** Epoch milliseconds after which the session is over, whatever the token says. */
  expiresAt: z.number().int(),
});
export type Session = z.infer<typeof SessionSchema>;

/** The sealed sign-in cookie between the redirect to the identity provider and its callback (PKCE + state + nonce). */
export const SignInStateSchema = z.object({
  state: z.string().min(32),
  nonce: z.string().min(32),
  codeVerifier: z.string().min(43).max(128),
  expiresAt: z.number().int(),
});
export type SignInState = z.infer<typeof SignInStateSchema>;

/**
 * The console's functions and their routes (HTTP API route keys), as plain data: the CDK stack builds its
 * routes from it and the local API serves the same.
 */
export const CONSOLE_ROUTES = {
  auth: [
    ['GET', '/console/signin'],
    ['GET', '/console/callback'],
    ['POST', '/console/signout'],
  ],
  inbox: [
    ['GET', '/console'],
    ['GET', '/console/inbox'],
  ],
  alerts: [
    ['GET', '/console/alerts/{reference}'],
    ['POST', '/console/alerts/{reference}'],
  ],
  readers: [['GET', '/console/readers/{reference}']],
  results: [
    ['GET', '/console/surveys'],
    ['GET', '/console/surveys/{survey}'],
  ],
  broadcasts: [
    ['GET', '/console/broadcasts'],
    ['POST', '/console/broadcasts'],
    ['POST', '/console/broadcasts/{broadcast}/cancel'],
  ],
  inquiries: [
    ['GET', '/console/inquiries'],
    ['GET', '/console/inquiries/{inquiry}'],
    ['POST', '/console/inquiries/{inquiry}/reply'],
    ['POST', '/console/inquiries/{inquiry}/close'],
    ['POST', '/console/inquiries/{inquiry}/reopen'],
  ],
  kpi: [['GET', '/console/report']],
  reports: [
    ['GET', '/console/deliveries'],
    ['GET', '/console/audit'],
  ],
} as const satisfies Record<string, readonly (readonly ['GET' | 'POST', string])[]>;
