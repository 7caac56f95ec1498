import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { IdentityProviderConfig, RunningIdentityProvider } from './provider';

export type { IdentityProviderConfig, LocalStaffUser, RunningIdentityProvider } from './provider';

const ROOT = join(__dirname, '..', '..');

/** Starts the local OpenID Connect provider as a child process; `close()` ends it. */
export async function startIdentityProviderProcess(config: IdentityProviderConfig): Promise<RunningIdentityProvider> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(__dirname, 'main.ts')],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  // oidc-provider warns on start that its in-memory store is for development, which is what this is: that line is
  // dropped, anything else it says goes to our stderr.
  createInterface({ input: child.stderr }).on('line', (l) => {
    if (!l.includes('in-memory adapter is used')) process.stderr.write(`${l}\n`);
  });
  child.stdin.end(JSON.stringify(config));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('identity provider did not start within 60 s')), 60_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`identity provider exited with ${code}`)));
  });
  const { issuer } = JSON.parse(line) as { issuer: string };
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
