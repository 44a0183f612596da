#!/usr/bin/env node
// Traffic shaping (part of `npm run bench`), written to BENCHMARKS.md: delivery throughput of
// `postline serve --roles delivery` draining one queue with provider-aware shaping on
// (POSTLINE_SHAPING=on, an operator's shaping file) and off (POSTLINE_SHAPING=off: the
// per-destination limits only, as before shaping). The goal: shaping costs under 5 %.
//
// One queue of BENCH_RECIPIENTS recipients over BENCH_DOMAINS recipient domains is injected once
// (`serve --roles api`), then copied for each run, so every run drains the same rows. Every
// domain's MX (a fake DNS on loopback, through POSTLINE_DNS_SERVERS) is 127.0.0.1, an SMTP sink
// in this process that takes everything at once. The shaping file makes 127.0.0.1 a provider, so
// every send goes through the provider's gate, its pacer and its hourly window, and gives a few
// of the domains limits of their own; every limit is far above what the run reaches, and the
// same connections (20) apply with shaping off, so the runs differ by the shaping code alone.
// Rounds alternate off/on; the median round of each is reported, with the delivery process's CPU
// time per message (steadier than rates on a shared machine). Messages before BENCH_WARMUP
// arrived are not timed (JIT, first claims).
//
// Options (environment): BENCH_RECIPIENTS (default 20000), BENCH_DOMAINS (default 50),
// BENCH_ROUNDS (default 3), BENCH_WARMUP (default 2000), BENCH_NODE_ARGS (server process only).
// BENCHMARKS.md is written only by a run with the default sizes; any of them set prints only.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import * as packet from 'dns-packet';
import { commitId, root, writeSection } from './benchmarks-file.js';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 20_000);
const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Math.min(Number(process.env.BENCH_WARMUP ?? 2_000), Math.floor(RECIPIENTS / 2));
const DEFAULT_SIZES = !process.env.BENCH_RECIPIENTS && !process.env.BENCH_DOMAINS && !process.env.BENCH_ROUNDS && !process.env.BENCH_WARMUP;
const PER_REQUEST = 1_000;
const CONNECTIONS = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** MX 10 127.0.0.1 (and A 127.0.0.1) for every name: the MX lookup really runs and leads to the sink. */
function startDns() {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    let q;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    const reply = { type: 'response', id: q.id, flags: packet.RECURSION_AVAILABLE | packet.RECURSION_DESIRED, questions: q.questions, answers: [] };
    if (question.type === 'MX') reply.answers = [{ type: 'MX', name: question.name, ttl: 3600, data: { preference: 10, exchange: '127.0.0.1' } }];
    else if (question.type === 'A') reply.answers = [{ type: 'A', name: question.name, ttl: 3600, data: '127.0.0.1' }];
    sock.send(packet.encode(reply), rinfo.port, rinfo.address);
  });
  return new Promise((r) => sock.bind(0, '127.0.0.1', () => r({ address: `127.0.0.1:${sock.address().port}`, close: () => sock.close() })));
}

/** An SMTP sink that accepts everything at once (PIPELINING, no TLS), keeps nothing, and notes when each message arrived. */
function startSink() {
  const state = { messages: 0, at: [] };
  const server = createServer((c) => {
    let buf = '';
    let inData = false;
    c.setEncoding('latin1');
    c.on('error', () => undefined);
    c.write('220 sink ESMTP\r\n');
    c.on('data', (chunk) => {
      buf += chunk;
      let out = '';
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) {
            buf = buf.slice(Math.max(0, buf.length - 4));
            break;
          }
          buf = buf.slice(end + 5);
          inData = false;
          state.messages++;
          if (state.messages === WARMUP || state.messages === RECIPIENTS) state.at[state.messages] = performance.now();
          out += '250 2.0.0 queued\r\n';
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) break;
        const line = buf.slice(0, i).toUpperCase();
        buf = buf.slice(i + 2);
        if (line.startsWith('EHLO')) out += '250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n';
        else if (line.startsWith('DATA')) {
          out += '354 go on\r\n';
          inData = true;
        } else if (line.startsWith('QUIT')) {
          c.end('221 bye\r\n');
          return;
        } else out += '250 ok\r\n';
      }
      if (out) c.write(out);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ port: server.address().port, state, close: () => server.close() })));
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
/** CPU time (ms) of a process so far, its threads included (signing, checkpoints). */
function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function baseEnv(dataDir, dns, sinkPort) {
  const env = {
    ...process.env,
    POSTLINE_DATA_DIR: dataDir,
    POSTLINE_HTTP_HOST: '127.0.0.1',
    POSTLINE_MX_PORT: '0',
    POSTLINE_SMTP_HOST: '127.0.0.1',
    POSTLINE_LOG_LEVEL: 'warn',
    POSTLINE_DNS_SERVERS: dns.address,
    POSTLINE_OUTBOUND_PORT: String(sinkPort),
    // The same connections with shaping off (per destination) and on (the provider's); no rate is reached.
    POSTLINE_PER_DESTINATION_CONCURRENCY: String(CONNECTIONS),
    POSTLINE_PER_DESTINATION_RATE: '1000000',
  };
  delete env.POSTLINE_RELAY_HOST; // a relay host turns shaping off
  delete env.POSTLINE_SHAPING_FILE;
  return env;
}

function bulkBody(creds, offset) {
  const rows = Array.from({ length: PER_REQUEST }, (_, i) => [
    { Field: 'DeliveryAddress', Value: `user${offset + i}@d${(offset + i) % DOMAINS}.bench.test` },
    { Field: 'Code', Value: `C-${offset + i}` },
  ]);
  return JSON.stringify({
    ServerId: creds.serverId,
    ApiKey: creds.apiKey,
    Messages: [
      {
        To: [{ EmailAddress: '%%DeliveryAddress%%' }],
        From: { EmailAddress: 'news@example.com' },
        Subject: 'Code %%Code%%',
        TextBody: `Your code is %%Code%%.\n${'x'.repeat(1500)}`,
        MergeData: { PerMessage: rows },
      },
    ],
  });
}

/** The queue every run drains: injected once through the API role, then copied. */
async function buildQueue(dns, sinkPort) {
  const dataDir = mkdtempSync(join(tmpdir(), 'postline-shaping-queue-'));
  const port = await freePort();
  const env = { ...baseEnv(dataDir, dns, sinkPort), POSTLINE_HTTP_PORT: String(port), POSTLINE_SUBMISSION_PORT: String(await freePort()) };
  const init = spawnSync(process.execPath, [join(root, 'bin/postline.js'), 'init', '--json'], { env, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`postline init failed: ${init.stderr}`);
  const creds = JSON.parse(init.stdout);
  const child = spawn(process.execPath, [join(root, 'bin/postline.js'), 'serve', '--roles', 'api'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
      } catch {
        /* starting */
      }
      if (child.exitCode !== null || i > 200) throw new Error('postline serve --roles api did not start');
      await sleep(50);
    }
    for (let offset = 0; offset < RECIPIENTS; offset += PER_REQUEST) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bulkBody(creds, offset),
      });
      const j = await r.json();
      if (j.ErrorCode !== 'Success') throw new Error(`injection at ${offset}: ${JSON.stringify(j)}`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  }
  return dataDir;
}

/** The operator's shaping file of the "on" runs: every send passes a provider gate, its pacer and hourly window; some domains have gates too. */
function shapingFile() {
  const dir = mkdtempSync(join(tmpdir(), 'postline-shaping-file-'));
  const file = join(dir, 'shaping.json');
  const domains = Object.fromEntries(
    Array.from({ length: Math.min(10, DOMAINS) }, (_, i) => [`d${i}.bench.test`, { connections: CONNECTIONS, perSecond: 1_000_000, perHour: 1_000_000_000 }]),
  );
  writeFileSync(
    file,
    JSON.stringify({
      providers: [{ name: 'bench', mx: ['127.0.0.1'], connections: CONNECTIONS, messagesPerConnection: 100, perSecond: 1_000_000, perHour: 1_000_000_000 }],
      domains,
    }),
  );
  return { file, dir };
}

/** One run: the delivery role drains a copy of the queue into the sink; throughput after the warm-up, CPU per message. */
async function run(mode, queueDir, dns, sink, file) {
  const dataDir = mkdtempSync(join(tmpdir(), `postline-shaping-${mode}-`));
  cpSync(queueDir, dataDir, { recursive: true });
  sink.state.messages = 0;
  sink.state.at = [];
  const env = {
    ...baseEnv(dataDir, dns, sink.port),
    POSTLINE_HTTP_PORT: String(await freePort()),
    POSTLINE_SUBMISSION_PORT: String(await freePort()),
    POSTLINE_SHAPING: mode,
    ...(mode === 'on' ? { POSTLINE_SHAPING_FILE: file } : {}),
  };
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/postline.js'), 'serve', '--roles', 'delivery'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    let cpuAtWarmup = null;
    let last = -1;
    let since = Date.now();
    while (sink.state.messages < RECIPIENTS) {
      if (child.exitCode !== null) throw new Error(`postline serve --roles delivery exited (${child.exitCode})`);
      if (cpuAtWarmup === null && sink.state.messages >= WARMUP) cpuAtWarmup = cpuMs(child.pid);
      if (sink.state.messages !== last) {
        last = sink.state.messages;
        since = Date.now();
      }
      if (Date.now() - since > 60_000) throw new Error(`${mode}: no progress for 60 s (at ${last} of ${RECIPIENTS})`);
      await sleep(5);
    }
    const cpu = cpuMs(child.pid) - (cpuAtWarmup ?? 0);
    const timed = RECIPIENTS - WARMUP;
    const seconds = (sink.state.at[RECIPIENTS] - sink.state.at[WARMUP]) / 1000;
    return { mode, perSec: timed / seconds, cpuMs: cpu / timed };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function write(r) {
  const f = (n) => Math.round(n).toLocaleString('en-US');
  const pct = (n) => `${(n * 100).toFixed(1)} %`;
  writeSection('shaping', [
    '## Traffic shaping: delivery with shaping on and off',
    '',
    `Command: \`node bench/shaping.js\` (BENCH_RECIPIENTS=${RECIPIENTS}, BENCH_DOMAINS=${DOMAINS}, BENCH_ROUNDS=${ROUNDS}, BENCH_WARMUP=${WARMUP}) — ${new Date().toISOString().slice(0, 10)}, commit ${commitId()},`,
    `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. \`postline serve --roles delivery\` (SQLite) drains the same`,
    `queue of ${f(RECIPIENTS)} merge recipients over ${DOMAINS} domains, MX 127.0.0.1 through a fake DNS, into an SMTP sink that takes everything at once;`,
    `${CONNECTIONS} connections either way, no rate reached. On: POSTLINE_SHAPING=on with a file that makes the sink a provider (gate, pacer, hourly`,
    'window for every send) and gives 10 of the domains limits of their own. Off: POSTLINE_SHAPING=off (the per-destination limits only).',
    `Rounds alternate; median of ${ROUNDS} each, timed after the first ${f(WARMUP)} messages.`,
    '',
    '| shaping | delivered | CPU per message | goal |',
    '| --- | --- | --- | --- |',
    `| off | ${f(r.off.perSec)} recipients/s | ${r.off.cpuMs.toFixed(3)} ms | — |`,
    `| on | ${f(r.on.perSec)} recipients/s | ${r.on.cpuMs.toFixed(3)} ms | ${r.cost < 0.05 && r.cpuCost < 0.05 ? 'reached' : '**not reached**'} (costs < 5 % in throughput and in CPU per message: ${pct(r.cost)} of throughput, ${pct(r.cpuCost)} more CPU per message) |`,
  ]);
}

async function main() {
  const dns = await startDns();
  const sink = await startSink();
  const { file, dir } = shapingFile();
  let queueDir = null;
  try {
    queueDir = await buildQueue(dns, sink.port);
    console.log(`queue: ${RECIPIENTS} recipients over ${DOMAINS} domains`);
    const results = { off: [], on: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const mode of i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
        const r = await run(mode, queueDir, dns, sink, file);
        results[mode].push(r);
        console.log(`round ${i + 1}, shaping ${mode}: ${Math.round(r.perSec)} recipients/s, ${r.cpuMs.toFixed(3)} ms CPU per message`);
      }
    }
    const summary = (mode) => ({ perSec: median(results[mode].map((x) => x.perSec)), cpuMs: median(results[mode].map((x) => x.cpuMs)) });
    const off = summary('off');
    const on = summary('on');
    const cost = 1 - on.perSec / off.perSec;
    const cpuCost = on.cpuMs / off.cpuMs - 1;
    console.log(
      `median: off ${Math.round(off.perSec)}/s ${off.cpuMs.toFixed(3)} ms, on ${Math.round(on.perSec)}/s ${on.cpuMs.toFixed(3)} ms; ` +
        `shaping costs ${(cost * 100).toFixed(1)} % of throughput, ${(cpuCost * 100).toFixed(1)} % more CPU per message (goal < 5 %)`,
    );
    if (DEFAULT_SIZES) write({ off, on, cost, cpuCost });
    else console.log('sizes set by environment: BENCHMARKS.md not written');
  } finally {
    dns.close();
    sink.close();
    rmSync(dir, { recursive: true, force: true });
    if (queueDir) rmSync(queueDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
