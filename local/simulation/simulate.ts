// Simulated readers acting between the daily deliveries of `npm start -- --from D --days N`: new LINE and
// email registrations (parents and partners, pregnancies and children), births, pauses and resumes, stops and
// unfollows, loss reports, survey answers, inquiries and staff replies. Everything goes through the real paths:
// signed webhook events from the LINE emulator to the webhook handler, the email sign-up, confirm and
// preferences pages over HTTP, and the inquiry service's replyToInquiry for the staff. Nothing is written to a
// table directly. Deterministic for a seed (given the same starting state: use --reset).
import { createHash } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { BotSdkLineReplierFactory } from '../../lambdas/adapters/line-replier';
import { SesEmailSender } from '../../lambdas/adapters/email-sender';
import { InquiryRepository } from '../../lambdas/adapters/inquiry-repository';
import { loadResultItems } from '../../lambdas/adapters/survey-repository';
import { addDays, daysBetween } from '../../lambdas/domain';
import { INSTRUMENTS } from '../../lambdas/domain/screening';
import { thanksText, nothingToAnswerText, screeningThanksText } from '../../lambdas/domain/survey-dialog';
import { replyToInquiry, type InquiryDeps } from '../../lambdas/services/inquiries';
import { tenantSurveys } from '../../lambdas/services/survey-invitations';
import type { IsoDate } from '../../schemas/common';
import type { InstrumentId } from '../../schemas/survey';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { prng } from '../seed';
import { sesEmails, type Provisioned } from '../stack';
import { SimLineUser, SimulationStepError, type QuickAction } from './line-user';
import { DEFAULT_RATES, poisson, type SimulationRates } from './rates';

type Track = 'maternity' | 'childcare';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** One thing a simulated reader (or the staff) did; the record tests compare the stored state with. */
export type SimulationEvent = { date: IsoDate; tenantId: string; /** Simulated epoch ms. */ at: number } & (
  | {
      kind: 'register';
      channel: 'line' | 'email';
      reader: string;
      track: Track;
      anchorDate: IsoDate;
      audience: 'parent' | 'partner';
      /** The parent whose invite code a partner used. */
      partnerOf?: string;
    }
  | { kind: 'birth'; reader: string; birthday: IsoDate }
  | { kind: 'pause' | 'resume' | 'stop' | 'unfollow'; reader: string }
  | { kind: 'loss'; reader: string; support: boolean }
  | { kind: 'survey'; reader: string; surveyId: string }
  /** A screening answered to its end; `total` and `positive` from the scores the simulation chose. */
  | { kind: 'screening'; reader: string; instrument: InstrumentId; total: number; positive: boolean }
  | { kind: 'inquiry'; channel: 'line' | 'email'; reader: string; inquiryId: string; text: string }
  | { kind: 'faq-solved'; reader: string }
  | { kind: 'reply'; inquiryId: string; reader: string; text: string; delivered: boolean }
);

export type SimulationKind = SimulationEvent['kind'];

interface SimReader {
  tenantId: string;
  channel: 'line' | 'email';
  /** LINE user id or email address: kept in memory, never printed. */
  id: string;
  readerKey: string;
  state: 'active' | 'paused' | 'gone';
  /** The reader's own subscriptions as the simulation believes them to be. */
  subs: { track: Track | 'support'; anchorDate: IsoDate; status: Subscription['status']; audience: string }[];
  /** Signed preferences page (email readers), from their mail. */
  preferencesPath?: string;
  /** The partner who joined with this parent's invite code: a birth or a loss reaches them too. */
  partner?: SimReader;
  /** The reader's last screening: when, and whether at or over the cut-off. */
  screened?: { date: IsoDate; positive: boolean };
}

export interface SimulationOptions {
  seed: number;
  /** A step the chat does not offer fails the run (default); `false`: counted in `failedSteps`, the run goes on. */
  strict?: boolean;
  rates?: Partial<SimulationRates>;
}

export interface DayActivity {
  date: IsoDate;
  counts: Record<SimulationKind, number>;
}

const KINDS: SimulationKind[] = [
  'register',
  'birth',
  'pause',
  'resume',
  'stop',
  'unfollow',
  'loss',
  'survey',
  'screening',
  'inquiry',
  'faq-solved',
  'reply',
];

const NICKNAMES = ['ひなちゃん', 'そうたくん', 'ゆいちゃん', 'れんくん', 'みおちゃん'];
// Questions residents ask (the demo tenants' FAQ answers some of them: those readers may find their answer).
const QUESTIONS = [
  '母子手帳はどこでもらえますか',
  '予防接種の予約はどうすればいいですか',
  '保育園の申し込みはいつからですか',
  '乳幼児健診の日程を教えてください',
  '夜泣きがひどくて困っています。相談できるところはありますか',
  '児童手当の申請に必要なものは何ですか',
];
const REPLIES = [
  'お問い合わせありがとうございます。詳しくは保健センターの窓口でご案内します。お気軽にお越しください。',
  'ご質問の件、市のホームページに最新の日程を掲載しています。ご不明な点はお電話でもどうぞ。',
  'ご連絡ありがとうございます。担当の保健師から改めてお電話でご説明します。',
];

const hex32 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

export class Simulation {
  readonly events: SimulationEvent[] = [];
  /** What went wrong in steps of a non-strict simulation (button labels, statuses: never who). */
  readonly failedSteps: string[] = [];
  private readonly readers = new Map<string, SimReader[]>();
  private readonly rates: SimulationRates;
  private readonly rand: () => number;
  private readonly considered = new Set<string>();
  private readonly inquiries = new Map<string, { tenantId: string; reader: SimReader; date: IsoDate }>();
  private counter = 0;
  private readonly inquiryDeps: InquiryDeps;

  private constructor(
    private readonly stack: Provisioned,
    private readonly options: SimulationOptions,
  ) {
    this.rates = { ...DEFAULT_RATES, ...options.rates };
    this.rand = prng(options.seed * 2654435761);
    this.inquiryDeps = {
      store: new InquiryRepository(stack.db, stack.tables.data),
      clock: { now: () => new Date() },
      line: new BotSdkLineReplierFactory(
        { get: (t) => Promise.resolve(stack.channels.get(t.tenantId)!) },
        stack.endpoints.line,
      ),
      mail: new SesEmailSender(),
    };
  }

  /** The readers already stored (the seeded population) join the simulation: LINE readers can act. */
  static async start(stack: Provisioned, options: SimulationOptions): Promise<Simulation> {
    const sim = new Simulation(stack, options);
    const byReader = new Map<string, Subscription[]>();
    let start: Record<string, unknown> | undefined;
    do {
      const res = await stack.db.send(
        new ScanCommand({
          TableName: stack.tables.data,
          FilterExpression: 'begins_with(sk, :s)',
          ExpressionAttributeValues: { ':s': 'SUB#' },
          ExclusiveStartKey: start,
        }),
      );
      for (const { pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, expiresAt: _e, ...rest } of res.Items ?? []) {
        const parsed = SubscriptionSchema.safeParse(rest);
        if (!parsed.success) continue;
        const key = `${parsed.data.tenantId}|${parsed.data.readerKey}`;
        byReader.set(key, [...(byReader.get(key) ?? []), parsed.data]);
      }
      start = res.LastEvaluatedKey;
    } while (start);
    for (const tenant of stack.tenants) sim.readers.set(tenant.tenantId, []);
    // In the order of the readers' addresses: reader keys depend on the stack's secret (new after --reset),
    // addresses only on the seed, so the same seed picks the same readers.
    const addressOf = (key: string) => `${byReader.get(key)![0]!.tenantId}|${byReader.get(key)![0]!.address}`;
    for (const key of [...byReader.keys()].sort((a, b) => addressOf(a).localeCompare(addressOf(b)))) {
      const subs = byReader.get(key)!;
      const first = subs[0]!;
      if (first.channel !== 'line' || !first.address || !sim.readers.has(first.tenantId)) continue;
      sim.readers.get(first.tenantId)!.push({
        tenantId: first.tenantId,
        channel: 'line',
        id: first.address,
        readerKey: first.readerKey,
        state: subs.some((s) => s.status === 'active')
          ? 'active'
          : subs.some((s) => s.status === 'paused')
            ? 'paused'
            : 'gone',
        subs: subs.map((s) => ({
          track: s.track as Track,
          anchorDate: s.anchorDate,
          status: s.status,
          audience: s.audience,
        })),
      });
    }
    return sim;
  }

  /** The simulation's readers of a tenant who have not left (tests read their state back). */
  population(tenantId: string): readonly SimReader[] {
    return this.readers.get(tenantId) ?? [];
  }

  /** One day of activity on `date` (after that day's delivery). */
  async day(date: IsoDate): Promise<DayActivity> {
    const before = this.events.length;
    for (const tenant of this.stack.tenants) await this.tenantDay(tenant, date);
    const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<SimulationKind, number>;
    for (const e of this.events.slice(before)) counts[e.kind]++;
    return { date, counts };
  }

  private record(e: DistributiveOmit<SimulationEvent, 'at'>) {
    this.events.push({ ...e, at: Date.now() });
  }

  private chance(p: number) {
    return this.rand() < p;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  /** Up to `n` distinct readers from `pool` who have not acted yet today. */
  private sample(pool: SimReader[], n: number, busy: Set<SimReader>): SimReader[] {
    const free = pool.filter((r) => !busy.has(r));
    const out: SimReader[] = [];
    while (out.length < n && free.length) {
      const [r] = free.splice(Math.floor(this.rand() * free.length), 1);
      busy.add(r!);
      out.push(r!);
    }
    return out;
  }

  private user(tenant: TenantConfig, r: SimReader) {
    return new SimLineUser(this.stack.line, this.stack.channels.get(tenant.tenantId)!.channelId, r.id);
  }

  private async tenantDay(tenant: TenantConfig, date: IsoDate) {
    const all = this.readers.get(tenant.tenantId)!;
    // Readers whose tracks are all over (a pregnancy past 41w6d, a child past the 3rd birthday) have nothing
    // registered as far as the chat is concerned: they do not act.
    const current = (x: SimReader['subs'][number]) =>
      x.status === 'active' &&
      (x.track === 'maternity'
        ? 280 - daysBetween(date, x.anchorDate) <= 293
        : x.track === 'childcare'
          ? daysBetween(x.anchorDate, date) < 1095
          : true);
    const active = all.filter((r) => r.state === 'active' && r.subs.some(current));
    const activeLine = active.filter((r) => r.channel === 'line');
    const per1000 = (rate: number, n: number) => poisson((rate * n) / 1000, this.rand);
    const busy = new Set<SimReader>();
    const lineOn = tenant.line.enabled && this.stack.channels.has(tenant.tenantId);
    const emailOn = tenant.email?.enabled === true && this.stack.api !== undefined;

    // New registrations, in proportion to the readers there are.
    const registrations = per1000(this.rates.registrationsPer1000, Math.max(active.length, 1));
    for (let i = 0; i < registrations; i++) {
      const email = emailOn && (!lineOn || this.chance(this.rates.emailShare));
      if (!email && !lineOn) break;
      const maternity = this.chance(this.rates.maternityShare);
      // Pregnancies register at 8-17 weeks, children in their first four months.
      const anchorDate = maternity
        ? addDays(date, 280 - (56 + Math.floor(this.rand() * 63)))
        : addDays(date, -Math.floor(this.rand() * 120));
      const track: Track = maternity ? 'maternity' : 'childcare';
      await this.step(undefined, () =>
        email
          ? this.registerEmail(tenant, date, track, anchorDate)
          : this.registerLine(tenant, date, track, anchorDate, busy),
      );
    }

    if (lineOn) {
      // Births: pregnancies from 37w0d (gestational day 259) report with a daily chance.
      const expecting = activeLine.filter(
        (r) =>
          r.subs.length === 1 &&
          r.subs[0]!.track === 'maternity' &&
          r.subs[0]!.status === 'active' &&
          r.subs[0]!.audience === 'parent' &&
          current(r.subs[0]!) &&
          280 - daysBetween(date, r.subs[0]!.anchorDate) >= 259,
      );
      for (const r of expecting) {
        if (busy.has(r) || !this.chance(this.rates.birthPerDayNearDue)) continue;
        busy.add(r);
        await this.step(r, () => this.reportBirth(tenant, date, r));
      }
      for (const r of all.filter((x) => x.state === 'paused' && x.channel === 'line')) {
        if (busy.has(r) || !this.chance(this.rates.resumePerDay)) continue;
        busy.add(r);
        await this.step(r, async () => {
          await this.user(tenant, r).say('再開');
          r.state = 'active';
          for (const s of r.subs) if (s.status === 'paused') s.status = 'active';
          this.record({ date, tenantId: tenant.tenantId, kind: 'resume', reader: r.id });
        });
      }
      for (const r of this.sample(activeLine, per1000(this.rates.pausesPer1000, activeLine.length), busy)) {
        await this.step(r, async () => {
          const u = this.user(tenant, r);
          await u.say('お休み');
          await u.tap('1週間');
          r.state = 'paused';
          this.record({ date, tenantId: tenant.tenantId, kind: 'pause', reader: r.id });
        });
      }
      for (const r of this.sample(activeLine, per1000(this.rates.stopsPer1000, activeLine.length), busy)) {
        await this.step(r, async () => {
          const u = this.user(tenant, r);
          await u.say('配信停止');
          await u.tap('配信を停止する');
          this.leave(r);
          this.record({ date, tenantId: tenant.tenantId, kind: 'stop', reader: r.id });
        });
      }
      for (const r of this.sample(activeLine, per1000(this.rates.unfollowsPer1000, activeLine.length), busy)) {
        await this.step(r, async () => {
          await this.user(tenant, r).unfollow();
          this.leave(r);
          this.record({ date, tenantId: tenant.tenantId, kind: 'unfollow', reader: r.id });
        });
      }
      const pregnant = activeLine.filter(
        (r) =>
          r.subs.length === 1 &&
          r.subs[0]!.track === 'maternity' &&
          r.subs[0]!.audience === 'parent' &&
          current(r.subs[0]!),
      );
      for (const r of this.sample(pregnant, per1000(this.rates.lossesPer1000, pregnant.length), busy)) {
        const support = this.chance(0.5);
        const ok = await this.step(r, async () => {
          const u = this.user(tenant, r);
          await u.say('赤ちゃんを亡くされた方へ');
          await u.tap('配信を止める');
          await u.tap(support ? '受け取る' : '受け取らない');
        });
        if (!ok) continue;
        r.subs[0]!.status = 'lost';
        // The partner is told and offered the support series; the simulation's partners do not answer it.
        if (r.partner?.subs[0]) {
          r.partner.subs[0].status = 'lost';
          r.partner.state = 'gone';
        }
        if (support) r.subs.push({ track: 'support', anchorDate: date, status: 'active', audience: 'parent' });
        // Left alone from now on (also by the simulation's other events).
        r.state = 'gone';
        this.record({ date, tenantId: tenant.tenantId, kind: 'loss', reader: r.id, support });
      }
      await this.answerSurveys(tenant, date, busy);
      if (tenant.screening?.enabled) await this.screenings(tenant, date, activeLine, busy);
    }

    if (tenant.inquiries?.enabled) {
      const writers = this.sample(
        active.filter((r) => r.channel === 'line' || r.preferencesPath),
        per1000(this.rates.inquiriesPer1000, active.length),
        busy,
      );
      for (const r of writers)
        await this.step(r, () =>
          r.channel === 'line' ? this.lineInquiry(tenant, date, r) : this.emailInquiry(tenant, date, r),
        );
      await this.staffReplies(tenant, date);
    }
  }

  /**
   * One reader's action. A step the chat did not offer (a dialog state the simulation did not foresee) fails a
   * strict simulation (the tests); otherwise it is counted, and that reader acts no more.
   */
  private async step(r: SimReader | undefined, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      if (!(err instanceof SimulationStepError) || this.options.strict !== false) throw err;
      this.failedSteps.push(err.message);
      if (r) r.state = 'gone';
      return false;
    }
  }

  private leave(r: SimReader) {
    r.state = 'gone';
    for (const s of r.subs) if (s.status === 'active' || s.status === 'paused') s.status = 'stopped';
  }

  private newLineId(tenant: TenantConfig) {
    return `U${hex32(`sim:${this.options.seed}:${tenant.tenantId}:${++this.counter}`)}`;
  }

  private async registerLine(
    tenant: TenantConfig,
    date: IsoDate,
    track: Track,
    anchorDate: IsoDate,
    busy: Set<SimReader>,
  ) {
    const parent: SimReader = {
      tenantId: tenant.tenantId,
      channel: 'line',
      id: this.newLineId(tenant),
      readerKey: '',
      state: 'active',
      subs: [{ track, anchorDate, status: 'active', audience: 'parent' }],
    };
    parent.readerKey = this.stack.readerKeys.line(parent.id);
    const u = this.user(tenant, parent);
    await u.follow();
    await u.tap(track === 'maternity' ? '妊娠中' : '子育て中');
    await u.tap('日付を選ぶ', anchorDate);
    if (this.chance(0.6)) await u.say(this.pick(NICKNAMES));
    else await u.tap('スキップ');
    this.readers.get(tenant.tenantId)!.push(parent);
    busy.add(parent);
    this.record({
      date,
      tenantId: tenant.tenantId,
      kind: 'register',
      channel: 'line',
      reader: parent.id,
      track,
      anchorDate,
      audience: 'parent',
    });
    if (!this.chance(this.rates.partnerShare)) return;
    await u.say('パートナー招待');
    const code = /招待コード：([A-Z0-9]{6})/.exec(await u.lastBotText())?.[1];
    if (!code) throw new SimulationStepError('パートナー招待: no invite code in the reply');
    const partner: SimReader = {
      tenantId: tenant.tenantId,
      channel: 'line',
      id: this.newLineId(tenant),
      readerKey: '',
      state: 'active',
      subs: [{ track, anchorDate, status: 'active', audience: 'partner' }],
    };
    partner.readerKey = this.stack.readerKeys.line(partner.id);
    const p = this.user(tenant, partner);
    await p.follow();
    await p.tap('パートナー・家族として登録');
    await p.say(code);
    this.readers.get(tenant.tenantId)!.push(partner);
    parent.partner = partner;
    busy.add(partner);
    this.record({
      date,
      tenantId: tenant.tenantId,
      kind: 'register',
      channel: 'line',
      reader: partner.id,
      track,
      anchorDate,
      audience: 'partner',
      partnerOf: parent.id,
    });
  }

  private async post(path: string, fields: Record<string, string>): Promise<{ status: number; text: string }> {
    const res = await fetch(`${this.stack.api!.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    return { status: res.status, text: await res.text() };
  }

  /** The latest link of this kind in the mail to `address`, as a path under the local API. */
  private async linkInMail(address: string, pattern: RegExp): Promise<string | undefined> {
    const mails = (await sesEmails(this.stack.endpoints.ses)).filter((m) => m.destination.to.includes(address));
    for (const m of mails.reverse()) {
      const url = pattern.exec(`${m.body.text ?? ''}\n${m.body.html ?? ''}`)?.[0];
      if (url) {
        const u = new URL(url.replace(/&amp;/g, '&'));
        return u.pathname + u.search;
      }
    }
    return undefined;
  }

  private async registerEmail(tenant: TenantConfig, date: IsoDate, track: Track, anchorDate: IsoDate) {
    const address = `sim-${hex32(`sim:${this.options.seed}:${tenant.tenantId}:${++this.counter}`).slice(0, 12)}@example.com`;
    const signup = await this.post(`/email/${tenant.tenantId}/signup`, {
      email: address,
      track,
      date: anchorDate,
      ...(this.chance(0.5) ? { nickname: this.pick(NICKNAMES) } : {}),
      consent: 'yes',
    });
    if (signup.status !== 200) throw new SimulationStepError(`email sign-up answered ${signup.status}`);
    const confirm = await this.linkInMail(address, /https?:\/\/[^\s"<>]+\/confirm\?token=[^\s"<>]+/);
    if (!confirm) throw new SimulationStepError('email sign-up: no confirmation mail');
    const confirmed = await this.post(confirm, {});
    if (confirmed.status !== 200) throw new SimulationStepError(`email confirmation answered ${confirmed.status}`);
    const reader: SimReader = {
      tenantId: tenant.tenantId,
      channel: 'email',
      id: address,
      readerKey: this.stack.readerKeys.email(address),
      state: 'active',
      subs: [{ track, anchorDate, status: 'active', audience: 'parent' }],
      preferencesPath: await this.linkInMail(address, /https?:\/\/[^\s"<>]+\/preferences\?token=[^\s"<>]+/),
    };
    this.readers.get(tenant.tenantId)!.push(reader);
    this.record({
      date,
      tenantId: tenant.tenantId,
      kind: 'register',
      channel: 'email',
      reader: address,
      track,
      anchorDate,
      audience: 'parent',
    });
  }

  private async reportBirth(tenant: TenantConfig, date: IsoDate, r: SimReader) {
    const birthday = addDays(date, -Math.floor(this.rand() * 3));
    const u = this.user(tenant, r);
    await u.say('出産のご報告');
    await u.tap('日付を選ぶ', birthday);
    for (const x of [r, r.partner])
      if (x?.subs[0]) x.subs[0] = { ...x.subs[0], track: 'childcare', anchorDate: birthday };
    this.record({ date, tenantId: tenant.tenantId, kind: 'birth', reader: r.id, birthday });
  }

  /** Readers invited to a survey (and a few who ask for one) answer it in the chat, question by question. */
  private async answerSurveys(tenant: TenantConfig, date: IsoDate, busy: Set<SimReader>) {
    const surveys = tenantSurveys(tenant).filter((s) => !s.instrument);
    const byKey = new Map(
      this.readers
        .get(tenant.tenantId)!
        .filter((r) => r.channel === 'line' && r.state === 'active')
        .map((r) => [r.readerKey, r]),
    );
    const answering: SimReader[] = [];
    for (const survey of surveys) {
      const items = await loadResultItems(this.stack.db, this.stack.tables.data, tenant.tenantId, survey.id);
      const invitations = items
        .filter((i) => i.kind === 'invitation' && byKey.has(i.readerKey))
        .sort((a, b) => byKey.get(a.readerKey)!.id.localeCompare(byKey.get(b.readerKey)!.id));
      for (const inv of invitations) {
        const key = `${tenant.tenantId}|${survey.id}|${inv.readerKey}|${inv.runId ?? ''}`;
        const r = byKey.get(inv.readerKey);
        if (!r || this.considered.has(key) || busy.has(r)) continue;
        this.considered.add(key);
        if (!this.chance(this.rates.surveyAnswerShare)) continue;
        busy.add(r);
        answering.push(r);
      }
    }
    if (surveys.some((s) => s.trigger.kind === 'request'))
      answering.push(
        ...this.sample(
          [...byKey.values()],
          poisson((this.rates.surveyRequestsPer1000 * byKey.size) / 1000, this.rand),
          busy,
        ),
      );
    for (const r of answering)
      await this.step(r, async () => {
        const surveyId = await this.answerSurvey(tenant, r);
        if (surveyId) this.record({ date, tenantId: tenant.tenantId, kind: 'survey', reader: r.id, surveyId });
      });
  }

  /** Says アンケート and answers until the thanks; returns the survey's id, or nothing if none was open. */
  private async answerSurvey(tenant: TenantConfig, r: SimReader): Promise<string | undefined> {
    const u = this.user(tenant, r);
    const from = (await u.botTexts()).length;
    await u.say('アンケート');
    const control = new Set(['スキップ', '中断する', 'あとで続ける', 'このアンケートは答えない']);
    let picked = false;
    for (let step = 0; step < 40; step++) {
      const last = await u.lastBotText();
      if (last === nothingToAnswerText) return undefined;
      if (last.startsWith(thanksText.slice(0, 10))) {
        const texts = (await u.botTexts()).slice(from).join('\n');
        const surveys = tenantSurveys(tenant).filter((s) => !s.instrument && texts.includes(s.title));
        if (surveys.length !== 1) throw new SimulationStepError('survey answered, but which one is not in the chat');
        return surveys[0]!.id;
      }
      const actions = await u.quickReplies();
      const done = actions.find((a) => a.label === '選び終わった');
      const choices = actions.filter((a: QuickAction) => !control.has(a.label) && a.label !== '選び終わった' && a.data);
      if (done && picked) {
        picked = false;
        await u.tapAction(done);
      } else if (choices.length) {
        picked = done !== undefined;
        await u.tapAction(this.pick(choices));
      } else if (actions.some((a) => a.label === 'スキップ') && this.chance(0.5)) await u.tap('スキップ');
      else await u.say(this.pick(['毎朝たのしみにしています', '役に立っています', '健診の情報が助かりました']));
    }
    throw new SimulationStepError('survey: no end after 40 steps');
  }

  /**
   * Parents invited to the EPDS answer it, readers start the mental health check in the chat (consent first,
   * the first time), and readers at or over the cut-off two weeks or more ago check again, most of them better. The chat picks the instrument
   * (an EPDS invitation not answered yet, otherwise the PHQ-9); each item is answered at a score drawn for the
   * reader's profile, and the event keeps the total and whether it reached the tenant's cut-off.
   */
  private async screenings(tenant: TenantConfig, date: IsoDate, activeLine: SimReader[], busy: Set<SimReader>) {
    const again = activeLine.filter(
      (r) =>
        r.screened?.positive &&
        daysBetween(r.screened.date, date) >= 14 &&
        !busy.has(r) &&
        this.chance(this.rates.rescreenPerDay),
    );
    for (const r of again) busy.add(r);
    // Parents invited to the EPDS by their daily message (the tenant's epdsDays after the birth) answer it like
    // any invited survey, once per invitation.
    const byKey = new Map(activeLine.map((r) => [r.readerKey, r]));
    const items = await loadResultItems(this.stack.db, this.stack.tables.data, tenant.tenantId, 'epds');
    const done = new Set(items.filter((i) => i.kind === 'completion').map((i) => `${i.readerKey}|${i.runId}`));
    const invited: SimReader[] = [];
    for (const inv of items
      .filter((i) => i.kind === 'invitation' && byKey.has(i.readerKey) && !done.has(`${i.readerKey}|${i.runId}`))
      .sort((a, b) => byKey.get(a.readerKey)!.id.localeCompare(byKey.get(b.readerKey)!.id))) {
      const r = byKey.get(inv.readerKey)!;
      const key = `${tenant.tenantId}|epds|${inv.readerKey}|${inv.runId ?? ''}`;
      if (this.considered.has(key) || busy.has(r)) continue;
      this.considered.add(key);
      if (!this.chance(this.rates.surveyAnswerShare)) continue;
      busy.add(r);
      invited.push(r);
    }
    const first = this.sample(
      activeLine.filter((r) => !r.screened),
      poisson((this.rates.screeningsPer1000 * activeLine.length) / 1000, this.rand),
      busy,
    );
    const profile = (r: SimReader, highShare: number) =>
      r.screened?.positive ? !this.chance(this.rates.rescreenImprovedShare) : this.chance(highShare);
    for (const [r, high] of [
      ...again.map((r) => [r, profile(r, 0)] as const),
      ...invited.map((r) => [r, profile(r, this.rates.invitedScreeningHighShare)] as const),
      ...first.map((r) => [r, profile(r, this.rates.screeningHighShare)] as const),
    ])
      await this.step(r, () => this.screen(tenant, date, r, high));
  }

  private async screen(tenant: TenantConfig, date: IsoDate, r: SimReader, high: boolean) {
    const u = this.user(tenant, r);
    await u.say('こころの健康チェック');
    if ((await u.quickReplies()).some((a) => a.label.startsWith('同意して始める'))) {
      if (!this.chance(this.rates.screeningConsentShare)) {
        await u.tap('同意しない');
        return;
      }
      await u.tap('同意して始める');
    }
    let instrument: InstrumentId | undefined;
    let total = 0;
    for (let step = 0; step < 20; step++) {
      const last = await u.lastBotText();
      if (last.startsWith(screeningThanksText)) {
        if (!instrument) throw new SimulationStepError('screening: thanked before any item');
        const positive = total >= tenant.screening!.cutoffs[instrument];
        r.screened = { date, positive };
        this.record({ date, tenantId: tenant.tenantId, kind: 'screening', reader: r.id, instrument, total, positive });
        return;
      }
      // `（k/n）`: the item and the instrument (EPDS has 10 items, the PHQ-9 9).
      const head = /^（(\d+)\/(\d+)）/.exec(last);
      if (!head) throw new SimulationStepError('screening: no item numbered in the chat');
      instrument = Number(head[2]) === INSTRUMENTS.epds.items.length ? 'epds' : 'phq9';
      const item = INSTRUMENTS[instrument].items[Number(head[1]) - 1]!;
      const options = (await u.quickReplies()).filter((a) => a.label !== 'スキップ' && a.label !== '中断する');
      if (options.length !== item.optionScores.length)
        throw new SimulationStepError('screening: options unlike the item');
      // Low: mostly 0-1; high: mostly 2-3. The self-harm item stays 0, but for some of the high.
      const x = this.rand();
      const score =
        item.number === INSTRUMENTS[instrument].criticalItem
          ? high && x < 0.3
            ? 1
            : 0
          : high
            ? x < 0.2
              ? 1
              : x < 0.7
                ? 2
                : 3
            : x < 0.6
              ? 0
              : x < 0.95
                ? 1
                : 2;
      total += score;
      await u.tapAction(options[item.optionScores.indexOf(score)]!);
    }
    throw new SimulationStepError('screening: no end after 20 items');
  }

  private async lineInquiry(tenant: TenantConfig, date: IsoDate, r: SimReader) {
    const u = this.user(tenant, r);
    const text = this.pick(QUESTIONS);
    await u.say(text);
    if (this.chance(0.25)) {
      await u.tap('解決しました');
      this.record({ date, tenantId: tenant.tenantId, kind: 'faq-solved', reader: r.id });
      return;
    }
    await u.tap('職員に送る');
    await u.tap('送信する');
    await this.recordInquiry(tenant, date, r, text);
  }

  private async emailInquiry(tenant: TenantConfig, date: IsoDate, r: SimReader) {
    const text = this.pick(QUESTIONS);
    const faq = await this.post(r.preferencesPath!, { action: 'inquiry-faq', text });
    if (faq.status !== 200) throw new SimulationStepError(`email inquiry form answered ${faq.status}`);
    const submissionId = /name="submissionId" value="([^"]+)"/.exec(faq.text)?.[1];
    if (!submissionId) throw new SimulationStepError('email inquiry form: no submission id on the page');
    const sent = await this.post(r.preferencesPath!, { action: 'inquiry-send', text, submissionId });
    if (sent.status !== 200) throw new SimulationStepError(`email inquiry answered ${sent.status}`);
    await this.recordInquiry(tenant, date, r, text);
  }

  /** The thread the reader's message went to (a second question continues the open one). */
  private async recordInquiry(tenant: TenantConfig, date: IsoDate, r: SimReader, text: string) {
    const refs = await this.inquiryDeps.store.byReader(tenant.tenantId, r.readerKey);
    const ref = refs.at(0);
    if (!ref) throw new SimulationStepError('inquiry sent, but the reader has no thread');
    this.inquiries.set(ref.inquiryId, { tenantId: tenant.tenantId, reader: r, date });
    this.record({
      date,
      tenantId: tenant.tenantId,
      kind: 'inquiry',
      channel: r.channel,
      reader: r.id,
      inquiryId: ref.inquiryId,
      text,
    });
  }

  /** The staff answer some of the simulation's open inquiries of earlier days, oldest first, through the inquiry service. */
  private async staffReplies(tenant: TenantConfig, date: IsoDate) {
    const open = await this.inquiryDeps.store.list(tenant.tenantId, {
      statuses: ['new', 'open'],
      order: 'oldest',
      limit: 100,
    });
    for (const i of open) {
      const mine = this.inquiries.get(i.inquiryId);
      if (!mine || mine.date >= date || !this.chance(this.rates.staffReplyPerDay)) continue;
      const text = this.pick(REPLIES);
      const r = await replyToInquiry(tenant, i.inquiryId, `${tenant.tenantId}-staff`, text, this.inquiryDeps);
      if (r.outcome !== 'answered') throw new SimulationStepError(`staff reply: ${r.outcome}`);
      this.record({
        date,
        tenantId: tenant.tenantId,
        kind: 'reply',
        inquiryId: i.inquiryId,
        reader: mine.reader.id,
        text,
        delivered: r.delivered,
      });
    }
  }
}

/** Readers with at least one active subscription, from the stored state (all tenants). */
export async function activeReaders(stack: Provisioned): Promise<number> {
  const readers = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const res = await stack.db.send(
      new ScanCommand({
        TableName: stack.tables.data,
        FilterExpression: 'begins_with(sk, :s) AND #st = :a',
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: { ':s': 'SUB#', ':a': 'active' },
        ProjectionExpression: 'pk',
        ExclusiveStartKey: start,
      }),
    );
    for (const i of res.Items ?? []) readers.add(String(i.pk));
    start = res.LastEvaluatedKey;
  } while (start);
  return readers.size;
}
