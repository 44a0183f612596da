import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { SqlStore } from '../sql-store.js';
import { SqliteQueueRepository, SqliteRetentionRepository, SqliteWebhookRepository } from './sqlite-areas.js';
import type { CheckpointState } from '../store.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { withStatementCache } from './statement-cache.js';
import { BackgroundCheckpointer } from './background-checkpoint.js';
import { DurableSqliteDialect, WalSync } from './wal-sync.js';
import { WAL_GATE_DEFAULTS, WalGate, type WalGateOptions } from './wal-gate.js';

/** journal_size_limit: twice the WAL gate's bound, so the WAL of a steady load is reused, not cut and regrown. */
const WAL_SIZE_LIMIT_BYTES = 128 * 1024 * 1024;

/** PRAGMA auto_vacuum's value for INCREMENTAL. */
const INCREMENTAL = 2;

/**
 * The embedded store: one SQLite file in WAL mode. A write's promise resolves only once the
 * commit is on disk (see WalSync: the fsync runs off the event loop, shared by concurrent
 * commits). One process owns the file.
 */
export class SqliteStore extends SqlStore {
  private readonly raw: BetterSqlite3.Database;
  /** Checkpoints off the event loop, from the end of migrate() (background-checkpoint.ts); none for :memory:. */
  private checkpointer: BackgroundCheckpointer | null = null;
  private readonly gateRef: { gate: WalGate | null };

  /**
   * `onCheckpointError`: told when a background checkpoint fails (the WAL then grows until one
   * succeeds; no data is at risk). `backgroundCheckpoints: false` keeps SQLite's own checkpoints
   * in the commits: for a short-lived connection such as a CLI command, whose few writes do not
   * pay for a thread.
   */
  constructor(
    private readonly file: string,
    private readonly opts: {
      onCheckpointError?: (message: string) => void;
      backgroundCheckpoints?: boolean;
      /** Tests: a smaller WAL bound, or none (maxFrames Infinity). */
      walGate?: Partial<WalGateOptions>;
    } = {},
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const raw = new BetterSqlite3(file);
    // Retention frees pages; INCREMENTAL lets `PRAGMA incremental_vacuum` hand them back to the
    // file system. Free for a new file (set before the first table); an older file is switched
    // once in migrate().
    const fresh = (raw.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n === 0;
    if (fresh) raw.pragma('auto_vacuum = INCREMENTAL');
    raw.pragma('journal_mode = WAL');
    // Durability comes from WalSync (an fdatasync of the WAL off the event loop before any write
    // resolves); :memory: has nothing to sync and keeps SQLite's own behaviour.
    raw.pragma(file === ':memory:' ? 'synchronous = FULL' : 'synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    // Other connections (the CLI while the server runs) wait for a lock instead of failing.
    raw.pragma('busy_timeout = 5000');
    // A restarted WAL is cut back to this size, so a burst (a 50 MB message) does not keep its disk space.
    raw.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    const db = withStatementCache(raw);
    // The WAL gate exists from migrate() on, with the checkpoint thread it waits for.
    const gateRef: { gate: WalGate | null } = { gate: null };
    const dialect = file === ':memory:' ? new SqliteDialect({ database: db }) : new DurableSqliteDialect(db, new WalSync(`${file}-wal`), () => gateRef.gate);
    const kysely = new Kysely<Database>({ dialect });
    super(kysely, 'sqlite', {
      queue: new SqliteQueueRepository(kysely, raw, db),
      webhooks: new SqliteWebhookRepository(kysely, raw, db),
      retention: new SqliteRetentionRepository(kysely),
    });
    this.raw = raw;
    this.gateRef = gateRef;
  }

  async migrate(): Promise<void> {
    this.raw.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const applied = new Set((this.raw.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id));
    for (const m of SQLITE_MIGRATIONS) {
      if (applied.has(m.id)) continue;
      this.raw
        .transaction(() => {
          this.raw.exec(m.sql);
          this.raw.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, Date.now());
        })
        .immediate();
    }
    this.useIncrementalVacuum();
    if (this.file !== ':memory:' && this.opts.backgroundCheckpoints !== false && !this.checkpointer) {
      this.raw.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new BackgroundCheckpointer(this.file, undefined, this.opts.onCheckpointError);
      this.gateRef.gate = new WalGate(this.checkpointer, { ...WAL_GATE_DEFAULTS, ...this.opts.walGate });
    }
  }

  /** The WAL gate's counts (tests): null without the checkpoint thread. */
  walGateState(): { caughtUp: number; gaveUp: number } | null {
    const g = this.gateRef.gate;
    return g && { caughtUp: g.caughtUp, gaveUp: g.gaveUp };
  }

  /** The background checkpointer's state: null when this store checkpoints in its commits (:memory:, no background checkpoints, or before migrate()). */
  checkpointState(): CheckpointState | null {
    const c = this.checkpointer;
    return c && { checkpoints: c.checkpoints, errors: c.errors, walFrames: c.last?.walFrames ?? 0, lastError: c.lastError };
  }

  override async close(): Promise<void> {
    const checkpointer = this.checkpointer;
    this.checkpointer = null;
    this.gateRef.gate = null;
    await checkpointer?.close();
    await super.close();
  }

  /**
   * A database made before migration 13 has auto_vacuum NONE, and SQLite changes that only with
   * a VACUUM, which rewrites the whole file and cannot run inside the migration's transaction. So
   * it runs here, once, at the first start after the upgrade, before any role takes work: start-up
   * takes longer once (about the time to copy the file) instead of a retention pass blocking
   * sending later. A file already INCREMENTAL (every new one) skips it.
   */
  private useIncrementalVacuum(): void {
    if (Number(this.raw.pragma('auto_vacuum', { simple: true })) === INCREMENTAL) return;
    this.raw.pragma('auto_vacuum = INCREMENTAL');
    this.raw.exec('VACUUM');
    // The subject index (migration 26) is keyed by messages' rowids, which SQLite allows VACUUM
    // to renumber: read it again from the messages.
    this.raw.exec("INSERT INTO message_subjects(message_subjects) VALUES ('rebuild')");
  }
}
