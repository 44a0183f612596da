#!/usr/bin/env node
// Reporting benchmark: statistics from the hourly rollups against scanning the events table.
// A SQLite database with BENCH_REPORTS_EVENTS events (default 10,000,000) of one server spread
// over 400 days (8 mailings, 5 tags, 3 From domains, 20 recipient domains, metadata), generated
// with bulk SQL (recursive CTEs); then `rebuild` builds the rollups from them (timed); then the
// statistics route is timed through real HTTP (median of BENCH_REPORTS_RUNS requests): day
// buckets over the whole range, and the same filtered by one tag; for comparison the same totals
// are computed by scanning `events` (joined to messages for the tag), and both answers are checked equal.
//
//   npx tsc -p tsconfig.json && node bench/reports.js
//   BENCH_REPORTS_EVENTS=1000000 node bench/reports.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { commitId, root, writeSection } from './benchmarks-file.js';

const dist = (p) => import(join(root, 'dist', p));

const EVENTS = Number(process.env.BENCH_REPORTS_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_REPORTS_RUNS ?? 7);
const DAYS = 400;
const DAY_MS = 86_400_000;
/** Events per recipient the generator below makes on average (measured: the count is reported exactly). */
const EVENTS_PER_RECIPIENT = 7.6;
const RECIPIENTS = Math.round(EVENTS / EVENTS_PER_RECIPIENT);
const PER_MESSAGE = 10;
const GOAL_MS = 100;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const time = async (fn) => {
  const t0 = performance.now();
  const v = await fn();
  return { ms: performance.now() - t0, v };
};

/**
 * Recipients 0..R-1 of one server, ten per message, created evenly over DAYS days from t0. Per
 * recipient: Queued; 90 % Delivered, 5 % Failed permanent (2001), 3 % two Deferred then
 * Delivered, 1 % two Deferred then Failed temporary (4004), 1 % Failed suppressed (9999);
 * delivered ones get i % 9 opens (every third by a machine) an hour apart, and i % 5 clicks.
 */
function generate(file, serverId, t0) {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const step = Math.floor((DAYS * DAY_MS) / RECIPIENTS);
  const rcpt = `WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < ${RECIPIENTS})`;
  const created = `(${t0} + r.i * ${step})`;
  const rid = `('r' || printf('%09d', r.i))`;
  const mid = `('m' || printf('%08d', r.i / ${PER_MESSAGE}))`;
  const kind = `(r.i % 100)`;
  const delivered = `(${kind} < 90 OR ${kind} BETWEEN 95 AND 97)`;
  const run = (label, sql) => {
    const t = performance.now();
    db.exec(sql);
    db.pragma('wal_checkpoint(TRUNCATE)');
    console.log(`  ${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  run(
    'messages',
    `${rcpt.replace(`${RECIPIENTS}`, `${Math.ceil(RECIPIENTS / PER_MESSAGE)}`)}
    INSERT INTO messages (id, server_id, created_at, source, is_merge, from_address, subject, size_bytes, recipient_count, metadata, tags)
    SELECT 'm' || printf('%08d', r.i), ${serverId}, ${t0} + r.i * ${step * PER_MESSAGE}, 'api', 0,
      'news@brand' || (r.i % 3) || '.example', 'Newsletter', 20000, ${PER_MESSAGE},
      '[{"key":"campaign","value":"c' || (r.i % 6) || '"}]', '["t' || (r.i % 5) || '","all"]' FROM r`,
  );
  run(
    'recipients',
    `${rcpt} INSERT INTO recipients (id, message_id, server_id, address, domain, kind, merge, mailing_id, custom_message_id,
      status, attempts, next_attempt_at, created_at, updated_at)
    SELECT ${rid}, ${mid}, ${serverId}, 'u' || r.i || '@d' || (r.i % 20) || '.example', 'd' || (r.i % 20) || '.example', 'to', NULL,
      'mailing-' || ((r.i / ${PER_MESSAGE}) % 8), NULL, 'delivered', 1, ${created}, ${created}, ${created} FROM r`,
  );
  const ev = (label, uid, type, at, data, where, join = '') =>
    run(
      label,
      `${rcpt}${join ? `, ${join}` : ''}
    INSERT INTO events (uid, server_id, message_id, recipient_id, type, occurred_at, data)
    SELECT ${uid}, ${serverId}, ${mid}, ${rid}, '${type}', ${at}, ${data} FROM r${join ? ', k' : ''} WHERE ${where}`,
    );
  ev('Queued', `'q' || r.i`, 'Queued', created, 'NULL', '1');
  ev(
    'Deferred',
    `'f' || r.i || '_' || k.j`,
    'Deferred',
    `${created} + k.j * 600000`,
    `'{"Reason":"451 4.7.1 try later","FailureCode":3003}'`,
    `${kind} BETWEEN 95 AND 98`,
    'k(j) AS (SELECT 1 UNION ALL SELECT 2)',
  );
  ev('Delivered', `'d' || r.i`, 'Delivered', `${created} + 1800000`, `'{"Response":"250 ok","RemoteMta":"mx.example"}'`, delivered);
  ev(
    'Failed',
    `'x' || r.i`,
    'Failed',
    `${created} + 1800000`,
    `CASE WHEN ${kind} < 95 THEN '{"FailureType":1,"FailureCode":2001,"Reason":"550 5.1.1 unknown"}'
      WHEN ${kind} = 98 THEN '{"FailureType":0,"FailureCode":4004,"Reason":"expired"}'
      ELSE '{"FailureType":2,"FailureCode":9999,"Reason":"suppressed"}' END`,
    `NOT ${delivered}`,
  );
  ev(
    'opens',
    `'o' || r.i || '_' || k.j`,
    'Tracking',
    `${created} + k.j * 3600000`,
    `CASE WHEN k.j % 3 = 0 THEN '{"TrackingType":1,"Machine":true}' ELSE '{"TrackingType":1,"Machine":false}' END`,
    `${delivered} AND k.j <= r.i % 9`,
    'k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 8)',
  );
  ev(
    'clicks',
    `'c' || r.i || '_' || k.j`,
    'Tracking',
    `${created} + k.j * 3600000 + 60000`,
    `'{"TrackingType":0,"Machine":false,"Url":"https://x.example"}'`,
    `${delivered} AND k.j <= r.i % 5`,
    'k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 4)',
  );
  const n = db.prepare('SELECT COUNT(*) AS n FROM events').get().n;
  db.close();
  return n;
}

/** The totals of the statistics route, computed by scanning events (and messages, for a tag). */
function scanTotals(file, serverId, from, to, tag) {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const sql = `SELECT e.type, json_extract(e.data, '$.FailureType') AS ft, json_extract(e.data, '$.TrackingType') AS tt, COUNT(*) AS n
      FROM events e ${tag ? 'JOIN messages m ON m.id = e.message_id' : ''}
      WHERE e.server_id = ? AND e.occurred_at >= ? AND e.occurred_at < ? ${tag ? 'AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = ?)' : ''}
      GROUP BY 1, 2, 3`;
    const rows = db.prepare(sql).all(...[serverId, from, to, ...(tag ? [tag] : [])]);
    const t = { queued: 0, delivered: 0, deferred: 0, failed: 0, opens: 0, clicks: 0 };
    for (const r of rows) {
      if (r.type === 'Queued') t.queued += r.n;
      else if (r.type === 'Delivered') t.delivered += r.n;
      else if (r.type === 'Deferred') t.deferred += r.n;
      else if (r.type === 'Failed') t.failed += r.n;
      else if (r.type === 'Tracking' && r.tt === 1) t.opens += r.n;
      else if (r.type === 'Tracking' && r.tt === 0) t.clicks += r.n;
    }
    return t;
  } finally {
    db.close();
  }
}

async function main() {
  const { SqliteStore } = await dist('store/sqlite/sqlite-store.js');
  const { ensureBootstrap } = await dist('accept/bootstrap.js');
  const { generateApiKey } = await dist('core/api-key.js');
  const { loadConfig } = await dist('config/load.js');
  const { createLogger } = await dist('core/log.js');
  const { startApp } = await dist('app.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'postline-bench-reports-'));
  const file = join(dataDir, 'postline.db');
  let store = new SqliteStore(file);
  let app;
  try {
    await store.migrate();
    const { credentials } = await ensureBootstrap(store, dataDir, Date.now());
    const serverId = credentials.serverId;
    const k = generateApiKey();
    await store.tenancy.createApiKey({ serverId, scope: 'management', name: 'bench', publicId: k.publicId, secretHash: k.secretHash }, Date.now());
    await store.close();

    const t0 = Date.UTC(2025, 0, 1);
    console.log(`reports: generating about ${EVENTS.toLocaleString('en-US')} events for ${RECIPIENTS.toLocaleString('en-US')} recipients over ${DAYS} days`);
    const gen = await time(() => generate(file, serverId, t0));
    const events = gen.v;
    console.log(`  ${events.toLocaleString('en-US')} events in ${(gen.ms / 1000).toFixed(1)} s`);

    store = new SqliteStore(file);
    await store.migrate();
    const rebuild = await time(() => store.reports.rebuildRollups(null));
    const raw = new BetterSqlite3(file, { readonly: true });
    const rollupRows = raw.prepare('SELECT COUNT(*) AS n FROM stats_hourly').get().n;
    raw.close();
    console.log(
      `  rebuild: ${rebuild.v.events.toLocaleString('en-US')} events -> ${rollupRows.toLocaleString('en-US')} rollup rows in ${(rebuild.ms / 1000).toFixed(1)} s`,
    );

    const config = loadConfig({}, { dataDir, httpPort: 0, httpHost: '127.0.0.1', logLevel: 'warn', hostname: 'postline.bench' });
    app = await startApp({ config, log: createLogger('warn'), store, now: Date.now }, ['api']);
    const startDate = '2025-01-01';
    const endDate = new Date(t0 + (DAYS + 2) * DAY_MS).toISOString().slice(0, 10);
    const url = (extra) =>
      `http://127.0.0.1:${app.httpPort}/api/v2/servers/${serverId}/reports/statistics?startDate=${startDate}&endDate=${endDate}&bucket=day${extra}`;
    const get = async (u) => {
      const res = await fetch(u, { headers: { authorization: `Bearer ${k.key}` } });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(body)}`);
      return body.data;
    };
    const measure = async (extra) => {
      await get(url(extra)); // warm: the first request compiles the route's serializer
      const ms = [];
      let data;
      for (let i = 0; i < RUNS; i++) {
        const r = await time(() => get(url(extra)));
        ms.push(r.ms);
        data = r.v;
      }
      return { ms: median(ms), data };
    };
    const all = await measure('');
    const tagged = await measure('&tag=t1');
    const hourly = await time(() =>
      get(
        url('')
          .replace('bucket=day', 'bucket=hour')
          .replace(`startDate=${startDate}`, 'startDate=2025-06-01')
          .replace(`endDate=${endDate}`, 'endDate=2025-06-30'),
      ),
    );
    console.log(
      `  statistics, ${all.data.buckets.length} day buckets: median ${all.ms.toFixed(1)} ms; tag=t1: ${tagged.ms.toFixed(1)} ms; 30 days of hours (${hourly.v.buckets.length} buckets): ${hourly.ms.toFixed(1)} ms`,
    );

    const from = Date.parse(all.data.startDate);
    const to = Date.parse(all.data.endDate);
    const scanAll = await time(() => scanTotals(file, serverId, from, to, null));
    const scanTag = await time(() => scanTotals(file, serverId, from, to, 't1'));
    console.log(`  scanning events: ${scanAll.ms.toFixed(0)} ms; with tag=t1: ${scanTag.ms.toFixed(0)} ms`);
    for (const [label, api, scan] of [
      ['all', all.data.totals, scanAll.v],
      ['tag', tagged.data.totals, scanTag.v],
    ]) {
      for (const m of Object.keys(scan))
        if (api[m] !== scan[m]) throw new Error(`${label}: ${m} is ${api[m]} from the rollups but ${scan[m]} by scanning events`);
    }
    const f = (n) => Math.round(n).toLocaleString('en-US');
    const goal = (ms) => (ms < GOAL_MS ? 'reached' : '**not reached**');
    writeSection('reports', [
      '## Reporting statistics (SQLite)',
      '',
      `Command: \`node bench/reports.js\` (BENCH_REPORTS_EVENTS=${EVENTS}, BENCH_REPORTS_RUNS=${RUNS}) — ${new Date().toISOString().slice(0, 10)}, commit ${commitId()},`,
      `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. One server, ${f(events)} events of`,
      `${f(RECIPIENTS)} recipients over ${DAYS} days (8 mailings, 5 tags, 3 From domains, 20 recipient domains), generated with bulk SQL in ${(gen.ms / 1000).toFixed(0)} s.`,
      `\`rebuild\` (the live path's own code, in one transaction) turned them into ${f(rollupRows)} hourly rollup rows in **${(rebuild.ms / 1000).toFixed(0)} s**`,
      `(${f(events / (rebuild.ms / 1000))} events/s). Queries through the real HTTP route (median of ${RUNS}, after one warm-up request):`,
      '',
      '| query | buckets | rollups (HTTP) | goal (< 100 ms) | same totals by scanning `events` |',
      '| --- | --- | --- | --- | --- |',
      `| all mail, day buckets over the whole range | ${all.data.buckets.length} | **${all.ms.toFixed(1)} ms** | ${goal(all.ms)} | ${f(scanAll.ms)} ms |`,
      `| \`tag=t1\`, day buckets over the whole range | ${tagged.data.buckets.length} | **${tagged.ms.toFixed(1)} ms** | ${goal(tagged.ms)} | ${f(scanTag.ms)} ms (joined to messages) |`,
      `| all mail, hour buckets over 30 days (one request) | ${hourly.v.buckets.length} | ${hourly.ms.toFixed(1)} ms | ${goal(hourly.ms)} | — |`,
      '',
      'The scan is one `GROUP BY` over the events of the range (json_extract for FailureType and TrackingType), the cheapest form of',
      "the totals alone (no buckets, no unique counts); the bench checks that its totals equal the rollups'.",
    ]);
  } finally {
    await app?.stop();
    await store.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
