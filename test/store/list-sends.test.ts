import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { ExpandedBatch, ImportContactRow, Store } from '../../src/store/store.js';
import type { NewMessage } from '../../src/core/message.js';
import { testMessage } from '../helpers/messages.js';

/** The list-send area of the Store (a send to a contact list, expanded in batches), the same assertions on SQLite and PostgreSQL. */
describe(`list sends in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let accountId: number;
  const now = 1_700_000_000_000;

  /** A server with the custom field Plan and a list holding `rows`. */
  const setup = async (name: string, rows: readonly ImportContactRow[]) => {
    const serverId = (await store.tenancy.createServer({ accountId, name }, now)).id;
    await store.marketing.createCustomField(serverId, 'Plan', 20, now);
    const listId = (await store.marketing.createList(serverId, 'L', now))!.id;
    if (rows.length > 0) await store.marketing.importContacts(serverId, listId, rows, now);
    return { serverId, listId };
  };
  const contacts = (prefix: string, n: number): ImportContactRow[] =>
    Array.from({ length: n }, (_, i) => ({
      email: `${prefix}${i}@list.example`,
      firstName: `F${i}`,
      lastName: null,
      customFields: (i % 2 ? {} : { Plan: `p${i}` }) as Record<string, string>,
    }));
  /** The send's message: headers that merge per contact, and a global field. */
  const sendMessage = (serverId: number, at: number): NewMessage => {
    const m = testMessage(serverId, at, []);
    return {
      ...m,
      template: { ...m.template, mailingId: '%%Season%%-%%Plan%%', messageId: 'c-%%ContactId%%', globalMerge: [{ field: 'Season', value: 'spring' }] },
    };
  };
  const accepted = async (serverId: number, listId: number, m: NewMessage) => {
    const s = await store.listSends.accept(serverId, listId, m);
    if (typeof s === 'string') throw new Error(`refused: ${s}`);
    return s;
  };
  /** Expands until the store says nothing is left; every batch in order. */
  const expandAll = async (sendId: number, batchSize: number, at: number) => {
    const batches: ExpandedBatch[] = [];
    for (let s = await store.listSends.expand(sendId, batchSize, at); s; s = await store.listSends.expand(sendId, batchSize, at)) batches.push(s);
    return batches;
  };

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    accountId = (await store.tenancy.createAccount('A', now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it("refuses a send to a missing or another server's list ('no-list') and to a list with no subscribed contact ('empty'), writing nothing", async () => {
    const { serverId, listId } = await setup('refusals', []);
    const other = await setup('refusals-other', contacts('o', 2));
    const gone = (await store.marketing.createList(serverId, 'Unsubscribed only', now))!.id;
    await store.marketing.addContactToListByEmail(serverId, gone, { email: 'gone@list.example' }, now);
    await store.marketing.unsubscribeContact(serverId, 'gone@list.example', now);
    const before = [await store.queue.countMessages(serverId), await store.listSends.expanding(1_000)];
    for (const [list, answer] of [
      [987_654, 'no-list'],
      [other.listId, 'no-list'],
      [listId, 'empty'],
      [gone, 'empty'],
    ] as const) {
      const m = sendMessage(serverId, now);
      expect(await store.listSends.accept(serverId, list, m)).toBe(answer);
      expect(await store.queue.getMessage(m.id)).toBeUndefined();
      expect(await store.queue.getMessageTemplate(m.id)).toBeUndefined();
    }
    expect([await store.queue.countMessages(serverId), await store.listSends.expanding(1_000)]).toEqual(before);
  });

  it('accepts a send as its message without recipients and an expanding send, found only under its own server and list', async () => {
    const { serverId, listId } = await setup('accept', contacts('a', 2));
    const other = await setup('accept-other', contacts('a', 2));
    const m = sendMessage(serverId, now + 5);
    const s = await accepted(serverId, listId, m);
    expect(s).toEqual({
      id: expect.any(Number),
      serverId,
      listId,
      messageId: m.id,
      state: 'expanding',
      acceptedAt: now + 5,
      contactsSeen: 0,
      queued: 0,
      skippedUnsubscribed: 0,
      skippedSuppressed: 0,
      updatedAt: now + 5,
      finishedAt: null,
    });
    expect(await store.listSends.get(serverId, listId, s.id)).toEqual(s);
    expect(await store.listSends.get(other.serverId, listId, s.id)).toBeUndefined();
    expect(await store.listSends.get(other.serverId, other.listId, s.id)).toBeUndefined();
    expect(await store.listSends.get(serverId, listId + 1_000, s.id)).toBeUndefined();
    expect(await store.listSends.get(serverId, listId, s.id + 1_000)).toBeUndefined();
    expect(await store.queue.getMessage(m.id)).toMatchObject({ serverId, isMerge: true, recipientCount: 0, createdAt: now + 5 });
    expect(await store.queue.getMessageTemplate(m.id)).toMatchObject({ mailingId: '%%Season%%-%%Plan%%', messageId: 'c-%%ContactId%%' });
    expect(await store.queue.listRecipients(m.id)).toEqual([]);
    expect(await store.listSends.expanding(1_000)).toContain(s.id);
  });

  it('expands in batches until done: every member becomes exactly one merge recipient with its row and a Queued event', async () => {
    const rows = contacts('e', 7);
    const { serverId, listId } = await setup('expand', rows);
    const m = sendMessage(serverId, now);
    const s = await accepted(serverId, listId, m);
    const batches = await expandAll(s.id, 3, now + 10);
    expect(batches.map((b) => [b.state, b.batchRecipients, b.contactsSeen, b.queued, b.finishedAt])).toEqual([
      ['expanding', 3, 3, 3, null],
      ['expanding', 3, 6, 6, null],
      ['done', 1, 7, 7, now + 10],
    ]);
    const done = (await store.listSends.get(serverId, listId, s.id))!;
    expect(done).toEqual({ ...s, state: 'done', contactsSeen: 7, queued: 7, updatedAt: now + 10, finishedAt: now + 10 });
    expect(await store.listSends.expand(s.id, 3, now + 20)).toBeUndefined();
    expect(await store.listSends.get(serverId, listId, s.id)).toEqual(done);
    expect(await store.listSends.expanding(1_000)).not.toContain(s.id);

    const recipients = await store.queue.listRecipients(m.id);
    expect(recipients.map((r) => r.address).sort()).toEqual(rows.map((r) => r.email).sort());
    const ids = new Map((await store.marketing.searchContacts(serverId, {}, { limit: 100, offset: 0 })).rows.map((c) => [c.email, c.id]));
    for (const [i, row] of rows.entries()) {
      const r = recipients.find((x) => x.address === row.email)!;
      const plan = row.customFields!.Plan ?? '';
      expect(r).toMatchObject({ kind: 'merge', status: 'queued', serverId, mailingId: `spring-${plan}`, messageId_: `c-${ids.get(row.email)}` });
      expect(r.merge).toEqual([
        { field: 'DeliveryAddress', value: row.email },
        { field: 'EmailAddress', value: row.email },
        { field: 'FirstName', value: `F${i}` },
        { field: 'LastName', value: '' },
        { field: 'RecipientName', value: `F${i}` },
        { field: 'ContactId', value: String(ids.get(row.email)) },
        { field: 'Plan', value: plan },
      ]);
    }
    const events = await store.events.list({ messageId: m.id });
    expect(events.map((e) => e.type)).toEqual(recipients.map(() => 'Queued'));
    expect(events.map((e) => e.recipientId).sort()).toEqual(recipients.map((r) => r.id).sort());
    expect((await store.queue.getMessage(m.id))!.recipientCount).toBe(7);
  });

  it('a list that fills its last batch exactly ends with an empty batch that adds nothing', async () => {
    const { serverId, listId } = await setup('exact', contacts('x', 6));
    const m = sendMessage(serverId, now);
    const s = await accepted(serverId, listId, m);
    const batches = await expandAll(s.id, 3, now + 1);
    expect(batches.map((b) => [b.state, b.batchRecipients, b.contactsSeen])).toEqual([
      ['expanding', 3, 3],
      ['expanding', 3, 6],
      ['done', 0, 6],
    ]);
    expect(await store.queue.listRecipients(m.id)).toHaveLength(6);
    expect((await store.queue.getMessage(m.id))!.recipientCount).toBe(6);
  });

  it('skips unsubscribed members, and makes a suppressed address a suppressed recipient with the Failed event the accept path writes', async () => {
    const rows = contacts('u', 6);
    const { serverId, listId } = await setup('unsubscribed', rows);
    const other = await setup('unsubscribed-other', []);
    await store.marketing.unsubscribeContact(serverId, 'u1@list.example', now);
    await store.suppressions.add(serverId, [{ address: 'U2@list.example', reason: 'Complaint', detail: null }], now);
    await store.suppressions.add(serverId, [{ address: 'u3@list.example', reason: 'Bounce', detail: null }], now);
    // Another server's suppression list does not apply.
    await store.suppressions.add(other.serverId, [{ address: 'u4@list.example', reason: 'Bounce', detail: null }], now);
    const m = sendMessage(serverId, now);
    const s = await accepted(serverId, listId, m);
    // Unsubscribing after the accept still counts: the expander reads the contact as it is then.
    await store.marketing.unsubscribeContact(serverId, 'u5@list.example', now + 1);
    const batches = await expandAll(s.id, 4, now + 2);
    expect(batches.map((b) => [b.batchRecipients, b.contactsSeen, b.queued, b.skippedUnsubscribed, b.skippedSuppressed])).toEqual([
      [3, 4, 1, 1, 2],
      [1, 6, 2, 2, 2],
    ]);
    const recipients = await store.queue.listRecipients(m.id);
    expect(recipients.map((r) => [r.address, r.status]).sort()).toEqual([
      ['u0@list.example', 'queued'],
      ['u2@list.example', 'suppressed'],
      ['u3@list.example', 'suppressed'],
      ['u4@list.example', 'queued'],
    ]);
    expect((await store.queue.getMessage(m.id))!.recipientCount).toBe(4);

    // The same address through the Injection API's accept: the same recipient state and event.
    const direct = testMessage(serverId, now + 2, ['u2@list.example']);
    await store.queue.commitAccepts([{ messages: [direct], idempotency: null }]);
    const [viaAccept] = await store.queue.listRecipients(direct.id);
    const viaSend = recipients.find((r) => r.address === 'u2@list.example')!;
    expect([viaSend.status, viaSend.failureCode, viaSend.lastReply]).toEqual([viaAccept!.status, viaAccept!.failureCode, viaAccept!.lastReply]);
    const eventOf = async (messageId: string, recipientId: string) => (await store.events.list({ messageId })).filter((e) => e.recipientId === recipientId);
    const [sendEvent] = await eventOf(m.id, viaSend.id);
    const [acceptEvent] = await eventOf(direct.id, viaAccept!.id);
    expect([sendEvent!.type, sendEvent!.data]).toEqual([acceptEvent!.type, acceptEvent!.data]);
    expect(sendEvent!.data).toMatchObject({ FailureType: 2, SuppressionReason: 'Complaint' });
    // A suppressed recipient is never handed to a delivery worker.
    const claimed = await store.queue.claim('w', 1_000, now + 3, now);
    expect(
      claimed
        .filter((r) => r.messageId === m.id)
        .map((r) => r.address)
        .sort(),
    ).toEqual(['u0@list.example', 'u4@list.example']);
    await store.queue.release(
      'w',
      claimed.map((r) => r.id),
      now + 3,
    );
  });

  it('leaves out members added after the accept, removed or deleted before their batch, and the contacts of other lists', async () => {
    const { serverId, listId } = await setup('membership', contacts('m', 4));
    const elsewhere = (await store.marketing.createList(serverId, 'Elsewhere', now))!.id;
    await store.marketing.addContactToListByEmail(serverId, elsewhere, { email: 'elsewhere@list.example' }, now);
    const m = sendMessage(serverId, now + 10);
    const s = await accepted(serverId, listId, m);
    await store.marketing.addContactToListByEmail(serverId, listId, { email: 'late@list.example' }, now + 11);
    await store.marketing.addContactToListByEmail(serverId, listId, { email: 'elsewhere@list.example' }, now + 11);
    await store.marketing.removeContactFromList(serverId, listId, 'm1@list.example');
    const m2 = (await store.marketing.searchContacts(serverId, { email: 'm2@list.example' }, { limit: 1, offset: 0 })).rows[0]!;
    await store.marketing.deleteContact(serverId, m2.id);
    const batches = await expandAll(s.id, 10, now + 12);
    expect(batches.map((b) => [b.state, b.contactsSeen, b.queued])).toEqual([['done', 2, 2]]);
    expect((await store.queue.listRecipients(m.id)).map((r) => r.address).sort()).toEqual(['m0@list.example', 'm3@list.example']);
  });

  it('expanders running at once never expand a contact twice, and what they report adds up to what was written', async () => {
    const rows = contacts('c', 25);
    const { serverId, listId } = await setup('concurrent', rows);
    const m = sendMessage(serverId, now);
    const s = await accepted(serverId, listId, m);
    const reported: ExpandedBatch[] = [];
    // On PostgreSQL the four race for the send's row; SQLite's one connection runs them one after the other.
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all([1, 2, 3, 4].map(() => store.listSends.expand(s.id, 4, now + round)));
      reported.push(...answers.filter((x): x is ExpandedBatch => x !== undefined));
    }
    const recipients = await store.queue.listRecipients(m.id);
    expect(recipients.map((r) => r.address).sort()).toEqual(rows.map((r) => r.email).sort());
    expect(reported.reduce((n, b) => n + b.batchRecipients, 0)).toBe(25);
    expect(await store.listSends.get(serverId, listId, s.id)).toMatchObject({ state: 'done', contactsSeen: 25, queued: 25 });
    expect((await store.events.list({ messageId: m.id })).length).toBe(25);
  });

  it('lists unfinished sends oldest first up to the limit; an unknown send expands to nothing and a batch below 1 is refused', async () => {
    const { serverId, listId } = await setup('expanding', contacts('w', 2));
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await accepted(serverId, listId, sendMessage(serverId, now + i))).id);
    await expandAll(ids[1]!, 10, now + 5);
    const waiting = await store.listSends.expanding(1_000);
    expect(waiting.filter((id) => ids.includes(id))).toEqual([ids[0], ids[2]]);
    expect(waiting).toEqual([...waiting].sort((x, y) => x - y));
    expect(await store.listSends.expanding(1)).toEqual(waiting.slice(0, 1));
    expect(await store.listSends.expand(987_654, 10, now)).toBeUndefined();
    await expect(store.listSends.expand(ids[0]!, 0, now)).rejects.toThrow('batchSize');
    expect(await store.listSends.get(serverId, listId, ids[0]!)).toMatchObject({ state: 'expanding', contactsSeen: 0 });
  });
});
