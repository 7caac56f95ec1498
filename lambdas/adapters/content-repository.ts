import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-all';
import { ContentItemSchema, type ContentItem } from '../../schemas/content';
import { TenantConfigSchema, type TenantConfig } from '../../schemas/tenant';
import type { ContentSource, TenantDirectory } from '../services/ports';
import { contentKeys } from './keys';

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
}

export class ContentRepository implements ContentSource, TenantDirectory {
  private readonly libraries: TtlCache<ContentItem[]>;
  private readonly tenants: TtlCache<TenantConfig[]>;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    opts: ContentRepositoryOptions = {},
  ) {
    const ttl = opts.cacheTtlMs ?? 5 * 60_000;
    const now = opts.now ?? Date.now;
    this.libraries = new TtlCache(ttl, now);
    this.tenants = new TtlCache(ttl, now);
  }

  getLibrary(libraryId: string): Promise<ContentItem[]> {
    return this.libraries.get(libraryId, async () => {
      const items = await this.queryAll(contentKeys.libraryPk(libraryId), contentKeys.itemPrefix);
      return items.map((i) =>
        ContentItemSchema.parse({ track: i.track, day: i.day, audience: i.audience, text: i.text }),
      );
    });
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
