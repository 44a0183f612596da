import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, execSql, v2 } from '../helpers/api-v2.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { createLogger } from '../../src/core/log.js';
import { newId } from '../../src/core/ids.js';
import { runRetentionPass, type RetentionAges } from '../../src/retention/pass.js';
import { floorId, retentionQueries } from '../../src/store/retention.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { cli } from '../helpers/process.js';
import { query } from '../reports/sql.js';

const DAY = 86_400_000;
const AGES: RetentionAges = { bodyDays: 30, inboundDays: 30, eventDays: 400 };

/**
 * Retention through the real paths: messages injected and delivered to the SMTP sink (a tempfail
 * recipient stays deferred: in flight), then passes run with the clock moved forward so the rows
 * are as old as the test needs. What each pass removed is checked row by row against what was
 * there before, read behind the store's back.
 */
describe(`retention (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let serverId: number;
  const log = createLogger('silent');
  const pass = (now: number, ages = AGES) => runRetentionPass({ store: t.store, log, now: () => now }, ages);
  const send = async (to: string, opts: { textBody?: string; idempotencyKey?: string; subject?: string } = {}) => {
    const r = await inject(
      t,
      {
        ServerId: serverId,
        ApiKey: t.credentials.apiKey,
        Messages: [
          { To: [{ EmailAddress: to }], From: { EmailAddress: 'sender@example.com' }, Subject: opts.subject ?? `to ${to}`, TextBody: opts.textBody ?? 'hello' },
        ],
      },
      { headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {} },
    );
    expect(r.body.ErrorCode, r.text).toBe('Success');
    const [row] = await query<{ id: string; created_at: number }>(t.db, 'SELECT id, created_at FROM messages ORDER BY id DESC LIMIT 1');
    return { id: row!.id, createdAt: Number(row!.created_at) };
  };
  const settle = async () => {
    for (let i = 0; i < 600; i++) {
      const busy = await query<{ n: number }>(t.db, "SELECT count(*) AS n FROM recipients WHERE status IN ('queued', 'delivering')");
      if (Number(busy[0]!.n) === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('recipients did not settle');
  };
  const ids = async (sqlText: string) => (await query<{ id: string }>(t.db, sqlText)).map((r) => String(r.id)).sort();
  const pause = () => new Promise((r) => setTimeout(r, 5));

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startAppDeliveringToSink(sink, { pollMs: 50, retrySchedule: [3_600_000] });
    serverId = t.credentials.serverId;
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('message bodies: removes exactly those older than the age, never one a recipient still waits for', async () => {
    const waiting = await send('tempfail-body@sink.test');
    await pause();
    const old = await send('old@sink.test');
    await pause();
    const young = await send('young@sink.test');
    await settle();
    expect(young.createdAt).toBeGreaterThan(old.createdAt);
    const bodiesBefore = await ids('SELECT message_id AS id FROM message_bodies');
    expect(bodiesBefore).toEqual(expect.arrayContaining([waiting.id, old.id, young.id]));

    // The cutoff falls on `young`: it (not older) stays; `old` and everything before it, in flight excepted, goes.
    const r = await pass(young.createdAt + 30 * DAY);
    const gone = bodiesBefore.filter((id) => id !== waiting.id && id < young.id);
    expect(r.removed.message_bodies).toBe(gone.length);
    expect(await ids('SELECT message_id AS id FROM message_bodies')).toEqual(bodiesBefore.filter((id) => !gone.includes(id)));
    // Nothing else is that old.
    expect(r.removed.events + r.removed.messages + r.removed.recipients).toBe(0);

    // Long after: every body but the waiting one.
    await pass(Date.now() + 31 * DAY);
    expect(await ids('SELECT message_id AS id FROM message_bodies')).toEqual([waiting.id]);
  });

  it('message detail after retention: bodyRetained false, rendered null, events still there (never a 500)', async () => {
    const key = (await createKey(t.store, serverId, 'management')).key;
    const r = await v2<{ data: { bodyRetained: boolean; rendered: string | null; events: { type: string }[]; to: string }[] }>(
      t,
      'GET',
      `/servers/${serverId}/reports/messages/detail`,
      { key, query: { toEmailAddress: 'old@sink.test' } },
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body.data).toHaveLength(1);
    expect(r.body.data[0]).toMatchObject({ to: 'old@sink.test', bodyRetained: false, rendered: null });
    expect(r.body.data[0]!.events.map((e) => e.type)).toEqual(['Queued', 'Delivered']);
    const waiting = await v2<{ data: { bodyRetained: boolean; rendered: string | null }[] }>(t, 'GET', `/servers/${serverId}/reports/messages/detail`, {
      key,
      query: { toEmailAddress: 'tempfail-body@sink.test' },
    });
    expect(waiting.body.data[0]!.bodyRetained).toBe(true);
    expect(waiting.body.data[0]!.rendered).toContain('Subject: to tempfail-body@sink.test');
  });

  it('events, messages and recipients: exactly those older than the event age; a waiting recipient and its message stay', async () => {
    const events = await query<{ id: string; occurred_at: number }>(t.db, 'SELECT id, occurred_at FROM events');
    const times = [...new Set(events.map((e) => Number(e.occurred_at)))].sort((a, b) => a - b);
    expect(times.length).toBeGreaterThan(3);
    const cutoff = times[Math.floor(times.length / 2)]!;
    const keepEvents = events
      .filter((e) => Number(e.occurred_at) >= cutoff)
      .map((e) => String(e.id))
      .sort();
    const recipients = await query<{ id: string; status: string; created_at: number; message_id: string }>(
      t.db,
      'SELECT r.id, r.status, m.created_at, r.message_id FROM recipients r JOIN messages m ON m.id = r.message_id',
    );
    const keepRecipients = recipients
      .filter((r) => Number(r.created_at) >= cutoff || ['queued', 'deferred', 'delivering'].includes(r.status))
      .map((r) => r.id)
      .sort();
    const keepMessages = [...new Set(recipients.filter((r) => keepRecipients.includes(r.id)).map((r) => r.message_id))].sort();

    const r = await pass(cutoff + 400 * DAY);
    expect(r.removed.events).toBe(events.length - keepEvents.length);
    expect(await ids('SELECT id FROM events')).toEqual(keepEvents);
    expect(await ids('SELECT id FROM recipients')).toEqual(keepRecipients);
    expect(await ids('SELECT id FROM messages')).toEqual(keepMessages);
    expect(r.removed.recipients).toBe(recipients.length - keepRecipients.length);
    expect(keepRecipients.length).toBeGreaterThan(0);
  });

  it('idempotency keys older than a day go; younger ones stay', async () => {
    const msg = await send('idem@sink.test', { idempotencyKey: `k-${newId()}` });
    await settle();
    expect(await query(t.db, 'SELECT key FROM idempotency_keys')).toHaveLength(1);
    await pass(msg.createdAt + DAY - 1);
    expect(await query(t.db, 'SELECT key FROM idempotency_keys')).toHaveLength(1);
    const r = await pass(msg.createdAt + DAY + 1);
    expect(r.removed.idempotency_keys).toBe(1);
    expect(await query(t.db, 'SELECT key FROM idempotency_keys')).toHaveLength(0);
  });

  it('inbound messages: a posted one older than the age goes with its bytes and posts; a waiting one and a young one stay', async () => {
    const route = (await t.store.inbound.createRoute(
      {
        serverId,
        match: `in-${newId().toLowerCase()}.example`,
        kind: 'domain',
        url: 'https://hook.example/in',
        secretKey: 's',
        signingSecret: 'whsec_x',
        enabled: true,
        validatedAt: null,
      },
      Date.now(),
    ))!;
    const at = Date.now();
    // Ids whose time part is exactly at-2, at-1, at: newId(t) never goes back before the last id it
    // made in this process, so ids made now could all carry `at` or later and look young.
    const idAt = (ms: number) => floorId(ms).slice(0, 10) + newId().slice(10);
    const msgs = [idAt(at - 2), idAt(at - 1), idAt(at)].map((id, i) => ({
      id,
      mailFrom: 'a@b.example',
      remoteIp: '127.0.0.1',
      helo: null,
      receivedAt: at - 2 + i,
      raw: Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`),
      posts: [{ routeId: route.id, serverId, rcptTo: `x@${route.match}` }],
    }));
    await t.store.inbound.commitMessages(msgs);
    // The first was posted (what the poster records), the second still waits; the third is young.
    await execSql(t.db, `UPDATE inbound_posts SET status = 'delivered' WHERE message_id = '${msgs[0]!.id}'`);
    const r = await pass(msgs[2]!.receivedAt + 30 * DAY);
    expect(r.removed.inbound_messages).toBe(1);
    expect(await ids('SELECT id FROM inbound_messages')).toEqual([msgs[1]!.id, msgs[2]!.id]);
    expect(await ids('SELECT message_id AS id FROM inbound_bodies')).toEqual([msgs[1]!.id, msgs[2]!.id]);
    expect(await ids('SELECT message_id AS id FROM inbound_posts')).toEqual([msgs[1]!.id, msgs[2]!.id]);
  });

  it('statistics rollups (stats_hourly, migration 12): rows older than the event age go', async () => {
    const now = Date.now();
    const hours = [now - 500 * DAY, now - 401 * DAY, now - 399 * DAY, now].map((h) => Math.floor(h / 3_600_000) * 3_600_000);
    await execSql(t.db, `DELETE FROM stats_hourly WHERE hour_start < ${now - 400 * DAY}`);
    await execSql(
      t.db,
      `INSERT INTO stats_hourly (server_id, dim, dim_value, hour_start, delivered) VALUES ${hours.map((h) => `(${serverId}, 'mailing', 'retention-test', ${h}, 3)`).join(', ')}`,
    );
    const r = await pass(now);
    expect(r.removed.stats_rollups).toBe(2);
    expect(
      (await query<{ hour_start: number }>(t.db, "SELECT hour_start FROM stats_hourly WHERE dim_value = 'retention-test' ORDER BY hour_start")).map((x) =>
        Number(x.hour_start),
      ),
    ).toEqual(hours.slice(2));
  });

  it.runIf(TEST_STORE_KIND === 'sqlite')('SQLite: the space deleted rows took is handed back (freelist emptied, file smaller)', async () => {
    const pragma = (name: string) => {
      const raw = new BetterSqlite3(join(t.db.dataDir, 'postline.db'));
      try {
        return Number(raw.pragma(name, { simple: true }));
      } finally {
        raw.close();
      }
    };
    expect(pragma('auto_vacuum')).toBe(2);
    const big = 'x'.repeat(200_000);
    for (let i = 0; i < 20; i++) await send(`big${i}@sink.test`, { textBody: `${i}${big}` });
    await settle();
    const pagesBefore = pragma('page_count');
    // Delete the bodies without the pass's vacuum first: the freed pages sit on the freelist.
    const deleted = await t.store.retention.queries().deleteMessageBodies(Date.now() + DAY, 5_000);
    expect(deleted).toBeGreaterThanOrEqual(20);
    const free = pragma('freelist_count');
    expect(free).toBeGreaterThan((20 * 200_000) / 4096 / 2);
    const r = await pass(Date.now());
    expect(r.pagesFreed).toBeGreaterThanOrEqual(free);
    expect(pragma('freelist_count')).toBe(0);
    expect(pragma('page_count')).toBeLessThan(pagesBefore - free / 2);
  });

  it('postline retention run: one pass with the configured ages, its counts printed', async () => {
    const env = { POSTLINE_DATA_DIR: t.db.dataDir, POSTLINE_DATABASE_URL: t.db.databaseUrl ?? '', POSTLINE_RETENTION_BODY_DAYS: '1' };
    const r = await cli(['retention', 'run', '--json'], env);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { removed: Record<string, number>; pagesFreed: number };
    expect(Object.keys(out.removed)).toContain('message_bodies');
    const bad = await cli(['retention', 'purge'], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('usage: postline retention run');
    const badAge = await cli(['retention', 'run'], { ...env, POSTLINE_RETENTION_BODY_DAYS: '0' });
    expect(badAge.status).toBe(2);
    expect(badAge.stderr).toContain('POSTLINE_RETENTION_BODY_DAYS');
  });

  it('a pass with nothing old enough to delete only reads (no write waits for a WAL fsync or the writer)', async () => {
    await send('recent@sink.test');
    await settle();
    // The store's own queries, through a plugin that notes the kind of every statement run.
    const kinds: string[] = [];
    const db = (t.store as unknown as { db: Kysely<Database> }).db.withPlugin({
      transformQuery: (args) => {
        const n = args.node as { kind: string; sqlFragments?: readonly string[] };
        kinds.push(n.kind === 'RawNode' ? `raw ${n.sqlFragments![0]!.trim().split(/\s/)[0]!.toUpperCase()}` : n.kind);
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const recording = retentionQueries(db, TEST_STORE_KIND);
    const store = { retention: { queries: () => recording, reclaimSpace: () => t.store.retention.reclaimSpace() } } as unknown as Store;
    const r = await runRetentionPass({ store, log, now: () => Date.now() }, AGES);
    expect(Object.values(r.removed)).toEqual(Object.values(r.removed).map(() => 0));
    expect(kinds.length).toBeGreaterThan(5);
    expect(kinds.filter((k) => k !== 'SelectQueryNode' && k !== 'raw SELECT')).toEqual([]);
    expect(await query(t.db, "SELECT id FROM recipients WHERE address = 'recent@sink.test'")).toHaveLength(1);
  });
});
