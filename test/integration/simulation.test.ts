import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { InquiryRepository } from '../../lambdas/adapters/inquiry-repository';
import { dataKeys } from '../../lambdas/adapters/keys';
import { loadResultItems } from '../../lambdas/adapters/survey-repository';
import { addDays, localDate } from '../../lambdas/domain';
import { startLineEmulator, type LineEmulator } from '../../local/line-emulator';
import { momentOn } from '../../local/local-clock';
import { Simulation, type SimulationEvent } from '../../local/simulation/simulate';
import { advanceSimulatedNow, restoreRealTime, setSimulatedNow } from '../../local/simulation/simulated-time';
import { provision, runDelivery, seedDemo, type Provisioned } from '../../local/stack';
import type { IsoDate } from '../../schemas/common';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import { TenantConfigSchema } from '../../schemas/tenant';
import { testEndpoints, testLibrary, testTenants, uniquePrefix } from './helpers';

jest.setTimeout(300_000);

// Five simulated days on the emulators, with rates far above the defaults so a small population does every
// kind of thing. The expectations come from the simulation's own record of what its readers did and the
// rules of the flows (a birth turns the pregnancy into a child, a stop stops everything, a loss stops that
// pregnancy), checked against what is stored and what LINE received.
const DAYS = 5;
const FROM: IsoDate = addDays(localDate(new Date(), 'Asia/Tokyo'), -20);
const DELIVERY = { timeZone: 'Asia/Tokyo', deliveryTime: '07:30' };

describe('a short simulated run: stored state matches what the simulated readers did', () => {
  let line: LineEmulator;
  let stack: Provisioned;
  let sim: Simulation;
  const windows = new Map<IsoDate, [number, number]>();
  const problems: string[] = [];

  beforeAll(async () => {
    // The clock first: the in-process LINE emulator and the handlers read it.
    setSimulatedNow(new Date(momentOn(DELIVERY, FROM).getTime() - 60_000));
    line = await startLineEmulator({ host: '127.0.0.1', port: 0 });
    const prefix = uniquePrefix('simulation');
    const staffBox = `staff.${prefix}@example.jp`;
    stack = await provision({
      prefix,
      endpoints: { ...testEndpoints(), line: line.url },
      line,
      tenants: [
        TenantConfigSchema.parse({
          ...testTenants(prefix)[0]!,
          inquiries: {
            enabled: true,
            answerTime: '3営業日以内',
            notifyTo: [staffBox],
            notifyFrom: `noreply.${prefix}@example.jp`,
          },
          screening: { enabled: true, alertTo: [staffBox], alertFrom: `noreply.${prefix}@example.jp` },
          surveys: [
            {
              id: 'voice',
              title: '声をきかせてください',
              trigger: { kind: 'request' },
              questions: [
                {
                  kind: 'single',
                  id: 'reading',
                  text: 'どのくらい読んでいますか',
                  choices: [
                    { id: 'daily', label: 'ほぼ毎日' },
                    { id: 'rarely', label: 'ほとんど読まない' },
                  ],
                },
                { kind: 'scale', id: 'satisfaction', text: '満足していますか', low: '不満', high: '満足' },
                { kind: 'text', id: 'comment', text: 'ご意見をどうぞ', maxLength: 200 },
              ],
            },
          ],
        }),
      ],
      libraries: [testLibrary()],
      handlerEnv: { LINE_RETRY_BASE_MS: '5', LINE_REQUEST_TIMEOUT_MS: '1500', LINE_RETRY_ATTEMPTS: '8' },
      // As in the other tests: a slow shard goes to a second worker, which resumes its plan, kept a day after it
      // was written even on these past dates (retainedAfter in lambdas/adapters/keys.ts).
      queue: { visibilityTimeoutSeconds: 1 },
      timeToLive: false,
      webhook: true,
    });
    await seedDemo(stack, 40, FROM);
    sim = await Simulation.start(stack, {
      seed: 7,
      rates: {
        registrationsPer1000: 100,
        emailShare: 0.3,
        partnerShare: 0.5,
        birthPerDayNearDue: 0.5,
        pausesPer1000: 40,
        resumePerDay: 0.3,
        stopsPer1000: 40,
        unfollowsPer1000: 40,
        lossesPer1000: 80,
        surveyRequestsPer1000: 150,
        screeningsPer1000: 150,
        screeningConsentShare: 0.8,
        screeningHighShare: 0.5,
        inquiriesPer1000: 100,
        staffReplyPerDay: 0.7,
      },
    });
    for (let i = 0; i < DAYS; i++) {
      const date = addDays(FROM, i);
      const start = advanceSimulatedNow(momentOn(DELIVERY, date)).getTime();
      const summaries = await runDelivery(stack, { date });
      windows.set(date, [start, Date.now()]);
      problems.push(...summaries.flatMap((s) => s.problems.map((p) => `${date} ${p}`)));
      advanceSimulatedNow(momentOn({ timeZone: 'Asia/Tokyo', deliveryTime: '12:00' }, date));
      await sim.day(date);
    }
  });

  afterAll(async () => {
    await stack.api?.close();
    await line.close();
    restoreRealTime();
  });

  const tenantId = () => stack.tenants[0]!.tenantId;
  const channelId = () => stack.channels.get(tenantId())!.channelId;
  const keyOf = (reader: string) =>
    reader.startsWith('U') ? stack.readerKeys.line(reader) : stack.readerKeys.email(reader);
  const of = <K extends SimulationEvent['kind']>(kind: K) =>
    sim.events.filter((e): e is Extract<SimulationEvent, { kind: K }> => e.kind === kind);
  const left = (kind: 'stop' | 'unfollow') =>
    sim.events.filter((e): e is SimulationEvent & { kind: 'stop' | 'unfollow'; reader: string } => e.kind === kind);

  async function subscriptions(reader: string): Promise<Subscription[]> {
    const res = await stack.db.send(
      new QueryCommand({
        TableName: stack.tables.data,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':pk': dataKeys.readerPk(tenantId(), keyOf(reader)), ':s': 'SUB#' },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map(({ pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, expiresAt: _e, ...rest }) =>
      SubscriptionSchema.parse(rest),
    );
  }

  it('every kind of activity happened, and every day was delivered and verified', () => {
    for (const kind of [
      'register',
      'birth',
      'pause',
      'stop',
      'unfollow',
      'loss',
      'survey',
      'screening',
      'inquiry',
      'reply',
    ])
      expect([kind, sim.events.filter((e) => e.kind === kind).length > 0]).toEqual([kind, true]);
    expect(of('register').some((e) => e.channel === 'email')).toBe(true);
    expect(of('register').some((e) => e.audience === 'partner')).toBe(true);
    expect(problems).toEqual([]);
  });

  it('no LINE reader got two daily sends on a day', async () => {
    const perDay = new Map<string, Set<string>>();
    for (const [user, got] of line.deliveries(channelId()))
      for (const m of got) {
        if (m.via === 'reply') continue;
        const at = Date.parse(m.at);
        const day = [...windows].find(([, [a, b]]) => at >= a && at <= b)?.[0];
        if (!day) continue;
        const key = `${user} ${day}`;
        perDay.set(key, (perDay.get(key) ?? new Set()).add(m.requestId));
      }
    expect(perDay.size).toBeGreaterThan(0);
    expect([...perDay].filter(([, ids]) => ids.size > 1)).toEqual([]);
  });

  it('each registration is stored with its track and date (after a reported birth, the child)', async () => {
    const births = new Map(of('birth').map((b) => [b.reader, b]));
    const paused = new Set(sim.events.flatMap((e) => (e.kind === 'pause' ? [e.reader] : [])));
    for (const r of of('register')) {
      const born = births.get(r.partnerOf ?? r.reader);
      const want = born
        ? { track: 'childcare', anchorDate: born.birthday }
        : { track: r.track, anchorDate: r.anchorDate };
      const subs = await subscriptions(r.reader);
      expect(subs.filter((s) => s.track !== 'support')).toEqual([
        expect.objectContaining({
          ...want,
          audience: r.audience,
          channel: r.channel,
          // Today's message comes at once, the daily ones from the next simulated day (also after a birth
          // report); a pause and resume moves that again.
          ...(paused.has(r.reader) ? {} : { registeredOn: addDays(born?.date ?? r.date, 1) }),
          // The registration itself stays the day the parent registered (the KPI report counts by it).
          ...(born && !r.partnerOf && !paused.has(r.reader) && { firstRegisteredOn: addDays(r.date, 1) }),
        }),
      ]);
    }
  });

  it('a stop or an unfollow stops every subscription of the reader, and LINE sends them nothing after it', async () => {
    const replies = of('reply').map((r) => r.text);
    for (const e of [...left('stop'), ...left('unfollow')]) {
      const subs = await subscriptions(e.reader);
      expect(subs.length).toBeGreaterThan(0);
      for (const s of subs) expect(s.status).not.toMatch(/^(active|paused)$/);
      expect(subs.some((s) => s.stoppedReason === (e.kind === 'stop' ? 'reader' : 'unfollow'))).toBe(true);
      const later = (line.deliveries(channelId()).get(e.reader) ?? []).filter(
        (m) =>
          m.via !== 'reply' &&
          Date.parse(m.at) > e.at &&
          !replies.some((t) => String((m.message as { text?: string }).text).includes(t)),
      );
      expect(later).toEqual([]);
    }
  });

  it('a loss stops that pregnancy for the reader and their partner; the support series only when accepted', async () => {
    const partners = new Map(of('register').flatMap((r) => (r.partnerOf ? [[r.partnerOf, r.reader] as const] : [])));
    for (const e of of('loss')) {
      const subs = await subscriptions(e.reader);
      expect(subs.filter((s) => s.track !== 'support').map((s) => s.status)).toEqual(['lost']);
      expect(subs.filter((s) => s.track === 'support' && s.status === 'active')).toHaveLength(e.support ? 1 : 0);
      const partner = partners.get(e.reader);
      const partnerLeft = sim.events.some((x) => (x.kind === 'stop' || x.kind === 'unfollow') && x.reader === partner);
      if (partner && !partnerLeft) expect((await subscriptions(partner)).map((s) => s.status)).toEqual(['lost']);
    }
  });

  it('a pause not resumed holds for a week; a resume makes the reader active again', async () => {
    // The reader's latest pause or resume decides.
    const latest = new Map<string, SimulationEvent>();
    for (const e of sim.events) if (e.kind === 'pause' || e.kind === 'resume') latest.set(e.reader, e);
    expect(latest.size).toBeGreaterThan(0);
    for (const [reader, e] of latest)
      for (const s of await subscriptions(reader)) {
        // A subscription stopped before (a seeded reader's older one) stays as it was.
        if (s.status === 'stopped' || s.status === 'lost' || s.status === 'ended') continue;
        if (e.kind === 'resume') expect([s.status, s.pausedUntil]).toEqual(['active', undefined]);
        else expect(s.pausedUntil).toBe(addDays(e.date, 7));
      }
  });

  it('each survey answered in the chat is stored once: one completion, each question at most once', async () => {
    const items = await loadResultItems(stack.db, stack.tables.data, tenantId(), 'voice');
    for (const e of of('survey')) {
      const mine = items.filter((i) => i.readerKey === keyOf(e.reader));
      expect(mine.filter((i) => i.kind === 'completion')).toHaveLength(1);
      const questions = mine.filter((i) => i.kind === 'answer').map((i) => i.questionId);
      expect(new Set(questions).size).toBe(questions.length);
    }
    // Nobody the simulation did not record has a completion.
    const answered = new Set(of('survey').map((e) => keyOf(e.reader)));
    expect(items.filter((i) => i.kind === 'completion' && !answered.has(i.readerKey))).toEqual([]);
  });

  it('each screening answered in the chat is stored once, with the total of the scores chosen and its result', async () => {
    const screened = of('screening');
    expect(screened.some((e) => e.positive)).toBe(true);
    expect(screened.some((e) => !e.positive)).toBe(true);
    for (const instrument of ['epds', 'phq9'] as const) {
      const items = await loadResultItems(stack.db, stack.tables.data, tenantId(), instrument);
      const mine = screened.filter((e) => e.instrument === instrument);
      // Per reader: the runs stored, each as (total of its answers' scores, at or over the cut-off).
      const stored = (key: string) =>
        items
          .filter((i) => i.kind === 'completion' && i.readerKey === key)
          .map((c) => {
            const scores = items.filter((i) => i.kind === 'answer' && i.readerKey === key && i.runId === c.runId);
            return [scores.reduce((n, i) => n + (i.score ?? 0), 0), c.screening?.positive];
          })
          .sort();
      for (const reader of new Set(mine.map((e) => e.reader)))
        expect(stored(keyOf(reader))).toEqual(
          mine
            .filter((e) => e.reader === reader)
            .map((e) => [e.total, e.positive])
            .sort(),
        );
      const screenedKeys = new Set(mine.map((e) => keyOf(e.reader)));
      expect(items.filter((i) => i.kind === 'completion' && !screenedKeys.has(i.readerKey))).toEqual([]);
    }
  });

  it('each inquiry is stored once in its thread; each staff reply is in the thread and reached the LINE chat', async () => {
    const store = new InquiryRepository(stack.db, stack.tables.data);
    const threads = new Map<string, string[]>();
    for (const e of of('inquiry')) threads.set(e.inquiryId, [...(threads.get(e.inquiryId) ?? []), e.text]);
    for (const [id, texts] of threads) {
      const thread = await store.get(tenantId(), id);
      expect(thread?.messages.filter((m) => m.author === 'reader').map((m) => m.text)).toEqual(texts);
      const replies = of('reply').filter((r) => r.inquiryId === id);
      expect(thread?.messages.filter((m) => m.author === 'staff').map((m) => m.text)).toEqual(
        replies.map((r) => r.text),
      );
    }
    for (const r of of('reply').filter((x) => x.reader.startsWith('U'))) {
      expect(r.delivered).toBe(true);
      const chat = line.chat(channelId(), r.reader);
      expect(chat.some((c) => c.from === 'bot' && String((c.message as { text?: string }).text).includes(r.text))).toBe(
        true,
      );
    }
  });
});
