// A simulated LINE user: acts through the LINE emulator (signed webhook events to the real handler) and reads
// the chat as the app shows it, tapping quick reply buttons by their label.
import type { ChatEntry, LineEmulatorControl, WebhookResult } from '../line-emulator';

export interface QuickAction {
  type: string;
  label: string;
  data?: string;
}

export class SimulationStepError extends Error {
  override readonly name = 'SimulationStepError';
}

export class SimLineUser {
  constructor(
    private readonly line: LineEmulatorControl,
    private readonly channelId: string,
    readonly userId: string,
  ) {}

  private get user() {
    return this.line.user(this.channelId, this.userId);
  }

  private static ok(step: string, r: WebhookResult): WebhookResult {
    if (r.status !== 200) throw new SimulationStepError(`${step}: the webhook answered ${r.status}`);
    return r;
  }

  async follow(isUnblocked = false) {
    return SimLineUser.ok('follow', await this.user.follow({ isUnblocked }));
  }
  async unfollow() {
    return SimLineUser.ok('unfollow', await this.user.unfollow());
  }
  async say(text: string) {
    return SimLineUser.ok('text', await this.user.sendText(text));
  }

  async chat(): Promise<ChatEntry[]> {
    return this.line.chat(this.channelId, this.userId);
  }

  async botTexts(): Promise<string[]> {
    return (await this.chat()).flatMap((e) => (e.from === 'bot' ? [(e.message as { text?: string }).text ?? ''] : []));
  }

  async lastBotText(): Promise<string> {
    return (await this.botTexts()).at(-1) ?? '';
  }

  /** The buttons under the latest bot message, if it has any (older buttons are not offered any more). */
  async quickReplies(): Promise<QuickAction[]> {
    const last = (await this.chat()).filter((e) => e.from === 'bot').at(-1);
    const items = (last?.message as { quickReply?: { items: { action: QuickAction }[] } } | undefined)?.quickReply
      ?.items;
    return items?.map((i) => i.action) ?? [];
  }

  /** Taps the button whose label starts with `label`; a date picker takes `date`. */
  async tap(label: string, date?: string) {
    const actions = await this.quickReplies();
    const action = actions.find((a) => a.label.startsWith(label));
    if (!action?.data)
      throw new SimulationStepError(
        `no button "${label}" under the bot's latest message (offered: ${actions.map((a) => a.label).join(', ') || 'none'})` +
          (process.env.SIM_DEBUG ? JSON.stringify((await this.chat()).slice(-6)) : ''),
      );
    return SimLineUser.ok(`tap ${label}`, await this.user.postback(action.data, date ? { date } : undefined));
  }

  async tapAction(action: QuickAction) {
    if (!action.data) throw new SimulationStepError(`button "${action.label}" sends nothing`);
    return SimLineUser.ok(`tap ${action.label}`, await this.user.postback(action.data));
  }
}
