// `hagukumi line ...`: act as a LINE user against the running local stack, and install a tenant's rich menu.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command, type Option } from 'commander';
import type { LineEmulatorClient } from '../local/line-emulator/client';
import type { ChatEntry } from '../local/line-emulator';
import type { LocalEndpointsFile } from '../local/endpoints-file';

export class LineCommandError extends Error {
  override readonly name = 'LineCommandError';
}

/** LINE user ids are `U` and 32 lower-case hex digits; anything else would only fail deep in the emulator. */
export const lineUserId = (value: string): string => {
  if (!/^U[0-9a-f]{32}$/.test(value)) throw new InvalidArgumentError('expected U followed by 32 hex digits (0-9, a-f)');
  return value;
};

async function localStack(stateDir: string): Promise<LocalEndpointsFile> {
  return (await import('../local/endpoints-file')).runningLocalStack(stateDir);
}

function channelOf(local: LocalEndpointsFile, tenant: string): string {
  const channelId = local.channels[tenant];
  if (!channelId)
    throw new LineCommandError(
      `unknown tenant ${tenant}; the local stack has ${Object.keys(local.channels).join(', ')}`,
    );
  return channelId;
}

interface QuickAction {
  type: string;
  label: string;
  data?: string;
  uri?: string;
  min?: string;
  max?: string;
}

function render(entries: ChatEntry[]): { text: string; actions: QuickAction[] } {
  const lines: string[] = [];
  let actions: QuickAction[] = [];
  for (const e of entries) {
    if (e.from !== 'bot') continue;
    const m = e.message as { text?: string; quickReply?: { items: { action: QuickAction }[] } };
    lines.push(`  [${e.via}] ${(m.text ?? `(${e.message.type})`).replace(/\n/g, '\n         ')}`);
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
  const after = (await client.chat(channelId, userId)).slice(before);
  return { status, replied: after.some((e) => e.from === 'bot'), ...render(after) };
}

/** Reads the user's lines; an empty line is just nothing typed (only /quit or end of input quits). */
async function chat(o: { tenant: string; user?: string; state: string }) {
  const local = await localStack(o.state);
  const channelId = channelOf(local, o.tenant);
  const userId = o.user ?? `U${randomBytes(16).toString('hex')}`;
  const { LineEmulatorClient } = await import('../local/line-emulator/client');
  const client = new LineEmulatorClient(local.line);
  process.stdout.write(
    `You are LINE user ${userId} talking to ${o.tenant}.\nType text, a number to tap a button of the latest reply, /date YYYY-MM-DD for a date picker, /follow, /unfollow, /quit.\n`,
  );
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  rl.setPrompt('you> ');
  // The iterator buffers lines that arrive while a reply is awaited (pasted or piped input is not lost).
  const lines = rl[Symbol.asyncIterator]();
  let closed = false;
  rl.once('close', () => (closed = true));
  const history = await client.chat(channelId, userId);
  // A returning --user continues where the chat stands; a new one starts by adding the account as a friend.
  let actions = render(history).actions;
  let input: string | undefined = history.length ? undefined : '/follow';
  for (;;) {
    if (input !== undefined) {
      try {
        const res = await act(client, channelId, userId, input, actions);
        if (res.status !== 200) process.stdout.write(`  (webhook answered ${res.status})\n`);
        if (res.text) process.stdout.write(`${res.text}\n`);
        // Buttons belong to the reply that offered them: a later reply without buttons leaves none to tap.
        if (res.replied) actions = res.actions;
      } catch (err) {
        if (!(err instanceof LineCommandError)) throw err;
        process.stdout.write(`  ${err.message}\n`);
      }
    }
    // Piped input may have ended while its last lines are still buffered: the prompt is then plain output.
    // Set by the readline 'close' handler meanwhile, which the type checker cannot see.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (closed) process.stdout.write('you> ');
    else rl.prompt();
    const next = await lines.next();
    if (next.done) break; // end of input (Ctrl-D)
    const typed = next.value.trim();
    if (typed === '/quit') break;
    input = typed === '' ? undefined : typed;
  }
  rl.close();
}

async function simulate(o: { tenant: string; user: string; state: string }, words: string[]) {
  const local = await localStack(o.state);
  const channelId = channelOf(local, o.tenant);
  const { LineEmulatorClient } = await import('../local/line-emulator/client');
  const client = new LineEmulatorClient(local.line);
  const actions = render(await client.chat(channelId, o.user)).actions;
  const res = await act(client, channelId, o.user, words.join(' '), actions);
  process.stdout.write(`${res.status}\n${res.text}\n`);
}

async function richMenu(o: { tenant: string; image?: string; local?: boolean; tenantsDir?: string; state: string }) {
  const { loadRepoTenants } = await import('../local/stack');
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const { installRichMenu } = await import('../lambdas/adapters/rich-menu');
  const tenants = loadRepoTenants(o.tenantsDir);
  const tenant = tenants.find((t) => t.tenantId === o.tenant);
  if (!tenant)
    throw new LineCommandError(
      `unknown tenant ${JSON.stringify(o.tenant)}; known: ${tenants.map((t) => t.tenantId).join(', ')}`,
    );
  let baseURL: string | undefined;
  let secrets = new SecretsManagerClient({});
  if (o.local) {
    const local = await localStack(o.state);
    const { LOCAL_AWS } = await import('../local/endpoints-file');
    baseURL = local.line;
    secrets = new SecretsManagerClient({
      endpoint: local.secretsManager,
      ...LOCAL_AWS,
    });
  }
  // The token is read from the tenant's secret and used in memory only.
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: tenant.line.secretName }));
  const { channelAccessToken } = JSON.parse(secret.SecretString ?? '{}') as { channelAccessToken?: string };
  if (!channelAccessToken) throw new LineCommandError(`secret ${tenant.line.secretName} has no channelAccessToken`);
  const image = o.image ? readFileSync(o.image) : undefined;
  const id = await installRichMenu({
    channelAccessToken,
    baseURL,
    tenantName: tenant.name,
    image,
    imageType: o.image?.endsWith('.jpg') || o.image?.endsWith('.jpeg') ? 'image/jpeg' : 'image/png',
  });
  process.stdout.write(`rich menu ${id} installed as the default menu of ${tenant.tenantId}\n`);
}

export function addLineCommands(
  program: Command,
  ctx: { state: (cmd: Command) => string; tenantsDir: () => Option; repoRoot: string },
): void {
  const line = program.command('line').description('act as a LINE user against the running local stack; rich menus');
  line
    .command('chat')
    .description('talk to a tenant of the running local stack as a LINE user (interactive)')
    .option('--tenant <id>', 'tenant to talk to', 'demo-minato')
    .option('--user <id>', 'LINE user id U + 32 hex digits (default: a new random user)', lineUserId)
    .action(async (o, cmd: Command) => chat({ ...o, state: ctx.state(cmd) }));
  line
    .command('simulate')
    .description('one step as a LINE user: follow, unfollow, a text, a button number, or /date YYYY-MM-DD')
    .argument('<action...>', 'follow | unfollow | TEXT | N (button of the latest reply) | /date YYYY-MM-DD')
    .option('--tenant <id>', 'tenant to talk to', 'demo-minato')
    .requiredOption('--user <id>', 'LINE user id U + 32 hex digits (the same user across steps)', lineUserId)
    .action(async (words: string[], o, cmd: Command) => simulate({ ...o, state: ctx.state(cmd) }, words));
  line
    .command('richmenu')
    .description("install a tenant's rich menu as its default menu (reads the token from the tenant's secret)")
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--image <file>', 'menu image, 2500x1686 PNG or JPEG (default: a placeholder)')
    .option('--local', 'install into the running local stack instead of LINE')
    .addOption(ctx.tenantsDir())
    .action(async (o, cmd: Command) => richMenu({ ...o, state: ctx.state(cmd) }));
}
