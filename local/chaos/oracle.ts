// The independent oracle of a chaos run: what each reader should get on the delivery date, from the seeded
// population, the chaos library and its own date arithmetic (the README's rules, written again here, never
// the domain functions under test), checked against what the LINE and SES emulators accepted and what the
// ledger recorded.
import type { IsoDate } from '../../schemas/common';
import type { ContentItem } from '../../schemas/content';
import type { Subscription } from '../../schemas/subscription';
import type { TenantConfig } from '../../schemas/tenant';
import { birthdayIn, dayNumber, daysFromTo } from './calendar';
import type { Reader } from './population';

const TRACK_ORDER = { maternity: 0, childcare: 1, support: 2 } as const;

/** A subscription's texts for the date, `{nickname}` not yet filled in. */
function slotTexts(sub: Subscription, date: IsoDate, tenant: TenantConfig, library: Map<string, string>): string[] {
  if (sub.status !== 'active' || date < sub.registeredOn) return [];
  if (sub.pausedUntil && date < sub.pausedUntil) return [];
  let day: number;
  if (sub.track === 'maternity') {
    day = 280 - daysFromTo(date, sub.anchorDate);
    if (day < 28 || day > 293) return [];
  } else if (sub.track === 'childcare') {
    day = daysFromTo(sub.anchorDate, date);
    const year = Number(sub.anchorDate.slice(0, 4));
    if (day < 0 || dayNumber(date) > dayNumber(birthdayIn(sub.anchorDate, year + 3))) return [];
  } else return [];
  const text =
    library.get(`${sub.track}/${day}/${sub.audience}`) ??
    (sub.audience === 'partner' ? library.get(`${sub.track}/${day}/parent`) : undefined);
  const overlays = tenant.overlays.filter((o) => o.track === sub.track && o.day === day);
  const overlay = overlays.find((o) => o.audience === sub.audience) ?? overlays.find((o) => !o.audience);
  const texts: string[] = [];
  if (text !== undefined && overlay?.mode !== 'replace') texts.push(text);
  if (overlay) texts.push(overlay.text);
  if (sub.track === 'childcare') {
    const year = Number(date.slice(0, 4));
    const age = year - Number(sub.anchorDate.slice(0, 4));
    if (age >= 1 && age <= 3 && birthdayIn(sub.anchorDate, year) === date)
      texts.push(tenant.birthdayMessages[String(age) as '1' | '2' | '3']);
  }
  return texts;
}

/** A reader's texts for the date: maternity first, then by anchor date, then subscription id. */
export function expectedTexts(reader: Reader, date: IsoDate, tenant: TenantConfig, items: ContentItem[]): string[] {
  const library = new Map(items.map((i) => [`${i.track}/${i.day}/${i.audience}`, i.text]));
  const subs = [...reader.subscriptions].sort(
    (a, b) =>
      TRACK_ORDER[a.track] - TRACK_ORDER[b.track] ||
      (a.anchorDate < b.anchorDate ? -1 : a.anchorDate > b.anchorDate ? 1 : 0) ||
      (a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0),
  );
  // The same text for two subscriptions (twins) comes once, where it first appears, naming every child.
  const nicknames = new Map<string, string[]>();
  for (const s of subs)
    for (const t of slotTexts(s, date, tenant, library)) {
      const name = s.nickname?.trim() || tenant.defaultNickname;
      const names = nicknames.get(t) ?? [];
      if (!names.includes(name)) names.push(name);
      nicknames.set(t, names);
    }
  const joiner = (tenant.wording as { nicknameJoiner?: string }).nicknameJoiner ?? 'と';
  const texts = [...nicknames].map(([t, names]) => t.split('{nickname}').join(names.join(joiner)));
  // The population keeps every reader at 4 texts or fewer, so no merging into LINE's 5 messages is needed.
  if (texts.length > 5) throw new Error(`chaos population gave a reader ${texts.length} texts`);
  return texts;
}

/** One accepted send to one reader, as an emulator recorded it. */
export interface Received {
  at: number;
  texts: string[];
  /** What identifies the send: LINE's request id or the email's position in the SES store. */
  id: string;
}

export interface StopEvent {
  kind: 'stop' | 'loss' | 'delete' | 'unfollow';
  /** Readers whose sends must end with this event (a loss also stops the partner). */
  addresses: string[];
  /** When the event's webhook answered 200 (ms since the epoch). */
  at: number;
  /** Where the worker was held while the reader acted, e.g. `invocation 1, before LINE request 3`. */
  during?: string;
}

export interface LedgerFigures {
  shards: number;
  recipients: number;
  lineRequests: number;
  emails: number;
  failures: number;
}

export interface OracleInput {
  date: IsoDate;
  tenant: TenantConfig;
  items: ContentItem[];
  readers: Reader[];
  received: Map<string, Received[]>;
  /** Accepted LINE requests (distinct sends) and their recipients, for the ledger check. */
  lineAccepted: { requests: number; recipients: number };
  emailsAccepted: number;
  stops: StopEvent[];
  /** Email readers whose claim was written by an invocation killed before SES saw the mail (the documented window). */
  emailClaimKilled: Set<string>;
  ledger: LedgerFigures;
  deadLettered: number;
}

export interface OracleVerdict {
  due: number;
  duplicates: number;
  lost: number;
  sentAfterStop: number;
  emailUncertain: number;
  problems: string[];
}

export function judge(o: OracleInput): OracleVerdict {
  const v: OracleVerdict = { due: 0, duplicates: 0, lost: 0, sentAfterStop: 0, emailUncertain: 0, problems: [] };
  const stopAt = new Map<string, StopEvent>();
  for (const s of o.stops)
    for (const a of s.addresses) if (!stopAt.has(a) || stopAt.get(a)!.at > s.at) stopAt.set(a, s);
  const known = new Set(o.readers.map((r) => r.address));
  const wrong: string[] = [];
  for (const reader of o.readers) {
    const expected = expectedTexts(reader, o.date, o.tenant, o.items);
    const got = o.received.get(reader.address) ?? [];
    const stop = stopAt.get(reader.address);
    const stoppedAt = stop?.at;
    if (stop !== undefined) {
      const late = got.filter((g) => g.at > stop.at);
      v.sentAfterStop += late.length;
      if (late.length)
        v.problems.push(
          `sent after stop: ${late.length} send(s) ${late[0]!.at - stop.at} ms after a ${stop.kind}` +
            `${stop.addresses[0] === reader.address ? '' : ' (of the partner)'}${stop.during ? `, made ${stop.during}` : ''}`,
        );
    }
    if (expected.length === 0) {
      if (got.length > 0)
        v.problems.push(`a reader with nothing due got ${got.length} send(s): ${got[0]!.texts.join(' / ')}`);
      continue;
    }
    v.due++;
    if (got.length > 1) {
      v.duplicates += got.length - 1;
      v.problems.push(`duplicate: a ${reader.channel} reader got ${got.length} sends`);
    }
    if (got.length === 0 && stoppedAt === undefined) {
      if (reader.channel === 'email' && o.emailClaimKilled.has(reader.readerKey)) v.emailUncertain++;
      else {
        v.lost++;
        v.problems.push(`lost: a due ${reader.channel} reader got nothing (expected ${expected.join(' | ')})`);
      }
    }
    for (const g of got)
      if (JSON.stringify(g.texts) !== JSON.stringify(expected))
        wrong.push(`got ${g.texts.join(' | ')}, expected ${expected.join(' | ')}`);
  }
  if (wrong.length) v.problems.push(`${wrong.length} send(s) with the wrong messages, e.g. ${wrong[0]}`);
  const strangers = [...o.received.keys()].filter((a) => !known.has(a));
  if (strangers.length) v.problems.push(`${strangers.length} addresses outside the population got sends`);
  const uncertainClaims = [...o.emailClaimKilled].length;
  if (v.emailUncertain > uncertainClaims)
    v.problems.push(`${v.emailUncertain} email-uncertain readers but ${uncertainClaims} killed email claims`);
  const l = o.ledger;
  if (l.shards !== o.tenant.shardCount)
    v.problems.push(`ledger: counters for ${l.shards} of ${o.tenant.shardCount} shards`);
  if (l.lineRequests !== o.lineAccepted.requests)
    v.problems.push(`ledger: ${l.lineRequests} LINE requests recorded, LINE accepted ${o.lineAccepted.requests}`);
  if (l.emails !== o.emailsAccepted)
    v.problems.push(`ledger: ${l.emails} emails recorded, SES accepted ${o.emailsAccepted}`);
  if (l.recipients !== o.lineAccepted.recipients + o.emailsAccepted)
    v.problems.push(
      `ledger: ${l.recipients} recipients recorded, LINE and SES accepted ${o.lineAccepted.recipients + o.emailsAccepted}`,
    );
  if (o.deadLettered > 0) v.problems.push(`${o.deadLettered} shard task(s) in the DLQ`);
  return v;
}
