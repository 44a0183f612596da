import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';

/**
 * Which store this run tests: `npm test` runs SQLite (no service needed), `npm run test:pg`
 * (POSTLINE_TEST_STORE=postgres) runs the same files against the local PostgreSQL.
 */
export const TEST_STORE_KIND: 'sqlite' | 'postgres' = process.env.POSTLINE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const PG_ADMIN_URL = process.env.POSTLINE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  kind: 'sqlite' | 'postgres';
  /** What POSTLINE_DATABASE_URL should be for a process using this database (null: SQLite in dataDir). */
  databaseUrl: string | null;
  dataDir: string;
  open(): Promise<Store>;
  drop(): Promise<void>;
}

/** A fresh, empty database of the run's kind: a temp directory for SQLite, a new database on PostgreSQL. */
export async function createTestDb(kind = TEST_STORE_KIND): Promise<TestDb> {
  const dataDir = mkdtempSync(join(tmpdir(), 'postline-test-'));
  if (kind === 'sqlite') {
    return {
      kind,
      databaseUrl: null,
      dataDir,
      open: async () => {
        const s = new SqliteStore(join(dataDir, 'postline.db'));
        await s.migrate();
        return s;
      },
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `postline_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    kind,
    databaseUrl,
    dataDir,
    open: async () => {
      const s = new PostgresStore(databaseUrl, 5);
      await s.migrate();
      return s;
    },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
