/**
 * The worker registry: each claiming worker (delivery worker, webhook dispatcher, inbound poster)
 * of every process has a row with its heartbeat. A claim (`locked_by`) whose worker has no row, or
 * whose heartbeat is older than the caller's `deadBefore`, belongs to a dead process and may be
 * taken over at once; the claim-age rule (`staleBefore`) stays as the fallback.
 */
import { retryConflicts } from './conflict-retry.js';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { WorkerRegistration } from './store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Registrations whose heartbeat is this old are deleted when a worker registers (absence means dead too, so nothing changes but the table's size). */
export const WORKER_ROW_PRUNE_MS = 24 * 3_600_000;

const toRow = (w: WorkerRegistration, now: number) => ({
  id: w.id,
  kind: w.kind,
  hostname: w.hostname,
  pid: w.pid,
  started_at: w.startedAt,
  heartbeat_at: now,
});

/** Inserts or refreshes the workers' rows with heartbeat `now`. */
export async function heartbeat(db: Db, workers: readonly WorkerRegistration[], now: number): Promise<void> {
  if (workers.length === 0) return;
  await db
    .insertInto('workers')
    .values(workers.map((w) => toRow(w, now)))
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
    .execute();
}

/**
 * Registers workers at start. `sole`: this process is the only one using the store (SQLite owns
 * its file), so every other registration is a previous run's and is removed: its claims are taken
 * over at the first claim instead of after the dead-after time.
 */
export async function register(db: Db, workers: readonly WorkerRegistration[], now: number, sole: boolean): Promise<void> {
  const ids = workers.map((w) => w.id);
  let old = db.deleteFrom('workers');
  old = sole ? (ids.length > 0 ? old.where('id', 'not in', ids) : old) : old.where('heartbeat_at', '<', now - WORKER_ROW_PRUNE_MS);
  await old.execute();
  await heartbeat(db, workers, now);
}

export async function deregister(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom('workers').where('id', 'in', ids).execute();
}

export async function list(db: Db): Promise<(WorkerRegistration & { heartbeatAt: number })[]> {
  const rows = await db.selectFrom('workers').selectAll().orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind as WorkerRegistration['kind'],
    hostname: r.hostname,
    pid: Number(r.pid),
    startedAt: Number(r.started_at),
    heartbeatAt: Number(r.heartbeat_at),
  }));
}

/**
 * SQL condition: the claim in `lockedBy` (a qualified column, e.g. `recipients.locked_by`) belongs
 * to no live worker: none registered under that id with a heartbeat at or after deadBefore.
 * Works in both dialects (a correlated NOT EXISTS on the registry's primary key). A worker never
 * takes its own claims this way (`self`): it holds them in memory, and a heartbeat it could not
 * write (the database was away, or its clock jumped) must not make it deliver them a second time.
 */
export function heldByDeadWorker(lockedBy: string, deadBefore: number, self: string): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(lockedBy)} <> ${self} AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = ${sql.ref(lockedBy)} AND w.heartbeat_at >= ${deadBefore}))`;
}

/** The worker registry: who holds claims and whether they are alive. */
export interface WorkerRepository {
  /**
   * The worker registry (store/workers.ts). Registers this process's workers with heartbeat
   * `now`; `sole` (SQLite: one process owns the file) removes every other registration, so a
   * previous run's claims are taken over at once.
   */
  register(workers: readonly WorkerRegistration[], now: number, sole: boolean): Promise<void>;
  /** Refreshes the workers' heartbeats (re-inserting a row that was removed). */
  heartbeat(workers: readonly WorkerRegistration[], now: number): Promise<void>;
  /** Removes the workers' rows (graceful stop): what they still hold is taken over at once. */
  deregister(ids: readonly string[]): Promise<void>;
  list(): Promise<(WorkerRegistration & { heartbeatAt: number })[]>;
}

/** The worker registry for both dialects. */
export class SqlWorkerRepository implements WorkerRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  register(list: readonly WorkerRegistration[], now: number, sole: boolean): Promise<void> {
    return retryConflicts(() => this.db.transaction().execute((trx) => register(trx, list, now, sole)));
  }

  heartbeat(list: readonly WorkerRegistration[], now: number): Promise<void> {
    return retryConflicts(() => heartbeat(this.db, list, now));
  }

  deregister(ids: readonly string[]): Promise<void> {
    return deregister(this.db, ids);
  }

  list(): Promise<(WorkerRegistration & { heartbeatAt: number })[]> {
    return list(this.db);
  }
}
