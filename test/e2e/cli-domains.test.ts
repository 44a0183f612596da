import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

/** Runs the built CLI without blocking this process, so the loopback DNS server here can answer it. */
function cliAsync(args: string[], env: Record<string, string | undefined>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Rec {
  type: string;
  name: string;
  value: string;
  required: boolean;
}

/** `postline domains ... --server ID`: a server's sending domains from the command line, as the v2 API manages them. */
describe(`postline domains --server (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let dns: TestDnsServer;
  let env: Record<string, string | undefined>;
  let serverId: number;
  const run = (...args: string[]) => cliAsync(['domains', ...args, '--server', String(serverId)], env);

  beforeAll(async () => {
    db = await createTestDb();
    dns = await startDnsServer();
    env = {
      POSTLINE_DATA_DIR: db.dataDir,
      POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined,
      POSTLINE_DNS_SERVERS: dns.address,
      POSTLINE_HOSTNAME: 'mta.postline.test',
    };
    serverId = JSON.parse((await cli(['init', '--json'], env)).stdout).serverId;
  });
  afterAll(async () => {
    await dns.close();
    await db.drop();
  });

  it('adds, prints records, verifies against DNS, rotates, lists and removes', async () => {
    const added = await run('add', 'Cli.Example', '--selector', 'c1', '--ed25519', '--json');
    expect(added.stderr).toBe('');
    const a = JSON.parse(added.stdout) as { domain: string; verified: boolean; keys: { selector: string; state: string }[]; records: Rec[] };
    expect(a).toMatchObject({
      domain: 'cli.example',
      verified: false,
      keys: [
        { selector: 'c1', state: 'active' },
        { selector: 'c1e', state: 'active' },
      ],
    });
    expect(added.stdout).not.toContain('PRIVATE KEY');
    expect(a.records.map((r) => r.name)).toEqual([
      'c1._domainkey.cli.example',
      'c1e._domainkey.cli.example',
      'cli.example',
      '_dmarc.cli.example',
      'pl-bounces.cli.example',
    ]);
    expect(a.records[2]!.value).toBe('v=spf1 a:mta.postline.test ~all');

    const again = await run('add', 'cli.example');
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain(`server ${serverId} already has the sending domain cli.example`);

    const records = JSON.parse((await run('records', 'cli.example', '--json')).stdout) as Rec[];
    expect(records).toEqual(a.records.map((r) => ({ ...r, purpose: expect.any(String) })));
    const text = (await run('records', 'cli.example')).stdout;
    expect(text).toContain('CNAME pl-bounces.cli.example   (recommended)\n      mta.postline.test');

    const missing = JSON.parse((await run('verify', 'cli.example', '--json')).stdout) as { verified: boolean; lastCheck: { status: string }[] };
    expect(missing.verified).toBe(false);
    expect(missing.lastCheck.map((c) => c.status)).toEqual(['missing', 'missing', 'missing', 'missing', 'missing']);
    const txt = new Map<string, string[]>();
    for (const r of records) if (r.type === 'TXT') txt.set(r.name, [...(txt.get(r.name) ?? []), r.value]);
    for (const [name, values] of txt) dns.set(name, { TXT: values });
    dns.set('pl-bounces.cli.example', { CNAME: 'mta.postline.test.' });
    const verified = await run('verify', 'cli.example');
    expect(verified.stdout.split('\n')[0]).toBe('cli.example: verified');

    const rotated = JSON.parse((await run('rotate', 'cli.example', '--selector', 'c2', '--json')).stdout) as { keys: { selector: string; state: string }[] };
    expect(rotated.keys.map((k) => [k.selector, k.state])).toEqual([
      ['c1', 'active'],
      ['c1e', 'active'],
      ['c2', 'pending'],
      ['c2e', 'pending'],
    ]);
    const pendingAgain = await run('rotate', 'cli.example');
    expect(pendingAgain.status).not.toBe(0);
    expect(pendingAgain.stderr).toContain('a rotation is in progress');

    const list = JSON.parse((await run('list', '--json')).stdout) as { domain: string; verified: boolean }[];
    expect(list.map((d) => [d.domain, d.verified])).toEqual([['cli.example', true]]);
    // The instance-wide list (no --server) does not show a server's keys.
    expect(JSON.parse((await cliAsync(['domains', 'list', '--json'], env)).stdout)).toEqual([]);

    expect(JSON.parse((await run('remove', 'cli.example', '--json')).stdout)).toEqual({ domain: 'cli.example', removed: true });
    const gone = await run('verify', 'cli.example');
    expect(gone.status).not.toBe(0);
    expect(gone.stderr).toContain(`server ${serverId} has no sending domain cli.example`);
  });

  it('refuses bad input and unknown servers', async () => {
    const bad = await run('add', 'not a domain');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('Invalid domain');
    const noServer = await cliAsync(['domains', 'list', '--server', '99999'], env);
    expect(noServer.status).not.toBe(0);
    expect(noServer.stderr).toContain('no server 99999');
    expect(JSON.parse((await run('list', '--json')).stdout)).toEqual([]);
  });
});
