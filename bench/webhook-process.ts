// Starts bench/webhook-server.ts as its own process with the handlers' environment and reads its CPU time.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface WebhookProcess {
  url: string;
  webhookUrl(tenantId: string): string;
  /** The process's CPU time so far (user + system), ms. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

export async function startWebhookProcess(tenantIds: string[], opts: { cpuProfileDir?: string } = {}) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ...(opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : []),
      join(__dirname, 'webhook-server.ts'),
    ],
    {
      cwd: join(__dirname, '..'),
      env: { ...process.env, BENCH_WEBHOOK_TENANTS: tenantIds.join(',') },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`webhook server exited (${code})`)));
    });
  const { url } = JSON.parse(await next()) as { url: string };
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    webhookUrl: (t: string) => `${url}/line/${t}/webhook`,
    cpuMs: async () => {
      const answer = next();
      child.stdin.write('cpu\n');
      return (JSON.parse(await answer) as { cpuMs: number }).cpuMs;
    },
    close: async () => {
      child.stdin.end();
      await exited;
    },
  } satisfies WebhookProcess;
}
