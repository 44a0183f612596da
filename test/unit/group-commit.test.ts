import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../src/store/group-commit.js';

describe('group commit', () => {
  it('commits items submitted together in one batch and answers each after it', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommitter<number, string>(
      async (items) => {
        batches.push(items);
        return items.map((i) => `ok${i}`);
      },
      { maxBatchItems: 100, maxInFlight: 1 },
    );
    const out = await Promise.all([1, 2, 3, 4, 5].map((i) => gc.submit(i)));
    expect(out).toEqual(['ok1', 'ok2', 'ok3', 'ok4', 'ok5']);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('queues behind a commit in flight and bounds the batch size', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => {
      release = r;
    });
    const gc = new GroupCommitter<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await first;
        return items;
      },
      { maxBatchItems: 3, maxInFlight: 1 },
    );
    const a = gc.submit(0);
    await new Promise((r) => setImmediate(r));
    const rest = [1, 2, 3, 4, 5, 6, 7].map((i) => gc.submit(i));
    await new Promise((r) => setTimeout(r, 5));
    expect(batches).toEqual([[0]]); // the others wait for the first commit
    release();
    expect(await Promise.all([a, ...rest])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(batches).toEqual([[0], [1, 2, 3], [4, 5, 6], [7]]);
  });

  it('retries a failed batch item by item, so one bad item fails alone', async () => {
    const gc = new GroupCommitter<number, number>(
      async (items) => {
        if (items.includes(13)) throw new Error('bad item');
        return items;
      },
      { maxBatchItems: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([11, 12, 13, 14].map((i) => gc.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  });

  it('close waits for pending commits and then refuses new items', async () => {
    let committed = 0;
    const gc = new GroupCommitter<number, number>(
      async (items) => {
        await new Promise((r) => setTimeout(r, 20));
        committed += items.length;
        return items;
      },
      { maxBatchItems: 10, maxInFlight: 1 },
    );
    const p = Promise.all([1, 2, 3].map((i) => gc.submit(i)));
    await gc.close();
    expect(committed).toBe(3);
    await p;
    await expect(gc.submit(4)).rejects.toThrow('shutting down');
  });

  it('refuses limits that would turn batching off', () => {
    expect(() => new GroupCommitter(async (x) => x, { maxBatchItems: 0, maxInFlight: 1 })).toThrow();
    expect(() => new GroupCommitter(async (x) => x, { maxBatchItems: 1, maxInFlight: Number.NaN })).toThrow();
  });
});
