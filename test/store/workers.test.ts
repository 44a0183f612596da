import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Store, WorkerRegistration } from '../../src/store/store.js';
import { WORKER_ROW_PRUNE_MS } from '../../src/store/workers.js';

/**
 * The worker registry itself (the workers area): what register, heartbeat, deregister and list
 * keep, on SQLite and PostgreSQL. How claims use it (takeover of a dead worker's claims) is
 * test/store/worker-claims.test.ts.
 */
describe(`workers in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  const t0 = 1_700_000_000_000;
  const worker = (id: string, kind: WorkerRegistration['kind'] = 'delivery', startedAt = t0, hostname = 'host-a', pid = 100): WorkerRegistration => ({
    id,
    kind,
    hostname,
    pid,
    startedAt,
  });
  const ids = async () => (await store.workers.list()).map((w) => w.id);
  const heartbeats = async () => Object.fromEntries((await store.workers.list()).map((w) => [w.id, w.heartbeatAt]));

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });
  // The registry is one table for the whole store: each test starts from an empty one.
  beforeEach(async () => {
    await store.workers.deregister(await ids());
    expect(await ids()).toEqual([]);
  });

  it('registers workers with how they started and the heartbeat `now`, listed in id order', async () => {
    await store.workers.register(
      [worker('w-c', 'delivery', t0 - 3, 'host-c', 3), worker('w-a', 'webhooks', t0 - 1, 'host-a', 1), worker('w-b', 'inbound', t0 - 2, 'host-b', 2)],
      t0,
      false,
    );
    expect(await store.workers.list()).toEqual([
      { id: 'w-a', kind: 'webhooks', hostname: 'host-a', pid: 1, startedAt: t0 - 1, heartbeatAt: t0 },
      { id: 'w-b', kind: 'inbound', hostname: 'host-b', pid: 2, startedAt: t0 - 2, heartbeatAt: t0 },
      { id: 'w-c', kind: 'delivery', hostname: 'host-c', pid: 3, startedAt: t0 - 3, heartbeatAt: t0 },
    ]);
    // Registering no workers beside others changes nothing.
    await store.workers.register([], t0 + 1, false);
    expect(await heartbeats()).toEqual({ 'w-a': t0, 'w-b': t0, 'w-c': t0 });
  });

  it("a heartbeat moves only the named workers' heartbeats and keeps how they registered", async () => {
    await store.workers.register([worker('a', 'delivery', t0 - 10), worker('b', 'webhooks', t0 - 20)], t0, false);
    await store.workers.heartbeat([worker('a', 'delivery', t0 - 10)], t0 + 5_000);
    expect(await store.workers.list()).toEqual([
      { ...worker('a', 'delivery', t0 - 10), heartbeatAt: t0 + 5_000 },
      { ...worker('b', 'webhooks', t0 - 20), heartbeatAt: t0 },
    ]);
    await store.workers.heartbeat([], t0 + 6_000);
    await store.workers.heartbeat([worker('a'), worker('b', 'webhooks')], t0 + 7_000);
    expect(await heartbeats()).toEqual({ a: t0 + 7_000, b: t0 + 7_000 });
  });

  it('registering an id again keeps one row for it, with the new heartbeat', async () => {
    await store.workers.register([worker('same'), worker('peer')], t0, false);
    await store.workers.register([worker('same')], t0 + 9_000, false);
    expect(await store.workers.list()).toEqual([
      { ...worker('peer'), heartbeatAt: t0 },
      { ...worker('same'), heartbeatAt: t0 + 9_000 },
    ]);
  });

  it('registering beside other processes keeps their registrations and prunes only those silent for longer than the prune age', async () => {
    const at = t0 + WORKER_ROW_PRUNE_MS + 60_000;
    await store.workers.register([worker('long-gone', 'delivery', t0, 'old-host')], t0, false);
    // Silent a minute less than the prune age: dead for claims, but its row is kept.
    await store.workers.register([worker('quiet', 'inbound', t0, 'other-host')], t0 + 120_000, false);
    await store.workers.register([worker('busy', 'webhooks', t0, 'other-host')], t0 + 120_000, false);
    // Heartbeats never prune: all three are still there.
    await store.workers.heartbeat([worker('busy', 'webhooks', t0, 'other-host')], at - 1_000);
    expect(await ids()).toEqual(['busy', 'long-gone', 'quiet']);
    await store.workers.register([worker('newcomer')], at, false);
    expect(await heartbeats()).toEqual({ busy: at - 1_000, quiet: t0 + 120_000, newcomer: at });
  });

  it('a sole registration removes every other registration, however fresh, and keeps (refreshing) its own ids', async () => {
    await store.workers.register([worker('mine-1'), worker('mine-2', 'webhooks')], t0, false);
    await store.workers.register([worker('theirs', 'delivery', t0, 'other-host')], t0 + 1_000, false);
    await store.workers.register([worker('mine-1'), worker('mine-2', 'webhooks'), worker('mine-3', 'inbound')], t0 + 2_000, true);
    expect(await store.workers.list()).toEqual([
      { ...worker('mine-1'), heartbeatAt: t0 + 2_000 },
      { ...worker('mine-2', 'webhooks'), heartbeatAt: t0 + 2_000 },
      { ...worker('mine-3', 'inbound'), heartbeatAt: t0 + 2_000 },
    ]);
    // A sole process with no workers leaves nobody registered.
    await store.workers.register([], t0 + 3_000, true);
    expect(await ids()).toEqual([]);
  });

  it('a registration that fails writes nothing: the others stay, none of its workers is added', async () => {
    await store.workers.register([worker('stale', 'delivery', t0)], t0, false);
    await store.workers.register([worker('fresh', 'delivery', t0, 'other-host')], t0 + WORKER_ROW_PRUNE_MS, false);
    const before = await store.workers.list();
    // A registration without a host name cannot be stored; it comes after a valid one in the same call.
    const broken = { ...worker('broken'), hostname: null as unknown as string };
    const at = t0 + 2 * WORKER_ROW_PRUNE_MS;
    await expect(store.workers.register([worker('valid'), broken], at, true)).rejects.toThrow();
    await expect(store.workers.register([worker('valid'), broken], at, false)).rejects.toThrow();
    // Neither the sole registration's removals nor the pruning of the stale row happened.
    expect(await store.workers.list()).toEqual(before);
  });

  it('deregisters only the named workers; unknown ids and an empty list change nothing', async () => {
    await store.workers.register([worker('d1'), worker('d2'), worker('d3')], t0, false);
    await store.workers.deregister(['d2', 'nobody']);
    expect(await ids()).toEqual(['d1', 'd3']);
    await store.workers.deregister([]);
    await store.workers.deregister(['nobody']);
    expect(await heartbeats()).toEqual({ d1: t0, d3: t0 });
  });

  it('loses no registration when several processes register and heartbeat at once (separate connections on PostgreSQL)', async () => {
    const pg = TEST_STORE_KIND === 'postgres';
    const others = pg ? await Promise.all([db.open(), db.open(), db.open()]) : [];
    const stores = [store, ...others];
    const processes = Array.from({ length: 6 }, (_, p) =>
      (['delivery', 'webhooks', 'inbound'] as const).map((kind) => worker(`p${p}-${kind}`, kind, t0, `host-${p}`, 1_000 + p)),
    );
    try {
      await Promise.all(processes.map((ws, p) => stores[p % stores.length]!.workers.register(ws, t0 + p, false)));
      await Promise.all(processes.map((ws, p) => stores[(p + 1) % stores.length]!.workers.heartbeat(ws, t0 + 10_000 + p)));
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
    const listed = await store.workers.list();
    expect(listed).toEqual(
      processes.flatMap((ws, p) => ws.map((w) => ({ ...w, heartbeatAt: t0 + 10_000 + p }))).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    );
  });
});
