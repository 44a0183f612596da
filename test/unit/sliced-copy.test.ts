import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concatInSlices } from '../../src/core/sliced-copy.js';

describe('concatInSlices', () => {
  it('joins pieces of any size (across slice boundaries) into one array with its own buffer', async () => {
    const pieces = [randomBytes(10), randomBytes(1024 * 1024 + 5), Buffer.alloc(0), randomBytes(2 * 1024 * 1024 + 1)];
    const joined = await concatInSlices(pieces);
    expect(Buffer.from(joined).equals(Buffer.concat(pieces))).toBe(true);
    expect(joined.byteOffset).toBe(0);
    expect(joined.buffer.byteLength).toBe(joined.byteLength);
    expect((await concatInSlices([])).byteLength).toBe(0);
  });

  it('lets timers and I/O callbacks run while it copies a large message', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 0);
    await concatInSlices([Buffer.alloc(48 * 1024 * 1024, 1)]);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
