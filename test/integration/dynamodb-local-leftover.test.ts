import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PID_FILE, startDynamoDbLocal } from '../../local/dynamodb-local';
import { processAlive } from '../../local/endpoints-file';

jest.setTimeout(90_000);

it('a DynamoDB Local left running by a crashed run is ended on the next start, not reused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hagukumi-ddb-'));
  try {
    // The first run "crashes": it never calls stop(), so its java process keeps the data files open.
    const leftover = await startDynamoDbLocal({ dataDir: dir });
    const leftoverPid = Number(readFileSync(join(dir, PID_FILE), 'utf8'));
    expect(leftoverPid).toBe(leftover.pid);
    const next = await startDynamoDbLocal({ dataDir: dir });
    try {
      expect(processAlive(leftoverPid)).toBe(false);
      expect(next.pid).not.toBe(leftoverPid);
      expect(next.endpoint).not.toBe(leftover.endpoint);
      expect(Number(readFileSync(join(dir, PID_FILE), 'utf8'))).toBe(next.pid);
      const client = new DynamoDBClient({
        endpoint: next.endpoint,
        region: 'ap-northeast-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      await expect(client.send(new ListTablesCommand({}))).resolves.toBeDefined();
      client.destroy();
    } finally {
      await next.stop();
    }
    expect(existsSync(join(dir, PID_FILE))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a DynamoDB Local whose run is still alive is not ended: the next start on the same files is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hagukumi-ddb-live-'));
  // Another live process owns the java process: a child process that starts DynamoDB Local and waits.
  const owner = spawn(
    process.execPath,
    [
      join(__dirname, '..', '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      '-e',
      `require(${JSON.stringify(join(__dirname, '..', '..', 'local', 'dynamodb-local.ts'))}).startDynamoDbLocal({ dataDir: ${JSON.stringify(dir)} }).then((d) => { process.stdout.write(String(d.pid) + '\\n'); process.stdin.resume(); process.stdin.on('end', () => d.stop().then(() => process.exit(0))); })`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  try {
    const javaPid = Number(
      await new Promise<string>((resolve) => owner.stdout.once('data', (d) => resolve(String(d)))),
    );
    await expect(startDynamoDbLocal({ dataDir: dir })).rejects.toThrow(
      expect.objectContaining({ name: 'DynamoDbLocalInUseError', message: expect.stringContaining(`pid ${javaPid}`) }),
    );
    expect(processAlive(javaPid)).toBe(true);
  } finally {
    owner.stdin.end();
    await new Promise((r) => owner.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
