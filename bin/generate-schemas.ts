// `npm run schemas`: writes the JSON Schemas generated from the zod schemas (today the tenant file's), formatted
// as the house Prettier would, so `prettier --check` and the sync test both pass after a regeneration.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { TENANT_JSON_SCHEMA_FILE, tenantJsonSchema } from '../schemas/tenant-json-schema';

async function main() {
  const file = join(__dirname, '..', TENANT_JSON_SCHEMA_FILE);
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(JSON.stringify(tenantJsonSchema()), { ...options, filepath: file }));
  process.stdout.write(`wrote ${TENANT_JSON_SCHEMA_FILE}\n`);
}

void main();
