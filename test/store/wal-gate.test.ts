import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckpointResult } from '../../src/store/sqlite/background-checkpoint.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { WalGate, type WalGateOptions } from '../../src/store/sqlite/wal-gate.js';

/** A checkpoint thread whose answers the test sets. */
function fakeCheckpointer(answers: (CheckpointResult | null)[]) {
  return {
    last: null as CheckpointResult | null,
    checkpoints: 0,
    asked: 0,
    report(r: CheckpointResult) { this.last = r; this.checkpoints++; },
    async checkpointNow() { this.asked++; const r = answers.shift() ?? null; if (r && r.walFrames > 0) this.report(r); return r; },
  };
}

describe('WAL gate (unit)', () => {
  let clock = 0;
  const opts = (o: Partial<WalGateOptions> = {}): WalGateOptions => ({ maxFrames: 1000, maxWaitMs: 100, backoffMs: 5000, now: () => clock, ...o });

  it('is needed from maxFrames on, once per report of the thread', async () => {
    const c = fakeCheckpointer([{ busy: false, walFrames: 1500, checkpointedFrames: 1500 }]);
    const g = new WalGate(c, opts());
    expect(g.needed()).toBe(false); // no report yet
    c.report({ busy: false, walFrames: 999, checkpointedFrames: 999 });
    expect(g.needed()).toBe(false);
    c.report({ busy: false, walFrames: 1000, checkpointedFrames: 600 });
    expect(g.needed()).toBe(true);
    await g.catchUp();
    expect([g.caughtUp, g.gaveUp, c.asked]).toEqual([1, 0, 1]);
    // Until the thread reports again, the big WAL it reported is old news.
    expect(g.needed()).toBe(false);
    c.report({ busy: false, walFrames: 40, checkpointedFrames: 40 });
    expect(g.needed()).toBe(false);
    c.report({ busy: false, walFrames: 1200, checkpointedFrames: 1200 });
    expect(g.needed()).toBe(true);
  });

  it('checkpoints again until everything is copied, gives up after maxWaitMs, then waits backoffMs', async () => {
    clock = 0;
    const partial = { busy: true, walFrames: 2000, checkpointedFrames: 1500 };
    const c = fakeCheckpointer(Array.from({ length: 50 }, () => partial));
    c.checkpointNow = async function () { this.asked++; clock += 30; const r = { ...partial }; this.report(r); return r; };
    const g = new WalGate(c, opts());
    c.report(partial);
    await g.catchUp();
    expect([g.caughtUp, g.gaveUp]).toEqual([0, 1]);
    expect(c.asked).toBe(4); // 30 ms each: 30, 60, 90, 120 >= 100
    c.report(partial);
    expect(g.needed()).toBe(false); // backing off
    clock += 5000;
    expect(g.needed()).toBe(true);
  });

  it('gives up at once when the thread is gone', async () => {
    clock = 0;
    const c = fakeCheckpointer([null]);
    const g = new WalGate(c, opts());
    c.report({ busy: false, walFrames: 5000, checkpointedFrames: 10 });
    await g.catchUp();
    expect([g.caughtUp, g.gaveUp, c.asked]).toEqual([0, 1, 1]);
  });
});

describe('WAL gate (SQLite store, checkpoint thread)', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const storeIn = (walGate: Partial<WalGateOptions>) => {
    const dir = mkdtempSync(join(tmpdir(), 'postline-walgate-'));
    dirs.push(dir);
    return { file: join(dir, 'x.db'), store: new SqliteStore(join(dir, 'x.db'), { walGate }) };
  };
  /** Writes 50 KB messages, four at a time, without a pause, for `ms`; returns how many and the WAL's largest size seen. */
  const writeSteadily = async (store: SqliteStore, file: string, ms: number, prefix: string) => {
    let n = 0;
    let biggest = 0;
    const put = () => store.commitInboundMessages([{ id: `${prefix}${String(n++).padStart(7, '0')}`, mailFrom: 'a@example.net', remoteIp: '127.0.0.1', helo: null, receivedAt: Date.now(), raw: Buffer.alloc(50_000, n), posts: [] }]);
    for (const end = Date.now() + ms; Date.now() < end;) {
      await Promise.all([put(), put(), put(), put()]);
      biggest = Math.max(biggest, statSync(`${file}-wal`).size);
    }
    return { written: n, biggest };
  };

  it('brings the WAL back to its start under steady writes, where without the gate it grows with every commit', async () => {
    const gated = storeIn({ maxFrames: 2_000 });
    await gated.store.migrate();
    const withGate = await writeSteadily(gated.store, gated.file, 1_500, 'g');
    expect(gated.store.walGateState()!.caughtUp).toBeGreaterThan(0);
    const count = gated.store.walGateState();
    await gated.store.close();

    const ungated = storeIn({ maxFrames: Infinity });
    await ungated.store.migrate();
    const without = await writeSteadily(ungated.store, ungated.file, 1_500, 'u');
    expect(ungated.store.walGateState()).toEqual({ caughtUp: 0, gaveUp: 0 });
    await ungated.store.close();

    // The WAL grows with what is written: compare per message written.
    const perMessage = (r: { written: number; biggest: number }) => r.biggest / r.written;
    expect(perMessage(withGate) * 3, JSON.stringify({ withGate, without, count })).toBeLessThan(perMessage(without));
    // Every message is there, byte for byte, after the restarts.
    const again = new BetterSqlite3(gated.file, { readonly: true });
    try {
      expect((again.prepare('SELECT count(*) AS n FROM inbound_messages').get() as { n: number }).n).toBe(withGate.written);
    } finally {
      again.close();
    }
    const reopened = new SqliteStore(gated.file);
    await reopened.migrate();
    try {
      expect((await reopened.inboundMessageRaw(`g${String(withGate.written - 1).padStart(7, '0')}`))?.equals(Buffer.alloc(50_000, withGate.written))).toBe(true);
    } finally {
      await reopened.close();
    }
  });

  it('a reader holding an old snapshot (another process) keeps the WAL from restarting: the gate gives up within maxWaitMs and writes go on', async () => {
    const { store, file } = storeIn({ maxFrames: 500, maxWaitMs: 100, backoffMs: 60_000 });
    await store.migrate();
    await store.createAccount('before the reader', Date.now());
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM accounts').get(); // the snapshot is taken here and held
      const started = Date.now();
      const { written } = await writeSteadily(store, file, 1_000, 'r');
      expect(store.walGateState()!.gaveUp).toBe(1); // once, then it backs off
      expect(written).toBeGreaterThan(20);
      expect(Date.now() - started).toBeLessThan(5_000);
      reader.exec('COMMIT');
    } finally {
      reader.close();
      await store.close();
    }
  });
});
