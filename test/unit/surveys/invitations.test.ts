import { askedSurveys, dueInvitations, invitationText, stageBand } from '../../../lambdas/domain/surveys';
import type { InvitationFacts, ReaderSurveyFacts, SurveyInvitationStore } from '../../../lambdas/services/ports';
import { invitationTexts, readerInvitations } from '../../../lambdas/services/survey-invitations';
import type { IsoDate } from '../../../schemas/common';
import type { Subscription } from '../../../schemas/subscription';
import { TenantConfigSchema } from '../../../schemas/tenant';

const addDays = (date: IsoDate, days: number): IsoDate =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

const TODAY: IsoDate = '2027-04-10';
const tenant = TenantConfigSchema.parse({
  tenantId: 'town',
  name: 'テスト町',
  deliveryTime: '09:00',
  shardCount: 1,
  library: 'lib',
  line: { enabled: true, secretName: 'hagukumi/town/line' },
  birthdayMessages: { '1': 'b1', '2': 'b2', '3': 'b3' },
  surveys: [
    {
      id: 'birth-28w',
      title: '妊娠28週アンケート',
      trigger: { kind: 'stage', stages: [{ track: 'maternity', day: 196 }] },
      questions: [{ kind: 'scale', id: 'q', text: 't', low: 'l', high: 'h' }],
    },
    {
      id: 'partners',
      title: 'パートナーの方へ',
      audience: 'partner',
      trigger: { kind: 'campaign', from: '2027-04-01', to: '2027-04-30' },
      questions: [{ kind: 'text', id: 'q', text: 't' }],
    },
    {
      id: 'kodomo-day',
      title: 'こどもの日',
      trigger: { kind: 'date', on: '2027-05-05' },
      questions: [{ kind: 'text', id: 'q', text: 't' }],
    },
  ],
  screening: { enabled: true, alertTo: ['hoken@town.example.jp'], alertFrom: 'noreply@town.example.jp' },
});
const surveys = askedSurveys(tenant);

let n = 0;
function sub(over: Partial<Subscription>): Subscription {
  n++;
  return {
    tenantId: 'town',
    readerKey: 'line:k1',
    subscriptionId: `s${n}`,
    channel: 'line',
    address: 'U1',
    track: 'maternity',
    anchorDate: addDays(TODAY, 280 - 196),
    audience: 'parent',
    status: 'active',
    registeredOn: '2026-10-01',
    familyId: `f${n}`,
    bucket: 1,
    version: 1,
    ...over,
  };
}
/** Due date such that `today` is gestational day `day` (day = 280 - days until the due date). */
const dueForDay = (day: number, today = TODAY) => addDays(today, 280 - day);
/** Birthday such that `today` is childcare day `day`. */
const bornForDay = (day: number, today = TODAY) => addDays(today, -day);

describe('dueInvitations', () => {
  it.each([
    { label: 'maternity day 196 (28w0d)', s: { anchorDate: dueForDay(196) }, expected: ['birth-28w/t0'] },
    { label: 'day 195', s: { anchorDate: dueForDay(195) }, expected: [] },
    { label: 'day 197', s: { anchorDate: dueForDay(197) }, expected: [] },
    {
      label: 'childcare day 14, parent: EPDS first trigger',
      s: { track: 'childcare' as const, anchorDate: bornForDay(14) },
      expected: ['epds/t0'],
    },
    {
      label: 'childcare day 30, parent: EPDS second trigger',
      s: { track: 'childcare' as const, anchorDate: bornForDay(30) },
      expected: ['epds/t1'],
    },
    {
      label: 'childcare day 14, partner: no EPDS, the partner campaign',
      s: { track: 'childcare' as const, anchorDate: bornForDay(14), audience: 'partner' as const },
      expected: ['partners/c'],
    },
    { label: 'paused until tomorrow', s: { pausedUntil: addDays(TODAY, 1) }, expected: [] },
    { label: 'registered tomorrow', s: { registeredOn: addDays(TODAY, 1) }, expected: [] },
    { label: 'stopped', s: { status: 'stopped' as const }, expected: [] },
  ])('$label', ({ s, expected }) => {
    expect(dueInvitations([sub(s)], TODAY, surveys).map((i) => `${i.surveyId}/${i.runId}`)).toEqual(expected);
  });

  it('never after a loss: a lost pregnancy silences the toddler sibling due for EPDS', () => {
    const toddler = sub({ track: 'childcare', anchorDate: bornForDay(30) });
    const lost = sub({ status: 'lost', anchorDate: dueForDay(100) });
    expect(dueInvitations([toddler], TODAY, surveys)).toHaveLength(1);
    expect(dueInvitations([toddler, lost], TODAY, surveys)).toEqual([]);
    expect(dueInvitations([toddler, sub({ track: 'support', anchorDate: TODAY })], TODAY, surveys)).toEqual([]);
  });

  it.each([
    { date: '2027-03-31', due: false },
    { date: '2027-04-01', due: true },
    { date: '2027-04-30', due: true },
    { date: '2027-05-01', due: false },
  ])('campaign window boundaries (inclusive): $date -> $due', ({ date, due }) => {
    const partner = sub({ audience: 'partner', anchorDate: dueForDay(100, date) });
    expect(dueInvitations([partner], date, surveys).some((i) => i.surveyId === 'partners')).toBe(due);
  });

  it('a date trigger fires on its date only', () => {
    const s = sub({ anchorDate: dueForDay(100, '2027-05-05') });
    expect(dueInvitations([s], '2027-05-05', surveys).map((i) => i.surveyId)).toEqual(['kodomo-day']);
    expect(dueInvitations([s], '2027-05-04', surveys)).toEqual([]);
  });

  it('PHQ-9 is never an invitation (on request only)', () => {
    for (let d = 0; d < 400; d += 7)
      for (const s of [sub({ track: 'childcare', anchorDate: bornForDay(d) })])
        expect(dueInvitations([s], TODAY, surveys).map((i) => i.surveyId)).not.toContain('phq9');
  });
});

describe('invitation texts', () => {
  it('name the survey and the word that starts it; the screening one asks nothing about scores', () => {
    expect(invitationText(surveys.find((s) => s.id === 'birth-28w')!)).toContain(
      '「アンケート」と送ると始まります（1問',
    );
    const epds = invitationText(surveys.find((s) => s.id === 'epds')!);
    expect(epds).toContain('「こころの健康チェック」と送ると始まります');
    expect(epds).toContain('10問');
  });
  it('stage bands', () => {
    expect(stageBand('maternity', dueForDay(111), TODAY)).toBe('maternity-early');
    expect(stageBand('maternity', dueForDay(112), TODAY)).toBe('maternity-mid');
    expect(stageBand('maternity', dueForDay(196), TODAY)).toBe('maternity-late');
    expect(stageBand('childcare', bornForDay(100), TODAY)).toBe('childcare-0-100d');
    expect(stageBand('childcare', bornForDay(101), TODAY)).toBe('childcare-under-1y');
    expect(stageBand('childcare', bornForDay(365), TODAY)).toBe('childcare-1y');
  });
});

class MemorySurveyStore implements SurveyInvitationStore {
  readonly invitations = new Map<string, IsoDate>();
  readonly declined = new Set<string>();
  readonly facts: InvitationFacts[] = [];
  async readerSurveys(_t: string, readerKey: string, surveyIds: readonly string[]) {
    return new Map(
      surveyIds.map((id): [string, ReaderSurveyFacts] => [
        id,
        {
          declined: this.declined.has(`${readerKey}/${id}`),
          completed: new Set<string>(),
          invitations: new Map(
            [...this.invitations]
              .filter(([k]) => k.startsWith(`${readerKey}/${id}/`))
              .map(([k, d]) => [k.split('/')[2]!, d]),
          ),
        },
      ]),
    );
  }
  async recordInvitation(
    _t: string,
    readerKey: string,
    surveyId: string,
    runId: string,
    date: IsoDate,
    f: InvitationFacts,
  ) {
    const key = `${readerKey}/${surveyId}/${runId}`;
    const recorded = this.invitations.get(key);
    if (recorded !== undefined && recorded !== date) return false;
    this.invitations.set(key, date);
    this.facts.push(f);
    return true;
  }
}

describe('invitationTexts (service)', () => {
  const campaignDays = ['2027-04-01', '2027-04-02', '2027-04-15'] as const;
  it('a campaign invites once, on the first planned day, never again', async () => {
    const store = new MemorySurveyStore();
    const partner = sub({ readerKey: 'line:p', audience: 'partner', anchorDate: '2027-09-01' });
    const got = [];
    for (const day of campaignDays) got.push((await invitationTexts(tenant, [partner], day, store, 'plan')).length);
    expect(got).toEqual([1, 0, 0]);
    expect(store.facts).toEqual([
      { track: 'maternity', stageBand: 'maternity-mid', audience: 'partner', channel: 'line' },
    ]);
  });
  it('a retry of the same day plans the same invitation again', async () => {
    const store = new MemorySurveyStore();
    const partner = sub({ readerKey: 'line:p', audience: 'partner', anchorDate: '2027-09-01' });
    expect(await invitationTexts(tenant, [partner], '2027-04-01', store, 'plan')).toHaveLength(1);
    expect(await invitationTexts(tenant, [partner], '2027-04-01', store, 'plan')).toHaveLength(1);
  });
  it('the send-time check keeps recorded invitations, adds none, and drops them after a loss', async () => {
    const store = new MemorySurveyStore();
    const s = sub({ readerKey: 'line:m' });
    expect(await invitationTexts(tenant, [s], TODAY, store, 'check')).toEqual([]);
    expect(await invitationTexts(tenant, [s], TODAY, store, 'plan')).toHaveLength(1);
    expect(await invitationTexts(tenant, [s], TODAY, store, 'check')).toHaveLength(1);
    expect(await invitationTexts(tenant, [{ ...s, status: 'lost' }], TODAY, store, 'check')).toEqual([]);
  });
  it('a declined survey is not offered, on either channel', async () => {
    const store = new MemorySurveyStore();
    store.declined.add('line:d/birth-28w');
    store.declined.add('email:e/birth-28w');
    expect(await invitationTexts(tenant, [sub({ readerKey: 'line:d' })], TODAY, store, 'plan')).toEqual([]);
    expect(
      await invitationTexts(
        tenant,
        [sub({ readerKey: 'email:e', channel: 'email', address: 'a@b.jp' })],
        TODAY,
        store,
        'plan',
      ),
    ).toEqual([]);
  });
});

describe('email invitations', () => {
  it('an email reader gets the text that points to the link below, recorded with channel email', async () => {
    const store = new MemorySurveyStore();
    const s = sub({ readerKey: 'email:e1', channel: 'email', address: 'e1@example.jp' });
    const got = await readerInvitations(tenant, [s], TODAY, store, 'plan');
    expect(got).toEqual([
      { surveyId: 'birth-28w', runId: 't0', text: expect.stringContaining('下のリンクからお答えください（1問') },
    ]);
    expect(got[0]!.text).not.toContain('と送ると');
    expect(store.facts).toEqual([
      { track: 'maternity', stageBand: 'maternity-late', audience: 'parent', channel: 'email' },
    ]);
    // A second day never repeats it.
    expect(await readerInvitations(tenant, [s], addDays(TODAY, 1), store, 'plan')).toEqual([]);
  });
  it('the EPDS invitation by email says consent comes first', () => {
    const text = invitationText(
      surveys.find((s) => s.id === 'epds')!,
      'email',
    );
    expect(text).toContain('下のリンクから始められます');
    expect(text).toContain('始める前にお聞きします');
  });
});
