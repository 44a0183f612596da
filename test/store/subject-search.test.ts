import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewMessage } from '../../src/core/message.js';
import type { RecipientSearchQuery } from '../../src/store/search.js';
import type { DeliveryOutcomeRecord, Store } from '../../src/store/store.js';
import { testMessage } from '../helpers/messages.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';

/**
 * Activity's subject search goes through a trigram index (SQLite: FTS5 message_subjects,
 * PostgreSQL: pg_trgm on lower(subject)) when the text has three characters or more. Whichever
 * way a query runs, it must find exactly the messages whose subject contains the text, and the
 * index must follow inserts and retention's deletes.
 */
describe(`subject search through the trigram index (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let a: number;
  let b: number;
  const T0 = 1_700_000_000_000;
  const subjectsOfA = [
    'Order #1001 has shipped',
    'Order #1002 has shipped',
    'Grüße: "quoted" 50%_off',
    'Weekly newsletter 12',
    'Weekly newsletter 120',
    'Reset your password',
  ];
  const sent: { serverId: number; message: NewMessage; subject: string }[] = [];

  const send = async (serverId: number, subject: string, at: number) => {
    const m = testMessage(serverId, at, [`rcpt${sent.length}@example.com`]);
    const message = { ...m, template: { ...m.template, subject } };
    await store.queue.commitAccepts([{ messages: [message], idempotency: null }]);
    sent.push({ serverId, message, subject });
    return message;
  };
  const search = async (serverId: number, q: Partial<RecipientSearchQuery>) =>
    (await store.reports.searchRecipients(serverId, { sort: 'queuedTime', direction: 'asc', ...q }, { limit: 100, offset: 0 })).rows.map((r) => r.subject);
  const streamed = async (serverId: number, q: Partial<RecipientSearchQuery>) => {
    const out: string[] = [];
    for await (const batch of store.reports.streamRecipientSearch(serverId, { sort: 'queuedTime', direction: 'asc', ...q }, 2))
      out.push(...batch.map((r) => r.subject));
    return out;
  };
  /** What a substring search in any ASCII case must answer, from the messages still stored. */
  const expected = (serverId: number, text: string, gone: Set<string>) =>
    sent.filter((s) => s.serverId === serverId && !gone.has(s.message.id) && s.subject.toLowerCase().includes(text.toLowerCase())).map((s) => s.subject);

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const accountId = (await store.tenancy.createAccount('A', T0)).id;
    a = (await store.tenancy.createServer({ accountId, name: 'A' }, T0)).id;
    b = (await store.tenancy.createServer({ accountId, name: 'B' }, T0)).id;
    for (const [i, subject] of subjectsOfA.entries()) await send(a, subject, T0 + i * 1000);
    await send(b, 'Order #1001 has shipped', T0 + 500);
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const texts = ['#1001', 'ORDER #100', 'order #1002 HAS', '"quoted"', '50%_', 'newsletter 12', 'r 12', 'xyzzy', 'Or', 'ü', '%', 'password'];

  it('finds exactly the messages whose subject contains the text, in any ASCII case, on its own server only, by page and by export', async () => {
    for (const text of texts) {
      expect([text, await search(a, { subject: text })]).toEqual([text, expected(a, text, new Set())]);
      expect([text, await streamed(a, { subject: text })]).toEqual([text, expected(a, text, new Set())]);
    }
    expect(await search(b, { subject: '#1001' })).toEqual(['Order #1001 has shipped']);
    expect(await search(b, { subject: '#1002' })).toEqual([]);
  });

  it('follows new messages and the messages retention deletes', async () => {
    const delivered = (recipientId: string): DeliveryOutcomeRecord => ({
      recipientId,
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      reply: '250 ok',
      mx: 'mx.example',
      failureCode: null,
      event: { type: 'Delivered', data: {} },
    });
    const claimed = await store.queue.claim('w', 100, T0 + 60_000, T0);
    await store.queue.recordOutcomes(
      'w',
      claimed.map((c) => delivered(c.id)),
      T0 + 60_000,
    );
    // Retention removes server a's first three messages (older than T0 + 2.5 s): recipients, then messages.
    const q = store.retention.queries();
    const cutoff = T0 + 2500;
    expect(await q.deleteRecipients(a, cutoff, 100)).toBe(3);
    expect(await q.deleteMessages(a, cutoff, 100)).toBe(3);
    const gone = new Set(sent.filter((s) => s.serverId === a && s.message.createdAt < cutoff).map((s) => s.message.id));
    expect(gone.size).toBe(3);
    await send(a, 'Order #1001 has shipped again', T0 + 10_000);
    for (const text of texts) expect([text, await search(a, { subject: text })]).toEqual([text, expected(a, text, gone)]);
    expect(await search(b, { subject: '#1001' })).toEqual(['Order #1001 has shipped']);

    if (db.kind === 'sqlite') {
      // FTS5 checks its index against the content table: it throws on any entry out of step.
      const raw = new BetterSqlite3(join(db.dataDir, 'postline.db'), { readonly: false });
      try {
        expect(() => raw.prepare("INSERT INTO message_subjects(message_subjects, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
        const indexed = raw.prepare('SELECT count(*) AS n FROM message_subjects WHERE message_subjects MATCH \'"1001"\'').get() as { n: number };
        expect(indexed.n).toBe(2); // b's and a's new one
      } finally {
        raw.close();
      }
    } else {
      const c = new pg.Client({ connectionString: db.databaseUrl! });
      await c.connect();
      try {
        const r = await c.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_subject_trgm'");
        expect(r.rows[0]?.indexdef).toMatch(/USING gin \(lower\(subject\) \S*gin_trgm_ops\)/);
      } finally {
        await c.end();
      }
    }
  });
});
