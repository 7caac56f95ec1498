import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { minVersion, satisfies, validRange } from 'semver';

const root = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};
const oldest = minVersion(pkg.engines.node)!.version;

describe('the Node the machine needs', () => {
  it('is enough for every locked package, so `npm ci` on it prints no engine warning', () => {
    const unmet = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .map(([path, p]) => [path, Array.isArray(p.engines) ? undefined : p.engines?.node] as const)
      .filter(([, range]) => range !== undefined && validRange(range) !== null && !satisfies(oldest, range))
      .map(([path, range]) => `${path.replace(/^.*node_modules\//, '')} wants ${range}`);
    expect(unmet).toEqual([]);
  });

  it('is what the README says', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(`Node.js ${oldest} or later`);
  });

  it('is met by the Node the npm scripts run on (the `node` package)', () => {
    const bundled = lock.packages['node_modules/node']?.version;
    expect(bundled && satisfies(bundled, pkg.engines.node)).toBe(true);
  });
});
