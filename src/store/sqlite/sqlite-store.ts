import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from '../schema.js';
import { SqlStore, toRecipient } from '../sql-store.js';
import type { CheckpointState, StoredRecipient } from '../store.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { withStatementCache } from './statement-cache.js';
import { BackgroundCheckpointer } from './background-checkpoint.js';
import { DurableSqliteDialect, WalSync } from './wal-sync.js';
import { WAL_GATE_DEFAULTS, WalGate, type WalGateOptions } from './wal-gate.js';
import { candidateLimit, fitToLanes, fullLanes, type ClaimLanes } from '../claim-lanes.js';

/** journal_size_limit: twice the WAL gate's bound, so the WAL of a steady load is reused, not cut and regrown. */
const WAL_SIZE_LIMIT_BYTES = 128 * 1024 * 1024;

/**
 * A claim in column `lockedBy` held by no live worker other than the claiming one (workers.ts
 * heldByDeadWorker) as prepared-statement text with three parameters: deadBefore, the claiming
 * worker's id, deadBefore again; a null deadBefore turns the rule off.
 */
const SQLITE_HELD_BY_DEAD = (lockedBy: string): string =>
  `(? IS NOT NULL AND ${lockedBy} <> ? AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = ${lockedBy} AND w.heartbeat_at >= ?))`;

/** PRAGMA auto_vacuum's value for INCREMENTAL. */
const INCREMENTAL = 2;
/** Pages one incremental_vacuum statement frees (4 KiB each: 8 MiB), so the write lock is held briefly. */
const RECLAIM_PAGES_PER_STEP = 2_000;

/**
 * The webhook claim's candidates, a lane per enabled endpoint (exported so a test can check its
 * plan). Parameters: full endpoints (JSON array), now, staleBefore, the dead-worker rule's three
 * (SQLITE_HELD_BY_DEAD), rows per lane, limit. CROSS JOIN
 * keeps endpoints the outer loop (SQLite does not reorder it): each lane's subquery runs once per
 * endpoint, a range of webhook_deliveries_lane, never once per outbox row.
 */
export const WEBHOOK_LANE_CANDIDATES_SQL = `SELECT d.id, d.endpoint_id AS lane FROM webhook_endpoints ep
      CROSS JOIN webhook_deliveries d
      WHERE ep.enabled = 1 AND ep.id NOT IN (SELECT value FROM json_each(?)) AND d.id IN (
        SELECT x.id FROM webhook_deliveries x
        WHERE x.endpoint_id = ep.id AND x.status IN ('pending', 'failed') AND x.next_attempt_at <= ?
          AND (x.locked_at IS NULL OR x.locked_at < ? OR ${SQLITE_HELD_BY_DEAD('x.locked_by')})
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = x.endpoint_id AND p.order_key = x.order_key
            AND p.id < x.id AND p.status IN ('pending', 'failed'))
        ORDER BY x.next_attempt_at LIMIT ?)
      ORDER BY d.next_attempt_at LIMIT ?`;

/**
 * The embedded store: one SQLite file in WAL mode. A write's promise resolves only once the
 * commit is on disk (see WalSync: the fsync runs off the event loop, shared by concurrent
 * commits). One process owns the file.
 */
export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite' as const;
  private readonly raw: BetterSqlite3.Database;
  /** The same connection handing out cached statements: the claims run several times a second, and preparing them was measurable. */
  private readonly statements: BetterSqlite3.Database;
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
    super(new Kysely<Database>({ dialect }));
    this.raw = raw;
    this.statements = db;
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
  }

  /**
   * Returns free pages to the file system, at most RECLAIM_PAGES_PER_STEP per statement (each
   * holds the write lock), yielding between steps; returns how many pages were freed.
   */
  override async reclaimSpace(): Promise<number> {
    let freed = 0;
    for (;;) {
      const before = await this.freelistCount();
      if (before === 0) return freed;
      await sql.raw(`PRAGMA incremental_vacuum(${RECLAIM_PAGES_PER_STEP})`).execute(this.db);
      const after = await this.freelistCount();
      freed += before - after;
      if (after >= before) return freed;
      await new Promise((r) => setImmediate(r));
    }
  }

  private async freelistCount(): Promise<number> {
    return Number((await sql<{ freelist_count: number }>`PRAGMA freelist_count`.execute(this.db)).rows[0]?.freelist_count ?? 0);
  }

  /**
   * SQLite has one writer at a time, so a claim inside one IMMEDIATE transaction cannot race.
   * Each candidate set is its own query in index order (status, next_attempt_at): one query with
   * OR over statuses made SQLite collect and sort every due row, O(queue) per claim. Delivering
   * rows are taken over when their claim is older than staleBefore or (given deadBefore) their
   * worker is not live in the registry: after a restart, the previous run's claims at once.
   */
  async claimRecipients(workerId: string, limit: number, now: number, staleBefore: number, deadBefore?: number): Promise<StoredRecipient[]> {
    const stale = this.statements
      .prepare(`SELECT id FROM recipients WHERE status = 'delivering' AND (locked_at < ? OR ${SQLITE_HELD_BY_DEAD('recipients.locked_by')})
      LIMIT ?`)
      .pluck();
    const due = this.statements.prepare('SELECT id FROM recipients WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?').pluck();
    const claim = this.statements.prepare(`UPDATE recipients SET status = 'delivering', locked_by = ?, locked_at = ?, updated_at = ?
      WHERE id IN (SELECT value FROM json_each(?)) RETURNING *`);
    const rows = this.raw
      .transaction(() => {
        const ids = stale.all(staleBefore, deadBefore ?? null, workerId, deadBefore ?? null, limit) as string[];
        for (const status of ['deferred', 'queued']) {
          if (ids.length >= limit) break;
          ids.push(...(due.all(status, now, limit - ids.length) as string[]));
        }
        return ids.length === 0 ? [] : claim.all(workerId, now, now, JSON.stringify(ids));
      })
      .immediate();
    return (rows as Parameters<typeof toRecipient>[0][]).map(toRecipient);
  }

  /**
   * The webhook outbox claim, in one IMMEDIATE transaction as above. Each enabled endpoint is a
   * lane: a correlated subquery reads at most `lanes.perLane` of its oldest due rows, and
   * fitToLanes trims the lanes this process already holds some of (SQLite's LIMIT cannot depend
   * on the outer row). A row waits while an earlier undelivered row of its endpoint and recipient
   * exists (claimed or not), so a recipient's events reach each endpoint in order.
   */
  protected async claimWebhookDeliveryIds(
    workerId: string,
    limit: number,
    now: number,
    staleBefore: number,
    lanes: ClaimLanes,
    deadBefore?: number,
  ): Promise<number[]> {
    const due = this.statements.prepare(WEBHOOK_LANE_CANDIDATES_SQL);
    const claim = this.statements.prepare(`UPDATE webhook_deliveries SET locked_by = ?, locked_at = ?
      WHERE id IN (SELECT value FROM json_each(?))`);
    return this.raw
      .transaction(() => {
        const candidates = due.all(
          JSON.stringify(fullLanes(lanes)),
          now,
          staleBefore,
          deadBefore ?? null,
          workerId,
          deadBefore ?? null,
          lanes.perLane,
          candidateLimit(lanes, limit),
        ) as { id: number; lane: number }[];
        const ids = fitToLanes(candidates, limit, lanes)
          .map((c) => Number(c.id))
          .sort((a, b) => a - b);
        if (ids.length > 0) claim.run(workerId, now, JSON.stringify(ids));
        return ids;
      })
      .immediate();
  }
}
