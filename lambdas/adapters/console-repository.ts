import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import {
  AuditEntrySchema,
  StaffAlertSchema,
  type AuditEntry,
  type FollowUpStatus,
  type StaffAlert,
} from '../../schemas/console';
import type { IsoDate } from '../../schemas/common';
import { SubscriptionSchema, type Subscription } from '../../schemas/subscription';
import type { AuditTrail, ConsoleStore } from '../services/ports';
import { auditKeys, dataKeys, surveyKeys } from './keys';
import { PlanRepository } from './plan-repository';
import { queryAll } from './query-all';

/**
 * The console's reads of a tenant's data (Data and Delivery tables) and its one write: the follow-up of an alert.
 * Every key starts with the tenant the caller names, so another tenant's item is never found.
 */
export class ConsoleRepository implements ConsoleStore {
  private readonly plans: PlanRepository;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly dataTable: string,
    deliveryTable: string,
    private readonly onCorruptItem: (kind: string) => void = () => undefined,
  ) {
    this.plans = new PlanRepository(db, deliveryTable);
  }

  private parseAlert(item: Record<string, unknown>, tenantId: string): StaffAlert | undefined {
    const parsed = StaffAlertSchema.safeParse(item);
    if (!parsed.success || parsed.data.tenantId !== tenantId) {
      this.onCorruptItem('alert');
      return undefined;
    }
    return parsed.data;
  }

  async alerts(tenantId: string): Promise<StaffAlert[]> {
    const items = await queryAll(this.db, {
      TableName: this.dataTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
      ExpressionAttributeValues: { ':pk': surveyKeys.alertPk(tenantId), ':a': surveyKeys.alertSk('') },
    });
    return items.map((i) => this.parseAlert(i, tenantId)).filter((a): a is StaffAlert => a !== undefined);
  }

  async alert(tenantId: string, reference: string): Promise<StaffAlert | undefined> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.dataTable,
        Key: { pk: surveyKeys.alertPk(tenantId), sk: surveyKeys.alertSk(reference) },
        ConsistentRead: true,
      }),
    );
    return res.Item ? this.parseAlert(res.Item, tenantId) : undefined;
  }

  async recordFollowUp(
    tenantId: string,
    reference: string,
    f: { by: string; at: number; followUp: FollowUpStatus },
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.dataTable,
          Key: { pk: surveyKeys.alertPk(tenantId), sk: surveyKeys.alertSk(reference) },
          // The first acknowledgement is kept (who saw it first, and when); the follow-up status moves on.
          UpdateExpression:
            'SET acknowledgedAt = if_not_exists(acknowledgedAt, :at), acknowledgedBy = if_not_exists(acknowledgedBy, :by), followUp = :f, followUpAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': f.at, ':by': f.by, ':f': f.followUp },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async reader(
    tenantId: string,
    readerKey: string,
  ): Promise<{ subscriptions: Subscription[]; screeningConsent: boolean } | undefined> {
    const pk = dataKeys.readerPk(tenantId, readerKey);
    const [items, consent] = await Promise.all([
      queryAll(this.db, {
        TableName: this.dataTable,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':pk': pk, ':s': dataKeys.subscriptionPrefix },
        ConsistentRead: true,
      }),
      this.db.send(new GetCommand({ TableName: this.dataTable, Key: { pk, sk: surveyKeys.consentSk } })),
    ]);
    if (items.length === 0) return undefined;
    const subscriptions: Subscription[] = [];
    for (const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _e, ...rest } of items) {
      const parsed = SubscriptionSchema.safeParse(rest);
      if (parsed.success) subscriptions.push(parsed.data);
      else this.onCorruptItem('subscription');
    }
    const c = consent.Item;
    return { subscriptions, screeningConsent: typeof c?.givenAt === 'number' && c.revokedAt === undefined };
  }

  counters(tenantId: string, date: IsoDate) {
    return this.plans.listCounters(tenantId, date);
  }
}

/** The audit trail's table: entries are only ever put (never updated or deleted), newest read first. */
export class AuditRepository implements AuditTrail {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const e = AuditEntrySchema.parse(entry);
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: auditKeys.pk(e.tenantId), sk: auditKeys.sk(e.at, randomUUID()), ...e },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async list(tenantId: string, limit: number): Promise<AuditEntry[]> {
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': auditKeys.pk(tenantId) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (res.Items ?? []).flatMap((i) => {
      const parsed = AuditEntrySchema.safeParse(i);
      return parsed.success ? [parsed.data] : [];
    });
  }
}
