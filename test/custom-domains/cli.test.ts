import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

/**
 * `postline bounce-domains` and `tracking-domains`, run as users run them (the built dist/), against
 * a DNS server on loopback. Asynchronous spawn: the DNS server answers from this process's loop.
 */
describe(`postline bounce-domains / tracking-domains (${TEST_STORE_KIND})`, { timeout: 120_000 }, () => {
  let db: TestDb;
  let dns: TestDnsServer;
  let serverId: number;
  let env: Record<string, string>;

  function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }
  const json = async (args: string[]) => {
    const r = await cli([...args, '--server', String(serverId), '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    db = await createTestDb();
    dns = await startDnsServer();
    env = {
      POSTLINE_DATA_DIR: db.dataDir,
      POSTLINE_DNS_SERVERS: dns.address,
      POSTLINE_HOSTNAME: 'mta.postline.test',
      POSTLINE_PUBLIC_URL: 'https://t.postline.test',
      POSTLINE_LOG_LEVEL: 'silent',
    };
    if (db.databaseUrl) env.POSTLINE_DATABASE_URL = db.databaseUrl;
    const init = await cli(['init', '--json']);
    serverId = JSON.parse(init.stdout).serverId;
  });
  afterAll(async () => {
    await dns?.close();
    await db?.drop();
  });

  it('bounce-domains: add, records, verify, default, list, remove', async () => {
    const added = await json(['bounce-domains', 'add', 'Bounces.CLI.example']);
    expect(added).toMatchObject({
      domain: 'bounces.cli.example',
      verified: false,
      isDefault: false,
      records: [{ type: 'CNAME', name: 'bounces.cli.example', expected: 'mta.postline.test', status: 'unchecked' }],
    });

    const refused = await cli(['bounce-domains', 'default', 'bounces.cli.example', '--server', String(serverId)]);
    expect([refused.status, refused.stderr]).toEqual([1, expect.stringContaining('domain_not_verified')]);

    expect(await json(['bounce-domains', 'verify', String(added.domainId)])).toMatchObject({ verified: false, records: [{ status: 'missing' }] });
    dns.set('bounces.cli.example', { CNAME: 'mta.postline.test' });
    expect(await json(['bounce-domains', 'verify', 'bounces.cli.example'])).toMatchObject({ verified: true, records: [{ status: 'verified' }] });
    expect(await json(['bounce-domains', 'records', 'bounces.cli.example'])).toEqual([
      { type: 'CNAME', name: 'bounces.cli.example', expected: 'mta.postline.test', status: 'verified', found: ['mta.postline.test'] },
    ]);
    expect(await json(['bounce-domains', 'default', String(added.domainId)])).toMatchObject({ isDefault: true });
    expect((await json(['bounce-domains', 'list'])).map((d: { domain: string; isDefault: boolean }) => [d.domain, d.isDefault])).toEqual([
      ['bounces.cli.example', true],
    ]);

    const taken = await cli(['bounce-domains', 'add', 'bounces.cli.example', '--server', String(serverId)]);
    expect([taken.status, taken.stderr]).toEqual([1, expect.stringContaining('domain_taken')]);

    expect(await json(['bounce-domains', 'remove', 'bounces.cli.example'])).toEqual({
      domainId: added.domainId,
      domain: 'bounces.cli.example',
      deleted: true,
      wasDefault: true,
    });
    expect(await json(['bounce-domains', 'list'])).toEqual([]);
  });

  it("tracking-domains: add --default sets the server's tracking origin; https off makes it http://; default none clears it", async () => {
    dns.set('click.cli.example', { CNAME: 't.postline.test.' });
    const added = await json(['tracking-domains', 'add', 'click.cli.example', '--default']);
    expect(added).toMatchObject({ domain: 'click.cli.example', verified: true, isDefault: true, httpsEnabled: true });
    const origin = async () => {
      const servers = (await json(['servers', 'list'])) as { id: number; tracking: { domain: string | null } }[];
      return servers.find((s) => s.id === serverId)!.tracking.domain;
    };
    expect(await origin()).toBe('https://click.cli.example');
    expect(await json(['tracking-domains', 'https', 'click.cli.example', 'off'])).toMatchObject({ httpsEnabled: false });
    expect(await origin()).toBe('http://click.cli.example');
    expect(await json(['tracking-domains', 'default', 'none'])).toMatchObject({ isDefault: false });
    expect(await origin()).toBeNull();
  });

  it('refuses a missing server, an unknown verb and an unknown domain', async () => {
    for (const [args, text] of [
      [['bounce-domains', 'list'], '--server'],
      [['bounce-domains', 'list', '--server', '99999'], 'does not exist'],
      [['bounce-domains', 'frob', '--server', String(serverId)], 'usage'],
      [['bounce-domains', 'verify', 'nope.example', '--server', String(serverId)], 'not_found'],
    ] as const) {
      const r = await cli([...args]);
      expect([args, r.status, r.stderr]).toEqual([args, 1, expect.stringContaining(text)]);
    }
  });
});
