import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '../../src/delivery/shared-rate-limiter.js';
import type { Store } from '../../src/store/store.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';

const WORKER = join(import.meta.dirname, '../fixtures/limits/take-slots.mjs');

function takeSlots(target: string, key: string, perSecond: number, startAt: number, stopAt: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, target, key, String(perSecond), String(startAt), String(stopAt)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`take-slots exited ${code}: ${err}`))));
  });
}

describe(`rate limits shared by processes (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('three processes taking one key as fast as they can stay within 10 % of its limit together', async () => {
    const perSecond = 50;
    const target = db.databaseUrl ?? join(db.dataDir, 'postline.db');
    const startAt = Date.now() + 3_000; // after the three have started and opened the store
    const stopAt = startAt + 6_000;
    const runs = await Promise.all([1, 2, 3].map(() => takeSlots(target, 'mx:example.test', perSecond, startAt, stopAt)));
    const all = runs.flat();
    // Each process took a share (none starved).
    for (const r of runs) expect(r.length).toBeGreaterThan(20);
    // The first second after the first take holds the burst allowance (a second's worth); from
    // then on the three together take the limit's rate, whichever of them asks.
    const from = Math.min(...all) + 1_000;
    const steady = all.filter((t) => t >= from && t < stopAt).length;
    const expected = ((stopAt - from) / 1000) * perSecond;
    expect(expected).toBeGreaterThan(150); // the window is long enough to mean something
    expect(steady).toBeGreaterThanOrEqual(expected * 0.9);
    expect(steady).toBeLessThanOrEqual(expected * 1.1);
    // And over the whole run, the burst is one second's worth on top of the rate, whoever takes it.
    expect(all.length).toBeLessThanOrEqual(((stopAt - (from - 1_000)) / 1000 + 1) * perSecond * 1.1);
  });

  it('slots are reserved a run at a time and never overlap, whoever asks', async () => {
    const now = 1_000_000;
    const a = await store.rateSlots.reserve('k', 5, 20, now);
    const b = await store.rateSlots.reserve('k', 5, 20, now);
    // The first run may start up to a second back (the burst); the next follows it exactly.
    expect(a).toBe(now - 1000 + 20);
    expect(b).toBe(a + 5 * 20);
    // After a long idle time the key starts again from a second's burst, not from the past.
    expect(await store.rateSlots.reserve('k', 1, 20, now + 60_000)).toBe(now + 60_000 - 1000 + 20);
    await expect(store.rateSlots.reserve('k', 0, 20, now)).rejects.toThrow(/count must be >= 1/);
  });

  it('a limiter whose store fails waits and tries again instead of letting mail through', async () => {
    let calls = 0;
    const sleeps: number[] = [];
    const limiter = new SharedRateLimiter(
      {
        reserve: async () => {
          calls++;
          if (calls < 3) throw new Error('connection refused');
          return 0;
        },
      },
      10,
      { now: () => 0, sleep: async (ms) => void sleeps.push(ms) },
    );
    await limiter.take('k');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([1000, 1000]);
  });
});
