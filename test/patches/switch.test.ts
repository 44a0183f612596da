import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { installedVersion } from '../../src/patches/package-files.js';
import { libraryPatchesOn, patchApplies, setPatchLogger } from '../../src/patches/switch.js';

/** JSON log lines written through a logger at warn level. */
function capture(): { lines: Record<string, unknown>[] } {
  const out = { lines: [] as Record<string, unknown>[] };
  setPatchLogger(
    createLogger(
      'warn',
      new Writable({
        write(chunk: Buffer, _enc, done) {
          out.lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
          done();
        },
      }),
    ),
  );
  return out;
}

afterEach(() => {
  delete process.env.POSTLINE_LIBRARY_PATCHES;
  setPatchLogger(null);
});

describe('library patch switch', () => {
  it('is on unless POSTLINE_LIBRARY_PATCHES is off (any case, spaces around)', () => {
    expect(libraryPatchesOn({})).toBe(true);
    expect(libraryPatchesOn({ POSTLINE_LIBRARY_PATCHES: 'on' })).toBe(true);
    expect(libraryPatchesOn({ POSTLINE_LIBRARY_PATCHES: ' OFF ' })).toBe(false);
    expect(libraryPatchesOn({ POSTLINE_LIBRARY_PATCHES: 'off' })).toBe(false);
  });

  it('applies a patch on the release it was written for, silently', () => {
    const log = capture();
    expect(patchApplies('postal-mime', installedVersion('postal-mime'), 'a patch')).toBe(true);
    expect(log.lines).toEqual([]);
  });

  it('refuses a patch on another release and warns once, naming both versions', () => {
    const log = capture();
    const installed = installedVersion('postal-mime');
    expect(patchApplies('postal-mime', '0.0.1', 'an old patch')).toBe(false);
    expect(patchApplies('postal-mime', '0.0.1', 'an old patch')).toBe(false);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      level: 40,
      event: 'library_patch.version_mismatch',
      patch: 'an old patch',
      package: 'postal-mime',
      writtenFor: '0.0.1',
      installed,
    });
  });

  it('refuses every patch when switched off, without a warning', () => {
    const log = capture();
    process.env.POSTLINE_LIBRARY_PATCHES = 'off';
    expect(patchApplies('postal-mime', installedVersion('postal-mime'), 'a patch')).toBe(false);
    expect(log.lines).toEqual([]);
  });
});
