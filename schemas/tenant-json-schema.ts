import { z } from 'zod';
import { TenantConfigSchema } from './tenant';

/** Where the generated schema is kept, relative to the repository root (tenant files refer to it). */
export const TENANT_JSON_SCHEMA_FILE = 'schemas/tenant.schema.json';

/**
 * The tenant file's JSON Schema, generated from the zod schema (zod 4's own `z.toJSONSchema`) so editors complete
 * and check what synth checks. `io: 'input'`: a file may leave out what has a default. Cross-field rules
 * (duplicate overlays, the file name, shared secrets) are not expressible here: `hagukumi tenants validate` checks them.
 */
export function tenantJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(TenantConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  > & { properties: Record<string, unknown> };
  return {
    ...generated,
    title: 'hagukumi tenant (a municipality)',
    description: `Generated from schemas/tenant.ts by \`npm run schemas\`; do not edit by hand.`,
    // The reference itself (`"$schema": "../schemas/tenant.schema.json"`), which the loader ignores.
    properties: { $schema: { type: 'string' }, ...generated.properties },
  };
}
