import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';

/**
 * The statements of a retention pass (retention/pass.ts). Each call deletes at most `limit` rows
 * in one statement or one short transaction and returns how many it deleted; the pass calls it
 * again until fewer come back, yielding to other work between calls. Every range is read through
 * an index, and rows already deleted are gone from it, so a pass never rescans what it removed.
 *
 * Each call reads the rows it will delete first and writes only when there are some (the delete
 * checks the conditions again): on SQLite every write, even one that deletes nothing, waits for
 * its turn at the single writer and for an fsync of the WAL, which on a busy server is most of a pass.
 */
export interface RetentionQueries {
  /** Bodies (templates) of messages created before `cutoff` none of whose recipients is still queued, deferred or delivering. */
  deleteMessageBodies(cutoff: number, limit: number): Promise<number>;
  /** Received inbound messages (with their bytes, posts and attempts) received before `cutoff`, none of whose posts still waits. */
  deleteInboundMessages(cutoff: number, limit: number): Promise<number>;
  serverIds(): Promise<number[]>;
  /** Events of one server that occurred before `cutoff`. */
  deleteEvents(serverId: number, cutoff: number, limit: number): Promise<number>;
  /** Recipients (none in flight) of one server's messages created before `cutoff`. */
  deleteRecipients(serverId: number, cutoff: number, limit: number): Promise<number>;
  /** One server's messages created before `cutoff` that have no recipient left (and their bodies). */
  deleteMessages(serverId: number, cutoff: number, limit: number): Promise<number>;
  endpointIds(): Promise<number[]>;
  /** Delivered or given-up webhook outbox rows (with their attempts) of one endpoint for events before `cutoff`. */
  deleteWebhookDeliveries(endpointId: number, cutoff: number, limit: number): Promise<number>;
  /** Idempotency records created before `cutoff`. */
  deleteIdempotencyKeys(cutoff: number, limit: number): Promise<number>;
  /** Rows of a table that may not exist yet (the statistics rollups) whose `column` (epoch ms) is before `cutoff`; 0 when the table is missing. */
  deleteOldRowsIfTableExists(table: string, column: string, cutoff: number, limit: number): Promise<number>;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The smallest id core/ids.ts can make at `time`: ids are ULIDs (time first), so `id < floorId(t)`
 * selects exactly the ids made before t through the primary key. A monotonic id made in a
 * millisecond after its row's time sorts later, never earlier: such a row waits for a later pass.
 */
export function floorId(time: number): string {
  let t = Math.max(0, Math.floor(time));
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out + '0'.repeat(16);
}

const IN_FLIGHT = ['queued', 'deferred', 'delivering'];
const WAITING_POSTS = ['pending', 'failed'];
/** Table and column names that may be spliced into SQL (never from input, but checked anyway). */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function retentionQueries(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): RetentionQueries {
  const deleted = (r: { numDeletedRows: bigint } | undefined) => Number(r?.numDeletedRows ?? 0);
  /**
   * How to name one row of `table` in a DELETE (null while the table does not exist), looked up
   * once per table for these queries (a retention pass makes them once, then deletes in many
   * batches; the answer only changes with a migration).
   * A row's own key: ctid on PostgreSQL; on SQLite rowid, or the primary key of a WITHOUT ROWID
   * table (stats_hourly is one), compared as a row value.
   */
  const shapes = new Map<string, { rowKey: RawBuilder<unknown>; rowKeyList: RawBuilder<unknown> }>();
  async function rowKeyOf(table: string): Promise<{ rowKey: RawBuilder<unknown>; rowKeyList: RawBuilder<unknown> } | null> {
    const known = shapes.get(table);
    if (known) return known;
    const exists =
      dialect === 'sqlite'
        ? (await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${table}`.execute(db)).rows[0]!.n > 0
        : (await sql<{ t: string | null }>`SELECT to_regclass(${table})::text AS t`.execute(db)).rows[0]!.t !== null;
    if (!exists) return null;
    let rowKey = sql.raw('ctid');
    let rowKeyList = rowKey;
    if (dialect === 'sqlite') {
      const pk = (await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table}) WHERE pk > 0 ORDER BY pk`.execute(db)).rows.map((r) => r.name);
      const withoutRowid =
        (await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE name = ${table} AND sql LIKE '%WITHOUT ROWID%'`.execute(db)).rows[0]!.n > 0;
      const byPk = withoutRowid && pk.length > 0 && pk.every((n) => IDENTIFIER.test(n));
      rowKey = byPk ? sql.raw(`(${pk.join(', ')})`) : sql.raw('rowid');
      rowKeyList = byPk ? sql.raw(pk.join(', ')) : rowKey;
    }
    const shape = { rowKey, rowKeyList };
    shapes.set(table, shape);
    return shape;
  }

  return {
    async deleteMessageBodies(cutoff, limit) {
      const ids = (
        await db
          .selectFrom('message_bodies as b')
          .innerJoin('messages as m', 'm.id', 'b.message_id')
          .select('b.message_id')
          .where('b.message_id', '<', floorId(cutoff))
          .where('m.created_at', '<', cutoff)
          // Never the body a recipient still waits for: it is rendered at delivery time.
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('recipients as r').select('r.id').whereRef('r.message_id', '=', 'b.message_id').where('r.status', 'in', IN_FLIGHT))),
          )
          .orderBy('b.message_id')
          .limit(limit)
          .execute()
      ).map((r) => r.message_id);
      if (ids.length === 0) return 0;
      return deleted(
        await db
          .deleteFrom('message_bodies')
          .where('message_id', 'in', ids)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('recipients as r').select('r.id').whereRef('r.message_id', '=', 'message_bodies.message_id').where('r.status', 'in', IN_FLIGHT),
              ),
            ),
          )
          .executeTakeFirst(),
      );
    },
    async deleteInboundMessages(cutoff, limit) {
      const ids = (
        await db
          .selectFrom('inbound_messages as im')
          .select('im.id')
          .where('im.id', '<', floorId(cutoff))
          .where('im.received_at', '<', cutoff)
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('inbound_posts as p').select('p.id').whereRef('p.message_id', '=', 'im.id').where('p.status', 'in', WAITING_POSTS))),
          )
          .orderBy('im.id')
          .limit(limit)
          .execute()
      ).map((r) => r.id);
      if (ids.length === 0) return 0;
      return db.transaction().execute(async (trx) => {
        // Read again inside the transaction: a post may have been queued since (a replay).
        const still = (
          await trx
            .selectFrom('inbound_messages as im')
            .select('im.id')
            .where('im.id', 'in', ids)
            .where(({ not, exists, selectFrom }) =>
              not(exists(selectFrom('inbound_posts as p').select('p.id').whereRef('p.message_id', '=', 'im.id').where('p.status', 'in', WAITING_POSTS))),
            )
            .execute()
        ).map((r) => r.id);
        if (still.length === 0) return 0;
        // The bytes carry no foreign key (inbound/body-chunks.ts); posts and attempts go by cascade.
        await trx.deleteFrom('inbound_bodies').where('message_id', 'in', still).execute();
        return deleted(await trx.deleteFrom('inbound_messages').where('id', 'in', still).executeTakeFirst());
      });
    },
    async serverIds() {
      return (await db.selectFrom('servers').select('id').orderBy('id').execute()).map((r) => Number(r.id));
    },
    async deleteEvents(serverId, cutoff, limit) {
      const ids = (await db.selectFrom('events').select('id').where('server_id', '=', serverId).where('occurred_at', '<', cutoff).limit(limit).execute()).map(
        (r) => Number(r.id),
      );
      if (ids.length === 0) return 0;
      return deleted(await db.deleteFrom('events').where('id', 'in', ids).executeTakeFirst());
    },
    async deleteRecipients(serverId, cutoff, limit) {
      const ids = (
        await db
          .selectFrom('messages as m')
          .innerJoin('recipients as r', 'r.message_id', 'm.id')
          .select('r.id')
          .where('m.server_id', '=', serverId)
          .where('m.created_at', '<', cutoff)
          .where('r.status', 'not in', IN_FLIGHT)
          .limit(limit)
          .execute()
      ).map((r) => r.id);
      if (ids.length === 0) return 0;
      // A recipient retried since the read (an inbound report does not, but be exact) stays.
      return deleted(await db.deleteFrom('recipients').where('id', 'in', ids).where('status', 'not in', IN_FLIGHT).executeTakeFirst());
    },
    async deleteMessages(serverId, cutoff, limit) {
      const ids = (
        await db
          .selectFrom('messages as m')
          .select('m.id')
          .where('m.server_id', '=', serverId)
          .where('m.created_at', '<', cutoff)
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('recipients as r').select('r.id').whereRef('r.message_id', '=', 'm.id'))))
          .limit(limit)
          .execute()
      ).map((r) => r.id);
      if (ids.length === 0) return 0;
      return db.transaction().execute(async (trx) => {
        // Read again inside the transaction: a list send's expander may have added recipients since.
        const still = (
          await trx
            .selectFrom('messages as m')
            .select('m.id')
            .where('m.id', 'in', ids)
            .where(({ not, exists, selectFrom }) => not(exists(selectFrom('recipients as r').select('r.id').whereRef('r.message_id', '=', 'm.id'))))
            .execute()
        ).map((r) => r.id);
        if (still.length === 0) return 0;
        await trx.deleteFrom('message_bodies').where('message_id', 'in', still).execute();
        return deleted(await trx.deleteFrom('messages').where('id', 'in', still).executeTakeFirst());
      });
    },
    async endpointIds() {
      return (await db.selectFrom('webhook_endpoints').select('id').orderBy('id').execute()).map((r) => Number(r.id));
    },
    async deleteWebhookDeliveries(endpointId, cutoff, limit) {
      // UNIQUE (endpoint_id, event_uid) is the index; event uids are ids made at the event's time.
      const ids = (
        await db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('endpoint_id', '=', endpointId)
          .where('event_uid', '<', floorId(cutoff))
          .where('status', 'in', ['delivered', 'gave_up'])
          .limit(limit)
          .execute()
      ).map((r) => Number(r.id));
      if (ids.length === 0) return 0;
      return deleted(await db.deleteFrom('webhook_deliveries').where('id', 'in', ids).where('status', 'in', ['delivered', 'gave_up']).executeTakeFirst());
    },
    async deleteIdempotencyKeys(cutoff, limit) {
      // A day of keys at most (this keeps it so): a scan with LIMIT, no index on created_at to slow every accept.
      const rows = await db.selectFrom('idempotency_keys').select(['server_id', 'key']).where('created_at', '<', cutoff).limit(limit).execute();
      if (rows.length === 0) return 0;
      const byServer = new Map<number, string[]>();
      for (const r of rows) byServer.set(Number(r.server_id), [...(byServer.get(Number(r.server_id)) ?? []), r.key]);
      return db.transaction().execute(async (trx) => {
        let n = 0;
        for (const [serverId, keys] of byServer) {
          n += deleted(
            await trx
              .deleteFrom('idempotency_keys')
              .where('server_id', '=', serverId)
              .where('key', 'in', keys)
              .where('created_at', '<', cutoff)
              .executeTakeFirst(),
          );
        }
        return n;
      });
    },
    async deleteOldRowsIfTableExists(table, column, cutoff, limit) {
      if (!IDENTIFIER.test(table) || !IDENTIFIER.test(column)) throw new Error(`not an identifier: ${table}.${column}`);
      const shape = await rowKeyOf(table);
      if (!shape) return 0;
      const { rowKey, rowKeyList } = shape;
      const t = sql.table(table);
      const c = sql.ref(column);
      // A read first: with nothing that old (the usual case) no write is made.
      if ((await sql`SELECT 1 FROM ${t} WHERE ${c} < ${cutoff} LIMIT 1`.execute(db)).rows.length === 0) return 0;
      const res = await sql`DELETE FROM ${t} WHERE ${rowKey} IN (SELECT ${rowKeyList} FROM ${t} WHERE ${c} < ${cutoff} LIMIT ${limit})`.execute(db);
      return Number(res.numAffectedRows ?? 0);
    },
  };
}

/** Retention: the deletes of one pass, and giving freed space back. */
export interface RetentionRepository {
  /** The statements of a retention pass (retention/). */
  queries(): RetentionQueries;
  /** Makes the space deleted rows left reusable by the file system (SQLite: incremental vacuum); returns pages freed. */
  reclaimSpace(): Promise<number>;
}

/** Retention for both dialects; SQLite gives freed pages back (sqlite-store.ts). */
export class SqlRetentionRepository implements RetentionRepository {
  constructor(
    protected readonly db: Kysely<Database>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  queries(): RetentionQueries {
    return retentionQueries(this.db, this.kind);
  }

  /** PostgreSQL: (auto)vacuum makes deleted rows' space reusable; nothing to do here. SQLite overrides it. */
  async reclaimSpace(): Promise<number> {
    return 0;
  }
}
