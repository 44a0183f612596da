import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { generateApiKey, type ApiKeyScope } from '../../src/core/api-key.js';
import type { Store } from '../../src/store/store.js';
import type { TestApp } from './app.js';
import type { TestDb } from './stores.js';

/** Creates a key of `scope` for the server and returns its plaintext (and public id, for revoking). */
export async function createKey(store: Store, serverId: number, scope: ApiKeyScope): Promise<{ key: string; publicId: string }> {
  const k = generateApiKey();
  await store.tenancy.createApiKey({ serverId, scope, name: `${scope} test key`, publicId: k.publicId, secretHash: k.secretHash }, Date.now());
  return { key: k.key, publicId: k.publicId };
}

export interface V2Response<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}
export interface V2Error {
  error: { code: string; message: string; field?: string };
}

/**
 * One request to the management API. `key` goes out as Bearer (null: no Authorization header);
 * `authorization` overrides the header as written. `body` is sent as JSON unless `raw` is given.
 */
export async function v2<T = unknown>(
  t: TestApp,
  method: string,
  path: string,
  opts: {
    key?: string | null;
    authorization?: string;
    body?: unknown;
    raw?: string;
    contentType?: string;
    query?: Record<string, string | number>;
  } = {},
): Promise<V2Response<T>> {
  const url = new URL(`${t.url}/api/v2${path}`);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.append(k, String(v));
  const headers: Record<string, string> = {};
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  else if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | undefined;
  if (opts.raw !== undefined || opts.body !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    body = opts.raw ?? JSON.stringify(opts.body);
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, body: parsed as T };
}

/**
 * Sets a server's status behind the store's back (the store has no call for it yet): how an
 * operator would disable a server today.
 */
export async function setServerStatus(db: TestDb, serverId: number, status: 'active' | 'disabled'): Promise<void> {
  if (db.kind === 'sqlite') {
    const raw = new BetterSqlite3(join(db.dataDir, 'postline.db'));
    try {
      raw.prepare('UPDATE servers SET status = ? WHERE id = ?').run(status, serverId);
    } finally {
      raw.close();
    }
    return;
  }
  const c = new pg.Client({ connectionString: db.databaseUrl! });
  await c.connect();
  try {
    await c.query('UPDATE servers SET status = $1 WHERE id = $2', [status, serverId]);
  } finally {
    await c.end();
  }
}

/** Creates an account key (scope `account`) for the account and returns its plaintext and public id. */
export async function createAccountKey(store: Store, accountId: number): Promise<{ key: string; publicId: string }> {
  const k = generateApiKey();
  await store.tenancy.createApiKey(
    { serverId: null, accountId, scope: 'account', name: 'account test key', publicId: k.publicId, secretHash: k.secretHash },
    Date.now(),
  );
  return { key: k.key, publicId: k.publicId };
}

/** A second tenant: a new account with one server, its management key and an account key. */
export async function createTenant(
  store: Store,
  name = 'Other tenant',
): Promise<{ accountId: number; serverId: number; managementKey: string; accountKey: string }> {
  const account = await store.tenancy.createAccount(name, Date.now());
  const server = await store.tenancy.createServer({ accountId: account.id, name: `${name} server` }, Date.now());
  return {
    accountId: account.id,
    serverId: server.id,
    managementKey: (await createKey(store, server.id, 'management')).key,
    accountKey: (await createAccountKey(store, account.id)).key,
  };
}

/** Runs SQL statements (several allowed) behind the store's back, e.g. to build a database as an older version left it. */
export async function execSql(db: TestDb, sqlText: string): Promise<void> {
  if (db.kind === 'sqlite') {
    const raw = new BetterSqlite3(join(db.dataDir, 'postline.db'));
    try {
      raw.exec(sqlText);
    } finally {
      raw.close();
    }
    return;
  }
  const c = new pg.Client({ connectionString: db.databaseUrl! });
  await c.connect();
  try {
    await c.query(sqlText);
  } finally {
    await c.end();
  }
}
