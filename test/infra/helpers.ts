import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { TenantConfigInput } from '../../schemas/tenant';
import { addHagukumiStacks, type HagukumiAppOptions, type HagukumiStacks } from '../../lib/hagukumi-app';

export const REAL_TENANTS_DIR = path.join(__dirname, '..', '..', 'tenants');

export interface BuiltApp extends HagukumiStacks {
  readonly app: App;
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
}

export interface BuildOptions {
  /** Skip esbuild (assets become placeholders): for tests about wiring, not about the bundles. */
  readonly skipBundling?: boolean;
}

export function buildApp(options: Partial<HagukumiAppOptions> = {}, build: BuildOptions = {}): BuiltApp {
  const app = new App({
    // `cdk synth` validates the templates against the CloudFormation schema; here it would cost seconds per app.
    builtinCloudFormationValidation: false,
    context: build.skipBundling ? { 'aws:cdk:bundling-stacks': [] } : {},
  });
  const stacks = addHagukumiStacks(app, { tenantsDir: REAL_TENANTS_DIR, stage: 'test', ...options });
  return {
    app,
    ...stacks,
    statefulTemplate: Template.fromStack(stacks.stateful),
    statelessTemplate: Template.fromStack(stacks.stateless),
  };
}

/** A tenant that passes validation; cases override what they need. */
export function validTenant(tenantId: string, overrides: Partial<TenantConfigInput> = {}): TenantConfigInput {
  return {
    tenantId,
    name: `${tenantId} (test)`,
    timeZone: 'Asia/Tokyo',
    deliveryTime: '07:30',
    shardCount: 2,
    library: 'sample-ja',
    line: { enabled: true, secretName: `hagukumi/${tenantId}/line` },
    birthdayMessages: { '1': 'おめでとう 1', '2': 'おめでとう 2', '3': 'おめでとう 3' },
    ...overrides,
  };
}

const tempDirs: string[] = [];

export function makeTempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hagukumi-${label}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes `files` (relative path -> object, or raw text) into `dir` and returns the absolute paths. */
export function writeTenantFiles(dir: string, files: Record<string, unknown>): Record<string, string> {
  const written: Record<string, string> = {};
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    written[relative] = file;
  }
  return written;
}

/** cdk-nag v3 runs as a validation plugin at synth; `validateScope` gives the same report without a synth. */
export function nagViolations(scope: IConstruct): { rule: string; severity: string; paths: string[] }[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.map((v) => ({
    rule: v.ruleName,
    severity: v.severity ?? 'error',
    paths: v.violatingResources.map((r) => r.constructPath ?? '?'),
  }));
}

/** Every rule acknowledged anywhere under `scope`, with its reason and where it was acknowledged. */
export function acknowledgements(scope: IConstruct): { id: string; reason: string; path: string }[] {
  return scope.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason, path: c.node.path })),
        ),
    );
}

/** Resources of one type as [logicalId, resource] pairs. */
export function resourcesOfType(
  template: Template,
  type: string,
): [string, { Properties: Record<string, any>; [k: string]: any }][] {
  return Object.entries(template.findResources(type)) as [string, { Properties: Record<string, any> }][];
}
