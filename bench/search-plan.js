#!/usr/bin/env node
// Recipient search: query plans and times on BENCH_SEARCH_RECIPIENTS recipients (one server, 10 per
// message, queued over 30 days), through the store's own search, on SQLite; and what migration 13's
// indexes cost the accept path's recipient inserts (100,000 rows in transactions of 1,000, as
// commitAccepts writes them), with and without them. Prints markdown for docs/reporting.md.
//
//   npx tsc -p tsconfig.json && node bench/search-plan.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { root } from './benchmarks-file.js';

const dist = (p) => import(join(root, 'dist', p));
const N = Number(process.env.BENCH_SEARCH_RECIPIENTS ?? 300_000);
const DAY = 86_400_000;
const { SqliteStore } = await dist('store/sqlite/sqlite-store.js');
const { newId } = await dist('core/ids.js');

const dir = mkdtempSync(join(tmpdir(), 'postline-search-'));
const file = join(dir, 'postline.db');
const store = new SqliteStore(file);
await store.migrate();
const account = await store.tenancy.createAccount('bench', Date.now());
const server = await store.tenancy.createServer({ accountId: account.id, name: 'bench' }, Date.now());
const raw = new BetterSqlite3(file);
const now = Date.now();
const start = now - 30 * DAY;
const insertMessage = raw.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, 0, ?, ?, 100, 10, ?, ?)');
const insertRecipient = raw.prepare(`INSERT INTO recipients (id, message_id, server_id, address, domain, kind, merge, mailing_id, custom_message_id, status,
  attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'to', NULL, ?, ?, ?, 1, ?, ?, ?)`);
const statuses = ['delivered', 'delivered', 'delivered', 'delivered', 'failed', 'deferred', 'suppressed'];
let t0 = Date.now();
raw.transaction(() => {
  for (let m = 0; m < N / 10; m++) {
    const at = start + Math.floor((m / (N / 10)) * 30 * DAY);
    const id = newId(at);
    insertMessage.run(id, server.id, at, 'api', `sender${m % 50}@shop${m % 7}.example`, `Newsletter ${m % 1000} for week ${m % 52}`, '[]', '[]');
    for (let r = 0; r < 10; r++) {
      const n = m * 10 + r;
      insertRecipient.run(
        newId(at),
        id,
        server.id,
        `user${n % 50_000}@d${n % 100}.example`,
        `d${n % 100}.example`,
        m % 20 === 0 ? `mailing-${m % 40}` : null,
        m % 10 === 0 ? `cust-${m}` : null,
        statuses[n % statuses.length],
        at,
        at,
        at + 1000,
      );
    }
  }
})();
raw.exec('ANALYZE');
const buildMs = Date.now() - t0;

async function time(fn) {
  const xs = [];
  for (let i = 0; i < 5; i++) {
    const s = process.hrtime.bigint();
    await fn();
    xs.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return xs.sort((a, b) => a - b)[2].toFixed(1);
}
const base = { sort: 'queuedTime', direction: 'desc' };
const cases = [
  ['newest first, no filter', {}, 'r.server_id = ? ORDER BY r.created_at DESC, r.id DESC'],
  [
    'one day (startDate/endDate)',
    { startTime: now - 10 * DAY, endTime: now - 9 * DAY },
    'r.server_id = ? AND r.created_at >= ? AND r.created_at < ? ORDER BY r.created_at DESC, r.id DESC',
  ],
  ['toEmailAddress', { toEmailAddress: 'user4242@d42.example' }, 'r.server_id = ? AND lower(r.address) = ? ORDER BY r.created_at DESC, r.id DESC'],
  ['mailingId', { mailingId: 'mailing-20' }, 'r.server_id = ? AND r.mailing_id = ? ORDER BY r.created_at DESC, r.id DESC'],
  [
    "messageId (customer's)",
    { messageId: 'cust-12340' },
    'r.server_id = ? AND (r.message_id = ? OR r.custom_message_id = ?) ORDER BY r.created_at DESC, r.id DESC',
  ],
  [
    'fromEmailAddress (no index of its own)',
    { fromEmailAddress: 'sender7@shop0.example' },
    'r.server_id = ? AND lower(m.from_address) = ? ORDER BY r.created_at DESC, r.id DESC',
  ],
  [
    'subject contains (no index possible)',
    { subject: 'week 7' },
    "r.server_id = ? AND lower(m.subject) LIKE ? ESCAPE '\\' ORDER BY r.created_at DESC, r.id DESC",
  ],
  [
    'status Failed + one week',
    { statuses: ['failed'], startTime: now - 7 * DAY, endTime: now },
    'r.server_id = ? AND r.status = ? AND r.created_at >= ? ORDER BY r.created_at DESC, r.id DESC',
  ],
  ['sorted by to', { sort: 'to', direction: 'asc' }, 'r.server_id = ? ORDER BY r.address ASC, r.id ASC'],
];
const planArgs = {
  'one day (startDate/endDate)': [server.id, now - 10 * DAY, now - 9 * DAY],
  toEmailAddress: [server.id, 'user4242@d42.example'],
  mailingId: [server.id, 'mailing-20'],
  "messageId (customer's)": [server.id, 'cust-12340', 'cust-12340'],
  'fromEmailAddress (no index of its own)': [server.id, 'sender7@shop0.example'],
  'subject contains (no index possible)': [server.id, '%week 7%'],
  'status Failed + one week': [server.id, 'failed', now - 7 * DAY],
};
const lines = [
  `Recipient search on ${N.toLocaleString('en')} recipients (SQLite, built in ${buildMs} ms): median of 5, page of 25 plus the total.`,
  '',
  '| query | page + total (ms) | plan (SQLite EXPLAIN QUERY PLAN of the page) |',
  '| --- | --- | --- |',
];
for (const [name, q, where] of cases) {
  const ms = await time(() => store.reports.searchRecipients(server.id, { ...base, ...q }, { limit: 25, offset: 0 }));
  const args = planArgs[name] ?? [server.id];
  const plan = raw
    .prepare(`EXPLAIN QUERY PLAN SELECT r.id FROM recipients r JOIN messages m ON m.id = r.message_id WHERE ${where} LIMIT 25`)
    .all(...args)
    .map((p) => p.detail)
    .join('; ');
  lines.push(`| ${name} | ${ms} | ${plan} |`);
}
// Export: the keyset batches over the whole server.
t0 = Date.now();
let rows = 0;
for await (const batch of store.reports.streamRecipientSearch(server.id, base, 1000)) rows += batch.length;
lines.push('', `Keyset export of all ${rows.toLocaleString('en')} rows (1,000 per batch): ${Date.now() - t0} ms.`);

// Insert cost of the indexes: 100,000 recipients in transactions of 1,000.
function insertRun(label) {
  const at = now;
  const s = process.hrtime.bigint();
  for (let b = 0; b < 100; b++) {
    raw.transaction(() => {
      for (let i = 0; i < 1000; i++)
        insertRecipient.run(newId(at), 'x', server.id, `new${b}-${i}@x.example`, 'x.example', b % 20 === 0 ? 'm' : null, null, 'queued', at, at, at);
    })();
  }
  return `${label}: ${(Number(process.hrtime.bigint() - s) / 1e6).toFixed(0)} ms`;
}
const withIdx = insertRun('100,000 recipient inserts with migration 13 indexes');
raw.exec(
  'DROP INDEX recipients_server_created; DROP INDEX recipients_server_address; DROP INDEX recipients_server_mailing; DROP INDEX recipients_custom_message;',
);
const withoutIdx = insertRun('without them');
lines.push('', `${withIdx}; ${withoutIdx} (synchronous=NORMAL, no fsync: the index cost alone).`);
process.stdout.write(lines.join('\n') + '\n');
raw.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
