#!/usr/bin/env node
// The PostgreSQL half of bench/search-plan.js: 300,000 recipients made with generate_series in a
// scratch database (POSTLINE_TEST_PG_URL or the local test server), search times through the store,
// the plans of the indexed filters, the keyset export. npx tsc -p tsconfig.json && node bench/search-plan-pg.js
import pg from 'pg';
import { join } from 'node:path';
const root = join(import.meta.dirname, '..');
const { PostgresStore } = await import(join(root, 'dist/store/postgres/postgres-store.js'));
const admin = new pg.Client({ connectionString: process.env.POSTLINE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
await admin.connect();
const name = `postline_plan_${process.pid}`;
await admin.query(`CREATE DATABASE ${name}`);
const u = new URL(process.env.POSTLINE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
u.pathname = `/${name}`;
const url = u.toString();
const store = new PostgresStore(url, 3);
await store.migrate();
const acc = await store.tenancy.createAccount('b', Date.now());
const srv = await store.tenancy.createServer({ accountId: acc.id, name: 'b' }, Date.now());
const c = new pg.Client({ connectionString: url });
await c.connect();
const now = Date.now(),
  DAY = 86400000,
  N = 300000;
let t0 = Date.now();
await c.query(
  `INSERT INTO messages SELECT 'M' || lpad(g::text, 12, '0'), $1, $2::bigint + (g::bigint * 30 * ${DAY}) / ${N / 10}, 'api', 0, 'sender' || (g % 50) || '@shop' || (g % 7) || '.example', 'Newsletter ' || (g % 1000) || ' for week ' || (g % 52), 100, 10, '[]', '[]' FROM generate_series(0, ${N / 10 - 1}) g`,
  [srv.id, now - 30 * DAY],
);
await c.query(
  `INSERT INTO recipients (id, message_id, server_id, address, domain, kind, mailing_id, custom_message_id, status, attempts, next_attempt_at, created_at, updated_at)
  SELECT 'R' || lpad(n::text, 12, '0'), 'M' || lpad((n / 10)::text, 12, '0'), $1, 'user' || (n % 50000) || '@d' || (n % 100) || '.example', 'd' || (n % 100) || '.example', 'to',
    CASE WHEN (n / 10) % 20 = 0 THEN 'mailing-' || ((n / 10) % 40) END, CASE WHEN n % 10 = 0 AND (n / 10) % 10 = 0 THEN 'cust-' || (n / 10) END,
    (ARRAY['delivered','delivered','delivered','delivered','failed','deferred','suppressed'])[1 + n % 7], 1, 0,
    $2::bigint + ((n / 10)::bigint * 30 * ${DAY}) / ${N / 10}, $2::bigint + ((n / 10)::bigint * 30 * ${DAY}) / ${N / 10} + 1000 FROM generate_series(0, ${N - 1}) n`,
  [srv.id, now - 30 * DAY],
);
await c.query('ANALYZE');
console.log('built', Date.now() - t0, 'ms');
const cases = [
  ['newest first', {}],
  ['one day', { startTime: now - 10 * DAY, endTime: now - 9 * DAY }],
  ['toEmailAddress', { toEmailAddress: 'user4242@d42.example' }],
  ['mailingId', { mailingId: 'mailing-20' }],
  ['customer MessageId', { messageId: 'cust-12340' }],
  ['fromEmailAddress', { fromEmailAddress: 'sender7@shop0.example' }],
  ['subject', { subject: 'week 7' }],
  ['status Failed + week', { statuses: ['failed'], startTime: now - 7 * DAY }],
  ['sorted by to', { sort: 'to', direction: 'asc' }],
];
for (const [n, q] of cases) {
  const xs = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    await store.reports.searchRecipients(srv.id, { sort: 'queuedTime', direction: 'desc', ...q }, { limit: 25, offset: 0 });
    xs.push(performance.now() - s);
  }
  console.log(`| ${n} | ${xs.sort((a, b) => a - b)[2].toFixed(1)} |`);
}
const plan = async (where, args) =>
  (
    await c.query(
      `EXPLAIN SELECT r.id FROM recipients r JOIN messages m ON m.id = r.message_id WHERE ${where} ORDER BY r.created_at DESC, r.id COLLATE "C" DESC LIMIT 25`,
      args,
    )
  ).rows
    .map((r) => r['QUERY PLAN'])
    .filter((l) => /Index|Scan|Sort/.test(l))
    .map((l) => l.trim())
    .join(' / ');
console.log('plan to:', await plan('r.server_id = $1 AND lower(r.address) = $2', [srv.id, 'user4242@d42.example']));
console.log('plan mailing:', await plan('r.server_id = $1 AND r.mailing_id = $2', [srv.id, 'mailing-20']));
console.log('plan msgid:', await plan('r.server_id = $1 AND (r.message_id = $2 OR r.custom_message_id = $2)', [srv.id, 'cust-12340']));
console.log('plan default:', await plan('r.server_id = $1', [srv.id]));
t0 = Date.now();
let rows = 0;
for await (const b of store.reports.streamRecipientSearch(srv.id, { sort: 'queuedTime', direction: 'desc' }, 1000)) rows += b.length;
console.log('export', rows, Date.now() - t0, 'ms');
await c.end();
await store.close();
await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
