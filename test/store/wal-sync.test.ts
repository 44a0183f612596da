import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableSqliteDialect, WalSync } from '../../src/store/sqlite/wal-sync.js';

interface Db {
  t: { id: number; v: string };
}

describe('WalSync: SQLite commits made durable off the event loop', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function open() {
    const dir = mkdtempSync(join(tmpdir(), 'postline-wal-'));
    dirs.push(dir);
    const file = join(dir, 'x.db');
    const raw = new BetterSqlite3(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const wal = new WalSync(`${file}-wal`);
    const db = new Kysely<Db>({ dialect: new DurableSqliteDialect(raw, wal) });
    return { db, wal, raw };
  }

  it('syncs after an autocommit write and after a COMMIT, never for reads', async () => {
    const { db, wal } = open();
    await db.insertInto('t').values({ id: 1, v: 'a' }).execute();
    expect(wal.syncs).toBe(1);
    await db.selectFrom('t').selectAll().execute();
    expect(wal.syncs).toBe(1);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 2, v: 'b' }).execute();
      await trx.updateTable('t').set({ v: 'c' }).where('id', '=', 1).execute();
    });
    expect(wal.syncs).toBe(2); // one for the whole transaction, at its commit
    const failed = db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 3, v: 'd' }).execute();
      throw new Error('abort');
    });
    await expect(failed).rejects.toThrow('abort');
    expect(wal.syncs).toBe(2); // a rolled-back transaction has nothing to make durable
    expect((await db.selectFrom('t').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual([1, 2]);
    await db.destroy();
  });

  it('concurrent callers share fsyncs: many commits, few flushes, every caller answered after one that followed its commit', async () => {
    const { db, wal } = open();
    await Promise.all(Array.from({ length: 200 }, (_, i) => db.insertInto('t').values({ id: i, v: 'x' }).execute()));
    expect(wal.syncs).toBeGreaterThanOrEqual(1);
    expect(wal.syncs).toBeLessThan(200);
    expect(
      Number(
        (
          await db
            .selectFrom('t')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).toBe(200);
    await db.destroy();
  });

  it('a sync requested while one runs waits for a later one, and all requests made meanwhile share it', async () => {
    const { db, wal } = open();
    await db.insertInto('t').values({ id: 1, v: 'a' }).execute();
    const before = wal.syncs;
    const first = wal.sync();
    const second = wal.sync();
    const third = wal.sync();
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    await Promise.all([first, second, third]);
    expect(wal.syncs).toBe(before + 2);
    await db.destroy();
  });
});
