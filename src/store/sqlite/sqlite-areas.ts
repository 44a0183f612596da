import type BetterSqlite3 from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { StoredRecipient } from '../store.js';
import { toRecipient } from '../rows.js';
import { SqlQueueRepository } from '../queue.js';
import { SqlWebhookRepository } from '../webhooks.js';
import { SqlRetentionRepository } from '../retention.js';
import { candidateLimit, fitToLanes, fullLanes, type ClaimLanes } from '../claim-lanes.js';

/**
 * A claim in column `lockedBy` held by no live worker other than the claiming one (workers.ts
 * heldByDeadWorker) as prepared-statement text with three parameters: deadBefore, the claiming
 * worker's id, deadBefore again; a null deadBefore turns the rule off.
 */
const SQLITE_HELD_BY_DEAD = (lockedBy: string): string =>
  `(? IS NOT NULL AND ${lockedBy} <> ? AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = ${lockedBy} AND w.heartbeat_at >= ?))`;

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

/** The queue on SQLite: claims in one IMMEDIATE transaction through cached statements. */
export class SqliteQueueRepository extends SqlQueueRepository {
  constructor(
    db: Kysely<Database>,
    private readonly raw: BetterSqlite3.Database,
    /** The same connection handing out cached statements: the claims run several times a second, and preparing them was measurable. */
    private readonly statements: BetterSqlite3.Database,
  ) {
    super(db, 'sqlite');
  }

  /**
   * SQLite has one writer at a time, so a claim inside one IMMEDIATE transaction cannot race.
   * Each candidate set is its own query in index order (status, next_attempt_at): one query with
   * OR over statuses made SQLite collect and sort every due row, O(queue) per claim. Delivering
   * rows are taken over when their claim is older than staleBefore or (given deadBefore) their
   * worker is not live in the registry: after a restart, the previous run's claims at once.
   */
  async claim(workerId: string, limit: number, now: number, staleBefore: number, deadBefore?: number): Promise<StoredRecipient[]> {
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
}

/** Webhooks on SQLite: the outbox claim in one IMMEDIATE transaction. */
export class SqliteWebhookRepository extends SqlWebhookRepository {
  constructor(
    db: Kysely<Database>,
    private readonly raw: BetterSqlite3.Database,
    private readonly statements: BetterSqlite3.Database,
  ) {
    super(db);
  }

  /**
   * The webhook outbox claim, in one IMMEDIATE transaction as above. Each enabled endpoint is a
   * lane: a correlated subquery reads at most `lanes.perLane` of its oldest due rows, and
   * fitToLanes trims the lanes this process already holds some of (SQLite's LIMIT cannot depend
   * on the outer row). A row waits while an earlier undelivered row of its endpoint and recipient
   * exists (claimed or not), so a recipient's events reach each endpoint in order.
   */
  protected async claimIds(workerId: string, limit: number, now: number, staleBefore: number, lanes: ClaimLanes, deadBefore?: number): Promise<number[]> {
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

/** Retention on SQLite: freed pages go back to the file system (the file is INCREMENTAL, see SqliteStore). */
export class SqliteRetentionRepository extends SqlRetentionRepository {
  constructor(db: Kysely<Database>) {
    super(db, 'sqlite');
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
}
