import { App, CrossStackReferences, ReferenceStrength, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { z } from 'zod';
import { StatefulStack } from './stateful-stack';
import { StatelessStack } from './stateless-stack';
import { loadTenants } from './tenants';

export const HagukumiAppOptionsSchema = z.object({
  /** Directory of the tenant files. */
  tenantsDir: z.string().min(1),
  /** Deployment stage; part of every stack name, so several stages can share an account. */
  stage: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, 'stage: lower-case letters, digits and hyphens, at most 20'),
  lineApiBaseUrl: z.url().optional(),
  /** The account-wide SES send rate (mails/s) shared by all shard workers: the account's SES maximum send rate. */
  emailSendRate: z.coerce.number().int().min(1).max(10_000).optional(),
  /** Distinct transient bounces after which an address is suppressed. */
  transientBounceThreshold: z.coerce.number().int().min(1).max(100).optional(),
  /** The staff sign-in's Cognito domain prefix (unique in the region); `hagukumi-<stage>-staff` when absent. */
  consoleDomainPrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'consoleDomainPrefix: lower-case letters, digits and hyphens')
    .optional(),
});
export type HagukumiAppOptions = z.input<typeof HagukumiAppOptionsSchema>;

/** A context value (`-c stage=...`) is unusable. */
export class InvalidAppOptionsError extends Error {
  override readonly name = 'InvalidAppOptionsError';
}

export interface HagukumiStacks {
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/**
 * Adds the hagukumi stacks to `app`. Everything is passed in: reading context and environment is app.ts's job.
 * Throws (and so fails synth) when a tenant file is invalid.
 */
export function addHagukumiStacks(app: App, options: HagukumiAppOptions): HagukumiStacks {
  const parsed = HagukumiAppOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new InvalidAppOptionsError(`Invalid app context:\n${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  }
  const { tenantsDir, stage, lineApiBaseUrl, emailSendRate, transientBounceThreshold, consoleDomainPrefix } =
    parsed.data;
  const tenants = loadTenants(tenantsDir);

  // Strong (exports/imports): CloudFormation refuses to delete the tables' stack while the pipeline uses them.
  // Context, so it must be set before the stacks exist.
  CrossStackReferences.of(app).consume(ReferenceStrength.STRONG);
  const prefix = `Hagukumi-${stage}`;
  const stateful = new StatefulStack(app, `${prefix}-Stateful`, {
    description: 'hagukumi: tables and tenant configurations (retained on delete)',
    tenants,
    consoleDomainPrefix: consoleDomainPrefix ?? `hagukumi-${stage}-staff`,
  });
  const stateless = new StatelessStack(app, `${prefix}-Stateless`, {
    description: 'hagukumi: delivery pipeline (scheduler, fan-out, shard queue, shard worker) and alarms',
    tenants,
    dataTable: stateful.dataTable,
    deliveryTable: stateful.deliveryTable,
    contentTable: stateful.contentTable,
    readerKeySecret: stateful.readerKeySecret,
    emailTokenSecret: stateful.emailTokenSecret,
    auditTable: stateful.auditTable,
    staffIdentity: stateful.staffIdentity,
    lineApiBaseUrl,
    emailSendRate,
    transientBounceThreshold,
  });
  return { stateful, stateless };
}

/** cdk-nag's AWS Solutions pack as a synth-time validation: any unacknowledged finding fails synth. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
