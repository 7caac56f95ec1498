import { LINE_MAX_MESSAGES_PER_REQUEST, LINE_TEXT_MAX, type IsoDate, type Track } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import type { Announcement, Overlay, TenantConfig } from '../../schemas/tenant';
import { DEFAULT_WORDING } from '../../schemas/wording';
import type { Broadcast } from '../../schemas/broadcast';
import { broadcastsOn, broadcastText, subscriptionInSegment } from './broadcasts';
import { daysBetween, parseIsoDate } from './dates';
import { libraryText, type LibraryIndex } from './library';
import {
  birthdayAge,
  childAgeDays,
  gestationalDay,
  isInChildcareRange,
  isInMaternityRange,
  isInSupportRange,
} from './stage';

export interface ResolveContext {
  tenant: TenantConfig;
  library: LibraryIndex;
  /** The tenant's broadcasts (only the scheduled ones of the delivery date are sent); none when absent. */
  broadcasts?: readonly Broadcast[];
}

export class MessageTooLongError extends Error {
  override readonly name = 'MessageTooLongError';
}

/** Separator between texts merged into one message. */
export const MERGE_SEPARATOR = '\n\n';

interface SlotOverlays {
  general?: Overlay;
  parent?: Overlay;
  partner?: Overlay;
}

// Tenants are loaded once per container and reused for every subscription of a shard, so the overlay
// lookup is built once per overlay list rather than scanned per subscription.
const overlayIndexes = new WeakMap<readonly Overlay[], Map<string, SlotOverlays>>();

function overlayIndex(overlays: readonly Overlay[]): Map<string, SlotOverlays> {
  let index = overlayIndexes.get(overlays);
  if (!index) {
    index = new Map();
    for (const overlay of overlays) {
      const key = `${overlay.track}/${overlay.day}`;
      const slot = index.get(key) ?? {};
      // The tenant schema rejects duplicates; should one slip through, the first one wins, as in the file.
      slot[overlay.audience ?? 'general'] ??= overlay;
      index.set(key, slot);
    }
    overlayIndexes.set(overlays, index);
  }
  return index;
}

function overlayFor(
  tenant: TenantConfig,
  track: Track,
  day: number,
  audience: Subscription['audience'],
): Overlay | undefined {
  const slot = overlayIndex(tenant.overlays).get(`${track}/${day}`);
  return slot && (slot[audience] ?? slot.general);
}

const announcementIndexes = new WeakMap<readonly Announcement[], Map<IsoDate, Announcement[]>>();

/** The tenant's announcements of `today` for this subscription's track and audience, in file order. */
function announcementsFor(tenant: TenantConfig, sub: Subscription, today: IsoDate): Announcement[] {
  // Configs built in code rather than parsed may lack the field the schema defaults.
  const all = tenant.announcements as readonly Announcement[] | undefined;
  if (all === undefined || all.length === 0) return [];
  let index = announcementIndexes.get(all);
  if (!index) {
    index = new Map();
    for (const a of all) index.set(a.date, [...(index.get(a.date) ?? []), a]);
    announcementIndexes.set(all, index);
  }
  return (index.get(today) ?? []).filter(
    (a) =>
      (a.track === undefined || a.track === sub.track) && (a.audience === undefined || a.audience === sub.audience),
  );
}

// The one placeholder of MESSAGE_PLACEHOLDERS (schemas/common.ts), which the file validation checks texts against.
function fillPlaceholders(text: string, nickname: string): string {
  // A replacer function, so that `$&` and friends in a nickname stay literal.
  return text.replace(/\{nickname\}/g, () => nickname);
}

function isDue(sub: Subscription, today: IsoDate): boolean {
  if (sub.status !== 'active') return false;
  if (today < sub.registeredOn) return false;
  if (sub.pausedUntil !== undefined && today < sub.pausedUntil) return false;
  switch (sub.track) {
    case 'maternity':
      return isInMaternityRange(sub.anchorDate, today);
    case 'childcare':
      return isInChildcareRange(sub.anchorDate, today);
    case 'support':
      return isInSupportRange(sub.anchorDate, today);
  }
}

function slotDay(sub: Subscription, today: IsoDate): number {
  switch (sub.track) {
    case 'maternity':
      return gestationalDay(sub.anchorDate, today);
    case 'childcare':
      return childAgeDays(sub.anchorDate, today);
    case 'support':
      return daysBetween(sub.anchorDate, today);
  }
}

/** The texts one subscription gets on `today`, in order, placeholders filled; empty when nothing is due. */
export function resolveSubscription(sub: Subscription, today: IsoDate, ctx: ResolveContext): string[] {
  const { templates, nickname } = resolveTemplates(sub, today, ctx);
  return templates.map((text) => fillPlaceholders(text, nickname));
}

/** The texts before `{nickname}` is filled in, and the nickname to fill in. */
function resolveTemplates(
  sub: Subscription,
  today: IsoDate,
  ctx: ResolveContext,
): { templates: string[]; nickname: string } {
  const nickname = sub.nickname?.trim() || ctx.tenant.defaultNickname;
  if (!isDue(sub, today)) return { templates: [], nickname };
  const { tenant, library } = ctx;
  const day = slotDay(sub, today);

  const texts: string[] = [];
  const fromLibrary = libraryText(library, sub.track, day, sub.audience);
  // After a loss only the support series is sent: no municipal message, no promotion.
  const overlay = sub.track === 'support' ? undefined : overlayFor(tenant, sub.track, day, sub.audience);
  if (fromLibrary !== undefined && overlay?.mode !== 'replace') texts.push(fromLibrary);
  if (overlay) texts.push(overlay.text);
  // Announcements go to every fitting subscription; a reader's identical texts are merged into one by resolveReader.
  if (sub.track !== 'support') for (const a of announcementsFor(tenant, sub, today)) texts.push(a.text);

  if (sub.track === 'childcare') {
    const age = birthdayAge(sub.anchorDate, today);
    if (age !== undefined) texts.push(tenant.birthdayMessages[`${age}`]);
  }

  return { templates: texts, nickname };
}

const TRACK_ORDER: Record<Track, number> = { maternity: 0, childcare: 1, support: 2 };

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Maternity first, then by anchor date, then subscription id: a stable order whatever the store returns. */
export function compareSubscriptions(a: Subscription, b: Subscription): number {
  return (
    TRACK_ORDER[a.track] - TRACK_ORDER[b.track] ||
    compareStrings(a.anchorDate, b.anchorDate) ||
    compareStrings(a.subscriptionId, b.subscriptionId)
  );
}

/**
 * All of one reader's texts for `today`, at most 5 and each at most 5,000 UTF-16 units. Twins (or any
 * subscriptions on the same day) whose texts are the same are not sent the same bubble twice: a text comes once,
 * where it first appears; when it names the child and the nicknames differ, it names them all
 * (`ゆいとあお、1歳おめでとう`).
 */
export function resolveReader(
  subs: readonly Subscription[],
  today: IsoDate,
  ctx: ResolveContext,
  /** Texts for the reader rather than a subscription (survey invitations): last, merged among themselves first. */
  extra: readonly string[] = [],
): string[] {
  return resolveReaderDetailed(subs, today, ctx, extra).texts;
}

/**
 * `resolveReader`, and the ids of the broadcasts among the texts. A broadcast comes once per reader, after the
 * daily texts (stage message, overlay, announcements, birthday greeting) and before survey invitations, with the
 * nicknames of the subscriptions in its segment. Packing merges the daily texts among themselves before it merges a
 * broadcast with anything (each broadcast is a source of its own). Should the texts not fit into 5 messages of
 * 5,000 units at all, the broadcasts give way, the last first: the stage message never does.
 */
export function resolveReaderDetailed(
  subs: readonly Subscription[],
  today: IsoDate,
  ctx: ResolveContext,
  extra: readonly string[] = [],
): { texts: string[]; broadcastIds: string[] } {
  const groups = new Map<string, { source: number; nicknames: string[] }>();
  const sorted = [...subs].sort(compareSubscriptions);
  sorted.forEach((sub, i) => {
    const { templates, nickname } = resolveTemplates(sub, today, ctx);
    for (const template of templates) {
      const group = groups.get(template);
      if (!group) groups.set(template, { source: i, nicknames: [nickname] });
      else if (!group.nicknames.includes(nickname)) group.nicknames.push(nickname);
    }
  });
  const joiner = ctx.tenant.wording.nicknameJoiner ?? DEFAULT_WORDING.nicknameJoiner;
  const texts: string[] = [];
  const sources: number[] = [];
  for (const [template, { source, nicknames }] of groups) {
    texts.push(fillPlaceholders(template, nicknames.join(joiner)));
    sources.push(source);
  }
  const daily = texts.length;
  const broadcastIds: string[] = [];
  for (const b of broadcastsOn(ctx.broadcasts ?? [], today)) {
    const inSegment = sorted.filter((s) => subscriptionInSegment(s, b.segment, today));
    const text = inSegment[0] && broadcastText(b, inSegment[0].channel);
    if (text === undefined) continue;
    const nicknames = [...new Set(inSegment.map((s) => s.nickname?.trim() || ctx.tenant.defaultNickname))];
    texts.push(fillPlaceholders(text, nicknames.join(joiner)));
    sources.push(subs.length + 1 + broadcastIds.length);
    broadcastIds.push(b.id);
  }
  for (;;) {
    const kept = broadcastIds.length;
    const withExtra = [...texts.slice(0, daily + kept), ...extra];
    const withSources = [...sources.slice(0, daily + kept), ...extra.map(() => subs.length)];
    try {
      return { texts: packMessages(withExtra, withSources), broadcastIds };
    } catch (err) {
      if (!(err instanceof MessageTooLongError) || kept === 0) throw err;
      broadcastIds.pop();
    }
  }
}

interface Packing {
  crossings: number;
  longest: number;
  start: number;
}

/**
 * Merges neighbouring texts with a blank line until at most 5 remain, none over 5,000 UTF-16 units.
 * When more than 5, exactly 5 messages are kept (as little merging as possible), chosen to merge texts of
 * the same subscription (`sources[i]` tells whose text i is) before texts of different ones, then to keep
 * the longest message as short as possible; remaining ties merge towards the end, so the first texts
 * (usually the library messages) stay on their own.
 */
export function packMessages(texts: readonly string[], sources?: readonly number[]): string[] {
  const max = LINE_MAX_MESSAGES_PER_REQUEST;
  const tooLong = texts.findIndex((text) => text.length > LINE_TEXT_MAX);
  if (tooLong >= 0) {
    throw new MessageTooLongError(
      `text ${tooLong} has ${texts[tooLong]!.length} UTF-16 units, more than ${LINE_TEXT_MAX}`,
    );
  }
  if (texts.length <= max) return [...texts];

  const n = texts.length;
  const offsets = [0];
  for (const text of texts) offsets.push(offsets.at(-1)! + text.length);
  const mergedLength = (from: number, to: number): number =>
    offsets[to]! - offsets[from]! + MERGE_SEPARATOR.length * (to - from - 1);
  const crossingsBefore = [0];
  for (let i = 1; i < n; i++) {
    const crosses = sources !== undefined && sources[i] !== sources[i - 1] ? 1 : 0;
    crossingsBefore.push(crossingsBefore[i - 1]! + crosses);
  }
  // Subscription boundaries strictly inside texts[from..to).
  const crossingsWithin = (from: number, to: number): number => crossingsBefore[to - 1]! - crossingsBefore[from]!;

  // best[g][i]: the best way to pack the first i texts into g messages. Both criteria only grow as messages
  // are added, so the best packing of a prefix is part of a best packing of the whole.
  const best: (Packing | undefined)[][] = [[{ crossings: 0, longest: 0, start: 0 }]];
  for (let g = 1; g <= max; g++) {
    const row: (Packing | undefined)[] = [];
    for (let i = g; i <= n - (max - g); i++) {
      let chosen: Packing | undefined;
      for (let j = g - 1; j < i; j++) {
        const before = best[g - 1]![j];
        const length = mergedLength(j, i);
        if (!before || length > LINE_TEXT_MAX) continue;
        const candidate = {
          crossings: before.crossings + crossingsWithin(j, i),
          longest: Math.max(before.longest, length),
          start: j,
        };
        if (
          !chosen ||
          candidate.crossings < chosen.crossings ||
          (candidate.crossings === chosen.crossings && candidate.longest < chosen.longest)
        ) {
          chosen = candidate;
        }
      }
      row[i] = chosen;
    }
    best.push(row);
  }

  if (!best[max]![n]) {
    const total = mergedLength(0, n);
    throw new MessageTooLongError(
      `${n} texts (${total} UTF-16 units) do not fit into ${max} messages of at most ${LINE_TEXT_MAX} units`,
    );
  }
  const messages: string[] = [];
  for (let g = max, end = n; g > 0; g--) {
    const start = best[g]![end]!.start;
    messages.unshift(texts.slice(start, end).join(MERGE_SEPARATOR));
    end = start;
  }
  return messages;
}

/** Subject of the daily email, e.g. `【みなと市】今日のメッセージ (2026年12月1日)`. */
export function emailSubject(tenant: TenantConfig, today: IsoDate): string {
  const { year, month, day } = parseIsoDate(today);
  return `【${tenant.name}】今日のメッセージ (${year}年${month}月${day}日)`;
}
