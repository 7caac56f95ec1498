import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchPut } from './batch-write';
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
