/**
 * Reporting rollups, written once with Kysely for both dialects: the hourly counters that
 * insertEvents increments in the transaction that inserts the events, the rebuild that
 * recomputes them from the events table, and the one read the statistics API makes.
 * What an event counts for is decided in core/report-metrics.ts (pure).
 */
import type { EventReportQuery, EventReportRow } from './event-reports.js';
import type { RecipientDetailData, RecipientSearchQuery, RecipientSearchRow } from './search.js';
import { sql, type Insertable, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database, EventsTable } from './schema.js';
import {
  columnOf,
  countsOf,
  dimsOf,
  hourOf,
  STORED_METRICS,
  type Dim,
  type EventFacts,
  type FirstCandidate,
  type MessageFacts,
  type StoredMetric,
} from '../core/report-metrics.js';
import * as search from './search.js';
import * as eventReports from './event-reports.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Ids per IN (...) list (facts look-ups, first-open updates: two bound parameters per id at most). */
const ID_CHUNK = 500;
/** Rows per multi-row upsert (27 columns): far under both dialects' bound-parameter limits. */
const UPSERT_CHUNK_ROWS = 500;
const COLUMNS = STORED_METRICS.map(columnOf);
const METRIC_INDEX = new Map<StoredMetric, number>(STORED_METRICS.map((m, i) => [m, i]));
/** Event types whose counts depend on their data (countsOf). */
const DATA_READ = new Set(['Failed', 'Tracking']);
/** Events per batch while rebuilding: bounds memory whatever the size of the events table. */
export const REBUILD_BATCH = 10_000;

/** The facts of an event's recipient and message, keyed by recipient id. */
export type FactsByRecipient = ReadonlyMap<string, EventFacts>;

/** Looks up the facts of recipients the caller did not have: one query per 500 recipients, never one per event. */
async function loadFacts(db: Db, recipientIds: readonly string[]): Promise<Map<string, EventFacts>> {
  const out = new Map<string, EventFacts>();
  const messageFacts = new Map<string, MessageFacts>();
  for (let i = 0; i < recipientIds.length; i += ID_CHUNK) {
    const rows = await db
      .selectFrom('recipients as r')
      .innerJoin('messages as m', 'm.id', 'r.message_id')
      .select(['r.id', 'r.mailing_id', 'r.domain', 'r.message_id', 'm.from_address', 'm.tags', 'm.metadata'])
      .where('r.id', 'in', recipientIds.slice(i, i + ID_CHUNK))
      .execute();
    for (const r of rows) {
      let m = messageFacts.get(r.message_id);
      if (!m) {
        m = { tags: JSON.parse(r.tags) as string[], metadata: JSON.parse(r.metadata) as MessageFacts['metadata'], fromAddress: r.from_address };
        messageFacts.set(r.message_id, m);
      }
      out.set(r.id, { message: m, mailingId: r.mailing_id, rcptDomain: r.domain });
    }
  }
  return out;
}

const FIRST_COLUMN = {
  open: { any: 'first_open_at', human: 'first_human_open_at' },
  click: { any: 'first_click_at', human: 'first_human_click_at' },
} as const;
const UNIQUE_METRIC: Record<FirstCandidate['kind'], { any: StoredMetric; human: StoredMetric }> = {
  open: { any: 'uniqueOpens', human: 'uniqueOpensHuman' },
  click: { any: 'uniqueClicks', human: 'uniqueClicksHuman' },
};
type FirstColumn = (typeof FIRST_COLUMN)[keyof typeof FIRST_COLUMN][keyof (typeof FIRST_COLUMN)['open']];

/**
 * Sets `column` for the recipients that have none yet and answers which ones it set: those
 * events are their recipients' first, and count as unique. `UPDATE ... WHERE column IS NULL`
 * decides it in the database, so two processes recording opens of one recipient cannot both
 * count it. Ids are updated in sorted order (PostgreSQL row locks taken in one order everywhere).
 */
async function markFirsts(db: Db, column: FirstColumn, at: Map<string, number>): Promise<Set<string>> {
  const set = new Set<string>();
  const ids = [...at.keys()].sort();
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const part = ids.slice(i, i + ID_CHUNK);
    // Each recipient gets its own event's time (integers made here, written as literals so
    // PostgreSQL need not guess a parameter's type); UPDATE ... FROM works on both dialects.
    const values = sql.join(part.map((id) => sql`(${id}, ${sql.lit(Math.trunc(at.get(id)!))})`));
    const col = sql.ref(column);
    const res = await sql<{ id: string }>`WITH v(id, at) AS (VALUES ${values})
      UPDATE recipients SET ${col} = v.at FROM v WHERE recipients.id = v.id AND ${sql.ref(`recipients.${column}`)} IS NULL
      RETURNING recipients.id`.execute(db);
    for (const r of res.rows) set.add(r.id);
  }
  return set;
}

/** One row of counters to add: its key (server, dim, value, hour) and a count per STORED_METRICS entry. */
interface Increment {
  key: [number, string, string, number];
  n: number[];
}
/**
 * Increments of a batch (or of a whole rebuild): by server and hour, then by dimension key (the
 * strings dimsOf caches per facts object, so most look-ups hash nothing new).
 */
type Sums = Map<string, Map<string, Increment>>;
const incrementsOf = (sums: Sums): Increment[] => [...sums.values()].flatMap((m) => [...m.values()]);

function compareKeys(a: Increment['key'], b: Increment['key']): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/**
 * Adds events to the rollups (call inside the transaction that inserts them). `facts` gives what
 * callers already hold (the accept path has every recipient and message in memory); the others
 * are looked up in batches. The batch is aggregated in memory first and upserted in one sorted
 * key order, so concurrent transactions on PostgreSQL lock counter rows in the same order and
 * cannot deadlock on them.
 */
export async function addToRollups(db: Db, events: readonly Insertable<EventsTable>[], facts?: FactsByRecipient): Promise<void> {
  if (events.length === 0) return;
  const sums: Sums = new Map();
  await collect(db, events, facts, sums);
  await upsertCounters(db, incrementsOf(sums));
}

/** Adds the counters of `events` to `sums` (marking first opens and clicks in the database as it goes). */
async function collect(db: Db, events: readonly Insertable<EventsTable>[], facts: FactsByRecipient | undefined, sums: Sums): Promise<void> {
  // Only Failed and Tracking counts depend on the data: the others' JSON is not parsed.
  const counted = events
    .map((e) => ({
      e,
      c: countsOf(e.type, DATA_READ.has(e.type) && typeof e.data === 'string' ? (JSON.parse(e.data) as Record<string, unknown>) : null),
    }))
    .filter((x) => x.c.metrics.length > 0);
  if (counted.length === 0) return;

  const missing = [...new Set(counted.flatMap(({ e }) => (e.recipient_id && !facts?.has(e.recipient_id) ? [e.recipient_id] : [])))];
  const looked = missing.length > 0 ? await loadFacts(db, missing) : new Map<string, EventFacts>();
  const factsOf = (id: string | null | undefined): EventFacts | null => (id ? (facts?.get(id) ?? looked.get(id) ?? null) : null);

  // Unique opens and clicks: per column, each recipient's first candidate of this batch.
  const candidates = new Map<FirstColumn, Map<string, number>>();
  for (const { e, c } of counted) {
    if (!c.first || !e.recipient_id) continue;
    const cols = FIRST_COLUMN[c.first.kind];
    for (const col of c.first.human ? [cols.any, cols.human] : [cols.any]) {
      let m = candidates.get(col);
      if (!m) candidates.set(col, (m = new Map()));
      if (!m.has(e.recipient_id)) m.set(e.recipient_id, Number(e.occurred_at));
    }
  }
  const firsts = new Map<FirstColumn, Set<string>>();
  for (const [col, at] of candidates) firsts.set(col, await markFirsts(db, col, at));
  const claimed = new Set<string>(); // column|recipient: only the batch's first candidate takes the unique count

  const add = (byDim: Map<string, Increment>, server: number, dimKey: string, dim: Dim, value: string, hour: number, metrics: readonly number[]): void => {
    let cur = byDim.get(dimKey);
    if (!cur) byDim.set(dimKey, (cur = { key: [server, dim, value, hour], n: new Array<number>(STORED_METRICS.length).fill(0) }));
    for (const m of metrics) cur.n[m]!++;
  };
  for (const { e, c } of counted) {
    const metrics = [...c.metrics];
    if (c.first && e.recipient_id) {
      const cols = FIRST_COLUMN[c.first.kind];
      const unique = UNIQUE_METRIC[c.first.kind];
      for (const [col, metric] of [[cols.any, unique.any], ...(c.first.human ? [[cols.human, unique.human]] : [])] as [FirstColumn, StoredMetric][]) {
        const tag = `${col}|${e.recipient_id}`;
        if (firsts.get(col)?.has(e.recipient_id) && !claimed.has(tag)) {
          claimed.add(tag);
          metrics.push(metric);
        }
      }
    }
    const server = Number(e.server_id);
    const hour = hourOf(Number(e.occurred_at));
    const at = `${server}|${hour}`;
    let byDim = sums.get(at);
    if (!byDim) sums.set(at, (byDim = new Map()));
    const indexes = metrics.map((m) => METRIC_INDEX.get(m)!);
    for (const [dim, value, dimKey] of dimsOf(factsOf(e.recipient_id))) add(byDim, server, dimKey, dim, value, hour, indexes);
  }
}

/** The upsert's fixed SQL, made once from the column names (constants, never input). */
const INSERT_COLUMNS = sql.raw(['server_id', 'dim', 'dim_value', 'hour_start', ...COLUMNS].join(', '));
const ADD_EXCLUDED = sql.raw(COLUMNS.map((c) => `${c} = stats_hourly.${c} + excluded.${c}`).join(', '));

/**
 * Upserts counter rows in sorted key order. Written as one SQL template rather than Kysely's
 * insert builder: its per-value parsing of 27 columns a row was most of the rollups' cost on the
 * accept path.
 */
async function upsertCounters(db: Db, increments: Increment[]): Promise<void> {
  increments.sort((a, b) => compareKeys(a.key, b.key));
  for (let i = 0; i < increments.length; i += UPSERT_CHUNK_ROWS) {
    const rows = increments.slice(i, i + UPSERT_CHUNK_ROWS).map(({ key, n }) => sql`(${sql.join([...key, ...n])})`);
    await sql`INSERT INTO stats_hourly (${INSERT_COLUMNS}) VALUES ${sql.join(rows)}
      ON CONFLICT (server_id, dim, dim_value, hour_start) DO UPDATE SET ${ADD_EXCLUDED}`.execute(db);
  }
}

/**
 * Recomputes the rollups (of one server, or of all) from the events table, in the caller's
 * transaction: the counters and the recipients' first open/click marks are cleared, then every
 * event is added again in id order through addToRollups, the live path's own code.
 *
 * On PostgreSQL it first locks `recipients` (SHARE ROW EXCLUSIVE) and then `stats_hourly`
 * (EXCLUSIVE), the order every event writer takes them in: a writer that started earlier
 * finishes first, later ones wait for the rebuild, and an event the rebuild cannot see cannot
 * have been counted before it either. SQLite has one writer at a time anyway.
 */
export async function rebuildRollups(
  trx: Transaction<Database>,
  kind: 'sqlite' | 'postgres',
  serverId: number | null,
  batch = REBUILD_BATCH,
): Promise<{ events: number }> {
  if (kind === 'postgres') {
    await sql`LOCK TABLE recipients IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
    await sql`LOCK TABLE stats_hourly IN EXCLUSIVE MODE`.execute(trx);
  }
  let clear = trx.deleteFrom('stats_hourly');
  if (serverId !== null) clear = clear.where('server_id', '=', serverId);
  await clear.execute();
  let reset = trx
    .updateTable('recipients')
    .set({ first_open_at: null, first_human_open_at: null, first_click_at: null, first_human_click_at: null })
    .where((eb) => eb.or([eb('first_open_at', 'is not', null), eb('first_click_at', 'is not', null)]));
  if (serverId !== null) reset = reset.where('server_id', '=', serverId);
  await reset.execute();

  // Summed over the whole rebuild and written once: events are in id order, not time order, so
  // one batch's counters would hardly ever share a row with the next's.
  const sums: Sums = new Map();
  let after = 0;
  let total = 0;
  for (;;) {
    let q = trx
      .selectFrom('events')
      .select(['id', 'uid', 'server_id', 'message_id', 'recipient_id', 'type', 'occurred_at', 'data'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(batch);
    if (serverId !== null) q = q.where('server_id', '=', serverId);
    const rows = await q.execute();
    if (rows.length === 0) break;
    await collect(trx, rows, undefined, sums);
    total += rows.length;
    after = Number(rows[rows.length - 1]!.id);
    if (rows.length < batch) break;
  }
  await upsertCounters(trx, incrementsOf(sums));
  return { events: total };
}

/** How rows are grouped into buckets: by UTC hour, or by local day under the given UTC offsets. */
export type RollupGrouping =
  | { by: 'hour' }
  /** Offsets (ms) in force from each `from` (UTC ms) on; the first applies before its `from` too. */
  | { by: 'day'; offsets: readonly { from: number; offsetMs: number }[] };

export interface RollupQuery {
  /** One server's rollups, or (`{ accountId }`) the sum over every server of that account: the panel's account overview. */
  serverId: number | { accountId: number };
  dim: Dim;
  dimValue: string;
  /** Whole UTC hours: fromHour <= hour_start < toHour. */
  fromHour: number;
  toHour: number;
  grouping: RollupGrouping;
}

/** Summed counters of one bucket key: the hour's start (UTC ms) or the local day's number (days since 1970-01-01 in that zone). */
export interface RollupRow {
  key: number;
  counts: Record<StoredMetric, number>;
}

export const DAY_MS = 86_400_000;

/**
 * The counters of one dimension value over a range, summed per bucket key in SQL, ordered by
 * key: one range of the primary key (server, dim, value, hour), read once (an account: one such
 * range per server of the account, in the same query).
 * Local days are computed in SQL from the hour and the zone's offsets (integer division on
 * both dialects), so a year of day buckets is a few thousand rows, not every hour.
 */
export async function readRollups(db: Db, q: RollupQuery): Promise<RollupRow[]> {
  let keyExpr: RawBuilder<number>;
  if (q.grouping.by === 'hour') keyExpr = sql<number>`hour_start`;
  else {
    const [first, ...rest] = q.grouping.offsets;
    if (!first) throw new Error('readRollups: day grouping needs at least one offset');
    // Offsets and boundaries are integers computed by the caller: written as literals.
    const offset =
      rest.length === 0
        ? sql.lit(first.offsetMs)
        : sql`CASE ${sql.join(
            rest.map((s, i) => sql`WHEN hour_start < ${sql.lit(s.from)} THEN ${sql.lit(i === 0 ? first.offsetMs : rest[i - 1]!.offsetMs)}`),
            sql` `,
          )} ELSE ${sql.lit(rest[rest.length - 1]!.offsetMs)} END`;
    keyExpr = sql<number>`(hour_start + ${offset}) / ${sql.lit(DAY_MS)}`;
  }
  const rows = (await db
    .selectFrom('stats_hourly')
    .select([keyExpr.as('k'), ...COLUMNS.map((c) => sql<number>`SUM(${sql.ref(c)})`.as(c))])
    .where((eb) =>
      typeof q.serverId === 'number'
        ? eb('server_id', '=', q.serverId)
        : eb('server_id', 'in', eb.selectFrom('servers').select('id').where('account_id', '=', q.serverId.accountId)),
    )
    .where('dim', '=', q.dim)
    .where('dim_value', '=', q.dimValue)
    .where('hour_start', '>=', q.fromHour)
    .where('hour_start', '<', q.toHour)
    .groupBy(sql`k`)
    .orderBy(sql`k`)
    .execute()) as unknown as Record<string, number | string>[];
  return rows.map((r) => ({
    key: Number(r.k),
    counts: Object.fromEntries(STORED_METRICS.map((m, i) => [m, Number(r[COLUMNS[i]!])])) as Record<StoredMetric, number>,
  }));
}

/** What the reports read: statistics rollups, the recipient search with message detail, and event lists. */
export interface ReportRepository {
  // Reporting (store/reports.ts): rollups kept by insertEvents.
  /** The summed hourly counters of one dimension value over a range, per metric and bucket key. */
  readRollups(q: RollupQuery): Promise<RollupRow[]>;
  /** Recomputes the rollups of one server (or all, null) from the events table, in one transaction. */
  rebuildRollups(serverId: number | null): Promise<{ events: number }>;
  /**
   * Recipient search and message detail (store/search.ts; api/v2/reports/). Every call
   * takes the serverId and reads only that server's rows.
   */
  searchRecipients(serverId: number, query: RecipientSearchQuery, page: search.RecipientSearchPage): Promise<search.RecipientSearchResult>;
  /** Every matching row in order, `batchSize` per batch, by keyset (CSV export). */
  streamRecipientSearch(serverId: number, query: RecipientSearchQuery, batchSize: number): AsyncGenerator<RecipientSearchRow[]>;
  /** The server's recipients among `recipientIds`, their events in order and their messages' templates (while retained). */
  loadRecipientDetail(serverId: number, recipientIds: readonly string[]): Promise<RecipientDetailData>;
  /** A page of the server's events of some types in a time range, oldest first, with their messages and recipients (store/event-reports.ts). */
  searchEvents(serverId: number, query: EventReportQuery, page: { limit: number; offset: number }): Promise<{ rows: EventReportRow[]; total: number }>;
}

/** Reports for both dialects. */
export class SqlReportRepository implements ReportRepository {
  constructor(
    protected readonly db: Kysely<Database>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  // Recipient search and message detail (store/search.ts), event lists (store/event-reports.ts).
  searchRecipients(serverId: number, query: search.RecipientSearchQuery, page: search.RecipientSearchPage): Promise<search.RecipientSearchResult> {
    return search.searchRecipients(this.db, this.kind, serverId, query, page);
  }

  streamRecipientSearch(serverId: number, query: search.RecipientSearchQuery, batchSize: number): AsyncGenerator<search.RecipientSearchRow[]> {
    return search.streamRecipientSearch(this.db, this.kind, serverId, query, batchSize);
  }

  loadRecipientDetail(serverId: number, recipientIds: readonly string[]): Promise<search.RecipientDetailData> {
    return search.loadRecipientDetail(this.db, serverId, recipientIds);
  }

  searchEvents(
    serverId: number,
    query: eventReports.EventReportQuery,
    page: { limit: number; offset: number },
  ): Promise<{ rows: eventReports.EventReportRow[]; total: number }> {
    return eventReports.searchEvents(this.db, serverId, query, page);
  }

  readRollups(q: RollupQuery): Promise<RollupRow[]> {
    return readRollups(this.db, q);
  }

  rebuildRollups(serverId: number | null): Promise<{ events: number }> {
    return this.db.transaction().execute((trx) => rebuildRollups(trx, this.kind, serverId));
  }
}
