import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import { SurveyRunSchema, type SurveyRun } from '../../schemas/survey';
import type {
  AnswerContext,
  Completion,
  AlertOutbox,
  InvitationFacts,
  OutboxAlert,
  ReaderSurveyFacts,
  ScreeningAlert,
  ScreeningConsent,
  StoredAnswer,
  SurveyAnswerStore,
  SurveyInvitationStore,
} from '../services/ports';
import { mapLimit } from '../services/concurrency';
import type { ResultItem } from '../domain/survey-results';
import { dataKeys, surveyKeys } from './keys';
import { queryAll } from './query-all';

const conditionFailed = (err: unknown) => err instanceof ConditionalCheckFailedException;

/**
 * The survey partitions (`T#<tenant>#SV#<survey>`: invitations, answers, completions, declines), the reader's own
 * run pointer and screening consent (in the reader's partition, erased with the reader), and the tenant's alerts.
 * The daily pipeline uses only the invitation part (Query and a conditional Put).
 */
export class SurveyRepository implements SurveyInvitationStore, SurveyAnswerStore, AlertOutbox {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async readerSurveys(tenantId: string, readerKey: string, surveyIds: readonly string[]) {
    const entries = await mapLimit([...surveyIds], 4, async (surveyId): Promise<[string, ReaderSurveyFacts]> => {
      const items = await queryAll(this.db, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: {
          ':pk': surveyKeys.pk(tenantId, surveyId),
          ':r': surveyKeys.readerPrefix(readerKey),
        },
        ConsistentRead: true,
      });
      const invitations = new Map<string, IsoDate>();
      const completed = new Set<string>();
      let declined = false;
      for (const item of items) {
        if (item.kind === 'declined') declined = true;
        else if (item.kind === 'invitation' && typeof item.runId === 'string' && typeof item.invitedOn === 'string')
          invitations.set(item.runId, item.invitedOn);
        else if (item.kind === 'completion' && typeof item.runId === 'string') completed.add(item.runId);
      }
      return [surveyId, { invitations, completed, declined }];
    });
    return new Map(entries);
  }

  async recordInvitation(
    tenantId: string,
    readerKey: string,
    surveyId: string,
    runId: string,
    date: IsoDate,
    facts: InvitationFacts,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: surveyKeys.pk(tenantId, surveyId),
            sk: surveyKeys.invitationSk(readerKey, runId),
            kind: 'invitation',
            readerKey,
            runId,
            invitedOn: date,
            ...facts,
          },
          // A retry of the same day's plan records it again harmlessly; another day never does (never twice).
          ConditionExpression: 'attribute_not_exists(pk) OR invitedOn = :d',
          ExpressionAttributeValues: { ':d': date },
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  async markInvitationSent(
    tenantId: string,
    readerKey: string,
    surveyId: string,
    runId: string,
    at: number,
  ): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: surveyKeys.pk(tenantId, surveyId), sk: surveyKeys.invitationSk(readerKey, runId) },
          // The first acceptance stays; an invitation erased with its reader meanwhile is not brought back.
          UpdateExpression: 'SET sentAt = if_not_exists(sentAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (err) {
      if (!conditionFailed(err)) throw err;
    }
  }

  async run(tenantId: string, readerKey: string): Promise<SurveyRun | undefined> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: dataKeys.readerPk(tenantId, readerKey), sk: surveyKeys.runSk },
        ConsistentRead: true,
      }),
    );
    if (!res.Item) return undefined;
    // An outdated or corrupt pointer is dropped, not trusted: the reader starts the survey again from the menu.
    const parsed = SurveyRunSchema.safeParse(res.Item.run);
    return parsed.success ? parsed.data : undefined;
  }

  async putRun(tenantId: string, readerKey: string, run: SurveyRun): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: dataKeys.readerPk(tenantId, readerKey), sk: surveyKeys.runSk, run },
      }),
    );
  }

  async deleteRun(tenantId: string, readerKey: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: dataKeys.readerPk(tenantId, readerKey), sk: surveyKeys.runSk },
      }),
    );
  }

  private async putOnce(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  putAnswer(
    tenantId: string,
    surveyId: string,
    readerKey: string,
    runId: string,
    answer: StoredAnswer,
    context: AnswerContext,
  ): Promise<boolean> {
    return this.putOnce({
      pk: surveyKeys.pk(tenantId, surveyId),
      sk: surveyKeys.answerSk(readerKey, runId, answer.questionId),
      kind: 'answer',
      tenantId,
      surveyId,
      readerKey,
      runId,
      ...answer,
      ...context,
    });
  }

  async answers(tenantId: string, surveyId: string, readerKey: string, runId: string): Promise<StoredAnswer[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
      ExpressionAttributeValues: {
        ':pk': surveyKeys.pk(tenantId, surveyId),
        ':a': surveyKeys.answerSk(readerKey, runId, ''),
      },
      ConsistentRead: true,
    });
    return items.map((i) => ({
      questionId: String(i.questionId),
      value: i.value as StoredAnswer['value'],
      ...(typeof i.score === 'number' && { score: i.score }),
    }));
  }

  complete(tenantId: string, surveyId: string, readerKey: string, runId: string, c: Completion): Promise<boolean> {
    return this.putOnce({
      pk: surveyKeys.pk(tenantId, surveyId),
      sk: surveyKeys.completedSk(readerKey, runId),
      kind: 'completion',
      readerKey,
      runId,
      ...c,
    });
  }

  async decline(tenantId: string, surveyId: string, readerKey: string, at: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: surveyKeys.pk(tenantId, surveyId), sk: surveyKeys.declinedSk(readerKey), kind: 'declined', at },
      }),
    );
  }

  async consent(tenantId: string, readerKey: string): Promise<ScreeningConsent | undefined> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: dataKeys.readerPk(tenantId, readerKey), sk: surveyKeys.consentSk },
        ConsistentRead: true,
      }),
    );
    if (!res.Item) return undefined;
    return {
      ...(typeof res.Item.givenAt === 'number' && { givenAt: res.Item.givenAt }),
      ...(typeof res.Item.revokedAt === 'number' && { revokedAt: res.Item.revokedAt }),
    };
  }

  async putConsent(tenantId: string, readerKey: string, consent: ScreeningConsent): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: dataKeys.readerPk(tenantId, readerKey), sk: surveyKeys.consentSk, ...consent },
      }),
    );
  }

  async completeWithAlert(
    tenantId: string,
    surveyId: string,
    readerKey: string,
    runId: string,
    c: Completion,
    alert: ScreeningAlert,
  ): Promise<boolean> {
    const once = { ConditionExpression: 'attribute_not_exists(pk)' };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: surveyKeys.pk(tenantId, surveyId),
                  sk: surveyKeys.completedSk(readerKey, runId),
                  kind: 'completion',
                  readerKey,
                  runId,
                  ...c,
                },
                ...once,
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: surveyKeys.alertPk(tenantId),
                  sk: surveyKeys.alertSk(alert.reference),
                  kind: 'alert',
                  ...alert,
                  mailed: false,
                },
                ...once,
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: surveyKeys.outboxPk,
                  sk: surveyKeys.outboxSk(tenantId, alert.reference),
                  kind: 'alert-outbox',
                  alert,
                  sentTo: [],
                  attempts: 0,
                },
                ...once,
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof TransactionCanceledException) return false;
      throw err;
    }
  }

  async pending(): Promise<OutboxAlert[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': surveyKeys.outboxPk },
      ConsistentRead: true,
    });
    return items.map(outboxEntry);
  }

  async lease(tenantId: string, reference: string, now: number, ms: number): Promise<OutboxAlert | undefined> {
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: surveyKeys.outboxPk, sk: surveyKeys.outboxSk(tenantId, reference) },
          UpdateExpression: 'SET leaseUntil = :until ADD attempts :one',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
          ExpressionAttributeValues: { ':until': now + ms, ':now': now, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes ? outboxEntry(res.Attributes) : undefined;
    } catch (err) {
      if (conditionFailed(err)) return undefined;
      throw err;
    }
  }

  async sentTo(tenantId: string, reference: string, to: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: surveyKeys.outboxPk, sk: surveyKeys.outboxSk(tenantId, reference) },
        UpdateExpression: 'SET sentTo = list_append(sentTo, :to)',
        ExpressionAttributeValues: { ':to': [to] },
      }),
    );
  }

  async done(tenantId: string, reference: string, at: number): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: this.tableName,
              Key: { pk: surveyKeys.outboxPk, sk: surveyKeys.outboxSk(tenantId, reference) },
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: surveyKeys.alertPk(tenantId), sk: surveyKeys.alertSk(reference) },
              UpdateExpression: 'SET mailed = :t, mailedAt = :at',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':t': true, ':at': at },
            },
          },
        ],
      }),
    );
  }

  async release(tenantId: string, reference: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: surveyKeys.outboxPk, sk: surveyKeys.outboxSk(tenantId, reference) },
          UpdateExpression: 'REMOVE leaseUntil',
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (err) {
      if (!conditionFailed(err)) throw err;
    }
  }
}

function outboxEntry(item: Record<string, unknown>): OutboxAlert {
  return {
    alert: item.alert as ScreeningAlert,
    sentTo: Array.isArray(item.sentTo) ? item.sentTo.map(String) : [],
    attempts: typeof item.attempts === 'number' ? item.attempts : 0,
  };
}

/** The daily pipeline's name for the same repository (it uses the invitation part only). */
export { SurveyRepository as SurveyInvitationRepository };

/** Everything a survey partition holds for one tenant, as result items (for `hagukumi surveys results`). */
export async function loadResultItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  tenantId: string,
  surveyId: string,
): Promise<ResultItem[]> {
  const items = await queryAll(db, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': surveyKeys.pk(tenantId, surveyId) },
  });
  return items.flatMap((i): ResultItem[] => {
    const kind = i.kind;
    if (kind !== 'invitation' && kind !== 'answer' && kind !== 'completion' && kind !== 'declined') return [];
    const readerKey = String(i.sk).slice(2, String(i.sk).indexOf('#', 2));
    return [
      {
        tenantId,
        readerKey,
        kind,
        ...(typeof i.runId === 'string' && { runId: i.runId }),
        ...(typeof i.questionId === 'string' && { questionId: i.questionId }),
        ...(i.value !== undefined && { value: i.value as ResultItem['value'] }),
        ...(typeof i.score === 'number' && { score: i.score }),
        ...(typeof i.track === 'string' && { track: i.track }),
        ...(typeof i.stageBand === 'string' && { stageBand: i.stageBand }),
        ...(typeof i.audience === 'string' && { audience: i.audience }),
        ...(typeof i.channel === 'string' && { channel: i.channel }),
        ...(typeof i.sentAt === 'number' && { sentAt: i.sentAt }),
        ...(typeof i.answeredAt === 'number' && { answeredAt: i.answeredAt }),
        ...(typeof i.invitedOn === 'string' && { invitedOn: i.invitedOn }),
        ...(i.screening !== undefined && { screening: i.screening as ResultItem['screening'] }),
      },
    ];
  });
}
