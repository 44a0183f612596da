import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import type { TestDb } from '../helpers/stores.js';

/**
 * Reads rows behind the store's back (its own connection), so a test computes what it expects
 * without the code under test. `?` placeholders on both stores.
 */
export async function query<T>(db: TestDb, text: string, params: unknown[] = []): Promise<T[]> {
  if (db.kind === 'sqlite') {
    const raw = new BetterSqlite3(join(db.dataDir, 'postline.db'));
    try {
      return raw.prepare(text).all(...params) as T[];
    } finally {
      raw.close();
    }
  }
  const c = new pg.Client({ connectionString: db.databaseUrl! });
  await c.connect();
  let i = 0;
  try {
    return (
      await c.query(
        text.replace(/\?/g, () => `$${++i}`),
        params,
      )
    ).rows as T[];
  } finally {
    await c.end();
  }
}

/** One recipient joined to its message, as the test's expectations are computed from. */
export interface RecipientFact {
  id: string;
  message_id: string;
  address: string;
  status: string;
  created_at: number;
  updated_at: number;
  mailing_id: string | null;
  custom_message_id: string | null;
  from_address: string;
  subject: string;
}
export async function recipientFacts(db: TestDb, serverId: number): Promise<RecipientFact[]> {
  const rows = await query<RecipientFact>(
    db,
    `SELECT r.id, r.message_id, r.address, r.status, r.created_at, r.updated_at, r.mailing_id,
    r.custom_message_id, m.from_address, m.subject FROM recipients r JOIN messages m ON m.id = r.message_id WHERE r.server_id = ?`,
    [serverId],
  );
  return rows.map((r) => ({ ...r, created_at: Number(r.created_at), updated_at: Number(r.updated_at) }));
}

/** Byte-order comparison (what both stores sort text by here). */
export const byteCompare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
