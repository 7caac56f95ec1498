import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../schemas/common';
import type { Subscription } from '../../schemas/subscription';
import { addDays, localDate } from '../../lambdas/domain';
import { bucketOf, bucketOfAnchor, bucketsOfShard } from '../../lambdas/domain/shard';
import { ChangeMarkerFeed } from '../../lambdas/adapters/change-feed';
import { dataKeys, deliveryKeys } from '../../lambdas/adapters/keys';
import { ReaderRepository } from '../../lambdas/adapters/reader-repository';
import { subscriptionItem } from '../../lambdas/adapters/subscription-repository';
import { ConcurrentChangeError, type ReaderWrite } from '../../lambdas/services/ports';
import { ChatUser, newUserId } from './chat';
import { startTestStack, type TestStack } from './helpers';

jest.setTimeout(120_000);

const TENANT = 'demo-minato';
const today: IsoDate = localDate(new Date(), 'Asia/Tokyo');
/** Epoch seconds of a date's midnight UTC plus `days`: the TTL layout, computed here on its own. */
const epochDay = (date: IsoDate, days: number) =>
  Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10) + days) / 1000;

async function scanAll(stack: TestStack, table: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await stack.db.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

describe('reader-side integrity on DynamoDB Local (promises 7, 9, 10)', () => {
  let stack: TestStack;
  const user = () => new ChatUser(stack, TENANT, newUserId());

  beforeAll(async () => {
    stack = await startTestStack('reader', { webhook: true });
  });
  afterAll(async () => {
    await stack.api?.close();
  });

  async function registerPregnancy(u: ChatUser, due: IsoDate, nickname: string) {
    await u.follow();
    await u.tap('妊娠中');
    await u.tap('日付を選ぶ', due);
    await u.say(nickname);
  }

  it('stores no LINE id in any key: the reader key is the keyed hash', async () => {
    const u = user();
    await registerPregnancy(u, addDays(today, 77), 'きらり');
    const [s] = await u.subscriptions();
    expect(s?.readerKey).toBe(stack.readerKeys.line(u.userId));
    expect(s?.address).toBe(u.userId);
    const keys = (await scanAll(stack, stack.tables.data)).flatMap((i) => [i.pk, i.sk, i.gsi1pk, i.gsi1sk]);
    expect(keys.join('\n')).not.toContain(u.userId);
  });

  it('"delete my data" leaves nothing about the reader in any table but the change marker, which expires in 3 days', async () => {
    const u = user();
    const due = addDays(today, 123);
    const nickname = 'ぽんたろう';
    await registerPregnancy(u, due, nickname);
    await u.say('パートナー招待');
    const code = /招待コード：([A-Z0-9]{6})/.exec(await u.lastBotText())?.[1];
    expect(code).toBeDefined();
    await u.say('お休み');
    await u.tap('1週間');
    const readerKey = stack.readerKeys.line(u.userId);
    // Email claims under the reader key for today and the two days before (the shard worker's layout).
    for (const d of [0, -1, -2])
      await stack.db.send(
        new PutCommand({
          TableName: stack.tables.delivery,
          Item: { pk: deliveryKeys.pk(TENANT, addDays(today, d)), sk: deliveryKeys.emailSk(readerKey), state: 'sent' },
        }),
      );
    const before = await scanAll(stack, stack.tables.data);
    expect(JSON.stringify(before)).toContain(nickname);
    expect(JSON.stringify(before)).toContain(`INV#${code}`);

    await u.say('配信停止');
    await u.tap('停止してデータ削除');
    await u.tap('削除する');
    expect(await u.lastBotText()).toContain('削除しました');

    const markers: Record<string, unknown>[] = [];
    for (const table of [stack.tables.data, stack.tables.delivery, stack.tables.content]) {
      for (const item of await scanAll(stack, table)) {
        const json = JSON.stringify(item);
        if (item.sk === deliveryKeys.changeSk(readerKey)) {
          markers.push(item);
          continue;
        }
        expect(json).not.toContain(u.userId);
        expect(json).not.toContain(readerKey);
        expect(json).not.toContain(readerKey.slice('line:'.length));
        expect(json).not.toContain(nickname);
        expect(json).not.toContain(due);
        expect(json).not.toContain(`INV#${code}`);
      }
    }
    // One marker (the date of the deletion), holding only the key hash and the bucket its subscription sat in
    // (the due date's: the reader's first subscription), gone by TTL in 3 days.
    expect(markers).toEqual([
      {
        pk: deliveryKeys.pk(TENANT, today),
        sk: `CHG#${readerKey}`,
        buckets: [bucketOfAnchor(due)],
        at: expect.any(Number),
        expiresAt: epochDay(today, 3),
      },
    ]);
  });

  it("a parent's loss and the partner's pause sent at the same moment: the loss is never overwritten", async () => {
    const parent = user();
    await registerPregnancy(parent, addDays(today, 90), 'そよ');
    await parent.say('パートナー招待');
    const code = /招待コード：([A-Z0-9]{6})/.exec(await parent.lastBotText())![1]!;
    const partner = user();
    await partner.follow();
    await partner.tap('パートナー・家族として登録');
    await partner.say(code);
    expect(await partner.subscriptions()).toHaveLength(1);

    await parent.say('赤ちゃんを亡くされた方へ');
    await partner.say('お休み');
    // Both taps in flight together: two webhook requests, two Lambda-like invocations, one DynamoDB.
    await Promise.all([parent.tap('配信を止める'), partner.tap('1週間')]);

    expect((await parent.subscriptions()).find((s) => s.track === 'maternity')?.status).toBe('lost');
    const [p] = await partner.subscriptions();
    expect(p?.status).toBe('lost');
    // Each write was made on the version it read: join (0), then the loss and, if it came first, the pause.
    expect(p?.version).toBe(p?.pausedUntil ? 2 : 1);
  });

  it('an invite code is single-use: the second partner to enter it is told it is unknown', async () => {
    const parent = user();
    await registerPregnancy(parent, addDays(today, 40), 'ひかり');
    await parent.say('パートナー招待');
    const code = /招待コード：([A-Z0-9]{6})/.exec(await parent.lastBotText())![1]!;
    const [a, b] = [user(), user()];
    for (const p of [a, b]) {
      await p.follow();
      await p.tap('パートナー・家族として登録');
    }
    await Promise.all([a.say(code), b.say(code)]);
    const joined = [(await a.subscriptions()).length, (await b.subscriptions()).length];
    expect(joined.sort()).toEqual([0, 1]);
    const loser = (await a.subscriptions()).length === 0 ? a : b;
    expect(await loser.lastBotText()).toContain('見つかりませんでした');
    const invite = await stack.db.send(
      new GetCommand({
        TableName: stack.tables.data,
        Key: { pk: dataKeys.invitePk(TENANT, code), sk: dataKeys.inviteSk },
      }),
    );
    expect(invite.Item).toBeUndefined();
  });

  it('answers a reader whose stored dialog is corrupt as one without a dialog: 200, never a 5xx', async () => {
    const u = user();
    await registerPregnancy(u, addDays(today, 66), 'こはる');
    await stack.db.send(
      new PutCommand({
        TableName: stack.tables.data,
        Item: {
          pk: dataKeys.readerPk(TENANT, stack.readerKeys.line(u.userId)),
          sk: dataKeys.dialogSk,
          dialog: '{"step":"no-such-step"',
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    const res = await u.say('こんにちは');
    expect(res.status).toBe(200);
    // No dialog: free text gets the help with the menu.
    expect((await u.quickReplies()).map((a) => a.label)).toContain('登録内容の確認・変更');
    expect((await u.subscriptions())[0]).toMatchObject({ nickname: 'こはる', status: 'active' });
  });

  describe('ReaderRepository conditions', () => {
    const readerKey = () => stack.readerKeys.line(newUserId());
    let eventNo = 0;
    const write = (over: Partial<ReaderWrite> & Pick<ReaderWrite, 'readerKey'>): ReaderWrite => ({
      tenantId: TENANT,
      webhookEventId: `evt-${Date.now()}-${++eventNo}`,
      eventAt: Date.now(),
      lastEventAt: undefined,
      changedOn: today,
      puts: [],
      invites: [],
      dialog: undefined,
      deleteReader: false,
      ...over,
    });
    const subOf = (key: string, over: Partial<Subscription> = {}): Subscription => ({
      tenantId: TENANT,
      readerKey: key,
      subscriptionId: 'S1',
      channel: 'line',
      address: 'U-not-used-here',
      track: 'maternity',
      anchorDate: addDays(today, 100),
      audience: 'parent',
      status: 'active',
      registeredOn: today,
      familyId: `F-${key.slice(-8)}`,
      bucket: bucketOf(key),
      version: 0,
      ...over,
    });
    const repo = () => new ReaderRepository(stack.db, stack.tables.data, stack.tables.delivery);

    it('writes a subscription only at the version it was read, and then changes nothing at all', async () => {
      const key = readerKey();
      const r = repo();
      expect(await r.commit(write({ readerKey: key, puts: [{ subscription: subOf(key), isNew: true }] }))).toBe(true);
      const loaded = await r.load(TENANT, key);
      expect(loaded.subscriptions.map((s) => s.version)).toEqual([0]);
      // Two writers read version 0; the first one wins and stores version 1. (No meta item write: only the
      // subscription's own condition is at stake here.)
      const first = write({
        readerKey: key,
        eventAt: undefined,
        puts: [{ subscription: { ...loaded.subscriptions[0]!, status: 'paused' }, isNew: false }],
      });
      const second = write({
        readerKey: key,
        eventAt: undefined,
        puts: [{ subscription: { ...loaded.subscriptions[0]!, status: 'lost' }, isNew: false }],
      });
      expect(await r.commit(first)).toBe(true);
      await expect(r.commit(second)).rejects.toThrow(ConcurrentChangeError);
      expect(await r.isProcessed(TENANT, second.webhookEventId)).toBe(false);
      expect((await r.load(TENANT, key)).subscriptions).toEqual([
        expect.objectContaining({ status: 'paused', version: 1 }),
      ]);
      // A second "new" subscription with the same id is refused too.
      await expect(
        r.commit(write({ readerKey: key, puts: [{ subscription: subOf(key), isNew: true }] })),
      ).rejects.toThrow(ConcurrentChangeError);
    });

    it("marks a change in the bucket the reader's subscription sits in, so that shard's send-time check sees it", async () => {
      const key = readerKey();
      const bucket = (bucketOf(key) + 1) % 256; // anywhere but the key's hash, the layout before anchor buckets
      const r = repo();
      await r.commit(write({ readerKey: key, puts: [{ subscription: subOf(key, { bucket }), isNew: true }] }));
      const feed = new ChangeMarkerFeed(stack.db, stack.tables.delivery);
      const shardCount = 4;
      const shardOf = (b: number) => [0, 1, 2, 3].find((n) => bucketsOfShard(n, shardCount).includes(b))!;
      const seenBy = async (shard: number) =>
        (await feed.changedReaders(TENANT, [today], new Set(bucketsOfShard(shard, shardCount)), 0)).includes(key);
      expect(await seenBy(shardOf(bucket))).toBe(true);
      expect(await seenBy((shardOf(bucket) + 1) % shardCount)).toBe(false);
    });

    it('marks every changed reader in the Delivery table, in the same transaction, and nobody for a dialog step', async () => {
      const [a, b] = [readerKey(), readerKey()];
      const r = repo();
      await r.commit(write({ readerKey: a, dialog: { step: 'track' } }));
      const noMarker = await stack.db.send(
        new GetCommand({
          TableName: stack.tables.delivery,
          Key: { pk: deliveryKeys.pk(TENANT, today), sk: deliveryKeys.changeSk(a) },
        }),
      );
      expect(noMarker.Item).toBeUndefined();
      const meta = await r.load(TENANT, a);
      await r.commit(
        write({
          readerKey: a,
          lastEventAt: meta.lastEventAt,
          puts: [
            { subscription: subOf(a), isNew: true },
            { subscription: subOf(b, { familyId: subOf(a).familyId, audience: 'partner' }), isNew: true },
          ],
        }),
      );
      for (const key of [a, b]) {
        const marker = await stack.db.send(
          new GetCommand({
            TableName: stack.tables.delivery,
            Key: { pk: deliveryKeys.pk(TENANT, today), sk: deliveryKeys.changeSk(key) },
          }),
        );
        expect(marker.Item).toEqual({
          pk: deliveryKeys.pk(TENANT, today),
          sk: `CHG#${key}`,
          buckets: [bucketOf(key)], // subOf's bucket
          at: expect.any(Number),
          expiresAt: epochDay(today, 3),
        });
      }
    });

    it('gives a family link the TTL of its subscription', async () => {
      const key = readerKey();
      const eraseOn = addDays(today, 90);
      await repo().commit(
        write({ readerKey: key, puts: [{ subscription: subOf(key, { status: 'stopped', eraseOn }), isNew: true }] }),
      );
      const link = await stack.db.send(
        new GetCommand({
          TableName: stack.tables.data,
          Key: { pk: dataKeys.familyPk(TENANT, subOf(key).familyId), sk: dataKeys.familySk(key, 'S1') },
        }),
      );
      expect(link.Item?.expiresAt).toBe(epochDay(eraseOn, 0));
    });

    it('never overwrites an invite code in use, and redeems an invite once', async () => {
      const key = readerKey();
      const r = repo();
      const invite = {
        code: 'QW7RT3',
        familyId: `F-${key.slice(-6)}`,
        track: 'maternity' as const,
        anchorDate: addDays(today, 100),
        expiresOn: addDays(today, 6),
      };
      expect(await r.commit(write({ readerKey: key, invites: [invite] }))).toBe(true);
      const other = readerKey();
      await expect(
        r.commit(write({ readerKey: other, invites: [{ ...invite, familyId: 'F-other' }] })),
      ).rejects.toThrow(ConcurrentChangeError);
      expect(await r.findInvite(TENANT, invite.code, today)).toEqual(invite);
      expect(await r.findInvite(TENANT, invite.code, addDays(today, 7))).toBeNull();
      expect(await r.commit(write({ readerKey: other, redeemedInvite: invite.code }))).toBe(true);
      await expect(r.commit(write({ readerKey: readerKey(), redeemedInvite: invite.code }))).rejects.toThrow(
        ConcurrentChangeError,
      );
      expect(await r.findInvite(TENANT, invite.code, today)).toBeNull();
    });

    it('erases a reader who made more invites than one transaction holds', async () => {
      const key = readerKey();
      const r = repo();
      const codes = Array.from({ length: 60 }, (_, i) => `BIG${String(i).padStart(3, '0')}`.replace(/0/g, 'Z'));
      for (let i = 0; i < codes.length; i += 10)
        await r.commit(
          write({
            readerKey: key,
            eventAt: undefined,
            invites: codes.slice(i, i + 10).map((code) => ({
              code,
              familyId: 'F-big',
              track: 'childcare' as const,
              anchorDate: addDays(today, -10),
              expiresOn: addDays(today, 6),
            })),
          }),
        );
      expect(await r.findInvite(TENANT, codes[59]!, today)).not.toBeNull();
      expect(await r.commit(write({ readerKey: key, deleteReader: true }))).toBe(true);
      for (const code of codes) expect(await r.findInvite(TENANT, code, today)).toBeNull();
      expect(await r.load(TENANT, key)).toEqual({ subscriptions: [], dialog: undefined, lastEventAt: undefined });
    });

    it("keeps the reader's last event only as long as an older event could still arrive (TTL past the dedupe window)", async () => {
      const key = readerKey();
      const eventAt = Date.now();
      await repo().commit(write({ readerKey: key, eventAt, dialog: { step: 'track' } }));
      const meta = await stack.db.send(
        new GetCommand({ TableName: stack.tables.data, Key: { pk: dataKeys.readerPk(TENANT, key), sk: 'META' } }),
      );
      expect(meta.Item).toEqual({
        pk: dataKeys.readerPk(TENANT, key),
        sk: 'META',
        lastEventAt: eventAt,
        expiresAt: Math.floor(eventAt / 1000) + 8 * 86_400,
      });
    });

    it('erases a subscription item that no longer fits its schema, with its family link', async () => {
      const key = readerKey();
      const pk = dataKeys.readerPk(TENANT, key);
      await stack.db.send(
        new PutCommand({
          TableName: stack.tables.data,
          Item: { pk, sk: 'SUB#S9', subscriptionId: 'S9', familyId: 'F-corrupt', address: 'U-raw', status: '???' },
        }),
      );
      const link = { pk: dataKeys.familyPk(TENANT, 'F-corrupt'), sk: dataKeys.familySk(key, 'S9') };
      await stack.db.send(new PutCommand({ TableName: stack.tables.data, Item: { ...link, readerKey: key } }));
      expect(await repo().commit(write({ readerKey: key, deleteReader: true }))).toBe(true);
      const left = (await scanAll(stack, stack.tables.data)).filter((i) => JSON.stringify(i).includes(key));
      expect(left).toEqual([]);
    });

    it('treats a corrupt stored dialog as no dialog, and counts it by kind', async () => {
      const key = readerKey();
      const corrupt: string[] = [];
      const r = new ReaderRepository(stack.db, stack.tables.data, stack.tables.delivery, {
        onCorruptItem: (kind) => corrupt.push(kind),
      });
      await stack.db.send(
        new PutCommand({
          TableName: stack.tables.data,
          Item: {
            pk: dataKeys.readerPk(TENANT, key),
            sk: dataKeys.dialogSk,
            dialog: JSON.stringify({ step: 'nickname', track: 'maternity', anchorDate: 'not-a-date' }),
            expiresAt: Math.floor(Date.now() / 1000) + 3600,
          },
        }),
      );
      await stack.db.send(new PutCommand({ TableName: stack.tables.data, Item: subscriptionItem(subOf(key)) }));
      const state = await r.load(TENANT, key);
      expect(state.dialog).toBeUndefined();
      expect(state.subscriptions).toHaveLength(1);
      expect(corrupt).toEqual(['dialog']);
    });
  });
});
