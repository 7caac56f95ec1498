import type { Audience, Track } from '../../schemas/common';
import type { ContentItem } from '../../schemas/content';

/** Library texts keyed `${track}/${day}/${audience}`; built once per library and container. */
export type LibraryIndex = ReadonlyMap<string, string>;

export class DuplicateSlotError extends Error {
  override readonly name = 'DuplicateSlotError';
}

export function slotKey(track: Track, day: number, audience: Audience): string {
  return `${track}/${day}/${audience}`;
}

export function buildLibraryIndex(items: readonly ContentItem[]): LibraryIndex {
  const index = new Map<string, string>();
  for (const item of items) {
    const key = slotKey(item.track, item.day, item.audience);
    // Silently keeping either text would make deliveries depend on import order.
    if (index.has(key)) throw new DuplicateSlotError(`duplicate library slot ${key}`);
    index.set(key, item.text);
  }
  return index;
}

/** The library text of a slot; partners get the parent text where the library has no partner variant. */
export function libraryText(index: LibraryIndex, track: Track, day: number, audience: Audience): string | undefined {
  const text = index.get(slotKey(track, day, audience));
  if (text !== undefined || audience === 'parent') return text;
  return index.get(slotKey(track, day, 'parent'));
}

// Content sources hand back the same cached array while it is fresh, so an index per array is built once
// per container and library version, for every shard and webhook event that uses it.
const indexesByItems = new WeakMap<readonly ContentItem[], LibraryIndex>();

/** `buildLibraryIndex`, remembered for the very same items array. */
export function libraryIndexFor(items: readonly ContentItem[]): LibraryIndex {
  let index = indexesByItems.get(items);
  if (!index) indexesByItems.set(items, (index = buildLibraryIndex(items)));
  return index;
}
