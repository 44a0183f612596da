import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Store } from '../../src/store/store.js';
import { createLogger } from '../../src/core/log.js';
import { WORKER_DEAD_AFTER_MS, WORKER_HEARTBEAT_MS, WorkerRegistry } from '../../src/workers/registry.js';

describe(`worker registry (${TEST_STORE_KIND})`, () => {
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
  const deps = (over: { heartbeatMs?: number; deadAfterMs?: number; sole?: boolean } = {}) => ({
    store,
    log: createLogger('silent'),
    now: Date.now,
    hostname: 'h',
    pid: 42,
    sole: false,
    ...over,
  });

  it('refuses a heartbeat that is not a positive number, or a dead-after time under three heartbeats', () => {
    for (const heartbeatMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new WorkerRegistry(deps({ heartbeatMs })), String(heartbeatMs)).toThrow(/heartbeat interval must be a positive number/);
    }
    for (const deadAfterMs of [0, 14_999, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new WorkerRegistry(deps({ heartbeatMs: 5_000, deadAfterMs })), String(deadAfterMs)).toThrow(/at least 3 heartbeat intervals/);
    }
    const r = new WorkerRegistry(deps());
    expect([r.heartbeatMs, r.deadAfterMs]).toEqual([WORKER_HEARTBEAT_MS, WORKER_DEAD_AFTER_MS]);
  });

  it('registers its workers at start, heartbeats them, and removes them at stop', async () => {
    const r = new WorkerRegistry(deps({ heartbeatMs: 30, deadAfterMs: 90 }));
    r.add('reg-a', 'delivery');
    r.add('reg-b', 'webhooks');
    const before = Date.now();
    await r.start();
    expect(() => r.add('late', 'inbound')).toThrow(/before the registry starts/);
    const rows = await store.workers.list();
    expect(rows.map((w) => [w.id, w.kind, w.hostname, w.pid])).toEqual([
      ['reg-a', 'delivery', 'h', 42],
      ['reg-b', 'webhooks', 'h', 42],
    ]);
    expect(rows.every((w) => w.heartbeatAt >= before)).toBe(true);
    const first = rows[0]!.heartbeatAt;
    while ((await store.workers.list())[0]!.heartbeatAt === first) await new Promise((res) => setTimeout(res, 10));
    await r.stop();
    expect(await store.workers.list()).toEqual([]);
  });
});
