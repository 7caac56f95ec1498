// Each Lambda's bundle as the CDK stack builds it (esbuild, CommonJS, node24, minified), its size, and the time a
// fresh Node process takes to import it: the part of a cold start that is ours.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { VEGA_CANVAS_ALIAS } from '../local/handlers';

export interface BundleFigures {
  name: string;
  bytes: number;
  coldImportMs: number;
}

const HANDLERS = join(__dirname, '..', 'lambdas', 'handlers');

/** Bundles every handler into `out` (`<name>.cjs`) and returns their names. */
export function buildBundles(out: string): string[] {
  const names = readdirSync(HANDLERS)
    .filter((f) => f.endsWith('.ts') && f !== 'runtime.ts')
    .map((f) => f.replace(/\.ts$/, ''));
  // One esbuild call for every handler (it shares the parse of the common modules and uses all cores): the same
  // bundles as one call each, in a fraction of the time.
  buildSync({
    entryPoints: Object.fromEntries(names.map((name) => [name, join(HANDLERS, `${name}.ts`)])),
    outdir: out,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    logLevel: 'error',
    alias: VEGA_CANVAS_ALIAS,
  });
  return names;
}

export function measureBundles(runs = 3): BundleFigures[] {
  const out = mkdtempSync(join(tmpdir(), 'hagukumi-bench-bundles-'));
  return buildBundles(out).map((name) => {
    const outfile = join(out, `${name}.cjs`);
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    const times = Array.from({ length: runs }, () =>
      Number(execFileSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } }).toString()),
    ).sort((a, b) => a - b);
    return { name, bytes: statSync(outfile).size, coldImportMs: times[Math.floor(times.length / 2)]! };
  });
}
