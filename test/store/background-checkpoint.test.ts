import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { openStore } from '../../src/store/open.js';
import { BackgroundCheckpointer } from '../../src/store/sqlite/background-checkpoint.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { CheckpointState, Store } from '../../src/store/store.js';

/**
 * SQLite checkpoints leave the event loop: the store's own connection never checkpoints
 * (wal_autocheckpoint = 0), a thread does, and the database file receives what was committed.
 */
describe('background WAL checkpoints (SQLite)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tempFile = () => {
    const dir = mkdtempSync(join(tmpdir(), 'postline-ckpt-'));
    dirs.push(dir);
    return join(dir, 'x.db');
  };
  const until = async (what: () => boolean, ms = 10_000) => {
    for (const end = Date.now() + ms; !what(); await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > end) throw new Error('timed out');
    }
  };

  it('copies committed pages into the database file while the writing connection never checkpoints', async () => {
    const file = tempFile();
    const raw = new BetterSqlite3(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('wal_autocheckpoint = 0');
    raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
    const sizeBefore = statSync(file).size;
    const ckpt = new BackgroundCheckpointer(file, 20);
    try {
      const insert = raw.prepare('INSERT INTO t (v) VALUES (?)');
      for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(16 * 1024, i));
      // 3.2 MB written; only a checkpoint moves it from the WAL into the database file.
      // (The thread's report of it arrives as a message, possibly after the file has grown.)
      await until(() => statSync(file).size > sizeBefore + 3_000_000 && ckpt.checkpoints > 0);
      expect(ckpt.last?.checkpointedFrames).toBeGreaterThan(0);
      expect(ckpt.lastError).toBeNull();
    } finally {
      await ckpt.close();
      raw.close();
    }
    const again = new BetterSqlite3(file);
    expect(again.prepare('SELECT count(*) AS n, sum(length(v)) AS bytes FROM t').get() as { n: number; bytes: number }).toEqual({
      n: 200,
      bytes: 200 * 16 * 1024,
    });
    again.close();
  });

  it('a migrated store checkpoints on its thread, keeps every row across close and reopen, and closes the thread', async () => {
    const file = tempFile();
    const store = new SqliteStore(file);
    expect(store.checkpointState()).toBeNull(); // before migrate(): SQLite's own checkpoints
    await store.migrate();
    const account = await store.tenancy.createAccount('ckpt', Date.now());
    for (let i = 0; i < 40; i++) {
      await store.inbound.commitMessages([
        {
          id: `m${String(i).padStart(4, '0')}`,
          mailFrom: 'a@example.net',
          remoteIp: '127.0.0.1',
          helo: null,
          receivedAt: Date.now(),
          raw: Buffer.alloc(100_000, i),
          posts: [],
        },
      ]);
    }
    // 4 MB committed; the database file holds it once the thread has checkpointed it.
    await until(() => statSync(file).size > 4_000_000 && (store.checkpointState()?.checkpoints ?? 0) > 0);
    expect(store.checkpointState()?.lastError).toBeNull();
    await store.close();
    const reopened = new SqliteStore(file);
    await reopened.migrate();
    try {
      expect((await reopened.tenancy.listAccounts()).find((a) => a.id === account.id)?.name).toBe('ckpt');
      expect((await reopened.inbound.messageRaw('m0039'))?.equals(Buffer.alloc(100_000, 39))).toBe(true);
    } finally {
      await reopened.close();
    }
  });

  it('a checkpoint that fails at every interval is reported once, not every time, and the thread still closes', async () => {
    // Not a database: the connection opens, and every checkpoint fails.
    const file = tempFile();
    writeFileSync(file, 'this is not an SQLite database, only text long enough to be read as a header '.repeat(20));
    const heard: string[] = [];
    const ckpt = new BackgroundCheckpointer(file, 10, (m) => heard.push(m));
    await until(() => heard.length > 0);
    await new Promise((r) => setTimeout(r, 200)); // about 20 more failed checkpoints
    await ckpt.close();
    // The failed open is one message, the ~20 failed checkpoints after it another: each heard once.
    expect(heard).toEqual([`cannot open ${file}: file is not a database`, 'file is not a database']);
    expect(ckpt.lastError).toBe('file is not a database');
    expect(ckpt.checkpoints).toBe(0);
  });

  it('a database that cannot be opened is reported, and close() still returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'postline-ckpt-'));
    dirs.push(dir);
    const heard: string[] = [];
    const ckpt = new BackgroundCheckpointer(dir, 10, (m) => heard.push(m));
    await until(() => heard.length > 0);
    await ckpt.close();
    expect(heard[0]).toMatch(/^cannot open /);
  });

  it("the checkpoint thread's work is in /metrics: checkpoints, WAL frames, and none of it for a store without the thread", async () => {
    const file = tempFile();
    const store = new SqliteStore(file);
    await store.migrate();
    try {
      const metrics = createMetrics(store);
      for (let i = 0; i < 20; i++) {
        await store.inbound.commitMessages([
          { id: `m${i}`, mailFrom: 'a@example.net', remoteIp: '127.0.0.1', helo: null, receivedAt: Date.now(), raw: Buffer.alloc(100_000, i), posts: [] },
        ]);
      }
      await until(() => (store.checkpointState()?.checkpoints ?? 0) > 0);
      const text = await metrics.registry.metrics();
      const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
      expect(value('postline_sqlite_checkpoints_total')).toBe(store.checkpointState()!.checkpoints);
      expect(value('postline_sqlite_wal_frames')).toBeGreaterThan(0);
      expect(value('postline_sqlite_checkpoint_errors_total')).toBe(0);
    } finally {
      await store.close();
    }
    const memory = new SqliteStore(':memory:');
    await memory.migrate();
    expect(await createMetrics(memory).registry.metrics()).not.toMatch(/postline_sqlite_/);
    await memory.close();
  });

  it("the checkpoint counters follow the thread's running totals, scrape after scrape", async () => {
    let state: CheckpointState = { checkpoints: 3, errors: 0, walFrames: 120, lastError: null };
    const store = { checkpointState: () => state, queue: { countRecipientsByStatus: async () => ({}) } } as unknown as Store;
    const metrics = createMetrics(store);
    const scrape = async () => {
      const text = await metrics.registry.metrics();
      return ['checkpoints_total', 'checkpoint_errors_total', 'wal_frames'].map((n) =>
        Number(new RegExp(`^postline_sqlite_${n} (\\d+)$`, 'm').exec(text)?.[1]),
      );
    };
    expect(await scrape()).toEqual([3, 0, 120]);
    state = { checkpoints: 5, errors: 2, walFrames: 40, lastError: 'disk I/O error' };
    expect(await scrape()).toEqual([5, 2, 40]);
    expect(await scrape()).toEqual([5, 2, 40]);
  });

  it('a short-lived store (a CLI command) starts no checkpoint thread, and what it writes is kept', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'postline-ckpt-'));
    dirs.push(dataDir);
    const cfg = { dataDir, databaseUrl: null, databasePoolSize: 1 };
    const cli = await openStore(cfg, undefined, { shortLived: true });
    expect(cli.checkpointState?.()).toBeNull();
    const account = await cli.tenancy.createAccount('from the CLI', Date.now());
    await cli.close();
    const server = await openStore(cfg);
    try {
      expect(server.checkpointState?.()).toEqual({ checkpoints: 0, errors: 0, walFrames: 0, lastError: null });
      expect((await server.tenancy.listAccounts()).find((a) => a.id === account.id)?.name).toBe('from the CLI');
    } finally {
      await server.close();
    }
  });

  it(":memory: keeps SQLite's own checkpoints (there is no file to share with a thread)", async () => {
    const store = new SqliteStore(':memory:');
    await store.migrate();
    expect(store.checkpointState()).toBeNull();
    await store.close();
  });
});
