import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Store } from '../../src/store/store.js';
import { generateApiKey } from '../../src/core/api-key.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import { testMessage } from '../helpers/messages.js';

const message = (serverId: number, now: number, addresses: string[]) =>
  testMessage(serverId, now, addresses, { message: { metadata: [{ key: 'k', value: 'v' }], tags: ['t'] }, recipient: { mailingId: 'm1' } });

/** The Store contract: the same assertions on SQLite (npm test) and PostgreSQL (npm run test:pg). */
describe(`Store contract (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let serverId: number;
  const now = 1_700_000_000_000;

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const account = await store.tenancy.createAccount('A', now);
    serverId = (await store.tenancy.createServer({ accountId: account.id, name: 'S' }, now)).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('migrating twice is harmless', async () => {
    await store.migrate();
    expect((await store.tenancy.listServers()).length).toBe(1);
  });

  it('numbers servers from 10001 like SocketLabs ServerIds', () => {
    expect(serverId).toBe(10001);
  });

  it('stores keys hashed and finds them with their server and account status', async () => {
    const k = generateApiKey();
    await store.tenancy.createApiKey({ serverId, scope: 'injection', name: 'n', publicId: k.publicId, secretHash: k.secretHash }, now);
    const found = await store.tenancy.findApiKeyForAuth(k.publicId);
    expect(found).toMatchObject({ serverId, scope: 'injection', serverStatus: 'active', accountStatus: 'active', revokedAt: null });
    expect(found!.secretHash).not.toContain(k.key.split('.')[1]);
    expect(await store.tenancy.revokeApiKey(k.publicId, now + 1)).toBe(true);
    expect(await store.tenancy.revokeApiKey(k.publicId, now + 2)).toBe(false);
    expect((await store.tenancy.findApiKeyForAuth(k.publicId))!.revokedAt).toBe(now + 1);
  });

  it("stores a relayed message's raw MIME as bytes: 8-bit in any charset comes back exactly", async () => {
    const bytes = Buffer.concat([
      Buffer.from('Subject: caf\xe9\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nGr\xfc\xdfe\r\n', 'latin1'),
      Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0xc3, 0x28, 0xff, 0xfe, 0x80, 0x0d, 0x0a]), // Shift_JIS, then bytes of no charset
    ]);
    const m = message(serverId, now, ['raw@example.com']);
    m.source = 'smtp';
    m.template.rawMime = bytes;
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const t = await store.queue.getMessageTemplate(m.id);
    expect(Buffer.isBuffer(t!.rawMime)).toBe(true);
    expect(t!.rawMime!.equals(bytes)).toBe(true);
    expect({ ...t, rawMime: null }).toEqual({ ...m.template, rawMime: null });
  });

  it('reads a raw MIME stored as JSON text before the raw_mime column as its UTF-8 bytes', async () => {
    const m = message(serverId, now, ['legacy@example.com']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const text = 'Subject: Grüße ✓\r\n\r\nÄ\r\n';
    // A row as the accept path wrote it before migration 18: the raw MIME inside the JSON, raw_mime empty.
    const db = (store as unknown as { db: Kysely<Database> }).db;
    await db
      .updateTable('message_bodies')
      .set({ content: JSON.stringify({ ...m.template, rawMime: text }), raw_mime: null })
      .where('message_id', '=', m.id)
      .execute();
    const t = await store.queue.getMessageTemplate(m.id);
    expect(t!.rawMime!.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect({ ...t, rawMime: null }).toEqual({ ...m.template, rawMime: null });
  });

  it('commits messages, recipients and Queued events together', async () => {
    const m = message(serverId, now, ['a@example.com', 'b@example.com']);
    expect(await store.queue.commitAccepts([{ messages: [m], idempotency: null }])).toEqual([{ kind: 'committed' }]);
    expect(await store.queue.getMessage(m.id)).toMatchObject({ id: m.id, serverId, recipientCount: 2, tags: ['t'] });
    expect(await store.queue.getMessageTemplate(m.id)).toEqual(m.template);
    const rcpts = await store.queue.listRecipients(m.id);
    expect(rcpts.map((r) => [r.address, r.domain, r.status, r.mailingId])).toEqual([
      ['a@example.com', 'example.com', 'queued', 'm1'],
      ['b@example.com', 'example.com', 'queued', 'm1'],
    ]);
    const events = await store.events.list({ messageId: m.id });
    expect(events.map((e) => [e.type, e.recipientId])).toEqual(rcpts.map((r) => ['Queued', r.id]));
  });

  it('writes nothing of a batch whose transaction fails', async () => {
    const before = await store.queue.countMessages();
    const good = message(serverId, now, ['c@example.com']);
    const dup = message(serverId, now, ['d@example.com']);
    dup.recipients[0]!.id = good.recipients[0]!.id; // primary-key clash inside the same transaction
    await expect(
      store.queue.commitAccepts([
        { messages: [good], idempotency: null },
        { messages: [dup], idempotency: null },
      ]),
    ).rejects.toThrow();
    expect(await store.queue.countMessages()).toBe(before);
    expect(await store.queue.getMessage(good.id)).toBeUndefined();
  });

  it('lets only the first unit with an idempotency key write', async () => {
    const idem = (response: string) => ({ serverId, key: 'key-1', requestHash: 'h', response, now });
    const a = message(serverId, now, ['e@example.com']);
    const b = message(serverId, now, ['f@example.com']);
    const out = await store.queue.commitAccepts([
      { messages: [a], idempotency: idem('first') },
      { messages: [b], idempotency: idem('second') },
    ]);
    expect(out).toEqual([{ kind: 'committed' }, { kind: 'duplicate' }]);
    expect(await store.queue.getMessage(b.id)).toBeUndefined();
    expect((await store.queue.findIdempotency(serverId, 'key-1', now - 1))!.response).toBe('first');
    expect(await store.queue.findIdempotency(serverId, 'key-1', now + 1)).toBeUndefined();
    // After the 24-hour window the key may be used again.
    const later = now + 24 * 3600_000 + 1;
    const c = message(serverId, later, ['g@example.com']);
    expect(await store.queue.commitAccepts([{ messages: [c], idempotency: { ...idem('third'), now: later } }])).toEqual([{ kind: 'committed' }]);
  });

  it('never hands one recipient to two claimers, also from separate connections', async () => {
    const msgs = Array.from({ length: 20 }, (_, i) =>
      message(
        serverId,
        now,
        Array.from({ length: 10 }, (_, j) => `r${i}-${j}@claim.example`),
      ),
    );
    await store.queue.commitAccepts(msgs.map((m) => ({ messages: [m], idempotency: null })));
    const other = await db.open();
    try {
      const claimers = [store, other, store, other];
      const claimed: string[][] = [[], [], [], []];
      for (let round = 0; round < 40; round++) {
        const got = await Promise.all(claimers.map((s, i) => s.queue.claim(`w${i}`, 7, now + 10 * 24 * 3600_000, now - 60_000)));
        for (const [i, rows] of got.entries()) claimed[i]!.push(...rows.map((r) => r.id));
        if (got.every((r) => r.length === 0)) break;
      }
      const all = claimed.flat();
      expect(new Set(all).size).toBe(all.length);
      const total = Object.values(await store.queue.countRecipientsByStatus()).reduce((a, b) => a + b, 0);
      expect(all.length).toBe(total);
    } finally {
      await other.close();
    }
  });

  it('releases only its own claims and reclaims stale ones by time', async () => {
    const m = message(serverId, now + 100, ['h@release.example']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const [r] = await store.queue.claim('owner', 1, now + 100, now - 60_000);
    expect(r!.id).toBe(m.recipients[0]!.id);
    expect(await store.queue.release('intruder', [r!.id], now + 101)).toBe(0);
    expect(await store.queue.claim('other', 1, now + 102, now - 60_000)).toEqual([]);
    // The owner died: once its lock is older than the stale limit, another worker takes it over.
    const taken = await store.queue.claim('other', 10_000, now + 200_000, now + 150_000);
    expect(taken.find((x) => x.id === r!.id)?.lockedBy).toBe('other');
    expect(await store.queue.release('owner', [r!.id], now + 200_001)).toBe(0);
    expect(await store.queue.release('other', [r!.id], now + 200_002)).toBe(1);
    expect((await store.queue.listRecipients(m.id))[0]!.status).toBe('queued');
  });

  it('a renewed claim is not stale; only its owner can renew it', async () => {
    const m = message(serverId, now + 300, ['renew@release.example']);
    await store.queue.commitAccepts([{ messages: [m], idempotency: null }]);
    const claimed = await store.queue.claim('live', 10_000, now + 300, now - 60_000);
    const r = claimed.find((x) => x.id === m.recipients[0]!.id);
    expect(r).toBeDefined();
    expect(await store.queue.renew('intruder', [r!.id], now + 400_000)).toBe(0);
    expect(await store.queue.renew('live', [r!.id], now + 400_000)).toBe(1);
    // Stale limit after the claim but before the renewal: the renewed claim stays with its owner.
    const taken = await store.queue.claim('other', 10_000, now + 400_001, now + 350_000);
    expect(taken.some((x) => x.id === r!.id)).toBe(false);
    expect((await store.queue.listRecipients(m.id))[0]!).toMatchObject({ status: 'delivering', lockedBy: 'live', lockedAt: now + 400_000 });
    expect(await store.queue.release('live', [r!.id], now + 400_002)).toBe(1);
  });

  it('keeps settings', async () => {
    expect(await store.settings.get('x')).toBeUndefined();
    await store.settings.set('x', '1');
    await store.settings.set('x', '2');
    expect(await store.settings.get('x')).toBe('2');
  });
});
