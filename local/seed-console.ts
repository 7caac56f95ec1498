import { createHash } from 'node:crypto';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dataKeys, surveyKeys } from '../lambdas/adapters/keys';

const HOUR = 3_600_000;

/**
 * A few screening alerts waiting in each demo tenant's console: an urgent EPDS (item 10), a PHQ-9 over its
 * cut-off and an older EPDS, for the first readers of the tenant's shard index, stored as the screening side
 * stores them; the first reader also consented to share results. Idempotent: references derive from the reader.
 */
export async function seedDemoAlerts(
  db: DynamoDBDocumentClient,
  dataTable: string,
  tenantId: string,
  now: number,
): Promise<string[]> {
  const res = await db.send(
    new QueryCommand({
      TableName: dataTable,
      IndexName: 'byShard',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': dataKeys.bucketPk(tenantId) },
      Limit: 3,
    }),
  );
  const readers = [...new Set((res.Items ?? []).map((i) => String(i.readerKey)))];
  const kinds = [
    { instrument: 'EPDS', band: 'at or over cut-off (9)', urgent: true, ageHours: 3 },
    { instrument: 'PHQ-9', band: 'moderate', urgent: false, ageHours: 20 },
    { instrument: 'EPDS', band: 'at or over cut-off (9)', urgent: false, ageHours: 50 },
  ];
  const references: string[] = [];
  for (const [i, readerKey] of readers.entries()) {
    const kind = kinds[i % kinds.length]!;
    const reference = createHash('sha256').update(`demo|${readerKey}|${i}`).digest('hex').slice(0, 10).toUpperCase();
    references.push(reference);
    await db
      .send(
        new PutCommand({
          TableName: dataTable,
          Item: {
            pk: surveyKeys.alertPk(tenantId),
            sk: surveyKeys.alertSk(reference),
            kind: 'alert',
            reference,
            tenantId,
            readerKey,
            surveyId: 'demo-screening',
            runId: 'demo',
            instrument: kind.instrument,
            band: kind.band,
            urgent: kind.urgent,
            at: now - kind.ageHours * HOUR,
            mailed: true,
          },
          // A demo alert staff already acknowledged keeps its follow-up across restarts.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch((err: unknown) => {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      });
    if (i === 0)
      await db.send(
        new PutCommand({
          TableName: dataTable,
          Item: { pk: dataKeys.readerPk(tenantId, readerKey), sk: surveyKeys.consentSk, givenAt: now - 30 * 24 * HOUR },
        }),
      );
  }
  return references;
}
