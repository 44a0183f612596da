#!/usr/bin/env node
// The control panel's weight: every file Vite built into dist/web/assets, raw and gzip -9, against
// the budget of 250 KB gzipped for JavaScript and CSS together. Run after `npm run build:web`.
//
//   npm run build:web && node bench/panel-size.js
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { commitId, root, writeSection } from './benchmarks-file.js';

const BUDGET = 250 * 1024;
const dir = join(root, 'dist', 'web', 'assets');
const files = readdirSync(dir)
  .filter((f) => /\.(js|css)$/.test(f))
  .map((f) => {
    const raw = readFileSync(join(dir, f));
    return { f, raw: raw.length, gz: gzipSync(raw, { level: 9 }).length };
  });
if (files.length === 0) throw new Error(`nothing in ${dir}: run npm run build:web first`);
const total = files.reduce((n, x) => n + x.gz, 0);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const x of files) console.log(`  ${x.f}: ${kb(x.raw)} raw, ${kb(x.gz)} gzip -9`);
console.log(`  total ${kb(total)} gzipped (budget ${kb(BUDGET)})`);
writeSection('panel-size', [
  '## Control panel bundle',
  '',
  `Command: \`npm run build:web && node bench/panel-size.js\` — ${new Date().toISOString().slice(0, 10)}, commit ${commitId()}. Every page of the panel`,
  'is in one JavaScript file (Preact and the app; no other runtime dependency) and one stylesheet.',
  '',
  '| file | raw | gzip -9 |',
  '| --- | --- | --- |',
  ...files.map((x) => `| ${x.f.replace(/-[\w-]{8}\./, '.')} | ${kb(x.raw)} | ${kb(x.gz)} |`),
  `| **together** | ${kb(files.reduce((n, x) => n + x.raw, 0))} | **${kb(total)}** (${total < BUDGET ? 'reached' : '**not reached**'}: budget 250 KB) |`,
]);
