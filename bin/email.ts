// `hagukumi email event`: what SES would publish for a mail of the running local stack (its SES emulator
// publishes no events), delivered to the real email-events handler through the local API.
import type { Command } from 'commander';

export class EmailCommandError extends Error {
  override readonly name = 'EmailCommandError';
}

const KINDS = ['bounce', 'transient', 'complaint'] as const;
type Kind = (typeof KINDS)[number];

async function sendEvent(o: { tenant: string; to: string[]; feedbackId?: string; state: string }, kind: string) {
  if (!(KINDS as readonly string[]).includes(kind))
    throw new EmailCommandError(`unknown event ${JSON.stringify(kind)}; one of ${KINDS.join(', ')}`);
  const { runningLocalStack } = await import('../local/endpoints-file');
  const { bounceEvent, complaintEvent } = await import('../local/ses-events');
  const { LOCAL_SES_EVENTS_PATH } = await import('../local/api-server');
  const local = await runningLocalStack(o.state);
  const mail = { to: o.to, tenant: o.tenant, sentAt: new Date().toISOString(), feedbackId: o.feedbackId };
  const event =
    (kind as Kind) === 'complaint'
      ? complaintEvent(mail)
      : bounceEvent((kind as Kind) === 'bounce' ? 'Permanent' : 'Transient', mail);
  const res = await fetch(`${local.api}${LOCAL_SES_EVENTS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  if (!res.ok) throw new EmailCommandError(`the local API answered ${res.status}: ${await res.text()}`);
  // Counts only, as the handler logs them.
  process.stdout.write(`${JSON.stringify(await res.json())}\n`);
}

export function addEmailCommands(program: Command, ctx: { state: (cmd: Command) => string }): void {
  const email = program.command('email').description('email readers on the running local stack');
  email
    .command('event')
    .description(
      'deliver an SES event for a mail of the running local stack to the email-events handler: bounce (permanent), transient, complaint',
    )
    .argument('<kind>', KINDS.join(' | '))
    .requiredOption('--to <address...>', 'the recipients the event names (one event can name several)')
    .option('--tenant <id>', 'the tenant the mail was tagged with', 'demo-minato')
    .option('--feedback-id <id>', 'SES feedback id (a transient bounce counts once per id; default: a new one)')
    .action(async (kind: string, o: { to: string[]; tenant: string; feedbackId?: string }, cmd: Command) =>
      sendEvent({ ...o, feedbackId: o.feedbackId ?? `local-${Date.now()}`, state: ctx.state(cmd) }, kind),
    );
}
