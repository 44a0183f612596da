// Shared by the benchmark scripts: BENCHMARKS.md keeps one section per benchmark between
// <!-- name:start --> and <!-- name:end --> markers; a run replaces its own section only.
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILE = join(root, 'BENCHMARKS.md');

export function commitId() {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: root }).toString().trim();
  } catch {
    return 'uncommitted';
  }
}

/** Replaces (or appends) the section named `name`; `lines` excludes the markers. */
export function writeSection(name, lines) {
  let doc;
  try {
    doc = readFileSync(FILE, 'utf8');
  } catch {
    doc = '# Benchmarks\n\nEach section is replaced by the run that produced it; the command is given with it.\n';
  }
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = [start, ...lines, end].join('\n');
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? doc.slice(0, i) + section + doc.slice(j + end.length) : doc.trimEnd() + '\n\n' + section + '\n';
  writeFileSync(FILE, doc);
  console.log(`wrote ${FILE}`);
}
