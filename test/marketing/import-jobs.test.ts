import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_BATCH } from '../../src/marketing/contact-import.js';
import { ImportJobs } from '../../src/marketing/import-jobs.js';
import type { ContactImport } from '../../src/store/contact-imports.js';
import type { Store } from '../../src/store/store.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';

/**
 * Contact import jobs are stored before the 202: a job whose process died is taken over and
 * finished by another from its last recorded batch; a process that stops hands its jobs on at
 * once. Against the run's store, with the store's own rows as the evidence.
 */
describe(`contact import jobs survive their process (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let serverId: number;
  const fast = { staleMs: 1_000, tickMs: 50 };

  /** A CSV of `n` good rows and one refused row (row 6: the header is row 1). */
  const csvOf = (tag: string, n: number) => {
    const lines = ['emailAddress,firstName'];
    for (let i = 0; i < n; i++) lines.push(`${tag}${i}@example.com,P${i}`);
    lines.splice(5, 0, 'not-an-address,Bad');
    return `${lines.join('\n')}\n`;
  };
  const members = async (listId: number) => (await store.marketing.searchContacts(serverId, { listId }, { limit: 1, offset: 0 })).total;
  const finished = async (listId: number, id: number): Promise<ContactImport> => {
    let job: ContactImport | undefined;
    await expect
      .poll(
        async () => {
          job = await store.contactImports.get(serverId, listId, id);
          return job?.state;
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBe('done');
    return job!;
  };

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    const accountId = (await store.tenancy.createAccount('A', Date.now())).id;
    serverId = (await store.tenancy.createServer({ accountId, name: 'A' }, Date.now())).id;
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('a job left by a dead process is taken over once its heartbeat is stale and finished after its last recorded batch', async () => {
    const list = (await store.marketing.createList(serverId, 'Taken over', Date.now()))!;
    const rows = 2 * IMPORT_BATCH + 500;
    const csv = csvOf('dead', rows);
    // The dead process had stored the job, written the first batch and recorded it, then died.
    const first = Array.from({ length: IMPORT_BATCH }, (_, i) => ({ email: `dead${i}@example.com`, firstName: `P${i}` }));
    const job = await store.contactImports.create({ serverId, listId: list.id, csv, totalRows: rows + 1, owner: 'dead-process' }, Date.now() - 5_000);
    expect(await store.marketing.importContacts(serverId, list.id, first, Date.now())).toEqual({ created: IMPORT_BATCH, updated: 0 });
    const progress = {
      rowsDone: IMPORT_BATCH + 1,
      imported: IMPORT_BATCH,
      updated: 0,
      rejected: 1,
      rejectedRows: [{ row: 6, reason: 'not a valid email address: "not-an-address"' }],
    };
    expect(await store.contactImports.recordProgress(job.id, 'dead-process', progress, Date.now() - 5_000)).toBe(true);

    const live = new ImportJobs(store, Date.now, () => undefined, fast);
    live.startBackground();
    try {
      const done = await finished(list.id, job.id);
      expect(done).toMatchObject({ totalRows: rows + 1, rowsDone: rows + 1, imported: rows, updated: 0, rejected: 1, error: null });
      expect(done.rejectedRows).toEqual(progress.rejectedRows);
      expect(await members(list.id)).toBe(rows);
      // The dead process cannot record anything on it any more.
      expect(await store.contactImports.recordProgress(job.id, 'dead-process', progress, Date.now())).toBe(false);
    } finally {
      await live.stop();
    }
  });

  it('a job running in a process that stops is handed on at once and finished by the next, every row once', async () => {
    const list = (await store.marketing.createList(serverId, 'Handed on', Date.now()))!;
    const rows = 6 * IMPORT_BATCH;
    const first = new ImportJobs(store, Date.now, () => undefined, { staleMs: 60_000, tickMs: 60_000 });
    const job = await first.start(serverId, list.id, csvOf('stop', rows));
    expect(job).toMatchObject({ state: 'running', totalRows: rows + 1, rowsDone: 0 });
    await first.stop();
    const left = (await store.contactImports.get(serverId, list.id, job.id))!;
    // Stopped between batches: still running, released (a stale heartbeat), its progress recorded.
    expect(left.state).toBe('running');
    expect(left.rowsDone).toBeLessThan(rows + 1);
    expect(await members(list.id)).toBe(left.imported);

    // The next process takes it at its first tick, although the stale time is a minute.
    const next = new ImportJobs(store, Date.now, () => undefined, { staleMs: 60_000, tickMs: 60_000 });
    next.startBackground();
    try {
      const done = await finished(list.id, job.id);
      expect(done).toMatchObject({ rowsDone: rows + 1, imported: rows, updated: 0, rejected: 1 });
      expect(await members(list.id)).toBe(rows);
    } finally {
      await next.stop();
    }
  });

  it('keeps a finished job readable and drops its file; refuses a bad header before storing anything', async () => {
    const list = (await store.marketing.createList(serverId, 'Kept', Date.now()))!;
    const jobs = new ImportJobs(store, Date.now, () => undefined, fast);
    try {
      const job = await jobs.start(serverId, list.id, csvOf('kept', 10));
      expect(await finished(list.id, job.id)).toMatchObject({ imported: 10, rejected: 1, finishedAt: expect.any(Number) });
      // No other process can take a finished job (its file is gone).
      expect(await store.contactImports.claimStale('someone', Date.now() + 3_600_000, Date.now())).toBeUndefined();
      await expect(jobs.start(serverId, list.id, 'firstName\nAnn\n')).rejects.toThrow('no emailAddress column');
      expect(await store.contactImports.get(serverId, list.id, job.id + 1)).toBeUndefined();
      // Another server's or list's id is not found.
      expect(await store.contactImports.get(serverId + 1, list.id, job.id)).toBeUndefined();
    } finally {
      await jobs.stop();
    }
  });
});
