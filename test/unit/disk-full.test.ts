import { Writable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../src/store/group-commit.js';
import { createLogger } from '../../src/core/log.js';
import { DISK_FULL_PROBE_BYTES, DiskFullRefusal, isDiskFull, StorageHealth, withStorageHealth } from '../../src/store/disk-full.js';
import type { Store } from '../../src/store/store.js';
import { until } from '../helpers/webhooks.js';
import { createTestDb, TEST_STORE_KIND } from '../helpers/stores.js';

const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDiskFull', () => {
  it.each([
    ['SQLITE_FULL', true],
    ['ENOSPC', true],
    ['53100', true],
    ['SQLITE_BUSY', false],
    ['SQLITE_IOERR', false],
    ['53200', false],
    ['23505', false],
    ['EACCES', false],
  ])('%s -> %s', (code, full) => {
    expect(isDiskFull(coded(code))).toBe(full);
  });
  it('is false for values that are not errors with a code', () => {
    for (const v of [null, undefined, 'SQLITE_FULL', 53100, new Error('database or disk is full')]) expect(isDiskFull(v)).toBe(false);
  });
});

describe(`a disk-full error from the real driver (${TEST_STORE_KIND})`, () => {
  it('is recognised, and marks the store full once', async () => {
    const db = await createTestDb();
    const store = await db.open();
    const lines: { event?: string; operation?: string }[] = [];
    const health = new StorageHealth(
      createLogger(
        'info',
        new Writable({
          write(c, _e, done) {
            lines.push(JSON.parse(String(c)) as { event?: string });
            done();
          },
        }),
      ),
    );
    try {
      const k = (store as unknown as { db: Kysely<unknown> }).db;
      // PostgreSQL raises its own disk_full (53100); SQLite's max_page_count gives SQLITE_FULL.
      const fail =
        TEST_STORE_KIND === 'postgres'
          ? () => sql`DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = 'could not extend file'; END $$`.execute(k)
          : async () => {
              const pages = Number((await sql<{ page_count: number }>`PRAGMA page_count`.execute(k)).rows[0]!.page_count);
              await sql.raw(`PRAGMA max_page_count = ${pages}`).execute(k);
              await store.settings.set('big', 'x'.repeat(1_000_000));
            };
      const err = await fail().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isDiskFull(err)).toBe(true);
      if (TEST_STORE_KIND === 'sqlite') {
        // Through the watched store: the caller gets the store's own error, and it is logged once.
        const watched = withStorageHealth(store, health);
        for (let i = 0; i < 2; i++) {
          expect(
            isDiskFull(
              await watched.settings.set('big', 'x'.repeat(1_000_000)).then(
                () => null,
                (e: unknown) => e,
              ),
            ),
          ).toBe(true);
        }
        expect(health.diskFull).toMatchObject({ error: 'database or disk is full' });
        expect(lines.filter((l) => l.event === 'store.disk_full').map((l) => l.operation)).toEqual(['settings.set']);
      } else {
        expect(health.failed(err, 'test')).toBe(true);
        expect(health.failed(err, 'test')).toBe(true);
        expect(health.diskFull).toMatchObject({ error: 'could not extend file' });
        expect(lines.filter((l) => l.event === 'store.disk_full')).toHaveLength(1);
      }
      health.recovered();
      expect(health.diskFull).toBeNull();
      expect(lines.filter((l) => l.event === 'store.disk_space_recovered')).toHaveLength(1);
    } finally {
      await store.close();
      await db.drop();
    }
  });
});

describe('while the disk is known full', () => {
  it('refuses new mail without trying, still runs delivery bookkeeping, and clears itself when the periodic probe can write', async () => {
    const calls: string[] = [];
    let space = false;
    const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const fake = {
      kind: 'sqlite',
      queue: {
        async commitAccepts() {
          calls.push('commitAccepts');
          return [];
        },
        async recordOutcomes() {
          calls.push('recordOutcomes');
          return { recorded: 0 };
        },
      },
      inbound: {
        async commitMessages() {
          calls.push('commitInboundMessages');
        },
      },
      settings: {
        async set(_key: string, value: string) {
          calls.push(`setSetting ${value.length}`);
          if (!space) throw full();
        },
      },
    } as unknown as Store;
    const lines: { event?: string }[] = [];
    const health = new StorageHealth(
      createLogger(
        'info',
        new Writable({
          write(c, _e, done) {
            lines.push(JSON.parse(String(c)) as { event?: string });
            done();
          },
        }),
      ),
      Date.now,
      fake.settings,
      10,
    );
    const watched = withStorageHealth(fake, health);
    try {
      expect(health.failed(full(), 'commitAccepts')).toBe(true);
      const refused = await watched.queue.commitAccepts([]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(DiskFullRefusal);
      expect(isDiskFull(refused)).toBe(true);
      expect(
        await watched.inbound.commitMessages([]).then(
          () => 'stored',
          (e: unknown) => isDiskFull(e),
        ),
      ).toBe(true);
      await watched.queue.recordOutcomes('w', [], Date.now());
      expect(calls.filter((c) => !c.startsWith('setSetting'))).toEqual(['recordOutcomes']);
      // The periodic probe writes the headroom and fails while there is no space...
      await until(
        () => (calls.filter((c) => c === `setSetting ${DISK_FULL_PROBE_BYTES}`).length >= 2 ? true : undefined),
        () => calls,
      );
      expect(health.diskFull).not.toBeNull();
      // ...and clears the state by itself once there is, with nobody calling /readyz.
      space = true;
      await until(
        () => (health.diskFull === null ? true : undefined),
        () => health.diskFull,
      );
      await watched.queue.commitAccepts([]);
      expect(calls.at(-1)).toBe('commitAccepts');
      expect(lines.filter((l) => l.event === 'store.disk_full')).toHaveLength(1);
      expect(lines.filter((l) => l.event === 'store.disk_space_recovered')).toHaveLength(1);
    } finally {
      health.stop();
    }
  });
});

describe('the disk-full watch on the store areas', () => {
  it("sees a failing call of an area repository (store.templates) as it sees the Store's own", async () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const fake = {
      kind: 'sqlite',
      templates: {
        async create() {
          throw full;
        },
      },
    } as unknown as Store;
    const lines: { event?: string; operation?: string }[] = [];
    const health = new StorageHealth(
      createLogger(
        'info',
        new Writable({
          write(c, _e, done) {
            lines.push(JSON.parse(String(c)) as { event?: string });
            done();
          },
        }),
      ),
    );
    const watched = withStorageHealth(fake, health);
    const err = await watched.templates.create(1, { name: 'n', subject: null, htmlBody: 'x', textBody: null, ampBody: null }, 0).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBe(full);
    expect(health.diskFull).toMatchObject({ error: 'database or disk is full' });
    expect(lines.filter((l) => l.event === 'store.disk_full').map((l) => l.operation)).toEqual(['templates.create']);
    expect(watched.templates).toBe(watched.templates);
  });
});

describe('group commit on a full disk', () => {
  it('fails every item of the batch with the disk-full error, without retrying them one by one', async () => {
    const calls: number[][] = [];
    const gc = new GroupCommitter<number, number>(
      async (items) => {
        calls.push(items);
        throw coded('SQLITE_FULL', 'database or disk is full');
      },
      { maxBatchItems: 10, maxInFlight: 1 },
    );
    const out = await Promise.all(
      [1, 2, 3].map((i) =>
        gc.submit(i).then(
          () => 'ok',
          (e: Error & { code?: string }) => e.code,
        ),
      ),
    );
    expect(out).toEqual(['SQLITE_FULL', 'SQLITE_FULL', 'SQLITE_FULL']);
    expect(calls).toEqual([[1, 2, 3]]);
  });
  it('other failures are still retried item by item', async () => {
    const calls: number[][] = [];
    const gc = new GroupCommitter<number, number>(
      async (items) => {
        calls.push(items);
        if (items.includes(2)) throw coded('SQLITE_CONSTRAINT');
        return items;
      },
      { maxBatchItems: 10, maxInFlight: 1 },
    );
    const out = await Promise.all([1, 2, 3].map((i) => gc.submit(i).then(String, (e: Error & { code?: string }) => e.code)));
    expect(out).toEqual(['1', 'SQLITE_CONSTRAINT', '3']);
    expect(calls).toEqual([[1, 2, 3], [1], [2], [3]]);
  });
});
