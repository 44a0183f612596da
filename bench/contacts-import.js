#!/usr/bin/env node
// Contacts CSV import benchmark: rows per second and peak memory of `postline contacts import`.
// Generates a BENCH_CONTACTS_ROWS-row CSV (default 1,000,000; quoted cells with commas, a custom
// field, one malformed row in every 1,000: a bad address, too many cells, no address), runs the
// real CLI (bin/postline.js, the built dist/) as a child process on a fresh SQLite store, and reads
// the child's peak resident set (VmHWM in /proc/<pid>/status) while it runs. Then it checks that
// every good row was imported, every bad row reported with its row number, and that
// `contacts export` returns exactly the good rows, in file order.
//
//   npm run build && node bench/contacts-import.js
//   BENCH_CONTACTS_ROWS=100000 node bench/contacts-import.js
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { commitId, root, writeSection } from './benchmarks-file.js';

const ROWS = Number(process.env.BENCH_CONTACTS_ROWS ?? 1_000_000);
const BIN = join(root, 'bin', 'postline.js');
/** Goal from the issue: the import of a million rows stays under 200 MB resident. */
const RSS_GOAL_BYTES = 200 * 1000 * 1000;

/** Row r (1-based, the header is row 1) of the file: its cells, or why the CLI must refuse it. */
function rowOf(r) {
  const i = r - 2;
  if (i % 1000 === 999) {
    switch (((i / 1000) | 0) % 3) {
      case 0:
        return { line: `not-an-address-${i},Bad,Row,x`, reason: `not a valid email address: "not-an-address-${i}"` };
      case 1:
        return { line: `extra${i}@example.com,Too,Many,x,y`, reason: 'too many columns (5, the header has 4)' };
      default:
        return { line: `,No,Address,x`, reason: 'no email address' };
    }
  }
  const email = `contact${i}@example${i % 97}.com`;
  const first = `First${i % 1013}`;
  const last = i % 7 === 0 ? `Smith, Jr. ${i % 11}` : `Last${i % 1009}`;
  const city = i % 5 === 0 ? '' : `City ${i % 301}`;
  return { email, first, last, city };
}

const cell = (v) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

async function writeCsv(path) {
  const out = createWriteStream(path);
  let buf = 'emailAddress,firstName,lastName,City\n';
  const bad = [];
  for (let r = 2; r <= ROWS + 1; r++) {
    const row = rowOf(r);
    if (row.line !== undefined) {
      buf += row.line + '\n';
      bad.push({ row: r, reason: row.reason });
    } else buf += `${cell(row.email)},${cell(row.first)},${cell(row.last)},${cell(row.city)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  return bad;
}

/** Runs the CLI; resolves with its output and the peak RSS read from /proc while it ran. */
function runCli(args, env, onLine) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 50);
    if (onLine) createInterface({ input: child.stdout }).on('line', onLine);
    else
      child.stdout.setEncoding('utf8').on('data', (d) => {
        stdout += d;
      });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    // VmHWM only grows: the last sample before exit is the peak (sampled also on 'exit').
    child.on('exit', sample);
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(timer);
      resolve({ status, stdout, stderr, peak });
    });
  });
}

function parseCsvLine(line) {
  const out = [];
  let f = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"' && line[i + 1] === '"') {
        f += '"';
        i++;
      } else if (ch === '"') q = false;
      else f += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      out.push(f);
      f = '';
    } else f += ch;
  }
  out.push(f);
  return out;
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'postline-contacts-'));
  const env = { POSTLINE_DATA_DIR: dataDir, POSTLINE_LOG_LEVEL: 'warn' };
  try {
    const init = await runCli(['init', '--json'], env);
    if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
    const serverId = JSON.parse(init.stdout).serverId;
    const { SqliteStore } = await import(join(root, 'dist', 'store/sqlite/sqlite-store.js'));
    const store = new SqliteStore(join(dataDir, 'postline.db'));
    await store.migrate();
    const listId = (await store.marketing.createList(serverId, 'bench', Date.now())).id;
    await store.marketing.createCustomField(serverId, 'City', 20, Date.now());
    await store.close();

    const csv = join(dataDir, 'contacts.csv');
    const bad = await writeCsv(csv);
    const t0 = Date.now();
    const imp = await runCli(['contacts', 'import', csv, '--server', String(serverId), '--list', String(listId), '--json'], env);
    const sec = (Date.now() - t0) / 1000;
    if (imp.status !== 0) throw new Error(`import failed (${imp.status}): ${imp.stderr}`);
    const summary = JSON.parse(imp.stdout);
    const good = ROWS - bad.length;
    const problems = [];
    if (summary.imported !== good || summary.updated !== 0) problems.push(`imported ${summary.imported} and updated ${summary.updated}, expected ${good} new`);
    if (summary.rejected !== bad.length) problems.push(`rejected ${summary.rejected}, expected ${bad.length}`);
    const listed = summary.rejectedRows.length + summary.rejectedNotListed;
    if (listed !== bad.length) problems.push(`${listed} rejected rows reported, expected ${bad.length}`);
    for (const [k, b] of bad.slice(0, summary.rejectedRows.length).entries()) {
      const got = summary.rejectedRows[k];
      if (got.row !== b.row || got.reason !== b.reason) {
        problems.push(`rejected row ${k}: got ${JSON.stringify(got)}, expected ${JSON.stringify(b)}`);
        break;
      }
    }

    // The export, line by line, against the file's good rows in order (contacts come out by id).
    let r = 2;
    let exported = 0;
    let header = null;
    let mismatch = null;
    const exp = await runCli(['contacts', 'export', '--server', String(serverId), '--list', String(listId)], env, (line) => {
      if (header === null) {
        header = line;
        return;
      }
      let row = rowOf(r++);
      while (row.line !== undefined) row = rowOf(r++);
      exported++;
      const cells = parseCsvLine(line);
      const want = [row.email, row.first, row.last, 'false', row.city];
      if (mismatch === null && cells.join('\u0000') !== want.join('\u0000')) mismatch = `export line ${exported}: ${line} (expected ${want.join(',')})`;
    });
    if (exp.status !== 0) problems.push(`export failed: ${exp.stderr}`);
    if (header !== 'emailAddress,firstName,lastName,unsubscribed,City') problems.push(`export header ${header}`);
    if (exported !== good) problems.push(`exported ${exported} contacts, expected ${good}`);
    if (mismatch) problems.push(mismatch);

    const rate = ROWS / sec;
    const mb = (b) => (b / 2 ** 20).toFixed(0);
    const ok = problems.length === 0;
    console.log(
      `contacts import: ${ROWS} rows (${bad.length} malformed) in ${sec.toFixed(1)} s = ${rate.toFixed(0)} rows/s; peak RSS ${mb(imp.peak)} MiB ` +
        `(goal < ${RSS_GOAL_BYTES / 1e6} MB: ${imp.peak < RSS_GOAL_BYTES ? 'reached' : 'not reached'}); export peak RSS ${mb(exp.peak)} MiB; checks: ${ok ? 'all passed' : problems.join('; ')}`,
    );
    if (!ok) process.exitCode = 1;
    const f = (n) => Math.round(n).toLocaleString('en-US');
    writeSection('contacts-import', [
      '## Contacts CSV import and export (SQLite)',
      '',
      `Command: \`node bench/contacts-import.js\` (BENCH_CONTACTS_ROWS=${ROWS}) — ${new Date().toISOString().slice(0, 10)}, commit ${commitId()},`,
      `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. The real CLI`,
      '(`postline contacts import FILE --server ID --list ID --json`) as a child process on a fresh SQLite store; peak RSS is the',
      "child's VmHWM from /proc. The file: four columns (one a custom field), quoted cells with commas, one malformed row in 1,000.",
      '',
      '| run | rows | rows/s | peak RSS | goal |',
      '| --- | --- | --- | --- | --- |',
      `| import | ${f(ROWS)} (${f(bad.length)} malformed) | **${f(rate)}** | **${mb(imp.peak)} MiB** | ${imp.peak < RSS_GOAL_BYTES ? 'reached' : '**not reached**'} (< 200 MB) |`,
      `| export (CSV of the list) | ${f(exported)} | — | ${mb(exp.peak)} MiB | — |`,
      '',
      'Where the memory went (`node --trace-gc`, 2026-12-04): the live heap during the import is ~30 MB (mostly the program), but each batch',
      "lives across its transaction's awaits, so its rows and query objects are promoted and die in old space; V8's default growth let that",
      'garbage reach ~125 MB before each full GC (234 MiB peak RSS before). The import now holds old-space growth to 1.5x (`--heap-growing-percent`,',
      "set by the command), takes contact ids from the upsert's RETURNING, and deletes cleared field values one statement per field; the CSV",
      'reader appends runs of text instead of single characters.',
      '',
      `Checks: ${ok ? 'every good row imported, every malformed row reported with its row number and reason, the export returned exactly the good rows in file order' : `**failed**: ${problems.join('; ')}`}.`,
    ]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
