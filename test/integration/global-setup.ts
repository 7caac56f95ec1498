import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Starts the real emulators once for the whole integration run, in their own process (fauxqs is ESM-only,
 * which jest's CommonJS module registry cannot load), and hands their endpoints to the test workers.
 */
export default async function globalSetup(): Promise<void> {
  const root = join(__dirname, '..', '..');
  const child = spawn(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'local', 'emulators-main.ts')],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('emulators did not start within 60 s')), 60_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`emulator process exited with ${code}`)));
  });
  const { endpoints } = JSON.parse(line) as { endpoints: Record<string, string> };
  process.env.HAGUKUMI_TEST_ENDPOINTS = JSON.stringify(endpoints);
  (globalThis as { __emulators?: typeof child }).__emulators = child;
}
