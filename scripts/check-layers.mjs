#!/usr/bin/env node
// `npm run lint:layers`: the floors of .dependency-cruiser.cjs, and no import cycle between the
// top-level folders of src. dependency-cruiser checks the rules on the graph collapsed to
// folders; its own cycle rule looks at modules, so folder cycles are found here, on that graph.
import { spawnSync } from 'node:child_process';

const run = spawnSync('npx', ['depcruise', 'src', '--config', '.dependency-cruiser.cjs', '--collapse', '^src/[^/]+/', '--output-type', 'json'], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
if (run.error || !run.stdout) {
  console.error(run.error ?? run.stderr);
  process.exit(2);
}
const result = JSON.parse(run.stdout);
const problems = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);

// Folder graph: collapsed nodes are "src/<folder>/"; root files (src/app.ts ...) stay files.
const edges = new Map();
for (const m of result.modules) {
  if (!m.source.startsWith('src/')) continue;
  edges.set(
    m.source,
    m.dependencies.map((d) => d.resolved).filter((r) => r.startsWith('src/') && r !== m.source),
  );
}
// Tarjan's strongly connected components: any component of two or more folders is a cycle.
let index = 0;
const idx = new Map(),
  low = new Map(),
  onStack = new Set(),
  stack = [];
const visit = (v) => {
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) {
      const inside = new Set(component);
      const links = component.flatMap((a) => (edges.get(a) ?? []).filter((b) => inside.has(b)).map((b) => `${a} → ${b}`));
      problems.push(`no-folder-cycles: ${component.sort().join(', ')} import each other (${links.join('; ')})`);
    }
  }
};
for (const v of edges.keys()) if (!idx.has(v)) visit(v);

if (problems.length > 0) {
  console.error(`layer rules broken (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`layers ok: ${edges.size} folders and root modules of src, no upward import, no folder cycle`);
