#!/usr/bin/env node
// Inbound parser benchmark (`npx tsc -p tsconfig.json && node bench/inbound-stall.js`), on the built dist/:
//  1. stall: the longest event-loop delay of this (main) thread while build() turns a 25 MB message
//     with attachments into its Inbound POST body on the parser threads (goal: under 50 ms);
//  2. rate: build() of 50 KB DKIM-signed messages with a small attachment, BENCH_INBOUND_CONCURRENCY
//     (16) in flight, SPF/DKIM/DMARC answered by a DNS server on loopback in this process.
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startDns } from './dns-server.js';
import { commitId, writeSection } from './benchmarks-file.js';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { createInboundParser } from '../dist/inbound/parse/index.js';
import { dnsLookup } from '../dist/dns/lookup.js';
import { generateDkimKey, signMessage } from '../dist/compose/dkim.js';

const CONCURRENCY = Number(process.env.BENCH_INBOUND_CONCURRENCY ?? 16);
const RATE_MESSAGES = Number(process.env.BENCH_INBOUND_MESSAGES ?? 400);
const STALL_ROUNDS = 3;

const key = generateDkimKey('bench.example', 'b1');
const dns = await startDns(
  new Map([
    ['bench.example', ['v=spf1 ip4:127.0.0.1 -all']],
    ['b1._domainkey.bench.example', [`v=DKIM1; k=rsa; p=${key.publicKeyBase64}`]],
    ['_dmarc.bench.example', ['v=DMARC1; p=none']],
  ]),
);
const parser = createInboundParser({ dns: dnsLookup([dns.address]), dnsServers: [dns.address], hostname: 'mx.bench.test' });
const env = {
  serverId: 1,
  secretKey: 'bench',
  mailFrom: 'news@bench.example',
  rcptTo: 'in@customer.example',
  remoteIp: '127.0.0.1',
  heloName: 'mta.bench.example',
  receivedAt: 0,
};

const compose = (size, attachments) =>
  new MailComposer({
    from: 'News <news@bench.example>',
    to: 'in@customer.example',
    subject: 'Bench',
    text: 'x'.repeat(size),
    html: `<p>${'y'.repeat(size)}</p><img src="cid:logo@bench">`,
    attachments: [...attachments, { filename: 'logo.png', content: randomBytes(2_000), contentType: 'image/png', cid: 'logo@bench' }],
  })
    .compile()
    .build();

// Warm the threads (module loading) before measuring.
await parser.build(await compose(100, []), env);

// 1. stall
const big = await compose(500_000, [
  { filename: 'a.bin', content: randomBytes(6_000_000) },
  { filename: 'b.pdf', content: randomBytes(6_000_000), contentType: 'application/pdf' },
  { filename: 'c.zip', content: randomBytes(6_000_000), contentType: 'application/zip' },
]);
const bigSize = big.length;
let maxStall = 0;
let buildMs = 0;
let outSize = 0;
for (let round = 0; round < STALL_ROUNDS; round++) {
  const raw = Buffer.from(big); // build() takes its buffer over by transfer
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let gap = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 1);
  h.enable();
  const t0 = performance.now();
  const body = await parser.build(raw, env);
  buildMs = Math.max(buildMs, performance.now() - t0);
  h.disable();
  clearInterval(tick);
  outSize = body.length;
  maxStall = Math.max(maxStall, h.max / 1e6, gap);
}

// 2. rate
const small = [];
for (let i = 0; i < 20; i++) {
  small.push(await signMessage(await compose(20_000, [{ filename: 'note.txt', content: randomBytes(3_000).toString('hex') }]), [key]));
}
let next = 0;
let dkimPass = 0;
const t1 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < RATE_MESSAGES) {
      const i = next++;
      const body = JSON.parse((await parser.build(Buffer.from(small[i % small.length]), env)).toString());
      if (body.Authentication.Dkim[0]?.Result === 'pass' && body.Authentication.Spf.Result === 'pass') dkimPass++;
    }
  }),
);
const rateSec = (performance.now() - t1) / 1000;
await parser.close();
dns.close();
if (dkimPass !== RATE_MESSAGES) throw new Error(`only ${dkimPass} of ${RATE_MESSAGES} messages passed SPF and DKIM`);

const rows = [
  `| Longest main-thread event-loop stall during build() of a ${(bigSize / 1e6).toFixed(1)} MB message (3 attachments), max of ${STALL_ROUNDS} | **${maxStall.toFixed(1)} ms** (goal < 50 ms: ${maxStall < 50 ? 'reached' : '**not reached**'}) |`,
  `| Slowest build() of that message (JSON body ${(outSize / 1e6).toFixed(1)} MB), on a parser thread | ${buildMs.toFixed(0)} ms |`,
  `| Build rate, ${(small[0].length / 1e3).toFixed(0)} KB DKIM-signed messages, ${CONCURRENCY} in flight, SPF and DKIM pass | ${(RATE_MESSAGES / rateSec).toFixed(0)} messages/s |`,
];
console.log(`\n${cpus().length} cores, Node ${process.version}\n`);
console.log(['| Inbound parser | Result |', '|---|---|', ...rows].join('\n'));
writeSection('inbound-parser', [
  '## Inbound parser',
  '',
  `Command: \`node bench/inbound-stall.js\` (part of \`npm run bench\`) — ${new Date().toISOString().slice(0, 10)}, commit ${commitId()}, ${cpus().length} cores, Node ${process.version}.`,
  'The parser alone (src/inbound/parse/), on its default threads; DNS for SPF, DKIM and DMARC from a server on loopback.',
  '',
  '| measure | result |',
  '| --- | --- |',
  ...rows,
]);
