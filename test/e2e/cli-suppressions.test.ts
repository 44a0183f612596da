import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';

/** `postline suppressions list|add|remove`, run as operators run it (the built CLI), on the run's store. */
describe(`postline suppressions (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let env: Record<string, string | undefined>;
  let serverId: number;
  const run = (...args: string[]) => cli(['suppressions', ...args], env);
  const listed = async () => JSON.parse((await run('list', '--server', String(serverId), '--json')).stdout) as { emailAddress: string; reason: string }[];

  beforeAll(async () => {
    db = await createTestDb();
    env = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined };
    serverId = JSON.parse((await cli(['init', '--json'], env)).stdout).serverId;
  });
  afterAll(async () => {
    await db.drop();
  });

  it('adds, lists (table and JSON) and removes addresses', async () => {
    expect(JSON.parse((await run('list', '--server', String(serverId), '--json')).stdout)).toEqual([]);
    expect((await run('list', '--server', String(serverId))).stdout).toBe('(none)\n');
    const added = await run('add', '--server', String(serverId), 'One@Example.com', 'two@example.com', '--reason', 'Complaint', '--json');
    expect(added.status).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ serverId, reason: 'Complaint', added: 2 });
    expect((await run('add', '--server', String(serverId), 'three@example.org')).stdout).toBe(`suppressed 1 address on server ${serverId} (CustomerRequest)\n`);
    const all = await listed();
    expect(all.map((s) => [s.emailAddress, s.reason]).sort()).toEqual([
      ['one@example.com', 'Complaint'],
      ['three@example.org', 'CustomerRequest'],
      ['two@example.com', 'Complaint'],
    ]);
    expect(Object.keys(all[0]!)).toEqual(['emailAddress', 'reason', 'detail', 'createdOn', 'lastUpdate']);
    const table = (await run('list', '--server', String(serverId), '--search', 'EXAMPLE.COM')).stdout.split('\n');
    expect(table[0]).toMatch(/^address\s+reason\s+lastUpdate\s+detail$/);
    expect(
      table
        .slice(1, 3)
        .map((l) => l.split(/\s+/)[0])
        .sort(),
    ).toEqual(['one@example.com', 'two@example.com']);
    expect(table[3]).toBe('2 suppressed addresses');
    const removed = await run('remove', '--server', String(serverId), 'ONE@example.com', 'nobody@example.com', '--json');
    expect(JSON.parse(removed.stdout)).toEqual({ serverId, requested: 2, removed: 1 });
    expect((await listed()).map((s) => s.emailAddress).sort()).toEqual(['three@example.org', 'two@example.com']);
  });

  it('refuses bad input with a clear message and changes nothing', async () => {
    const before = await listed();
    const bad = await run('add', '--server', String(serverId), 'fine@example.com', 'not-an-address');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('not a valid email address: "not-an-address"; nothing was changed');
    const reason = await run('add', '--server', String(serverId), 'fine@example.com', '--reason', 'Spite');
    expect(reason.stderr).toContain('--reason must be one of Failure, Bounce, Unsubscribe, Complaint, CustomerRequest');
    expect((await run('remove', '--server', String(serverId), 'two@example.com', '@bad')).stderr).toContain('nothing was changed');
    expect((await run('add', '--server', '424242', 'x@example.com')).stderr).toContain('server 424242 does not exist');
    expect((await run('add', 'x@example.com')).stderr).toContain('--server needs a positive whole number');
    expect((await run('add', '--server', String(serverId))).stderr).toContain('needs at least one ADDRESS');
    expect((await run('purge', '--server', String(serverId))).stderr).toContain('usage: postline suppressions list');
    expect(await listed()).toEqual(before);
  });
});
