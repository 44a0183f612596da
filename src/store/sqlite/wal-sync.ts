import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { SqliteDialect, type CompiledQuery, type DatabaseConnection, type Driver } from 'kysely';

/**
 * Makes SQLite commits durable without blocking the event loop.
 *
 * With `synchronous=FULL`, SQLite fsyncs the WAL inside COMMIT, and better-sqlite3 is
 * synchronous, so every flush (~0.3 ms here, often more) stalled all SMTP and HTTP work: COMMIT
 * was 17% of the relay profile. Instead the connection runs `synchronous=NORMAL` (SQLite still
 * syncs the WAL around checkpoints and its header on reuse) and each write's caller awaits
 * `sync()`: an fdatasync of the WAL file on libuv's thread pool. Everything committed before the
 * call is on disk when it resolves, so "answered means durable" holds as before, and one fsync
 * covers every commit that came before it (concurrent callers share it).
 */
export class WalSync {
  private handle: Promise<FileHandle> | null = null;
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** fdatasync calls made (tests read it to check coalescing). */
  syncs = 0;

  constructor(private readonly walPath: string) {}

  /** Resolves once every transaction committed before this call is on disk. */
  sync(): Promise<void> {
    if (this.next) return this.next; // a sync that starts after our commit is already queued
    if (!this.running) return this.start();
    // The running fsync may have started before our commit: wait for it, then one more.
    this.next = this.running.then(
      () => {
        this.next = null;
        return this.start();
      },
      () => {
        this.next = null;
        return this.start();
      },
    );
    return this.next;
  }

  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    const h = this.handle;
    this.handle = null;
    if (h) await (await h).close().catch(() => undefined);
  }

  private start(): Promise<void> {
    const run = this.flush().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  private async flush(): Promise<void> {
    if (!this.handle) {
      // First sync: the WAL exists now (a commit happened). Its directory entry must be durable too.
      this.handle = open(this.walPath, 'r');
      this.handle.catch(() => {
        this.handle = null;
      });
      const dir = await open(dirname(this.walPath), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
    this.syncs++;
    await (await this.handle).datasync();
  }
}

/**
 * Kysely's SQLite dialect, with every write's promise resolving only after `wal.sync()`: a
 * COMMIT, or a writing statement outside a transaction (autocommit). Reads are untouched. The
 * wait happens after the connection is released, so other queries run during the fsync and
 * the next commits join the following one (group commit at the disk).
 */
export class DurableSqliteDialect extends SqliteDialect {
  /** `gate`: asked before each use of the connection whether the WAL must be brought back to its start first (wal-gate.ts). */
  constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly wal: WalSync,
    private readonly gate: () => ConnectionGate | null = () => null,
  ) {
    super({ database });
  }

  override createDriver(): Driver {
    return durableDriver(super.createDriver(), this.database, this.wal, this.gate);
  }
}

/** What the driver asks before handing out the connection (wal-gate.ts WalGate). */
export interface ConnectionGate {
  needed(): boolean;
  /** Runs with the connection held by the driver, so that no transaction is open meanwhile. */
  catchUp(): Promise<void>;
}

function durableDriver(inner: Driver, db: BetterSqlite3.Database, wal: WalSync, gate: () => ConnectionGate | null): Driver {
  let catchingUp: Promise<void> | null = null;
  // SQLite has one connection, used by one holder at a time: one flag says whether its current
  // holder wrote something that must be durable before the holder is answered.
  let wrote = false;
  const wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const unwrap = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const wrap = (conn: DatabaseConnection): DatabaseConnection => {
    const known = wrapped.get(conn);
    if (known) return known;
    const w: DatabaseConnection = {
      async executeQuery<R>(q: CompiledQuery) {
        const result = await conn.executeQuery<R>(q);
        // prepare() is served from the statement cache: no second parse.
        if (!db.inTransaction && !db.prepare(q.sql).readonly) wrote = true;
        return result;
      },
      streamQuery: (q, chunkSize) => conn.streamQuery(q, chunkSize),
    };
    wrapped.set(conn, w);
    unwrap.set(w, conn);
    return w;
  };
  const raw = (c: DatabaseConnection): DatabaseConnection => unwrap.get(c) ?? c;
  return {
    init: () => inner.init(),
    async acquireConnection() {
      const g = gate();
      if (!catchingUp && g?.needed()) {
        catchingUp = (async () => {
          const held = await inner.acquireConnection();
          try {
            await g.catchUp();
          } finally {
            await inner.releaseConnection(held);
          }
        })().finally(() => {
          catchingUp = null;
        });
      }
      // Queued behind the catch-up like any other holder of the connection.
      return wrap(await inner.acquireConnection());
    },
    beginTransaction: (c, settings) => inner.beginTransaction(raw(c), settings),
    async commitTransaction(c) {
      await inner.commitTransaction(raw(c));
      wrote = true;
    },
    // SQLite ends the transaction itself when a statement or the COMMIT fails with SQLITE_FULL
    // (or IOERR, NOMEM): a ROLLBACK then throws "no transaction is active", and Kysely would
    // report that instead of the error that mattered.
    rollbackTransaction: async (c) => {
      if (db.inTransaction) await inner.rollbackTransaction(raw(c));
    },
    savepoint: (c, name, compile) => inner.savepoint!(raw(c), name, compile),
    rollbackToSavepoint: (c, name, compile) => inner.rollbackToSavepoint!(raw(c), name, compile),
    releaseSavepoint: (c, name, compile) => inner.releaseSavepoint!(raw(c), name, compile),
    async releaseConnection(c) {
      const mustSync = wrote;
      wrote = false;
      await inner.releaseConnection(raw(c));
      if (mustSync) await wal.sync();
    },
    destroy: async () => {
      await inner.destroy();
      await wal.close();
    },
  };
}
