import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/**
 * A database made before migration 13 has auto_vacuum NONE; the first open of this version
 * switches it to INCREMENTAL (one VACUUM) and keeps every row. (SQLite only: PostgreSQL has no such mode.)
 */
describe('SQLite: a database made without incremental auto-vacuum is switched at open', () => {
  it('auto_vacuum NONE -> INCREMENTAL, rows kept; a new database is INCREMENTAL from the start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'postline-upgrade-'));
    const file = join(dir, 'postline.db');
    try {
      const first = new SqliteStore(file);
      await first.migrate();
      const account = await first.tenancy.createAccount('kept', Date.now());
      await first.close();
      const check = (f: (raw: BetterSqlite3.Database) => unknown) => {
        const raw = new BetterSqlite3(file);
        try {
          return f(raw);
        } finally {
          raw.close();
        }
      };
      expect(check((raw) => raw.pragma('auto_vacuum', { simple: true }))).toBe(2);
      // As an older version left it.
      check((raw) => {
        raw.pragma('auto_vacuum = NONE');
        raw.exec('VACUUM');
      });
      expect(check((raw) => raw.pragma('auto_vacuum', { simple: true }))).toBe(0);

      const again = new SqliteStore(file);
      await again.migrate();
      expect((await again.tenancy.listAccounts()).map((a) => a.id)).toContain(account.id);
      await again.close();
      expect(check((raw) => raw.pragma('auto_vacuum', { simple: true }))).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
