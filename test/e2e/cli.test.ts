import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli, exited, serve } from '../helpers/process.js';
import { renderConfigDocs } from '../../src/config/load.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'postline-cli-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('postline CLI (operator contract)', () => {
  it('init --json is idempotent and prints working credentials', async () => {
    const env = { POSTLINE_DATA_DIR: tempDir() };
    const first = await cli(['init', '--json'], env);
    expect(first.status).toBe(0);
    const creds = JSON.parse(first.stdout);
    expect(Object.keys(creds).sort()).toEqual(['accountKey', 'apiKey', 'serverId']);
    expect(Number.isInteger(creds.serverId)).toBe(true);
    expect(creds.apiKey).toMatch(/^[A-Za-z0-9]{20}\.[A-Za-z0-9]{40}$/);
    expect(JSON.parse((await cli(['init', '--json'], env)).stdout)).toEqual(creds);
    expect(statSync(join(env.POSTLINE_DATA_DIR, 'credentials.json')).mode & 0o777).toBe(0o600);
    const servers = JSON.parse((await cli(['servers', 'list', '--json'], env)).stdout);
    expect(servers.map((s: { id: number }) => s.id)).toEqual([creds.serverId]);
  });

  it('the first start on an empty data directory prints the credentials once and accepts mail with them', async () => {
    const env = { POSTLINE_DATA_DIR: tempDir() };
    const p = await serve(env);
    const creds = JSON.parse((await cli(['init', '--json'], env)).stdout);
    // stderr and stdout are separate pipes: the banner may arrive just after the listening log line.
    await vi.waitFor(() => expect(p.stderr()).toContain(`Account key: ${creds.accountKey}`), { timeout: 5000 });
    expect(p.stderr()).toContain(`ServerId: ${creds.serverId}`);
    expect(p.stderr()).toContain(`API key:  ${creds.apiKey}`);
    // Which key goes where: the injection key to /api/v1/email, the account key to v2 and marketing.
    expect(p.stderr()).toMatch(new RegExp(`POST http://[^ ]+:${p.port}/api/v1/email`));
    expect(p.stderr()).toMatch(new RegExp(`the v2 API at http://[^ ]+:${p.port}/v2/\\.\\.\\.`));
    expect(p.stderr()).toContain('the Marketing API at');
    const res = await fetch(`http://127.0.0.1:${p.port}/api/v1/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${creds.apiKey}` },
      body: JSON.stringify({
        serverId: creds.serverId,
        messages: [{ to: [{ emailAddress: 'a@example.com' }], from: { emailAddress: 'b@example.com' }, subject: 's', textBody: 't' }],
      }),
    });
    expect(await res.json()).toEqual({ ErrorCode: 'Success', MessageResults: [], TransactionReceipt: null });
    p.child.kill('SIGTERM');
    expect(await exited(p.child)).toBe(0);
    const again = await serve(env);
    expect(again.stderr()).not.toContain('API key');
    again.child.kill('SIGTERM');
    expect(await exited(again.child)).toBe(0);
  });

  it('stops start-up on an invalid value, naming the key and the value', async () => {
    const bad = await cli(['serve'], { POSTLINE_DATA_DIR: tempDir(), POSTLINE_HTTP_PORT: '99999' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('POSTLINE_HTTP_PORT="99999"');
    const level = await cli(['serve'], { POSTLINE_DATA_DIR: tempDir(), POSTLINE_LOG_LEVEL: 'loud' });
    expect(level.stderr).toContain('POSTLINE_LOG_LEVEL="loud"');
    const url = await cli(['serve'], { POSTLINE_DATA_DIR: tempDir(), POSTLINE_DATABASE_URL: 'mysql://x' });
    expect(url.stderr).toContain('POSTLINE_DATABASE_URL="mysql://x"');
    const pub = await cli(['serve'], { POSTLINE_DATA_DIR: tempDir(), POSTLINE_PUBLIC_URL: 'ftp://x' });
    expect(pub.stderr).toContain('POSTLINE_PUBLIC_URL="ftp://x"');
  });

  it('reads an optional JSON config file and refuses unknown keys in it', async () => {
    const dir = tempDir();
    const file = join(dir, 'postline.json');
    writeFileSync(file, JSON.stringify({ httpPort: 'nope' }));
    const r = await cli(['serve'], { POSTLINE_DATA_DIR: dir, POSTLINE_CONFIG_FILE: file });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('httpPort="nope"');
    writeFileSync(file, JSON.stringify({ colour: 'blue' }));
    expect((await cli(['serve'], { POSTLINE_DATA_DIR: dir, POSTLINE_CONFIG_FILE: file })).stderr).toContain('colour="blue": unknown key');
  });

  it('refuses unknown roles and flags with a clear message', async () => {
    const r = await cli(['serve', '--roles', 'api,teleport'], { POSTLINE_DATA_DIR: tempDir() });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown role "teleport"');
    expect((await cli(['init', '--colour'], { POSTLINE_DATA_DIR: tempDir() })).stderr).toContain("Unknown option '--colour'");
  });

  it('creates servers and scoped keys, lists keys without secrets, and revokes them', async () => {
    const env = { POSTLINE_DATA_DIR: tempDir() };
    const server = JSON.parse((await cli(['servers', 'create', '--name', 'Marketing', '--json'], env)).stdout);
    expect(server).toMatchObject({ name: 'Marketing', status: 'active' });
    const key = JSON.parse((await cli(['keys', 'create', '--server', String(server.id), '--scope', 'management', '--json'], env)).stdout);
    expect(key).toMatchObject({ serverId: server.id, scope: 'management' });
    expect(key.apiKey).toMatch(/^[A-Za-z0-9]{20}\.[A-Za-z0-9]{40}$/);
    const listed = (await cli(['keys', 'list', '--server', String(server.id), '--json'], env)).stdout;
    expect(listed).toContain(key.publicId);
    expect(listed).not.toContain(key.apiKey.split('.')[1]);
    expect((await cli(['keys', 'revoke', key.publicId], env)).status).toBe(0);
    expect(
      JSON.parse((await cli(['keys', 'list', '--json'], env)).stdout).find((k: { publicId: string }) => k.publicId === key.publicId).revokedAt,
    ).toBeGreaterThan(0);
    const again = await cli(['keys', 'revoke', key.publicId], env);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('no live key');
    expect((await cli(['keys', 'create', '--server', '424242'], env)).stderr).toContain('server 424242 does not exist');
    expect((await cli(['keys', 'create', '--server', String(server.id), '--scope', 'root'], env)).stderr).toContain('--scope must be one of');
    expect((await cli(['servers', 'create'], env)).stderr).toContain('--name');
  });

  it('domains add generates DKIM keys once, prints the DNS records, and refuses bad names', async () => {
    const env = { POSTLINE_DATA_DIR: tempDir() };
    const first = await cli(['domains', 'add', 'Example.COM', '--ed25519', '--json'], env);
    expect(first.status).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toMatchObject({ domain: 'example.com', created: true });
    expect(out.selectors.map((s: { algorithm: string }) => s.algorithm)).toEqual(['rsa-sha256', 'ed25519-sha256']);
    const dkim = out.records.filter((r: { name: string }) => r.name.endsWith('._domainkey.example.com'));
    expect(dkim.map((r: { value: string }) => r.value.slice(0, 16))).toEqual(['v=DKIM1; k=rsa; ', 'v=DKIM1; k=ed255']);
    expect(out.records.some((r: { name: string; value: string }) => r.name === '_dmarc.example.com' && r.value.startsWith('v=DMARC1'))).toBe(true);
    const again = JSON.parse((await cli(['domains', 'add', 'example.com', '--json'], env)).stdout);
    expect(again.created).toBe(false);
    expect(again.records).toEqual(out.records);
    const listed = (await cli(['domains', 'list', '--json'], env)).stdout;
    expect(JSON.parse(listed)).toHaveLength(2);
    expect(listed).not.toContain('PRIVATE KEY');
    for (const bad of ['localhost', '1.2.3.4', 'a..b.com']) {
      const r = await cli(['domains', 'add', bad], env);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`Invalid domain "${bad}"`);
    }
    expect(JSON.parse((await cli(['domains', 'list', '--json'], env)).stdout)).toHaveLength(2);
  });

  it('docs/config.md is generated from the schema and up to date', async () => {
    expect(readFileSync(join(import.meta.dirname, '../../docs/config.md'), 'utf8')).toBe(renderConfigDocs());
  });
});
