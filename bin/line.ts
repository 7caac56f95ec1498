// `hagukumi line ...`: act as a LINE user against the running local stack, and install a tenant's rich menu.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { installRichMenu } from '../lambdas/adapters/rich-menu';
import { LineEmulatorClient } from '../local/line-emulator/client';
import type { ChatEntry } from '../local/line-emulator';
import { loadRepoTenants, REPO_ROOT } from '../local/stack';

export class LineCommandError extends Error {
  override readonly name = 'LineCommandError';
}

/** Written by `npm start` while it runs: where the LINE emulator is and which channel belongs to which tenant. */
export interface LocalEndpointsFile {
  line: string;
  secretsManager: string;
  channels: Record<string, string>;
}
export const ENDPOINTS_FILE = join(REPO_ROOT, '.local', 'endpoints.json');

function localStack(): LocalEndpointsFile {
  if (!existsSync(ENDPOINTS_FILE))
    throw new LineCommandError('the local stack is not running: start it with `npm start` in another terminal');
  return JSON.parse(readFileSync(ENDPOINTS_FILE, 'utf8')) as LocalEndpointsFile;
}

type QuickAction = { type: string; label: string; data?: string; uri?: string; min?: string; max?: string };

function render(entries: ChatEntry[]): { text: string; actions: QuickAction[] } {
  const lines: string[] = [];
  let actions: QuickAction[] = [];
  for (const e of entries) {
    if (e.from !== 'bot') continue;
    const m = e.message as { text?: string; quickReply?: { items: { action: QuickAction }[] } };
    lines.push(`  [${e.via}] ${String(m.text ?? `(${e.message.type})`).replace(/\n/g, '\n         ')}`);
    actions = m.quickReply?.items.map((i) => i.action) ?? [];
  }
  actions.forEach((a, n) =>
    lines.push(
      `    ${n + 1}) ${a.label}${a.type === 'datetimepicker' ? ` [date ${a.min}..${a.max}: type /date YYYY-MM-DD]` : ''}${a.uri ? ` ${a.uri.slice(0, 60)}…` : ''}`,
    ),
  );
  return { text: lines.join('\n'), actions };
}

/** One step as a user: `follow`, `unfollow`, `/date D`, a quick reply number, or text. Returns what the chat shows after it. */
async function act(
  client: LineEmulatorClient,
  channelId: string,
  userId: string,
  input: string,
  actions: QuickAction[],
) {
  const user = client.user(channelId, userId);
  const before = (await client.chat(channelId, userId)).length;
  const picker = actions.find((a) => a.type === 'datetimepicker');
  let status: number;
  if (input === '/follow' || input === 'follow') status = (await user.follow({ isUnblocked: before > 0 })).status;
  else if (input === '/unfollow' || input === 'unfollow') status = (await user.unfollow()).status;
  else if (input.startsWith('/date ')) {
    if (!picker?.data) throw new LineCommandError('no date picker is offered right now');
    status = (await user.postback(picker.data, { date: input.slice(6).trim() })).status;
  } else if (/^\d+$/.test(input) && actions[Number(input) - 1]) {
    const a = actions[Number(input) - 1]!;
    if (a.type === 'datetimepicker')
      throw new LineCommandError('that button opens a date picker: type /date YYYY-MM-DD');
    if (!a.data) throw new LineCommandError('that button opens a link, nothing to send');
    status = (await user.postback(a.data)).status;
  } else status = (await user.sendText(input)).status;
  const after = await client.chat(channelId, userId);
  return { status, ...render(after.slice(before)) };
}

async function chat(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: 'string', default: 'demo-minato' }, user: { type: 'string' } },
  });
  const local = localStack();
  const channelId = local.channels[values.tenant];
  if (!channelId)
    throw new LineCommandError(
      `unknown tenant ${values.tenant}; the local stack has ${Object.keys(local.channels).join(', ')}`,
    );
  const userId = values.user ?? `U${randomBytes(16).toString('hex')}`;
  const client = new LineEmulatorClient(local.line);
  process.stdout.write(
    `You are LINE user ${userId} talking to ${values.tenant}.\nType text, a number to tap a button, /date YYYY-MM-DD for a date picker, /follow, /unfollow, /quit.\n`,
  );
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  let actions: QuickAction[] = [];
  let input = '/follow';
  for (;;) {
    try {
      const res = await act(client, channelId, userId, input, actions);
      if (res.status !== 200) process.stdout.write(`  (webhook answered ${res.status})\n`);
      if (res.text) process.stdout.write(`${res.text}\n`);
      if (res.actions.length) actions = res.actions;
    } catch (err) {
      if (!(err instanceof LineCommandError)) throw err;
      process.stdout.write(`  ${err.message}\n`);
    }
    const next = (await rl.question('you> ')).trim();
    if (next === '/quit' || next === '') break;
    input = next;
  }
  rl.close();
}

async function simulate(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { tenant: { type: 'string', default: 'demo-minato' }, user: { type: 'string' } },
  });
  if (!values.user) throw new LineCommandError('--user U<32 hex> is required (the same user across steps)');
  const local = localStack();
  const channelId = local.channels[values.tenant];
  if (!channelId) throw new LineCommandError(`unknown tenant ${values.tenant}`);
  const client = new LineEmulatorClient(local.line);
  const actions = render(await client.chat(channelId, values.user)).actions;
  const res = await act(client, channelId, values.user, positionals.join(' '), actions);
  process.stdout.write(`${res.status}\n${res.text}\n`);
}

async function richMenu(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: 'string' }, image: { type: 'string' }, local: { type: 'boolean', default: false } },
  });
  const tenant = loadRepoTenants().find((t) => t.tenantId === values.tenant);
  if (!tenant) throw new LineCommandError(`unknown tenant ${JSON.stringify(values.tenant)} (see tenants/)`);
  let baseURL: string | undefined;
  let secrets = new SecretsManagerClient({});
  if (values.local) {
    const local = localStack();
    baseURL = local.line;
    secrets = new SecretsManagerClient({
      endpoint: local.secretsManager,
      region: 'ap-northeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }
  // The token is read from the tenant's secret and used in memory only.
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: tenant.line.secretName }));
  const { channelAccessToken } = JSON.parse(secret.SecretString ?? '{}') as { channelAccessToken?: string };
  if (!channelAccessToken) throw new LineCommandError(`secret ${tenant.line.secretName} has no channelAccessToken`);
  const image = values.image ? readFileSync(values.image) : undefined;
  const id = await installRichMenu({
    channelAccessToken,
    baseURL,
    tenantName: tenant.name,
    image,
    imageType: values.image?.endsWith('.jpg') || values.image?.endsWith('.jpeg') ? 'image/jpeg' : 'image/png',
  });
  process.stdout.write(`rich menu ${id} installed as the default menu of ${tenant.tenantId}\n`);
}

export async function lineCommand(args: string[]) {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'chat':
      return chat(rest);
    case 'simulate':
      return simulate(rest);
    case 'richmenu':
      return richMenu(rest);
    default:
      throw new LineCommandError('line: chat | simulate | richmenu');
  }
}
