#!/usr/bin/env node
// Webhook fan-out benchmark (part of `npm run bench`), written to BENCHMARKS.md: how many events
// per second Postline's dispatcher POSTs to a receiver on loopback.
//  1. live: a sandbox server (delivery processes each recipient at once, writing Delivered) with one
//     endpoint for every event type; a bulk merge of BENCH_WEBHOOK_RECIPIENTS recipients is
//     injected and the clock stops when the receiver has every Queued and Delivered event.
//  2. replay: the same events queued again with one replay call; the clock runs from the call to
//     the last POST — the dispatcher alone, with the outbox already full.
// The receiver runs in this process (plain node:http, keep-alive) and answers 200 at once.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { commitId, root, writeSection } from './benchmarks-file.js';

const RECIPIENTS = Number(process.env.BENCH_WEBHOOK_RECIPIENTS ?? 20_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startReceiver() {
  const r = { count: 0, byType: new Map(), waiters: [], port: 0, server: null };
  r.server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      try {
        const type = JSON.parse(Buffer.concat(chunks).toString()).Type;
        r.byType.set(type, (r.byType.get(type) ?? 0) + 1);
      } catch {
        /* not JSON */
      }
      r.count++;
    });
  });
  r.server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    r.server.listen(0, '127.0.0.1', () => {
      r.port = r.server.address().port;
      resolve(r);
    }),
  );
}

async function main() {
  const receiver = await startReceiver();
  const dataDir = mkdtempSync(join(tmpdir(), 'postline-webhooks-'));
  const port = 19_000 + Math.floor(Math.random() * 400);
  const env = {
    ...process.env,
    POSTLINE_DATA_DIR: dataDir,
    POSTLINE_HTTP_PORT: String(port),
    POSTLINE_HTTP_HOST: '127.0.0.1',
    POSTLINE_SUBMISSION_PORT: '0',
    POSTLINE_MX_PORT: '0',
    POSTLINE_LOG_LEVEL: 'warn',
    POSTLINE_WEBHOOK_ALLOW_PRIVATE: 'true',
  };
  const cli = (args) => {
    const r = spawnSync(process.execPath, [join(root, 'bin/postline.js'), ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`postline ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const creds = JSON.parse(cli(['init', '--json']));
  cli(['servers', 'update', '--server', String(creds.serverId), '--sandbox-mode', 'on']);
  const mgmt = JSON.parse(cli(['keys', 'create', '--server', String(creds.serverId), '--scope', 'management', '--json'])).apiKey;
  // BENCH_NODE_ARGS (e.g. --cpu-prof) goes to the server process only, for profiling.
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/postline.js'), 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch {
        /* starting */
      }
      await sleep(50);
    }
    const api = async (method, path, body) => {
      const res = await fetch(`${base}/api/v2/servers/${creds.serverId}${path}`, {
        method,
        headers: { authorization: `Bearer ${mgmt}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json.data;
    };
    const endpoint = await api('POST', '/webhooks', { url: `http://127.0.0.1:${receiver.port}/hook` });
    const afterValidation = receiver.count;

    // 1. live
    const expected = 2 * RECIPIENTS;
    const t0 = Date.now();
    for (let offset = 0; offset < RECIPIENTS; offset += 1000) {
      const rows = Array.from({ length: Math.min(1000, RECIPIENTS - offset) }, (_, i) => [{ Field: 'DeliveryAddress', Value: `u${offset + i}@example.net` }]);
      const res = await fetch(`${base}/api/v1/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ServerId: creds.serverId,
          ApiKey: creds.apiKey,
          Messages: [
            {
              To: [{ EmailAddress: '%%DeliveryAddress%%' }],
              From: { EmailAddress: 'news@bench.example' },
              Subject: 'hi',
              TextBody: 'body',
              MergeData: { PerMessage: rows },
            },
          ],
        }),
      });
      const j = await res.json();
      if (j.ErrorCode !== 'Success') throw new Error(JSON.stringify(j));
    }
    const fromIso = new Date(t0 - 1000).toISOString();
    while (receiver.count - afterValidation < expected) await sleep(20);
    const liveSec = (Date.now() - t0) / 1000;
    console.log(`live: ${expected} events in ${liveSec.toFixed(1)} s = ${(expected / liveSec).toFixed(0)}/s (${JSON.stringify([...receiver.byType])})`);

    // 2. replay, three rounds; the median is reported (one run on this shared VM can be off by a third)
    const toIso = new Date().toISOString();
    const rounds = [];
    let queued = 0;
    for (let i = 0; i < 3; i++) {
      const before = receiver.count;
      const t1 = Date.now();
      const replay = await api('POST', `/webhooks/${endpoint.id}/replay`, { from: fromIso, to: toIso });
      queued = replay.queued ?? replay.count ?? expected;
      while (receiver.count - before < queued) await sleep(20);
      const sec = (Date.now() - t1) / 1000;
      console.log(`replay round ${i + 1}: ${queued} events in ${sec.toFixed(1)} s = ${(queued / sec).toFixed(0)}/s`);
      rounds.push(queued / sec);
    }
    const fanout = [...rounds].sort((a, b) => a - b)[1];

    const f = (n) => Math.round(n).toLocaleString('en-US');
    writeSection('webhooks', [
      '## Webhook fan-out (SQLite)',
      '',
      `Command: \`npm run bench\` (bench/webhooks.js; BENCH_WEBHOOK_RECIPIENTS=${RECIPIENTS}) — ${new Date().toISOString().slice(0, 10)}, commit ${commitId()},`,
      `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. One \`postline serve\` (every role) and a`,
      'node:http receiver on loopback answering 200 at once, on the same two cores. One endpoint for every event type, JSON payloads with',
      'Standard Webhooks signatures. The server is in sandbox mode, so each recipient yields a Queued and a Delivered event without SMTP.',
      '',
      '| run | events | events/s | goal |',
      '| --- | --- | --- | --- |',
      `| fan-out: the outbox refilled by one replay call, drained to the receiver; median of 3 rounds (${rounds.map(f).join(', ')}) | ${f(queued)} | **${f(fanout)}** | ${fanout >= 5000 ? 'reached' : '**not reached**'} (≥ 5,000/s) |`,
      `| live: the same events produced while posted (bulk merge accepted, processed, posted) | ${f(expected)} | ${f(expected / liveSec)} | — |`,
      '',
      "The fan-out row is the dispatcher's rate: every event is already in the outbox when the clock starts. The live row also",
      'spends the same two cores on producing the events (the injection, the sandboxed deliveries and their outbox rows), so it is',
      'the rate of the whole pipeline, not of the fan-out.',
    ]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    receiver.server.close();
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
