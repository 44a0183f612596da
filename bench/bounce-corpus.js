#!/usr/bin/env node
// Bounce corpus: every message of test/fixtures/bounces/ through parseReport (the code path of
// `postline dsn parse`), scored against the manifest (expected results from Sisimai and flufl.bounce, see the
// corpus README): read as a bounce for the right recipient, the right permanent/temporary class,
// the exact RFC 3463 status where the report gives one. Prints the figures per MTA family and
// writes them into BENCHMARKS.md.
//
//   npx tsc -p tsconfig.json && node bench/bounce-corpus.js
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitId, root, writeSection } from './benchmarks-file.js';

const CORPUS = join(root, 'test/fixtures/bounces');
const { parseReport } = await import(join(root, 'dist/bounce/parse-report.js'));
const { scoreCorpus, ratio } = await import(join(CORPUS, 'score.js'));

const entries = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8'));
const reports = new Map();
for (const entry of entries) reports.set(entry.file, await parseReport(readFileSync(join(CORPUS, entry.file))));
const { total, families, misses } = scoreCorpus(entries, reports);

const pct = (n, d) => (d === 0 ? '–' : `${(100 * ratio(n, d)).toFixed(1)} %`);
const row = (name, f) =>
  `| ${name} | ${f.files} | ${f.recipients} | ${pct(f.read, f.recipients)} | ${pct(f.classRight, f.recipients)} | ${pct(f.statusRight, f.statusGiven)} (${f.statusGiven}) | ${f.notBounces === 0 ? '–' : `${f.notBouncesRight}/${f.notBounces}`} |`;

const lines = [
  '## Bounce corpus (`node bench/bounce-corpus.js`)',
  '',
  `Commit ${commitId()}. ${entries.length} messages of test/fixtures/bounces/ (Sisimai's public corpus; \`flufl-*\`: GNU Mailman's flufl.bounce samples) read by`,
  '`parseReport`, the code path of `postline dsn parse`, and scored against its manifest per failed recipient:',
  'read (a bounce naming that address), class (permanent/temporary as the report gave it; a full mailbox that',
  'Postline retries by policy counts as permanent), status (the exact RFC 3463 code, of the recipients whose',
  'report gives one). Goals: read ≥ 95 %, class ≥ 90 %, status ≥ 80 %. Not bounces: complaints, auto-replies,',
  'success notices and ordinary mail read as what they are.',
  '',
  '| family | files | recipients | read | class | status (given) | not bounces right |',
  '|---|---|---|---|---|---|---|',
  row('**all**', total),
  ...[...families.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, f]) => row(name, f)),
  '',
  `Misses (${misses.length}):`,
  '',
  ...misses.map((m) => `- ${m.file}: ${m.why.replace(/\|/g, '\\|').slice(0, 160)}`),
];
console.log(lines.join('\n'));
writeSection('bounce-corpus', lines);
