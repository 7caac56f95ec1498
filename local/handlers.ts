import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { Context } from 'aws-lambda';

export type LambdaHandler<E = unknown, R = unknown> = (event: E, context: Context) => Promise<R>;

export type HandlerName =
  | 'fan-out'
  | 'shard-worker'
  | 'line-webhook'
  | 'email-signup'
  | 'email-confirm'
  | 'email-preferences'
  | 'email-unsubscribe'
  | 'email-survey'
  | 'email-events'
  | 'alert-retry'
  | 'console-auth'
  | 'console-inbox'
  | 'console-alerts'
  | 'console-readers'
  | 'console-reports'
  | 'console-results'
  | 'console-inquiries'
  | 'console-broadcasts'
  | 'console-kpi';

const HANDLERS_DIR = join(__dirname, '..', 'lambdas', 'handlers');
/** As in the CDK bundles (lib/constructs/hagukumi-function.ts): vega's canvas module, whose top-level await CommonJS cannot hold. */
export const VEGA_CANVAS_ALIAS = { 'vega-canvas': join(__dirname, '..', 'lambdas', 'web', 'vega-canvas-shim.ts') };
let outDir: string | undefined;
const built = new Set<string>();

/**
 * Loads a Lambda handler the way Lambda does: from an esbuild bundle of its entry file, built with the same
 * settings as the CDK stack (CommonJS, node24). Bundling also lets the ESM-only middy packages run under a
 * CommonJS loader. Each process bundles once. `container` n > 0 loads a separate copy of the module, like a
 * second Lambda container: its caches, pacers and metrics are its own.
 */
export function loadHandler<E, R>(name: HandlerName, container = 0): LambdaHandler<E, R> {
  outDir ??= mkdtempSync(join(tmpdir(), 'hagukumi-handlers-'));
  const outfile = join(outDir, `${name}.cjs`);
  if (!built.has(name)) {
    buildSync({
      entryPoints: [join(HANDLERS_DIR, `${name}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      sourcemap: 'inline',
      logLevel: 'error',
      alias: VEGA_CANVAS_ALIAS,
    });
    built.add(name);
  }
  const file = container === 0 ? outfile : join(outDir, `${name}-container-${container}.cjs`);
  if (!existsSync(file)) copyFileSync(outfile, file);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(file) as { handler: LambdaHandler<E, R> }).handler;
}
