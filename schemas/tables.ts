/**
 * The DynamoDB tables, described once as plain data. The CDK stack (lib/) and the local stack (local/)
 * both build their tables from these definitions; test/infra checks that they agree.
 * All keys are strings. Access patterns are written down in README.md ("Table design").
 */
export interface TableDefinition {
  /** Logical id in CDK and the base of the physical name in the local stack. */
  readonly id: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly timeToLiveAttribute?: string;
  readonly globalSecondaryIndexes: readonly { indexName: string; partitionKey: string; sortKey: string }[];
}

/** Readers, subscriptions, dialogs, webhook event dedupe, partner invites. */
export const DATA_TABLE: TableDefinition = {
  id: 'Data',
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    // Sparse: only subscriptions that may be delivered carry gsi1pk = `T#<tenant>#SUBS`, gsi1sk = `B#<bucket>#...`.
    { indexName: 'byShard', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  ],
};

/** Plans, batches (the ledger), email claims and per-shard counters; everything expires. */
export const DELIVERY_TABLE: TableDefinition = {
  id: 'Delivery',
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [],
};

/** Tenant configurations and content libraries. */
export const CONTENT_TABLE: TableDefinition = {
  id: 'Content',
  partitionKey: 'pk',
  sortKey: 'sk',
  globalSecondaryIndexes: [],
};

/**
 * The staff console's audit trail: who viewed or changed which reader's data, and when. Its own table, apart from
 * the application's data and logs, so that its grants are its own (the console functions may only add to it) and
 * nothing that erases readers' data touches it. No TTL: the municipality's retention rules decide.
 */
export const AUDIT_TABLE: TableDefinition = {
  id: 'Audit',
  partitionKey: 'pk',
  sortKey: 'sk',
  globalSecondaryIndexes: [],
};

export const TABLES = [DATA_TABLE, DELIVERY_TABLE, CONTENT_TABLE, AUDIT_TABLE] as const;

/** Environment variable names shared by the CDK stack (which sets them) and the handlers (which read them). */
export const ENV = {
  dataTable: 'DATA_TABLE',
  deliveryTable: 'DELIVERY_TABLE',
  contentTable: 'CONTENT_TABLE',
  shardQueueUrl: 'SHARD_QUEUE_URL',
  lineApiBaseUrl: 'LINE_API_BASE_URL',
  /** Name (or ARN) of the deployment's reader key secret in Secrets Manager. */
  readerKeySecret: 'READER_KEY_SECRET',
  /** Name (or ARN) of the secret with the signing keys of the email links' tokens. */
  emailTokenSecret: 'EMAIL_TOKEN_SECRET',
  auditTable: 'AUDIT_TABLE',
  /** Name (or ARN) of the secret that seals the staff console's session cookies. */
  consoleSessionSecret: 'CONSOLE_SESSION_SECRET',
} as const;
