import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from '../schema.js';
import { SqlStore } from '../sql-store.js';
import { PostgresQueueRepository, PostgresWebhookRepository } from './postgres-areas.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';

// BIGINT columns hold epoch milliseconds and ids, all far below 2^53: read them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

/** Key of the advisory lock that serialises migrations when several processes start together. */
const MIGRATION_LOCK_KEY = 7_420_001;

/**
 * The shared store: several Postline processes on several machines use one PostgreSQL as store,
 * queue (FOR UPDATE SKIP LOCKED) and coordination point.
 */
export class PostgresStore extends SqlStore {
  private readonly pool: pg.Pool;

  constructor(url: string, poolSize = 10) {
    const pool = new pg.Pool({ connectionString: url, max: poolSize });
    // An idle connection the server closes (restart, failover, DROP DATABASE) is re-emitted by the
    // pool as 'error'; unhandled, that would crash the process. The pool discards that client and
    // the next query opens a new one, so there is nothing more to do here.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    super(db, 'postgres', { queue: new PostgresQueueRepository(db), webhooks: new PostgresWebhookRepository(db) });
    this.pool = pool;
  }

  override async close(): Promise<void> {
    await super.close();
    // Kysely ends the pool only if a Kysely query ever ran; a CLI command that fails after
    // migrate() (which uses the pool directly) would otherwise keep the process alive until
    // the idle client times out (10 s).
    if (!this.pool.ended && !this.pool.ending) await this.pool.end();
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const applied = new Set((await client.query<{ id: number }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
      for (const m of POSTGRES_MIGRATIONS) {
        if (applied.has(m.id)) continue;
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [m.id, m.name, Date.now()]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
