import http from 'node:http';
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import type { TestDb } from './stores.js';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown> | null;
  at: number;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 (port 0). `status` scripts its answers; `down()`
 * closes the socket so connections are refused, `up()` listens again on the same port.
 */
export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** The status to answer with (default 200), or a function of the request. */
  status: number | ((r: ReceivedWebhook) => number);
  /** The body of a 2xx answer (default "ok"): a legacy (form) endpoint's must hold its ValidationKey. */
  answer: string;
  events(): Record<string, unknown>[];
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const sockets = new Set<import('node:net').Socket>();
  const r: WebhookReceiver = {
    url: '',
    port: 0,
    received: [],
    status: 200,
    answer: 'ok',
    events: () => r.received.filter((x) => x.json && x.json.Type !== 'Validation').map((x) => x.json!),
    down: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
    up: () => new Promise<void>((res) => server.listen(r.port, '127.0.0.1', () => res())),
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((res) => server.close(() => res()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> | null = null;
      if ((req.headers['content-type'] ?? '').startsWith('application/json')) json = JSON.parse(body) as Record<string, unknown>;
      else json = Object.fromEntries(new URLSearchParams(body));
      const got = { headers: req.headers, body, json, at: Date.now() };
      const status = typeof r.status === 'function' ? r.status(got) : r.status;
      // Only 2xx-answered requests count as received; failed ones are kept apart for assertions.
      if (status >= 200 && status < 300) r.received.push(got);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? r.answer : `status ${status}`);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.port = (server.address() as import('node:net').AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  return r;
}

/** Polls until `check` returns a value (not undefined), or throws with `describe()` after the timeout. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, describe: () => unknown, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`timed out: ${JSON.stringify(describe())}`);
}

/** Runs one SQL query behind the store's back (to check tables a refusal must not have touched). */
export async function queryRows<T = Record<string, unknown>>(db: TestDb, sqlText: string): Promise<T[]> {
  if (db.kind === 'sqlite') {
    const raw = new BetterSqlite3(join(db.dataDir, 'postline.db'));
    try {
      return raw.prepare(sqlText).all() as T[];
    } finally {
      raw.close();
    }
  }
  const c = new pg.Client({ connectionString: db.databaseUrl! });
  await c.connect();
  try {
    return (await c.query(sqlText)).rows as T[];
  } finally {
    await c.end();
  }
}

export async function countRows(db: TestDb, table: string): Promise<number> {
  const [row] = await queryRows<{ n: number | string }>(db, `SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row!.n);
}

/**
 * A receiver that holds every request open until `release()` is called (or `maxHoldMs` passed),
 * then answers 200: a slow or hanging endpoint whose answers the test lets go. Counts how many
 * requests it holds at once.
 */
export interface HoldingReceiver {
  url: string;
  /** Requests held right now, and the most held at once. */
  open: number;
  maxOpen: number;
  /** Requests answered so far (after a release or the hold limit). */
  answered: ReceivedWebhook[];
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingReceiver(maxHoldMs: number): Promise<HoldingReceiver> {
  const sockets = new Set<import('node:net').Socket>();
  const waiting = new Set<() => void>();
  let released = false;
  const r: HoldingReceiver = {
    url: '',
    open: 0,
    maxOpen: 0,
    answered: [],
    release: () => {
      released = true;
      for (const answer of [...waiting]) answer();
    },
    close: async () => {
      r.release();
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((res) => server.close(() => res()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const got: ReceivedWebhook = { headers: req.headers, body, json: JSON.parse(body) as Record<string, unknown>, at: Date.now() };
      r.open++;
      r.maxOpen = Math.max(r.maxOpen, r.open);
      const answer = () => {
        waiting.delete(answer);
        clearTimeout(timer);
        r.open--;
        r.answered.push(got);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      const timer = setTimeout(answer, maxHoldMs);
      waiting.add(answer);
      if (released) answer();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/hook`;
  return r;
}

/**
 * A receiver written like a SocketLabs legacy Notification API endpoint (their PHP and .NET
 * samples): form-encoded bodies, 401 when SecretKey is not the one it was configured with, 400 for
 * a Type it does not handle, and otherwise 200 with its ValidationKey in the body. Set
 * `validationKey` to null to make it answer a plain 200 without the key.
 */
export interface LegacyReceiver {
  url: string;
  secretKey: string | null;
  validationKey: string | null;
  /** Every request, whatever it was answered. */
  requests: { fields: URLSearchParams; contentType: string; status: number; answer: string }[];
  /** The fields of the notifications answered 200 (Validation included). */
  accepted(): URLSearchParams[];
  close(): Promise<void>;
}

const LEGACY_TYPES = new Set(['Validation', 'Delivered', 'Failed', 'Tracking', 'Complaint']);

export async function startLegacyReceiver(): Promise<LegacyReceiver> {
  const sockets = new Set<import('node:net').Socket>();
  const r: LegacyReceiver = {
    url: '',
    secretKey: null,
    validationKey: null,
    requests: [],
    accepted: () => r.requests.filter((x) => x.status === 200).map((x) => x.fields),
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((res) => server.close(() => res()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fields = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      let status = 200;
      let answer = r.validationKey ?? 'ok';
      if (r.secretKey !== null && fields.get('SecretKey') !== r.secretKey) [status, answer] = [401, 'bad secret key'];
      else if (!LEGACY_TYPES.has(fields.get('Type') ?? '')) [status, answer] = [400, 'unknown type'];
      r.requests.push({ fields, contentType: req.headers['content-type'] ?? '', status, answer });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(answer);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/notify.php`;
  return r;
}
