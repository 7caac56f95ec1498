import { createHash } from 'node:crypto';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InquiryRepository } from '../lambdas/adapters/inquiry-repository';
import { dataKeys } from '../lambdas/adapters/keys';
import { addReaderMessage, addStaffReply, startInquiry } from '../lambdas/domain/inquiries';
import { ConcurrentChangeError } from '../lambdas/services/ports';
import type { InquiryHeader } from '../schemas/inquiry';

const HOUR = 3_600_000;

/** Written for the demo (no real resident): a new question, an answered one, and one the reader wrote again on. */
const DEMO = [
  { ageHours: 2, question: '4か月健診の持ち物を教えてください。母子手帳のほかに必要なものはありますか？' },
  {
    ageHours: 30,
    question: '産後ケアの日帰りを利用したいのですが、申し込みはどうすればいいですか。',
    answer: '保健センター母子保健係へお電話でお申し込みください。利用日の1週間前までにお願いします。',
  },
  {
    ageHours: 75,
    question: '予防接種の予診票をなくしてしまいました。',
    answer: '保健センターの窓口で再発行できます。母子健康手帳をお持ちください。',
    again: '平日は仕事で行けないのですが、郵送でもらえますか？',
  },
];

/**
 * A few inquiries waiting in each demo tenant's console, from the first readers of its shard index, stored
 * through the inquiry repository with the domain's own steps (as the chat and the console store them). Ids
 * derive from the reader, so a second `npm start` finds them there and adds nothing.
 */
export async function seedDemoInquiries(
  db: DynamoDBDocumentClient,
  dataTable: string,
  tenantId: string,
  now: number,
): Promise<number> {
  const res = await db.send(
    new QueryCommand({
      TableName: dataTable,
      IndexName: 'byShard',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': dataKeys.bucketPk(tenantId) },
      Limit: 10,
    }),
  );
  const readers = new Map<string, { channel: 'line' | 'email'; address: string }>();
  for (const i of res.Items ?? [])
    if (!readers.has(String(i.readerKey)))
      readers.set(String(i.readerKey), { channel: i.channel as 'line' | 'email', address: String(i.address) });
  const store = new InquiryRepository(db, dataTable);
  let seeded = 0;
  for (const [n, [readerKey, r]] of [...readers.entries()].slice(-DEMO.length).entries()) {
    const demo = DEMO[n]!;
    const inquiryId = createHash('sha256')
      .update(`demo-inquiry|${tenantId}|${readerKey}`)
      .digest('base64url')
      .slice(0, 22);
    const at = now - demo.ageHours * HOUR;
    const first = startInquiry({ inquiryId, tenantId, readerKey, ...r, text: demo.question, at });
    try {
      await store.save({ ...first, readVersion: undefined });
    } catch (err) {
      if (err instanceof ConcurrentChangeError) continue; // seeded by an earlier run
      throw err;
    }
    seeded++;
    let h: InquiryHeader = first.header;
    if (demo.answer) {
      const step = addStaffReply(h, `${tenantId}-staff`, demo.answer, at + 3 * HOUR);
      await store.save({ ...step, readVersion: h.version, previous: h });
      await store.markDelivery(tenantId, inquiryId, step.message.seq, 'sent');
      h = { ...step.header, version: h.version + 1 };
    }
    if (demo.again) {
      const step = addReaderMessage(h, demo.again, at + 5 * HOUR);
      await store.save({ ...step, readVersion: h.version, previous: h });
    }
  }
  return seeded;
}
