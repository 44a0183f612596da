#!/usr/bin/env node
// `npm run bench`: durable injection through the real HTTP API on this machine, written to
// BENCHMARKS.md. Postline runs as a child process (as `npm start` runs it); autocannon drives it
// from this process, on the same two cores, so the figures include the load generator's cost.
//
// Options (environment): BENCH_SECONDS (default 15), BENCH_STORE=sqlite|postgres (default sqlite),
// BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test; a fresh database is created).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commitId, writeSection } from './benchmarks-file.js';
import autocannon from 'autocannon';
import pg from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const STORE = process.env.BENCH_STORE ?? 'sqlite';
const PORT = 18_000 + Math.floor(Math.random() * 1000);
const BULK_RECIPIENTS = 1000;

async function freshPgDatabase() {
  const admin = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `postline_bench_${Date.now()}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

async function startPostline(dataDir, databaseUrl) {
  const env = {
    ...process.env,
    POSTLINE_DATA_DIR: dataDir,
    POSTLINE_HTTP_PORT: String(PORT),
    POSTLINE_HTTP_HOST: '127.0.0.1',
    POSTLINE_LOG_LEVEL: 'warn',
    ...(databaseUrl ? { POSTLINE_DATABASE_URL: databaseUrl } : {}),
  };
  const child = spawn(process.execPath, [join(root, 'bin/postline.js'), 'serve', '--roles', 'api'], { env, stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${PORT}/readyz`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null) throw new Error(`postline exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  return { child, creds };
}

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${PORT}/api/v1/email`, method: 'POST', duration: SECONDS, headers: { 'content-type': 'application/json' }, ...opts },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

const successOnly = (body) => body.startsWith('{"ErrorCode":"Success"');

function bulkBody(creds) {
  const rows = Array.from({ length: BULK_RECIPIENTS }, (_, i) => [
    { Field: 'DeliveryAddress', Value: `user${i}@example.com` },
    { Field: 'RecipientName', Value: `User ${i}` },
    { Field: 'Code', Value: `C-${i}` },
  ]);
  return JSON.stringify({
    ServerId: creds.serverId,
    ApiKey: creds.apiKey,
    Messages: [
      {
        To: [{ EmailAddress: '%%DeliveryAddress%%', FriendlyName: '%%RecipientName%%' }],
        From: { EmailAddress: 'news@example.com' },
        Subject: 'Hello %%RecipientName%%',
        TextBody: 'Your code is %%Code%%.',
        HtmlBody: '<p>Your code is <b>%%Code%%</b>.</p>',
        MergeData: { PerMessage: rows, Global: [{ Field: 'Team', Value: 'Postline' }] },
      },
    ],
  });
}

function singleBody(creds) {
  return JSON.stringify({
    ServerId: creds.serverId,
    ApiKey: creds.apiKey,
    Messages: [
      {
        To: [{ EmailAddress: 'bob@example.com', FriendlyName: 'Bob' }],
        From: { EmailAddress: 'shop@example.com' },
        Subject: 'Your order',
        TextBody: 'Thanks for your order.',
        HtmlBody: '<p>Thanks for your order.</p>',
        Metadata: [{ Key: 'OrderId', Value: '42' }],
        Tags: ['orders'],
      },
    ],
  });
}

function summary(res) {
  return {
    requests: res.requests.total,
    rps: res.requests.average,
    p50: res.latency.p50,
    p99: res.latency.p99,
    errors: res.errors + res.timeouts + res.non2xx + (res.mismatches ?? 0),
  };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'postline-bench-'));
  const pgdb = STORE === 'postgres' ? await freshPgDatabase() : null;
  const { child, creds } = await startPostline(dataDir, pgdb?.url);
  try {
    console.log(`store=${STORE}, ${SECONDS}s per run, port ${PORT}`);
    await run({ body: singleBody(creds), duration: 2, connections: 8 }); // warm-up

    const bulk = summary(await run({ body: bulkBody(creds), connections: 4, verifyBody: successOnly }));
    const bulkRecipientsPerSec = bulk.rps * BULK_RECIPIENTS;
    console.log(
      `bulk: ${bulk.rps.toFixed(1)} req/s = ${Math.round(bulkRecipientsPerSec)} recipients/s, p50 ${bulk.p50} ms, p99 ${bulk.p99} ms, errors ${bulk.errors}`,
    );

    const max = summary(await run({ body: singleBody(creds), connections: 32, verifyBody: successOnly }));
    console.log(`single, max: ${max.rps.toFixed(0)} req/s, p50 ${max.p50} ms, p99 ${max.p99} ms, errors ${max.errors}`);

    const half = Math.max(1, Math.floor(max.rps / 2));
    const paced = summary(await run({ body: singleBody(creds), connections: 32, overallRate: half, verifyBody: successOnly }));
    console.log(`single at ${half} req/s: ${paced.rps.toFixed(0)} req/s, p50 ${paced.p50} ms, p99 ${paced.p99} ms, errors ${paced.errors}`);

    write({ bulk, bulkRecipientsPerSec, max, half, paced });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    await pgdb?.drop();
  }
}

function write(r) {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const commit = commitId();
  const ok = (v, goal) => (v ? `reached (goal ${goal})` : `**not reached** (goal ${goal})`);
  writeSection(`injection:${STORE}`, [
    `## Durable injection, ${STORE === 'postgres' ? 'PostgreSQL' : 'SQLite (WAL; each answer waits for the fdatasync of its commit)'}`,
    '',
    `Command: \`${STORE === 'postgres' ? 'BENCH_STORE=postgres ' : ''}npm run bench\` (BENCH_SECONDS=${SECONDS}) — ${new Date().toISOString().slice(0, 10)}, commit ${commit},`,
    `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Postline runs as \`postline serve\` in its own process;`,
    'autocannon runs in the benchmark process on the same cores. Every answer counted was `Success`, i.e. committed to disk.',
    '',
    '| run | result | p50 | p99 | errors | goal |',
    '| --- | --- | --- | --- | --- | --- |',
    `| bulk merge, ${BULK_RECIPIENTS} recipients/request, 4 connections | **${Math.round(r.bulkRecipientsPerSec).toLocaleString('en-US')} recipients/s** (${r.bulk.rps.toFixed(1)} req/s) | ${r.bulk.p50} ms | ${r.bulk.p99} ms | ${r.bulk.errors} | ${ok(r.bulkRecipientsPerSec >= 20000, '≥ 20,000/s')} |`,
    `| single message, 32 connections, unpaced | **${Math.round(r.max.rps).toLocaleString('en-US')} req/s** | ${r.max.p50} ms | ${r.max.p99} ms | ${r.max.errors} | ${ok(r.max.rps >= 3000, '≥ 3,000 req/s')} |`,
    `| single message at half that rate (${r.half} req/s) | ${Math.round(r.paced.rps).toLocaleString('en-US')} req/s | ${r.paced.p50} ms | **${r.paced.p99} ms** | ${r.paced.errors} | ${ok(r.paced.p99 < 20, 'p99 < 20 ms')} |`,
  ]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
