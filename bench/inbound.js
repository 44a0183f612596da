#!/usr/bin/env node
// Inbound pipeline benchmark: messages per second from SMTP accept to acknowledged post.
// An in-process Postline (roles smtp and webhooks, SQLite) with one route for bench.example; a
// node:http receiver on loopback answering 200; BENCH_INBOUND_MESSAGES messages of about 50 KB
// (text, HTML and two attachments, composed by nodemailer and DKIM-signed) are sent over
// BENCH_INBOUND_CONNECTIONS SMTP connections to the MX port. The clock runs from the first MAIL
// FROM to the receiver's last 200. The sending MTA and the receiver run in a worker thread on the
// same two cores: their CPU is the far ends', not Postline's, so the sender is the lean pipelining
// client of src/delivery/smtp-client.ts (nodemailer's transport took half a core by itself).
//
//   npx tsc -p tsconfig.json && node bench/inbound.js
//   BENCH_INBOUND_MESSAGES=5000 BENCH_INBOUND_CONNECTIONS=16 node bench/inbound.js
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { commitId, root, writeSection } from './benchmarks-file.js';
import { startDns } from './dns-server.js';

const dist = (p) => import(join(root, 'dist', p));

const MESSAGES = Number(process.env.BENCH_INBOUND_MESSAGES ?? 3_000);
const CONNECTIONS = Number(process.env.BENCH_INBOUND_CONNECTIONS ?? 8);

function startReceiver() {
  const r = { count: 0, bytes: 0, port: 0, server: null };
  r.server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c) => { n += c.length; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      r.bytes += n;
      r.count++;
    });
  });
  r.server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => r.server.listen(0, '127.0.0.1', () => { r.port = r.server.address().port; resolve(r); }));
}

/** About 50 KB on the wire: two 18 KB attachments (24 KB each in base64), a text and an HTML part. */
async function message(i, key) {
  const { signMessage } = await dist('compose/dkim.js');
  const raw = await new MailComposer({
    from: '"Bench Sender" <sender@client.example>', to: `inbox${i % 50}@bench.example`, subject: `bench message ${i}`,
    text: 'Hello,\n\nthe report is attached.\n'.repeat(20), html: `<p>${'the report is attached. '.repeat(40)}</p>`,
    attachments: [
      { filename: 'report.pdf', content: randomBytes(18_000), contentType: 'application/pdf' },
      { filename: 'data.bin', content: randomBytes(18_000), contentType: 'application/octet-stream' },
    ],
  }).compile().build();
  return signMessage(raw, [key]);
}

/**
 * The far ends, in a worker thread: the receiver (its port reported first), then, on 'go',
 * MESSAGES messages over CONNECTIONS pooled SMTP connections; reports when all are sent and when
 * all are received.
 */
async function farEnds({ messages, connections, dkimKey }) {
  const receiver = await startReceiver();
  parentPort.postMessage({ receiverPort: receiver.port });
  const { port } = await new Promise((r) => parentPort.once('message', r));
  const bodies = await Promise.all(Array.from({ length: 20 }, (_, i) => message(i, dkimKey)));
  const { SmtpClient } = await dist('delivery/smtp-client.js');
  const open = () => SmtpClient.open({ host: '127.0.0.1', port, heloName: 'client.example', opportunisticTls: false,
    connectionTimeoutMs: 10_000, greetingTimeoutMs: 10_000, replyTimeoutMs: 60_000 });
  const clients = await Promise.all(Array.from({ length: connections }, open));
  parentPort.postMessage({ ready: true, avgBytes: bodies.reduce((n, b) => n + b.length, 0) / bodies.length });
  await new Promise((r) => parentPort.once('message', r));
  let next = 0;
  const sender = async (client) => {
    while (next < messages) {
      const i = next++;
      const r = await client.send('sender@client.example', `inbox${i % 50}@bench.example`, bodies[i % bodies.length]);
      if (r.kind !== 'accepted') throw new Error(`message ${i} refused: ${r.reply.text}`);
    }
  };
  await Promise.all(clients.map(sender));
  for (const c of clients) c.quit();
  parentPort.postMessage({ sent: true });
  while (receiver.count < messages) await new Promise((r) => setTimeout(r, 5));
  parentPort.postMessage({ received: true });

  // Then one 25 MB message (three attachments) end to end, while the main thread's event loop is watched.
  await new Promise((r) => parentPort.once('message', r));
  const big = await new MailComposer({
    from: '"Bench Sender" <sender@client.example>', to: 'big@bench.example', subject: 'big', text: 'see attached',
    attachments: [1, 2, 3].map((n) => ({ filename: `part${n}.bin`, content: randomBytes(6_200_000), contentType: 'application/octet-stream' })),
  }).compile().build();
  const one = await open();
  const before = receiver.count;
  const sent = await one.send('sender@client.example', 'big@bench.example', big);
  if (sent.kind !== 'accepted') throw new Error(`the big message was refused: ${sent.reply.text}`);
  one.quit();
  while (receiver.count === before) await new Promise((r) => setTimeout(r, 5));
  parentPort.postMessage({ bigReceived: true, bigBytes: big.length });
}

async function main() {
  const { loadConfig } = await dist('config/load.js');
  const { createLogger } = await dist('log.js');
  const { startApp } = await dist('app.js');
  const { SqliteStore } = await dist('store/sqlite/sqlite-store.js');
  const { ensureBootstrap } = await dist('accept/bootstrap.js');
  // The sender's domain as a receiver sees it: SPF, a DKIM key and DMARC, answered by a DNS
  // server on loopback, so the SPF/DKIM/DMARC checks of every message do their real work.
  const { generateDkimKey } = await dist('compose/dkim.js');
  const dkimKey = generateDkimKey('client.example', 'b1');
  const dns = await startDns(new Map([
    ['client.example', ['v=spf1 ip4:127.0.0.1 -all']],
    ['b1._domainkey.client.example', [`v=DKIM1; k=rsa; p=${dkimKey.publicKeyBase64}`]],
    ['_dmarc.client.example', ['v=DMARC1; p=reject']],
  ]));
  const worker = new Worker(new URL(import.meta.url), { workerData: { messages: MESSAGES, connections: CONNECTIONS, dkimKey } });
  const fromWorker = (key) => new Promise((resolve, reject) => {
    const on = (m) => { if (m[key]) { worker.off('message', on); resolve(m); } };
    worker.on('message', on);
    worker.once('error', reject);
  });
  const { receiverPort } = await fromWorker('receiverPort');
  const dataDir = mkdtempSync(join(tmpdir(), 'postline-inbound-'));
  const store = new SqliteStore(join(dataDir, 'postline.db'));
  await store.migrate();
  const { credentials } = await ensureBootstrap(store, dataDir, Date.now());
  const config = loadConfig({}, {
    dataDir, httpPort: 0, httpHost: '127.0.0.1', smtpHost: '127.0.0.1', submissionPort: 0, mxPort: 0, logLevel: 'warn',
    hostname: 'postline.bench', webhookAllowPrivate: true, smtpGreetingDelayMs: 0, dnsServers: [dns.address],
  });
  await store.createInboundRoute({ serverId: credentials.serverId, match: 'bench.example', kind: 'domain', url: `http://127.0.0.1:${receiverPort}/inbound`,
    secretKey: 'BenchSecretKey000000', signingSecret: `whsec_${randomBytes(32).toString('base64')}`, enabled: true, validatedAt: Date.now() }, Date.now());
  const app = await startApp({ config, log: createLogger('warn'), store, now: Date.now }, ['smtp', 'webhooks']);
  try {
    worker.postMessage({ port: app.mxPort });
    const { avgBytes } = await fromWorker('ready');
    const t0 = Date.now();
    const cpu0 = process.cpuUsage();
    worker.postMessage('go');
    await fromWorker('sent');
    const acceptedAt = Date.now();
    await fromWorker('received');
    const sec = (Date.now() - t0) / 1000;
    // CPU of every thread of this process (Postline, its parser threads and the far ends) per message:
    // steadier than messages/s when other work shares the cores.
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000 / MESSAGES;
    const acceptSec = (acceptedAt - t0) / 1000;
    const rate = MESSAGES / sec;
    // The 25 MB message: SMTP receive, store, load, parse (on the parser threads), sign and POST.
    const { monitorEventLoopDelay } = await import('node:perf_hooks');
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    worker.postMessage('big');
    const { bigBytes } = await fromWorker('bigReceived');
    loop.disable();
    const stallMs = loop.max / 1e6;
    console.log(`inbound: ${MESSAGES} messages of ${(avgBytes / 1024).toFixed(0)} KB over ${CONNECTIONS} connections: accepted in ${acceptSec.toFixed(1)} s `
      + `(${(MESSAGES / acceptSec).toFixed(0)}/s), all posted in ${sec.toFixed(1)} s = ${rate.toFixed(0)} messages/s (goal 500/s: ${rate >= 500 ? 'reached' : 'not reached'}), `
      + `${cpuMs.toFixed(2)} ms of CPU per message (all threads); `
      + `one ${(bigBytes / 2 ** 20).toFixed(1)} MB message end to end: longest event-loop stall ${stallMs.toFixed(1)} ms`);
    {
      const f = (n) => Math.round(n).toLocaleString('en-US');
      writeSection('inbound', [
        '## Inbound pipeline (SQLite)',
        '',
        `Command: \`node bench/inbound.js\` (BENCH_INBOUND_MESSAGES=${MESSAGES}, BENCH_INBOUND_CONNECTIONS=${CONNECTIONS}) — ${new Date().toISOString().slice(0, 10)}, commit ${commitId()},`,
        `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. One in-process Postline (roles smtp, webhooks),`,
        `the sender (src/delivery/smtp-client.ts, pipelining) and a node:http receiver answering 200, on the same cores. Messages of ${f(avgBytes / 1024)} KB (text, HTML, two attachments).`,
        '',
        '| run | messages | messages/s | goal |',
        '| --- | --- | --- | --- |',
        `| SMTP accept to acknowledged post | ${f(MESSAGES)} | **${f(rate)}** | ${rate >= 500 ? 'reached' : '**not reached**'} (≥ 500/s) |`,
        `| SMTP accept alone (250 after the commit) | ${f(MESSAGES)} | ${f(MESSAGES / acceptSec)} | — |`,
        '',
        `CPU of all threads (Postline, its parser threads, sender and receiver): **${cpuMs.toFixed(2)} ms per message**; 500/s on two cores needs ≤ 4 ms.`,
        '',
        'Where the CPU goes per message (per-thread CPU from /proc/self/task during the run, and `perf`/`--cpu-prof`, 2026-12-04 session 5):',
        'parser threads 2.3–2.8 ms (postal-mime 0.67 ms alone, mailparser took 1.9; mailauth about 1 ms after the fast paths of',
        'src/inbound/parse/mailauth-fast-paths.ts; ReplyText 0.17 ms, was 0.34; the JSON 0.2 ms); main thread 1.5–2.1 ms (SQLite COMMIT about',
        '0.25 ms now that WAL checkpoints run on their own thread, was 0.45; the body insert 0.1 ms; smtp-server\'s DATA scan, undici, loopback',
        'socket writes); V8\'s platform threads 1.4–2 ms (garbage collection: concurrent marking for the main isolate, parallel scavenges for',
        'the parser threads, page faults); sender and receiver 0.5–0.65 ms. Runs vary by up to a third on this machine (6.2 and 8.3 ms per',
        'message back to back on one commit, every thread slower alike), so compare CPU per message over several runs. 500/s needs about',
        'two thirds of today\'s CPU per message.',
        '',
        `One ${(bigBytes / 2 ** 20).toFixed(1)} MB message (three attachments) from SMTP to acknowledged post, after the run: the longest stall of the main thread's event loop (receive, store, load, hand to a parser thread, sign, POST) was **${stallMs.toFixed(1)} ms**.`,
      ]);
    }
  } finally {
    await worker.terminate();
    dns.close();
    await app.stop();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (isMainThread) main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
else farEnds(workerData).catch((err) => { console.error(err); process.exit(1); });
