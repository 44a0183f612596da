import type BetterSqlite3 from 'better-sqlite3';

/** Distinct SQL texts kept prepared; multi-row INSERTs vary by row count, so the set is bounded. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * Kysely's SQLite driver prepares every query anew; under load, preparing took 11% of the API
 * process's CPU in a profile of single-message injection. This view of the database hands out
 * cached statements instead (least recently used evicted). A prepared statement is only used
 * synchronously and one at a time on this single connection, so sharing it is safe.
 */
export function withStatementCache(db: BetterSqlite3.Database): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string): BetterSqlite3.Statement => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql); // re-insert: Map order is the LRU order
    } else {
      stmt = db.prepare(sql);
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, stmt);
    return stmt;
  };
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return prepare;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
