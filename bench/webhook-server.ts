// The local API and the bundled webhook handler in a process of their own, for the webhook load: the load
// generator and the LINE emulator stay in the bench's process, so this process's CPU time is ours alone (the
// handler and the HTTP layer that plays API Gateway). Prints one JSON line with its URL; then answers each
// line on stdin with its CPU time so far, and exits when stdin closes.
import { createInterface } from 'node:readline';
import { startLocalApi } from '../local/api-server';

async function main() {
  const tenantIds = (process.env.BENCH_WEBHOOK_TENANTS ?? '').split(',').filter(Boolean);
  const api = await startLocalApi(tenantIds);
  process.stdout.write(`${JSON.stringify({ url: api.url })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', () => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  });
  lines.on('close', () => {
    void api.close().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`webhook server failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
