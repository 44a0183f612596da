import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
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
    report(r: CheckpointResult) {
      this.last = r;
      this.checkpoints++;
    },
    async checkpointNow() {
      this.asked++;
      const r = answers.shift() ?? null;
      if (r && r.walFrames > 0) this.report(r);
      return r;
    },
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
    c.checkpointNow = async function () {
      this.asked++;
      clock += 30;
      const r = { ...partial };
      this.report(r);
      return r;
    };
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
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const storeIn = (walGate: Partial<WalGateOptions>) => {
    const dir = mkdtempSync(join(tmpdir(), 'postline-walgate-'));
    dirs.push(dir);
    return { file: join(dir, 'x.db'), store: new SqliteStore(join(dir, 'x.db'), { walGate }) };
  };
  const put = (store: SqliteStore, prefix: string, n: number) =>
    store.inbound.commitMessages([
      {
        id: `${prefix}${String(n).padStart(7, '0')}`,
        mailFrom: 'a@example.net',
        remoteIp: '127.0.0.1',
        helo: null,
        receivedAt: Date.now(),
        raw: Buffer.alloc(50_000, n),
        posts: [],
      },
    ]);
  /**
   * Writes 50 KB messages, four at a time, until `done()` or `cap` messages (a bound, not a time
   * window: how much fits into a second depends on the machine). Returns how many were written.
   */
  const writeUntil = async (store: SqliteStore, prefix: string, done: () => boolean, cap: number, from = 0) => {
    let n = from;
    while (!done() && n < cap) {
      await Promise.all([put(store, prefix, n++), put(store, prefix, n++), put(store, prefix, n++), put(store, prefix, n++)]);
      // Let the checkpoint thread's reports in between batches.
      await new Promise((r) => setImmediate(r));
    }
    return n - from;
  };
  /** The WAL header's checkpoint sequence number: SQLite increments it each time the WAL restarts from its start. */
  const walSequence = (file: string): number => {
    const fd = openSync(`${file}-wal`, 'r');
    try {
      const header = Buffer.alloc(32);
      readSync(fd, header, 0, 32, 0);
      return header.readUInt32BE(12);
    } finally {
      closeSync(fd);
    }
  };
  // About 19 times what maxFrames (2,000 pages of 4 KiB) needs: a bound, so a broken gate fails instead of writing forever.
  const CAP = 3_000;

  it('once the WAL passes maxFrames, the gate has everything checkpointed and the WAL restarts from its start; every message is kept', async () => {
    const gated = storeIn({ maxFrames: 2_000 });
    await gated.store.migrate();
    await put(gated.store, 'g', 0);
    const before = walSequence(gated.file);
    const written = 1 + (await writeUntil(gated.store, 'g', () => gated.store.walGateState()!.caughtUp > 0, CAP, 1));
    expect(gated.store.walGateState()!.caughtUp, `gate never caught up in ${written} messages`).toBeGreaterThan(0);
    // The next transaction after a catch-up restarts the WAL (a new header, sequence number + 1).
    await put(gated.store, 'g', written);
    expect(walSequence(gated.file)).toBeGreaterThan(before);
    await gated.store.close();

    // Every message is there, byte for byte, after the restarts.
    const again = new BetterSqlite3(gated.file, { readonly: true });
    try {
      expect((again.prepare('SELECT count(*) AS n FROM inbound_messages').get() as { n: number }).n).toBe(written + 1);
    } finally {
      again.close();
    }
    const reopened = new SqliteStore(gated.file);
    await reopened.migrate();
    try {
      expect((await reopened.inbound.messageRaw(`g${String(written).padStart(7, '0')}`))?.equals(Buffer.alloc(50_000, written))).toBe(true);
    } finally {
      await reopened.close();
    }
  });

  it('without a limit (maxFrames Infinity) the gate never holds the connection', async () => {
    const ungated = storeIn({ maxFrames: Infinity });
    await ungated.store.migrate();
    await writeUntil(ungated.store, 'u', () => false, 400);
    expect(ungated.store.walGateState()).toEqual({ caughtUp: 0, gaveUp: 0 });
    await ungated.store.close();
  });

  it('a reader holding an old snapshot (another process) keeps the WAL from restarting: the gate gives up within maxWaitMs and writes go on', async () => {
    const { store, file } = storeIn({ maxFrames: 500, maxWaitMs: 100, backoffMs: 60_000 });
    await store.migrate();
    await store.tenancy.createAccount('before the reader', Date.now());
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM accounts').get(); // the snapshot is taken here and held
      const written = await writeUntil(store, 'r', () => store.walGateState()!.gaveUp > 0, CAP);
      expect(store.walGateState()!.gaveUp, `gate never gave up in ${written} messages`).toBe(1);
      // Writes go on after it let go, and it backs off instead of giving up again at once.
      for (let i = 0; i < 40; i++) await put(store, 'r', written + i);
      expect(store.walGateState()!.gaveUp).toBe(1);
      reader.exec('COMMIT');
    } finally {
      reader.close();
      await store.close();
    }
  });
});
