#!/usr/bin/env node
// MIME parsers side by side: mailparser (simpleParser, with the options the bounce reader used) and
// postal-mime as published, on the project's corpora (test/fixtures/bounces, reports, inbound) and
// on bench/inbound.js's kind of message (51 KB: text, HTML, two attachments). CPU time of the parse
// alone on this thread, after a warm-up round; the best of BENCH_MIME_ROUNDS rounds. Writes its
// section of BENCHMARKS.md.
//
//   node bench/mime-parsers.js
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import PostalMime from 'postal-mime';
import { commitId, root, writeSection } from './benchmarks-file.js';

const ROUNDS = Number(process.env.BENCH_MIME_ROUNDS ?? 5);
const FIXTURES = join(root, 'test/fixtures');
const corpus = (dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(join(FIXTURES, dir, f)));

/** A message like bench/inbound.js's: text, HTML and two base64 attachments, about 51 KB. */
function inboundMessage() {
  const b64 = (n, seed) =>
    Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff))
      .toString('base64')
      .match(/.{1,76}/g)
      .join('\r\n');
  const text = Array.from({ length: 40 }, (_, i) => `Line ${i} of the reply, with some words in it.`).join('\r\n');
  return Buffer.from(
    [
      'From: Ann <ann@example.net>',
      'To: inbox@customer.example',
      'Subject: bench',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="B"',
      '',
      '--B',
      'Content-Type: multipart/alternative; boundary="A"',
      '',
      '--A',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '--A',
      'Content-Type: text/html; charset=utf-8',
      '',
      `<p>${text}</p>`,
      '--A--',
      '--B',
      'Content-Type: application/pdf; name="a.pdf"',
      'Content-Disposition: attachment; filename="a.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      b64(16_000, 1),
      '--B',
      'Content-Type: image/png; name="b.png"',
      'Content-Disposition: attachment; filename="b.png"',
      'Content-Transfer-Encoding: base64',
      '',
      b64(16_000, 2),
      '--B--',
      '',
    ].join('\r\n'),
  );
}

const MAILPARSER_OPTIONS = { keepDeliveryStatus: true, ignoreEmbedded: true, skipTextToHtml: true, skipImageLinks: true };
const parsers = {
  mailparser: (raw) => simpleParser(raw, MAILPARSER_OPTIONS),
  'postal-mime': (raw) => PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer', rfc822Attachments: true, forceRfc822Attachments: true }),
};

/** CPU ms to parse every message once; the best of ROUNDS after one warm-up. */
async function cpuMs(parse, messages) {
  let best = Infinity;
  for (let round = 0; round <= ROUNDS; round++) {
    const start = process.cpuUsage();
    for (const m of messages) await parse(m).catch(() => null);
    const used = process.cpuUsage(start);
    if (round > 0) best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

const sets = [
  ['bounces (test/fixtures/bounces)', corpus('bounces')],
  ['reports (test/fixtures/reports)', corpus('reports')],
  ['inbound (test/fixtures/inbound)', corpus('inbound')],
  ['51 KB message ×200 (bench/inbound.js shape)', Array.from({ length: 200 }, inboundMessage)],
];
const rows = [];
for (const [name, messages] of sets) {
  const ms = {};
  for (const [parser, parse] of Object.entries(parsers)) ms[parser] = await cpuMs(parse, messages);
  const per = (v) => `${(v / messages.length).toFixed(3)} ms`;
  rows.push(`| ${name} | ${messages.length} | ${per(ms.mailparser)} | ${per(ms['postal-mime'])} | ${(ms.mailparser / ms['postal-mime']).toFixed(1)}× |`);
  console.log(rows[rows.length - 1]);
}

writeSection('mime-parsers', [
  '## MIME parsers: mailparser and postal-mime (`node bench/mime-parsers.js`)',
  '',
  `Commit ${commitId()}, Node ${process.version}. CPU per message of the parse alone on one thread (best of ${ROUNDS} rounds after a warm-up),`,
  "each library as published (without Postline's postal-mime fast paths), mailparser with the bounce reader's former options.",
  '',
  '| messages | count | mailparser | postal-mime | ratio |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  '',
  'The last row is postal-mime without the fast paths the Inbound parser applies to it (src/patches/postal-mime.ts).',
  '',
  'Decision: one parser, postal-mime. The bounce reader (src/bounce/mime.ts) moved to it with the bounce corpus',
  'figures unchanged (bench/bounce-corpus.js: the same read, class and status on all 733 messages and the same misses),',
  'so mailparser is no longer a dependency of the program.',
]);
