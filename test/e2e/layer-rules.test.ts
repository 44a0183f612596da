import { cpSync, mkdtempSync, rmSync, symlinkSync, appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** Runs `npm run lint:layers`'s script on a copy of src/ in `dir`. */
function checkLayers(dir: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(dir, 'scripts/check-layers.mjs')], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * The layer rules catch what they are for: an upward import and two folders importing each
 * other, each added to a copy of the sources, fail the check with the rule's name.
 */
describe('layer rules (.dependency-cruiser.cjs, scripts/check-layers.mjs)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'postline-layers-'));
    for (const p of ['src', 'scripts', '.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on the sources as they are', () => {
    const r = checkLayers(dir);
    expect(r.output).toContain('layers ok');
    expect(r.status).toBe(0);
  });

  it('fails on a store module importing a domain module, and on two domain folders importing each other', () => {
    appendFileSync(
      join(dir, 'src/store/group-commit.ts'),
      "\nimport type { DeliveryWorker } from '../delivery/worker.js';\nexport type Upward = DeliveryWorker;\n",
    );
    appendFileSync(
      join(dir, 'src/webhooks/dispatcher.ts'),
      "\nimport type { InboundPoster } from '../inbound/poster.js';\nexport type Sideways = InboundPoster;\n",
    );
    const r = checkLayers(dir);
    expect(r.status).toBe(1);
    expect(r.output).toContain('store-imports-up: src/store/ → src/delivery/');
    expect(r.output).toMatch(/no-folder-cycles: src\/inbound\/, src\/webhooks\/ import each other/);
  });
});
