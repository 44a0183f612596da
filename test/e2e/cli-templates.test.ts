import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { countRows } from '../helpers/webhooks.js';

interface TemplateJson {
  templateId: number;
  name: string;
  subject: string | null;
  version: number;
  currentVersion: number;
  htmlBody: string | null;
  textBody: string | null;
  ampBody: string | null;
}

/** `postline templates ...`, run as operators run it (the built CLI), on the run's store. */
describe(`postline templates (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let env: Record<string, string | undefined>;
  let server: string;
  let dir: string;
  const run = (...args: string[]) => cli(['templates', ...args], env);
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  beforeAll(async () => {
    db = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), 'postline-cli-templates-'));
    env = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined };
    server = String(JSON.parse((await cli(['init', '--json'], env)).stdout).serverId);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  it('creates from files, updates into a new version, shows both versions and deletes', async () => {
    const created = await run(
      'create',
      '--server',
      server,
      '--name',
      'Receipt',
      '--subject',
      'Receipt %%OrderId%%',
      '--html-file',
      file('r.html', '<p>Thanks %%FirstName%%</p>'),
      '--text-file',
      file('r.txt', 'Thanks %%FirstName%%'),
      '--json',
    );
    expect(created.stderr).toBe('');
    const t = JSON.parse(created.stdout) as TemplateJson;
    expect(t).toMatchObject({
      name: 'Receipt',
      subject: 'Receipt %%OrderId%%',
      version: 1,
      htmlBody: '<p>Thanks %%FirstName%%</p>',
      textBody: 'Thanks %%FirstName%%',
      ampBody: null,
    });
    const id = String(t.templateId);

    expect((await run('update', '--server', server, '--id', id, '--text-file', file('r2.txt', 'Thank you, %%FirstName%%'))).stdout).toContain(
      'version 2 is current',
    );
    expect(JSON.parse((await run('get', '--server', server, '--id', id)).stdout)).toMatchObject({
      version: 2,
      textBody: 'Thank you, %%FirstName%%',
      htmlBody: '<p>Thanks %%FirstName%%</p>',
    });
    expect(JSON.parse((await run('get', '--server', server, '--id', id, '--version', '1')).stdout)).toMatchObject({
      version: 1,
      currentVersion: 2,
      textBody: 'Thanks %%FirstName%%',
    });
    expect(JSON.parse((await run('versions', '--server', server, '--id', id, '--json')).stdout).data.map((v: TemplateJson) => v.version)).toEqual([2, 1]);
    expect((await run('list', '--server', server)).stdout).toMatch(/^id\s+name\s+version\s+subject\s+updated\n\d+\s+Receipt\s+2\s/);

    expect(JSON.parse((await run('delete', '--server', server, '--id', id, '--json')).stdout)).toEqual({ templateId: Number(id), deleted: true });
    expect(await countRows(db, 'templates')).toBe(0);
  });

  it('refuses bad input with a clear message and changes nothing', async () => {
    const id = String(
      (JSON.parse((await run('create', '--server', server, '--name', 'Kept', '--text-file', file('k.txt', 'kept'), '--json')).stdout) as TemplateJson)
        .templateId,
    );
    const before = [await countRows(db, 'templates'), await countRows(db, 'template_versions')];
    expect((await run('create', '--server', server, '--text-file', file('x.txt', 'x'))).stderr).toContain('name: name is required');
    expect((await run('create', '--server', server, '--name', 'No body')).stderr).toContain('a template needs htmlBody or textBody');
    expect((await run('create', '--server', server, '--name', 'x'.repeat(201), '--text-file', file('y.txt', 'y'))).stderr).toContain('longer than 200');
    expect((await run('create', '--server', server, '--name', 'Missing', '--html-file', join(dir, 'absent.html'))).stderr).toContain(
      '--html-file: cannot read',
    );
    expect((await run('update', '--server', server, '--id', id, '--text-file', file('empty.txt', ''))).stderr).toContain('nothing was changed');
    expect((await run('update', '--server', server, '--id', id)).stderr).toContain('needs at least one of');
    expect((await run('get', '--server', server, '--id', '424242')).stderr).toContain(`server ${server} has no template 424242`);
    expect((await run('list', '--server', '424242')).stderr).toContain('server 424242 does not exist');
    const usage = await run('purge', '--server', server);
    expect(usage.status).not.toBe(0);
    expect(usage.stderr).toContain('usage: postline templates list');
    expect([await countRows(db, 'templates'), await countRows(db, 'template_versions')]).toEqual(before);
  });
});
