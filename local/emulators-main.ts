// Runs the emulators as their own process (for jest's global set-up): prints one JSON line with the
// endpoints, then serves until stdin closes or SIGTERM arrives, so they never outlive the test run.
import { startEmulators } from './emulators';

async function main() {
  const emulators = await startEmulators();
  process.stdout.write(`${JSON.stringify({ ready: true, endpoints: emulators.endpoints })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void emulators.stop().then(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`emulators failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
