import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles } from '../../../bench/bundles';

// `npm run bench` measures each Lambda's bundle; a handler that cannot be bundled as CommonJS (vega's canvas
// module awaits at its top level) stopped the bench at its first step once. Built here as the bench builds them.
describe('the bench bundles every handler', () => {
  const out = mkdtempSync(join(tmpdir(), 'hagukumi-bundles-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('builds a CommonJS file for each handler, the KPI report charts included', () => {
    const handlers = readdirSync(join(__dirname, '..', '..', '..', 'lambdas', 'handlers'))
      .filter((f) => f.endsWith('.ts') && f !== 'runtime.ts')
      .map((f) => f.slice(0, -'.ts'.length));
    expect(handlers).toContain('console-kpi');
    expect(buildBundles(out).sort()).toEqual(handlers.sort());
    for (const name of handlers) expect(existsSync(join(out, `${name}.cjs`))).toBe(true);
  });
});
