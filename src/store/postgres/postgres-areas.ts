import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { StoredRecipient } from '../store.js';
import { toRecipient } from '../rows.js';
import { SqlQueueRepository } from '../queue.js';
import { SqlWebhookRepository } from '../webhooks.js';
import { heldByDeadWorker } from '../workers.js';
import type { ClaimLanes } from '../claim-lanes.js';

/** The queue on PostgreSQL: claims with FOR UPDATE SKIP LOCKED. */
export class PostgresQueueRepository extends SqlQueueRepository {
  constructor(db: Kysely<Database>) {
    super(db, 'postgres');
  }

  /**
   * SKIP LOCKED lets many workers in many processes claim disjoint batches without waiting. Each
   * candidate set is its own index-ordered query (an OR across statuses sorts every due row).
   * `stale`: claims older than staleBefore, or (given deadBefore) held by a worker the registry
   * no longer counts as live; the delivering rows are few (each worker holds at most maxInFlight).
   */
  async claim(workerId: string, limit: number, now: number, staleBefore: number, deadBefore?: number): Promise<StoredRecipient[]> {
    const dead = deadBefore === undefined ? sql<boolean>`FALSE` : heldByDeadWorker('recipients.locked_by', deadBefore, workerId);
    const res = await sql<Parameters<typeof toRecipient>[0]>`
      WITH stale AS (
        SELECT id FROM recipients WHERE status = 'delivering' AND (locked_at < ${staleBefore} OR ${dead})
        LIMIT ${limit} FOR UPDATE SKIP LOCKED),
      deferred AS (
        SELECT id FROM recipients WHERE status = 'deferred' AND next_attempt_at <= ${now}
        ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
      queued AS (
        SELECT id FROM recipients WHERE status = 'queued' AND next_attempt_at <= ${now}
        ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
      picked AS (
        SELECT id FROM (SELECT id, 0 AS o FROM stale UNION ALL SELECT id, 1 FROM deferred UNION ALL SELECT id, 2 FROM queued) c
        ORDER BY o LIMIT ${limit})
      UPDATE recipients SET status = 'delivering', locked_by = ${workerId}, locked_at = ${now}, updated_at = ${now}
      WHERE id IN (SELECT id FROM picked)
      RETURNING *`.execute(this.db);
    return res.rows.map(toRecipient);
  }
}

/** Webhooks on PostgreSQL: the outbox claim with FOR UPDATE SKIP LOCKED. */
export class PostgresWebhookRepository extends SqlWebhookRepository {
  /**
   * The webhook outbox claim: SKIP LOCKED so processes take disjoint batches. Each enabled
   * endpoint is a lane: a LATERAL subquery takes at most its room (`lanes`: what this process
   * does not hold of it yet) of its oldest due rows, so one endpoint's backlog cannot fill the
   * claim. A row waits while an earlier undelivered row of its endpoint and recipient exists
   * (claimed or not), so a recipient's events reach each endpoint in order.
   */
  protected async claimIds(workerId: string, limit: number, now: number, staleBefore: number, lanes: ClaimLanes, deadBefore?: number): Promise<number[]> {
    const dead = deadBefore === undefined ? sql<boolean>`FALSE` : heldByDeadWorker('d.locked_by', deadBefore, workerId);
    const held = [...lanes.held];
    const res = await sql<{ id: number }>`
      WITH held(endpoint_id, n) AS (
        SELECT * FROM unnest(${held.map(([id]) => id)}::bigint[], ${held.map(([, n]) => n)}::int[])),
      lanes AS (
        SELECT ep.id, ${lanes.perLane}::int - COALESCE(h.n, 0) AS room
        FROM webhook_endpoints ep LEFT JOIN held h ON h.endpoint_id = ep.id
        WHERE ep.enabled = 1 AND ${lanes.perLane}::int - COALESCE(h.n, 0) > 0),
      picked AS (
        SELECT c.id FROM lanes l CROSS JOIN LATERAL (
          SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
          WHERE d.endpoint_id = l.id AND d.status IN ('pending', 'failed') AND d.next_attempt_at <= ${now}
            AND (d.locked_at IS NULL OR d.locked_at < ${staleBefore} OR ${dead})
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id AND p.order_key = d.order_key
              AND p.id < d.id AND p.status IN ('pending', 'failed'))
          ORDER BY d.next_attempt_at LIMIT l.room
          FOR UPDATE OF d SKIP LOCKED) c
        ORDER BY c.next_attempt_at LIMIT ${limit})
      UPDATE webhook_deliveries SET locked_by = ${workerId}, locked_at = ${now}
      WHERE id IN (SELECT id FROM picked)
      RETURNING id`.execute(this.db);
    return res.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  }
}
