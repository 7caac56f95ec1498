// `.local/endpoints.json`: written by `npm start` while the stack runs, read by `hagukumi line ...` and
// `hagukumi report --local` in other terminals. A crash leaves it behind, so every reader checks that the
// stack that wrote it still answers before trusting it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalEndpointsFile {
  /** The `npm start` process that wrote the file. */
  pid: number;
  startedAt: string;
  dynamodb: string;
  sqs: string;
  /** The SES emulator (sent mail at `<ses>/store`). */
  ses: string;
  secretsManager: string;
  line: string;
  /** Base URL of the local HTTP API (`POST <api>/line/<tenantId>/webhook`). */
  api: string;
  tables: { data: string; delivery: string; content: string };
  /** LINE emulator channel id per tenant. */
  channels: Record<string, string>;
}

/** The region and dummy credentials every AWS client of the local stack's emulators is made with. */
export const LOCAL_AWS = {
  region: 'ap-northeast-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export class LocalStackNotRunningError extends Error {
  override readonly name = 'LocalStackNotRunningError';
}

export const endpointsFile = (stateDir: string) => join(stateDir, 'endpoints.json');

export function writeEndpointsFile(stateDir: string, content: LocalEndpointsFile): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(endpointsFile(stateDir), `${JSON.stringify(content, null, 2)}\n`);
}

export function removeEndpointsFile(stateDir: string): void {
  rmSync(endpointsFile(stateDir), { force: true });
}

/** True when a process with this id exists (signal 0 only checks; EPERM means it exists under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

const START_HINT = 'start it with `npm start` in another terminal';

/**
 * The running local stack's endpoints. A file whose writer is gone, or whose emulators no longer answer (the
 * process id was reused), is a leftover of a crash: it is removed and reported as "not running".
 */
export async function runningLocalStack(stateDir: string): Promise<LocalEndpointsFile> {
  const file = endpointsFile(stateDir);
  if (!existsSync(file)) throw new LocalStackNotRunningError(`the local stack is not running: ${START_HINT}`);
  let content: Partial<LocalEndpointsFile>;
  try {
    content = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalEndpointsFile>;
  } catch (cause) {
    throw new LocalStackNotRunningError(`${file} is not readable JSON; delete it and ${START_HINT}`, { cause });
  }
  const complete = typeof content.pid === 'number' && typeof content.line === 'string' && content.tables;
  if (!complete || !processAlive(content.pid!) || !(await answers(content.line!))) {
    removeEndpointsFile(stateDir);
    throw new LocalStackNotRunningError(
      `the local stack is not running (${file} was left behind by a run that ended without cleaning up; removed it): ${START_HINT}`,
    );
  }
  return content as LocalEndpointsFile;
}
