import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-all';
import { ContentItemSchema, type ContentItem } from '../../schemas/content';
import { TenantConfigSchema, type TenantConfig } from '../../schemas/tenant';
import type { IsoDate } from '../../schemas/common';
import type { ContentSource, TenantDirectory, VersionedLibrary } from '../services/ports';
import { contentKeys, deliveryKeys, retainedAfter } from './keys';

/** The version of a library loaded before versions existed (`writeLibrary`): its items sit under `LIB#<id>` itself. */
export const UNVERSIONED = 'unversioned';

/** A day's pin outlives every task of its date, like the day layout. */
const PIN_RETENTION_DAYS = 3;
/** Imported versions never change, so a container may keep them as long as it lives; this only bounds memory. */
const VERSION_CACHE_MS = 60 * 60_000;

/** Reuses what a warm container already read; content and tenants change rarely and a few minutes' lag is fine. */
class TtlCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; until: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}
  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = load();
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
    value.catch(() => this.entries.delete(key));
    return value;
  }
}

export class InvalidStoredTenantError extends Error {
  constructor(tenantId: string, options: { cause: unknown }) {
    super(`stored configuration of tenant ${tenantId} is invalid`, options);
    this.name = 'InvalidStoredTenantError';
  }
}

export interface ContentRepositoryOptions {
  cacheTtlMs?: number;
  now?: () => number;
  /**
   * The Delivery table: where the shard worker pins the content version of a tenant's date, so that an import
   * during a delivery never splits the day between versions. Without it each shard takes the live version.
   */
  dayPinTable?: string;
}

export class ContentRepository implements ContentSource, TenantDirectory {
  private readonly libraries: TtlCache<ContentItem[]>;
  private readonly tenants: TtlCache<TenantConfig[]>;
  private readonly versions: TtlCache<ContentItem[]>;
  private readonly pins = new Map<string, Promise<string>>();
  private readonly dayPinTable: string | undefined;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    opts: ContentRepositoryOptions = {},
  ) {
    const ttl = opts.cacheTtlMs ?? 5 * 60_000;
    const now = opts.now ?? Date.now;
    this.libraries = new TtlCache(ttl, now);
    this.tenants = new TtlCache(ttl, now);
    this.versions = new TtlCache(Math.max(ttl, VERSION_CACHE_MS), now);
    this.dayPinTable = opts.dayPinTable;
  }

  /** The live version's items (webhook replies, email pages): a few minutes' lag after an import is fine there. */
  getLibrary(libraryId: string): Promise<ContentItem[]> {
    return this.libraries.get(libraryId, async () =>
      this.getLibraryVersion(libraryId, await this.liveVersion(libraryId, false)),
    );
  }

  /** The version `content import` or `content activate` made live last; `unversioned` before the first import. */
  async liveVersion(libraryId: string, consistent: boolean): Promise<string> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: contentKeys.libraryPk(libraryId), sk: contentKeys.liveSk },
        ConsistentRead: consistent,
      }),
    );
    return typeof res.Item?.version === 'string' ? res.Item.version : UNVERSIONED;
  }

  /** The items of one version. Read by the version's own partition, so a version never mixes with another. */
  getLibraryVersion(libraryId: string, version: string): Promise<ContentItem[]> {
    const load = async () => {
      const pk =
        version === UNVERSIONED ? contentKeys.libraryPk(libraryId) : contentKeys.libraryVersionPk(libraryId, version);
      const items = await this.queryAll(pk, contentKeys.itemPrefix);
      return items.map((i) =>
        ContentItemSchema.parse({ track: i.track, day: i.day, audience: i.audience, text: i.text }),
      );
    };
    // The unversioned items can still be rewritten by writeLibrary: only the short cache for them.
    return version === UNVERSIONED
      ? this.libraries.get(`${libraryId}#${UNVERSIONED}`, load)
      : this.versions.get(`${libraryId}#${version}`, load);
  }

  /**
   * The version a tenant's date is delivered in, and its items: the first shard to ask fixes it (conditional
   * put of the live version, read consistently); every other shard and retry of that date gets the same one.
   */
  async getDayLibrary(libraryId: string, tenantId: string, date: IsoDate): Promise<VersionedLibrary> {
    const version = this.dayPinTable
      ? await this.dayVersion(this.dayPinTable, libraryId, tenantId, date)
      : await this.liveVersion(libraryId, true);
    return { version, items: await this.getLibraryVersion(libraryId, version) };
  }

  private dayVersion(table: string, libraryId: string, tenantId: string, date: IsoDate): Promise<string> {
    const cacheKey = `${tenantId}#${date}#${libraryId}`;
    let pinned = this.pins.get(cacheKey);
    if (!pinned) {
      pinned = this.fixDayVersion(table, libraryId, tenantId, date);
      this.pins.set(cacheKey, pinned);
      pinned.catch(() => this.pins.delete(cacheKey));
    }
    return pinned;
  }

  private async fixDayVersion(table: string, libraryId: string, tenantId: string, date: IsoDate): Promise<string> {
    const Key = { pk: deliveryKeys.pk(tenantId, date), sk: deliveryKeys.contentPinSk(libraryId) };
    const read = async () => {
      const res = await this.db.send(new GetCommand({ TableName: table, Key, ConsistentRead: true }));
      return typeof res.Item?.version === 'string' ? res.Item.version : undefined;
    };
    const existing = await read();
    if (existing !== undefined) return existing;
    const live = await this.liveVersion(libraryId, true);
    try {
      await this.db.send(
        new PutCommand({
          TableName: table,
          Item: { ...Key, version: live, expiresAt: retainedAfter(date, PIN_RETENTION_DAYS) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return live;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // Another shard pinned the date first, perhaps before an import switched the live version: theirs holds.
      const theirs = await read();
      if (theirs === undefined) throw err;
      return theirs;
    }
  }

  listTenants(): Promise<TenantConfig[]> {
    return this.tenants.get('all', async () => {
      const items = await this.queryAll(contentKeys.tenantPk);
      return items.map((i) => parseTenant(String(i.sk), String(i.config)));
    });
  }

  private queryAll(pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
      ExpressionAttributeValues: skPrefix ? { ':pk': pk, ':p': skPrefix } : { ':pk': pk },
    });
  }

  async getTenant(tenantId: string): Promise<TenantConfig | undefined> {
    const cached = (await this.listTenants()).find((t) => t.tenantId === tenantId);
    if (cached) return cached;
    // A tenant added after this container cached the list.
    const res = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: contentKeys.tenantPk, sk: tenantId } }),
    );
    return res.Item ? parseTenant(tenantId, String(res.Item.config)) : undefined;
  }
}

function parseTenant(tenantId: string, json: string): TenantConfig {
  try {
    return TenantConfigSchema.parse(JSON.parse(json));
  } catch (cause) {
    throw new InvalidStoredTenantError(tenantId, { cause });
  }
}
