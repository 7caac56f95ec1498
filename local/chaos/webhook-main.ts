// The LINE webhook of a chaos run in its own process, like its own Lambda function: its SDK clients read their
// endpoints from this process's environment (the fault proxy's webhook listeners), so the proxy can tell the
// webhook's requests from the shard worker's. Prints one JSON line with its URL, serves until stdin closes.
import { startLocalApi } from '../api-server';

async function main() {
  const tenantIds = JSON.parse(process.env.CHAOS_TENANT_IDS ?? '[]') as string[];
  const api = await startLocalApi(tenantIds);
  process.stdout.write(`${JSON.stringify({ url: api.url })}\n`);
  const stop = () => void api.close().then(() => process.exit(0));
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos webhook failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
