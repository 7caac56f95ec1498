import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import type { InvitationFacts, ReaderSurveyFacts, SurveyInvitationStore } from '../services/ports';
import { mapLimit } from '../services/concurrency';
import { surveyKeys } from './keys';
import { queryAll } from './query-all';

/** The daily pipeline's side of the survey partitions: invitations and declines (Query and a conditional Put). */
export class SurveyInvitationRepository implements SurveyInvitationStore {
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
      let declined = false;
      for (const item of items) {
        const sk = String(item.sk);
        if (sk === surveyKeys.declinedSk(readerKey)) declined = true;
        else if (item.kind === 'invitation' && typeof item.runId === 'string' && typeof item.invitedOn === 'string')
          invitations.set(item.runId, item.invitedOn);
      }
      return [surveyId, { invitations, declined }];
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
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
