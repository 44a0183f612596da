import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Contact, Store } from '../../src/store/store.js';

/** A small RFC 4180 reader for checking the export (independent of the CLI's own reader). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (q) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') q = false;
      else field += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r') continue;
    else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  return rows;
}

/** `postline contacts import|export`, run as operators run it (the built CLI), on the run's store. */
describe(`postline contacts (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let env: Record<string, string | undefined>;
  let serverId: number;
  let otherServerId: number;
  let listId: number;
  let otherListId: number;
  let otherServersList: number;
  const run = (...args: string[]) => cli(['contacts', ...args], env);
  const file = (name: string, text: string): string => {
    const p = join(db.dataDir, name);
    writeFileSync(p, text);
    return p;
  };
  const all = async (sid = serverId): Promise<Contact[]> => (await store.marketing.searchContacts(sid, {}, { limit: 1000, offset: 0 })).rows;
  const members = async (lid: number): Promise<string[]> => {
    const out = await run('export', '--server', String(serverId), '--list', String(lid));
    return parseCsv(out.stdout)
      .slice(1)
      .map((r) => r[0]!)
      .sort();
  };

  beforeAll(async () => {
    db = await createTestDb();
    env = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined };
    serverId = JSON.parse((await cli(['init', '--json'], env)).stdout).serverId;
    store = await db.open();
    const now = Date.now();
    otherServerId = (await store.tenancy.createServer({ accountId: (await store.tenancy.getServer(serverId))!.accountId, name: 'other' }, now)).id;
    listId = (await store.marketing.createList(serverId, 'customers', now))!.id;
    otherListId = (await store.marketing.createList(serverId, 'other list', now))!.id;
    await store.marketing.createCustomField(serverId, 'Plan', 20, now);
    await store.marketing.createCustomField(serverId, 'City', 20, now);
    otherServersList = (await store.marketing.createList(otherServerId, 'theirs', now))!.id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('imports quoted fields and custom fields, reports each bad row by number and reason, and skips it', async () => {
    const csv =
      [
        'emailAddress,firstName,lastName,plan', // row 1: the header (custom field matched case-insensitively)
        'Ann@Example.com,Ann,"Smith, Jr.",gold', // 2: a comma inside quotes
        'bob@example.com,"Bob ""The Builder""",Jones,', // 3: doubled quotes
        'not-an-address,X,Y,silver', // 4: bad address
        'carol@example.org,"Carol', // 5: a line break inside quotes...
        'Anne",King,"=1+2"', // ...the same record
        ',Nobody,Here,free', // 6: missing address
        'dave@example.net,Dave,Lee,gold,extra', // 7: too many columns
        `eve@example.com,${'e'.repeat(1001)},Long,free`, // 8: a value over 1,000 characters
        'frank@example.com,Frank,,', // 9
      ].join('\r\n') + '\r\n';
    const r = await run('import', file('a.csv', csv), '--server', String(serverId), '--list', String(listId), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ serverId, listId, imported: 4, updated: 0, rejected: 4, rejectedNotListed: 0 });
    expect(summary.rejectedRows.map((x: { row: number }) => x.row)).toEqual([4, 6, 7, 8]);
    const reasons = summary.rejectedRows.map((x: { reason: string }) => x.reason);
    expect(reasons[0]).toBe('not a valid email address: "not-an-address"');
    expect(reasons[1]).toBe('no email address');
    expect(reasons[2]).toBe('too many columns (5, the header has 4)');
    expect(reasons[3]).toBe('a value is longer than 1000 characters');

    const contacts = new Map((await all()).map((c) => [c.email, c]));
    expect([...contacts.keys()].sort()).toEqual(['ann@example.com', 'bob@example.com', 'carol@example.org', 'frank@example.com']);
    expect(contacts.get('ann@example.com')).toMatchObject({ firstName: 'Ann', lastName: 'Smith, Jr.', customFields: { Plan: 'gold' } });
    expect(contacts.get('bob@example.com')).toMatchObject({ firstName: 'Bob "The Builder"', lastName: 'Jones', customFields: {} });
    expect(contacts.get('carol@example.org')).toMatchObject({ firstName: 'Carol\r\nAnne', lastName: 'King', customFields: { Plan: '=1+2' } });
    expect(contacts.get('frank@example.com')).toMatchObject({ firstName: 'Frank', lastName: null });
    expect(await members(listId)).toEqual([...contacts.keys()].sort());
    expect(await members(otherListId)).toEqual([]);

    // Without --json: the same rejections on stderr, a summary line on stdout.
    const plain = await run(
      'import',
      file('b.csv', 'emailAddress\r\nbad@\r\nann@example.com\r\n'),
      '--server',
      String(serverId),
      '--list',
      String(otherListId),
    );
    expect(plain.stderr).toBe('row 2: not a valid email address: "bad@"\n');
    expect(plain.stdout).toBe(`imported 0, updated 1, rejected 1 (list ${otherListId}, server ${serverId})\n`);
    expect(await members(otherListId)).toEqual(['ann@example.com']);
    // A file without name columns kept Ann's names.
    expect((await all()).find((c) => c.email === 'ann@example.com')).toMatchObject({ firstName: 'Ann', lastName: 'Smith, Jr.' });
  });

  it('re-importing updates names and fields, and the export gives back exactly the contacts', async () => {
    const r = await run(
      'import',
      file('c.csv', 'EmailAddress,firstName,lastName,City\nann@example.com,Annie,Smythe,Paris\nnew@example.com,New,Person,+44 Oslo\n'),
      '--server',
      String(serverId),
      '--list',
      String(listId),
      '--json',
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ imported: 1, updated: 1, rejected: 0 });
    const ann = (await all()).find((c) => c.email === 'ann@example.com')!;
    expect(ann).toMatchObject({ firstName: 'Annie', lastName: 'Smythe', customFields: { Plan: 'gold', City: 'Paris' } });
    await store.marketing.unsubscribeContact(serverId, 'bob@example.com', Date.now());

    const out = await run('export', '--server', String(serverId));
    expect(out.status).toBe(0);
    const rows = parseCsv(out.stdout);
    expect(rows[0]).toEqual(['emailAddress', 'firstName', 'lastName', 'unsubscribed', 'Plan', 'City']);
    // The formula-injection guard of the suppression download: a leading apostrophe.
    const unguard = (v: string) => (/^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v);
    const exported = rows
      .slice(1)
      .map((r) => r.map(unguard))
      .sort((a, b) => a[0]!.localeCompare(b[0]!));
    const expected = (await all())
      .map((c) => [
        c.email,
        c.firstName ?? '',
        c.lastName ?? '',
        c.unsubscribedAt === null ? 'false' : 'true',
        c.customFields.Plan ?? '',
        c.customFields.City ?? '',
      ])
      .sort((a, b) => a[0]!.localeCompare(b[0]!));
    expect(exported).toEqual(expected);
    expect(rows.slice(1).find((r) => r[0] === 'carol@example.org')![4]).toBe("'=1+2");
    expect(exported.find((r) => r[0] === 'bob@example.com')![3]).toBe('true');

    const asJson = JSON.parse((await run('export', '--server', String(serverId), '--json')).stdout) as {
      emailAddress: string;
      unsubscribed: boolean;
      customFields: Record<string, string>;
    }[];
    expect(asJson.map((c) => c.emailAddress).sort()).toEqual(expected.map((r) => r[0]));
    expect(asJson.find((c) => c.emailAddress === 'bob@example.com')!.unsubscribed).toBe(true);
    expect(asJson.find((c) => c.emailAddress === 'ann@example.com')!.customFields).toEqual({ Plan: 'gold', City: 'Paris' });

    // The export imports again unchanged (its unsubscribed column is read and ignored).
    const before = await all();
    const again = await run(
      'import',
      file('d.csv', out.stdout.replace("'=1+2", '=1+2').replace("'+44 Oslo", '+44 Oslo')),
      '--server',
      String(serverId),
      '--list',
      String(listId),
      '--json',
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, updated: before.length, rejected: 0 });
    expect((await all()).map(({ updatedAt: _u, ...c }) => c)).toEqual(before.map(({ updatedAt: _u, ...c }) => c));
  });

  it('imports a file larger than one batch, with row numbers counted across batches and a repeated address kept once', async () => {
    const lines = ['emailAddress,firstName'];
    for (let i = 1; i <= 2500; i++) lines.push(i === 1800 ? 'broken@' : `bulk${i}@example.com,B${i}`);
    lines.push('bulk7@example.com,Seven again'); // row 2502: the same address as row 8, in a later batch
    lines.push('bulk2400@example.com,Twice'); // row 2503: the same address as row 2401, in the same batch
    const bulkList = (await store.marketing.createList(serverId, 'bulk', Date.now()))!.id;
    const r = await run('import', file('bulk.csv', lines.join('\n')), '--server', String(serverId), '--list', String(bulkList), '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({
      imported: 2499,
      updated: 1,
      rejected: 1,
      rejectedRows: [{ row: 1801, reason: 'not a valid email address: "broken@"' }],
    });
    expect((await store.marketing.getList(serverId, bulkList))!.contactCount).toBe(2499);
    const named = async (email: string) => (await store.marketing.searchContacts(serverId, { email }, { limit: 1, offset: 0 })).rows[0]!.firstName;
    expect(await named('bulk7@example.com')).toBe('Seven again');
    expect(await named('bulk2400@example.com')).toBe('Twice');
    expect(await named('bulk2500@example.com')).toBe('B2500');
  });

  it('refuses an unknown column, list or server before writing anything', async () => {
    const count = async () => (await store.marketing.searchContacts(serverId, {}, { limit: 1, offset: 0 })).total;
    const before = await count();
    const unknown = await run(
      'import',
      file('e.csv', 'emailAddress,firstName,Shoe\nzed@example.com,Zed,42\n'),
      '--server',
      String(serverId),
      '--list',
      String(listId),
    );
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(
      'unknown column "Shoe": not emailAddress, firstName, lastName or a custom field of the server (Plan, City); nothing was imported',
    );
    const noEmail = await run('import', file('f.csv', 'firstName\nZed\n'), '--server', String(serverId), '--list', String(listId));
    expect(noEmail.stderr).toContain('the header has no emailAddress column; nothing was imported');
    const ok = file('g.csv', 'emailAddress\nzed@example.com\n');
    expect((await run('import', ok, '--server', String(serverId), '--list', '424242')).stderr).toContain(`list 424242 does not exist on server ${serverId}`);
    // Another server's list is not found under this server, and that server's contacts stay untouched.
    expect((await run('import', ok, '--server', String(serverId), '--list', String(otherServersList))).stderr).toContain(
      `list ${otherServersList} does not exist on server ${serverId}`,
    );
    expect(await all(otherServerId)).toEqual([]);
    expect((await run('import', ok, '--server', '424242', '--list', String(listId))).stderr).toContain('server 424242 does not exist');
    expect((await run('import', ok, '--server', String(serverId))).stderr).toContain('--list needs a positive whole number');
    expect((await run('import', join(db.dataDir, 'missing.csv'), '--server', String(serverId), '--list', String(listId))).stderr).toContain('no such file');
    expect((await run('export', '--server', String(serverId), '--list', '424242')).stderr).toContain(`list 424242 does not exist on server ${serverId}`);
    expect((await run('purge', '--server', String(serverId))).stderr).toContain('usage: postline contacts import');
    expect(await count()).toBe(before);
    expect((await store.marketing.searchContacts(serverId, { email: 'zed@example.com' }, { limit: 1, offset: 0 })).total).toBe(0);
  });
});
