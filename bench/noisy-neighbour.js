#!/usr/bin/env node
// Noisy-neighbour benchmark (part of `npm run bench`), written to BENCHMARKS.md: how long a healthy
// tenant's webhook events take to arrive while another tenant's endpoint answers slowly.
//  1. B alone: one sandbox server (B) with an endpoint answering at once; BENCH_NOISY_MESSAGES
//     messages of one recipient each, injected at BENCH_NOISY_RATE messages/s.
//  2. A without an endpoint, and B: a second sandbox server (A) sending as many messages at the
//     same rate, interleaved with B's (the same work for the process, without A's webhooks).
//  3. A and B: the same, with A's endpoint answering every event after BENCH_NOISY_SLOW_MS (10 s).
// B's latency is each event's time (its DateTime) to its arrival at B's receiver; each recipient
// makes a Queued and a Delivered event. Every run is a fresh `postline serve` (SQLite, every role)
// on ports chosen by the system; the receivers run in this process (node:http, keep-alive).
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { commitId, root, writeSection } from './benchmarks-file.js';

const MESSAGES = Number(process.env.BENCH_NOISY_MESSAGES ?? 500);
const RATE = Number(process.env.BENCH_NOISY_RATE ?? 50);
const SLOW_MS = Number(process.env.BENCH_NOISY_SLOW_MS ?? 10_000);
/** How long B's events may take in all before the run is called failed. */
const RUN_LIMIT_MS = Number(process.env.BENCH_NOISY_LIMIT_MS ?? 600_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A receiver that answers validations at once and events after `delayMs`, noting when each event arrived. */
function startReceiver(delayMs) {
  const r = { arrivals: [], port: 0, server: null, open: new Set() };
  r.server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      let json = null;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        /* not JSON */
      }
      let timer = null;
      const answer = () => {
        r.open.delete(timer);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (!json || json.Type === 'Validation' || delayMs === 0) {
        if (json && json.Type !== 'Validation') r.arrivals.push({ at, json });
        answer();
        return;
      }
      r.arrivals.push({ at, json });
      timer = setTimeout(answer, delayMs);
      r.open.add(timer);
    });
  });
  r.server.keepAliveTimeout = 60_000;
  r.close = () => {
    for (const t of r.open) clearTimeout(t);
    r.server.closeAllConnections();
    r.server.close();
  };
  return new Promise((resolve) =>
    r.server.listen(0, '127.0.0.1', () => {
      r.port = r.server.address().port;
      resolve(r);
    }),
  );
}

/** SocketLabs' DateTime has seven fractional digits; Date.parse wants three. */
const eventTime = (iso) => Date.parse(iso.replace(/\.(\d{3})\d*Z$/, '.$1Z'));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** `a`: 'off' (B alone), 'no-endpoint' (A sends, no webhooks) or 'slow' (A's endpoint answers after SLOW_MS). */
async function run(a) {
  const fast = await startReceiver(0);
  const slow = a === 'slow' ? await startReceiver(SLOW_MS) : null;
  const dataDir = mkdtempSync(join(tmpdir(), 'postline-noisy-'));
  const env = {
    ...process.env,
    POSTLINE_DATA_DIR: dataDir,
    POSTLINE_HTTP_PORT: '0',
    POSTLINE_HTTP_HOST: '127.0.0.1',
    POSTLINE_SUBMISSION_PORT: '0',
    POSTLINE_MX_PORT: '0',
    POSTLINE_LOG_LEVEL: 'info',
    POSTLINE_WEBHOOK_ALLOW_PRIVATE: 'true',
  };
  const cli = (args) => {
    const r = spawnSync(process.execPath, [join(root, 'bin/postline.js'), ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`postline ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const creds = JSON.parse(cli(['init', '--json']));
  const tenantA = { serverId: creds.serverId, apiKey: creds.apiKey };
  const b = { serverId: JSON.parse(cli(['servers', 'create', '--name', 'B', '--json'])).id };
  b.apiKey = JSON.parse(cli(['keys', 'create', '--server', String(b.serverId), '--scope', 'injection', '--json'])).apiKey;
  for (const s of [tenantA, b]) {
    cli(['servers', 'update', '--server', String(s.serverId), '--sandbox-mode', 'on']);
    s.mgmt = JSON.parse(cli(['keys', 'create', '--server', String(s.serverId), '--scope', 'management', '--json'])).apiKey;
  }
  const child = spawn(process.execPath, [join(root, 'bin/postline.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    // The HTTP port is the system's choice: read it from the start-up log line.
    const port = await new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        try {
          const j = JSON.parse(line);
          if (j.event === 'http.listening') resolve(j.port);
        } catch {
          /* not JSON */
        }
      });
      child.once('exit', () => reject(new Error('postline serve exited before listening')));
    });
    const base = `http://127.0.0.1:${port}`;
    const api = async (s, method, path, body) => {
      const res = await fetch(`${base}/api/v2/servers/${s.serverId}${path}`, {
        method,
        headers: { authorization: `Bearer ${s.mgmt}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json.data;
    };
    await api(b, 'POST', '/webhooks', { url: `http://127.0.0.1:${fast.port}/hook` });
    if (slow) await api(tenantA, 'POST', '/webhooks', { url: `http://127.0.0.1:${slow.port}/hook` });
    const send = async (s, to) => {
      const res = await fetch(`${base}/api/v1/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ServerId: s.serverId,
          ApiKey: s.apiKey,
          Messages: [{ To: [{ EmailAddress: to }], From: { EmailAddress: 'news@bench.example' }, Subject: 'hi', TextBody: 'body' }],
        }),
      });
      const j = await res.json();
      if (j.ErrorCode !== 'Success') throw new Error(JSON.stringify(j));
    };
    // Both tenants at the same steady rate, each message its own request, A's just before B's.
    const t0 = Date.now();
    const sends = [];
    for (let i = 0; i < MESSAGES; i++) {
      const due = t0 + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      if (a !== 'off') sends.push(send(tenantA, `a${i}@example.net`));
      sends.push(send(b, `b${i}@example.net`));
    }
    await Promise.all(sends);
    const expected = 2 * MESSAGES;
    while (fast.arrivals.length < expected) {
      if (Date.now() - t0 > RUN_LIMIT_MS) throw new Error(`B had ${fast.arrivals.length} of ${expected} events after ${RUN_LIMIT_MS} ms`);
      await sleep(20);
    }
    const latencies = fast.arrivals.map((x) => x.at - eventTime(x.json.DateTime)).sort((x, y) => x - y);
    return {
      events: latencies.length,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      max: latencies.at(-1),
      slowArrived: slow ? slow.arrivals.length : null,
    };
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
    fast.close();
    slow?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const alone = await run('off');
  console.log(`B alone: ${alone.events} events, p50 ${alone.p50} ms, p95 ${alone.p95} ms, max ${alone.max} ms`);
  const busy = await run('no-endpoint');
  console.log(`A without an endpoint, and B: ${busy.events} events of B, p50 ${busy.p50} ms, p95 ${busy.p95} ms, max ${busy.max} ms`);
  const shared = await run('slow');
  console.log(
    `A (${SLOW_MS / 1000} s endpoint) and B: ${shared.events} events of B, p50 ${shared.p50} ms, p95 ${shared.p95} ms, max ${shared.max} ms; A's endpoint had received ${shared.slowArrived}`,
  );
  const s = (ms) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`);
  const goal = (base) => (shared.p95 <= 2_000 && shared.p95 <= 3 * base.p95 ? 'reached' : '**not reached**');
  writeSection('noisy-neighbour', [
    '## Webhooks: a slow endpoint beside a healthy one (SQLite)',
    '',
    `Command: \`node bench/noisy-neighbour.js\` (BENCH_NOISY_MESSAGES=${MESSAGES}, BENCH_NOISY_RATE=${RATE}, BENCH_NOISY_SLOW_MS=${SLOW_MS}) — ${new Date().toISOString().slice(0, 10)}, commit ${commitId()},`,
    `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. One \`postline serve\` (every role) per run and`,
    'node:http receivers on loopback, on the same cores. Two sandbox servers, A and B, each sending one-recipient messages at the',
    `same rate (${RATE}/s each, ${MESSAGES} each); A's endpoint answers every event after ${SLOW_MS / 1000} s, B's at once. Latency: B's event time to its arrival.`,
    '',
    "| run | B's events | p50 | p95 | max |",
    '| --- | --- | --- | --- | --- |',
    `| B alone | ${alone.events} | ${s(alone.p50)} | ${s(alone.p95)} | ${s(alone.max)} |`,
    `| A sending too, without an endpoint | ${busy.events} | ${s(busy.p50)} | ${s(busy.p95)} | ${s(busy.max)} |`,
    `| A sending too, its endpoint answering after ${SLOW_MS / 1000} s | ${shared.events} | ${s(shared.p50)} | **${s(shared.p95)}** | ${s(shared.max)} |`,
    '',
    `Goal: B's p95 beside A's slow endpoint ≤ 2 s and ≤ 3 × its p95 without it: ${goal(busy)} against A sending without an endpoint,`,
    `${goal(alone)} against B alone. A's endpoint had received ${shared.slowArrived} events when B had all of its own (no more than its lane's`,
    "POSTs at once). The second row is A's traffic alone (its accepts, sandboxed deliveries and events share the two cores",
    "with B's); the third adds A's slow endpoint. One run each: on a shared machine a single run can be off by a few times.",
  ]);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
