import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchPut } from './batch-write';
import { queryAll } from './query-all';
import type { ContentLibrary } from '../../schemas/content';
import type { TenantConfig } from '../../schemas/tenant';
import { contentKeys } from './keys';

/** Used by the CLI (`hagukumi content import`) and the local stack; the CDK stack writes tenants itself. */
export async function writeTenant(db: DynamoDBDocumentClient, table: string, tenant: TenantConfig): Promise<void> {
  await db.send(
    new PutCommand({
      TableName: table,
      Item: { pk: contentKeys.tenantPk, sk: tenant.tenantId, config: JSON.stringify(tenant) },
    }),
  );
}

export async function writeLibrary(
  db: DynamoDBDocumentClient,
  table: string,
  library: ContentLibrary,
): Promise<number> {
  const pk = contentKeys.libraryPk(library.libraryId);
  const items = [
    {
      pk,
      sk: contentKeys.libraryMetaSk,
      sample: library.sample,
      notice: library.notice,
      language: library.language,
      items: library.items.length,
    },
    ...library.items.map((i) => ({ pk, sk: contentKeys.itemSk(i.track, i.day, i.audience), ...i })),
  ];
  await batchPut(db, table, items);
  return library.items.length;
}

/** Someone else switched the live version between our read and our write: nothing was switched. */
export class ConcurrentActivationError extends Error {
  override readonly name = 'ConcurrentActivationError';
}

/** The version asked for was never imported completely (or is of another library). */
export class UnknownContentVersionError extends Error {
  override readonly name = 'UnknownContentVersionError';
}

export interface ContentVersionInfo {
  version: string;
  importedAt: string;
  items: number;
  sha256: string;
  source?: string;
  live: boolean;
}

/**
 * A version id that sorts by import time and names its content: `20261202T012000Z-3fa2c1d0`
 * (UTC time of the import, then the first 8 hex digits of the items' SHA-256).
 */
export function versionId(at: Date, sha256: string): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}-${sha256.slice(0, 8)}`;
}

/**
 * Writes the library as a new version (its items under a partition of their own, then its VERSION marker) and
 * switches the live pointer to it with one conditional write. The items are complete before anything can read
 * them as live, and a delivery already under way keeps the version its date was pinned to.
 */
export async function importLibraryVersion(
  db: DynamoDBDocumentClient,
  table: string,
  library: ContentLibrary,
  o: { now?: Date; source?: string; onProgress?: (written: number, total: number) => void; activate?: boolean } = {},
): Promise<{ version: string; previous: string | undefined }> {
  const { createHash } = await import('node:crypto');
  const sha256 = createHash('sha256').update(JSON.stringify(library.items)).digest('hex');
  const version = versionId(o.now ?? new Date(), sha256);
  const pk = contentKeys.libraryVersionPk(library.libraryId, version);
  const rows = [
    { pk, sk: contentKeys.libraryMetaSk, sample: library.sample, notice: library.notice, language: library.language },
    ...library.items.map((i) => ({ pk, sk: contentKeys.itemSk(i.track, i.day, i.audience), ...i })),
  ];
  const CHUNK = 100;
  for (let i = 0; i < rows.length; i += CHUNK) {
    await batchPut(db, table, rows.slice(i, i + CHUNK), 4);
    o.onProgress?.(Math.min(i + CHUNK, rows.length), rows.length);
  }
  await db.send(
    new PutCommand({
      TableName: table,
      Item: {
        pk: contentKeys.libraryPk(library.libraryId),
        sk: contentKeys.versionSk(version),
        version,
        importedAt: (o.now ?? new Date()).toISOString(),
        items: library.items.length,
        sha256,
        ...(o.source ? { source: o.source } : {}),
      },
    }),
  );
  if (o.activate === false) return { version, previous: undefined };
  const { previous } = await activateVersion(db, table, library.libraryId, version, o.now);
  return { version, previous };
}

/** Makes an imported version live (a rollback is the same): compare-and-set on the pointer read just before. */
export async function activateVersion(
  db: DynamoDBDocumentClient,
  table: string,
  libraryId: string,
  version: string,
  now = new Date(),
): Promise<{ previous: string | undefined }> {
  const libraryPk = contentKeys.libraryPk(libraryId);
  const marker = await db.send(
    new GetCommand({
      TableName: table,
      Key: { pk: libraryPk, sk: contentKeys.versionSk(version) },
      ConsistentRead: true,
    }),
  );
  if (!marker.Item)
    throw new UnknownContentVersionError(
      `library ${libraryId} has no complete version ${version} (see content versions)`,
    );
  const live = await db.send(
    new GetCommand({ TableName: table, Key: { pk: libraryPk, sk: contentKeys.liveSk }, ConsistentRead: true }),
  );
  const previous = typeof live.Item?.version === 'string' ? live.Item.version : undefined;
  try {
    await db.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: libraryPk,
          sk: contentKeys.liveSk,
          version,
          activatedAt: now.toISOString(),
          ...(previous ? { previous } : {}),
        },
        ...(previous
          ? { ConditionExpression: 'version = :previous', ExpressionAttributeValues: { ':previous': previous } }
          : { ConditionExpression: 'attribute_not_exists(pk)' }),
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException)
      throw new ConcurrentActivationError(
        `the live version of ${libraryId} changed while switching to ${version}; run content versions and try again`,
        { cause: err },
      );
    throw err;
  }
  return { previous };
}

/** Every complete version of a library, oldest first, the live one marked. */
export async function listVersions(
  db: DynamoDBDocumentClient,
  table: string,
  libraryId: string,
): Promise<ContentVersionInfo[]> {
  const pk = contentKeys.libraryPk(libraryId);
  const [rows, live] = await Promise.all([
    queryAll(db, {
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': pk, ':p': contentKeys.versionPrefix },
      ConsistentRead: true,
    }),
    db.send(new GetCommand({ TableName: table, Key: { pk, sk: contentKeys.liveSk }, ConsistentRead: true })),
  ]);
  return rows.map((r) => ({
    version: String(r.version),
    importedAt: String(r.importedAt),
    items: Number(r.items),
    sha256: String(r.sha256),
    ...(typeof r.source === 'string' ? { source: r.source } : {}),
    live: r.version === live.Item?.version,
  }));
}
