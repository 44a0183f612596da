import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN, exited, serve } from '../helpers/process.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'postline-cli-tenancy-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEY_FORMAT = /^[A-Za-z0-9]{20}\.[A-Za-z0-9]{40}$/;
const execFileP = promisify(execFile);
/**
 * Runs the real CLI (the built dist/) without blocking the test worker: many synchronous spawns in
 * a row starve vitest's own messages on a loaded machine.
 */
async function cli(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
    return { status: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { status: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs a verb with --json, expects success, and parses what it printed. */
async function json<T = Record<string, unknown>>(args: string[], env: Record<string, string>): Promise<T> {
  const r = await cli([...args, '--json'], env);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.status, args.join(' ')).toBe(0);
  return JSON.parse(r.stdout) as T;
}

// Each CLI call is a fresh Node process: a verb-by-verb test runs tens of them.
describe('postline CLI: servers and keys (tenancy)', { timeout: 240_000 }, () => {
  it('init mints an account key once, keeps it in credentials.json, and adds one to an older file', async () => {
    const env = { POSTLINE_DATA_DIR: tempDir() };
    const creds = await json<{ serverId: number; apiKey: string; accountKey: string }>(['init'], env);
    expect(creds.accountKey).toMatch(KEY_FORMAT);
    expect(await json(['init'], env)).toEqual(creds);
    const file = join(env.POSTLINE_DATA_DIR, 'credentials.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(creds);
    const printed = (await cli(['init'], env)).stdout;
    expect(printed).toContain(`Account key: ${creds.accountKey}`);
    // It says which key goes where: the injection key to the Injection API and SMTP, the account key to v2 and marketing.
    expect(printed).toContain('injection key: sends mail through the Injection API, POST /api/v1/email');
    expect(printed).toContain('the v2 API at /v2/... (also /api/v2/...)');
    expect(printed).toContain('the Marketing API at');
    const accountKeys = async () => (await json<{ scope: string; revokedAt: number | null }[]>(['keys', 'list'], env)).filter((k) => k.scope === 'account');
    expect(await accountKeys()).toHaveLength(1);
    // A credentials file from before account keys: the injection key is kept, an account key is added.
    writeFileSync(file, JSON.stringify({ serverId: creds.serverId, apiKey: creds.apiKey }));
    const upgraded = await json<typeof creds>(['init'], env);
    expect(upgraded.apiKey).toBe(creds.apiKey);
    expect(upgraded.accountKey).toMatch(KEY_FORMAT);
    expect(upgraded.accountKey).not.toBe(creds.accountKey);
    expect(await accountKeys()).toHaveLength(2);
    // A revoked account key in the file is replaced.
    expect((await cli(['keys', 'revoke', upgraded.accountKey.slice(0, 20)], env)).status).toBe(0);
    const replaced = await json<typeof creds>(['init'], env);
    expect(replaced.accountKey).not.toBe(upgraded.accountKey);
    expect(replaced.apiKey).toBe(creds.apiKey);
  });

  it('servers list|get|create|update|disable|enable with --json', async () => {
    const env = { POSTLINE_DATA_DIR: tempDir() };
    const creds = await json<{ serverId: number }>(['init'], env);
    const created = await json<{ id: number; accountId: number; name: string; requireVerifiedDomain: boolean }>(
      ['servers', 'create', '--name', 'Billing'],
      env,
    );
    expect(created).toMatchObject({ name: 'Billing', status: 'active', requireVerifiedDomain: true });
    const trial = await json(['servers', 'create', '--name', 'Trial', '--require-verified-domain', 'off'], env);
    expect(trial).toMatchObject({ requireVerifiedDomain: false });
    expect(await json(['servers', 'get', '--server', String(created.id)], env)).toEqual(created);
    const listed = await json<{ id: number }[]>(['servers', 'list', '--account', String(created.accountId)], env);
    expect(listed.map((s) => s.id)).toEqual([creds.serverId, created.id, (trial as { id: number }).id]);
    expect(await json<unknown[]>(['servers', 'list', '--account', '999'], env)).toEqual([]);
    const updated = await json(['servers', 'update', '--server', String(created.id), '--require-verified-domain', 'off', '--name', 'Invoices'], env);
    expect(updated).toMatchObject({ id: created.id, name: 'Invoices', requireVerifiedDomain: false });
    expect(await json(['servers', 'disable', '--server', String(created.id)], env)).toMatchObject({ id: created.id, status: 'disabled' });
    expect(await json(['servers', 'get', '--server', String(created.id)], env)).toMatchObject({ status: 'disabled' });
    expect(await json(['servers', 'enable', '--server', String(created.id)], env)).toMatchObject({ id: created.id, status: 'active' });
    const missing = await cli(['servers', 'get', '--server', '424242'], env);
    expect([missing.status, missing.stderr]).toEqual([1, 'postline: server 424242 does not exist\n']);
    expect((await cli(['servers', 'update', '--server', String(created.id), '--require-verified-domain', 'maybe'], env)).stderr).toContain(
      '--require-verified-domain takes on or off',
    );
    expect((await cli(['servers', 'explode'], env)).stderr).toContain('servers disable|enable');
  });

  it('keys list|create|revoke|rotate with --json, for servers and accounts', async () => {
    const env = { POSTLINE_DATA_DIR: tempDir() };
    const creds = await json<{ serverId: number; accountKey: string }>(['init'], env);
    const server = await json<{ id: number; accountId: number }>(['servers', 'get', '--server', String(creds.serverId)], env);
    const account = await json<{ publicId: string; serverId: null; accountId: number; scope: string; apiKey: string }>(
      ['keys', 'create', '--account', String(server.accountId), '--scope', 'account', '--name', 'Ops'],
      env,
    );
    expect(account).toMatchObject({ serverId: null, accountId: server.accountId, scope: 'account', name: 'Ops' });
    expect(account.apiKey).toMatch(KEY_FORMAT);
    const listed = await json<{ publicId: string }[]>(['keys', 'list', '--account', String(server.accountId)], env);
    expect(listed.map((k) => k.publicId)).toContain(account.publicId);
    expect(JSON.stringify(listed)).not.toContain(account.apiKey.split('.')[1]);
    const rotated = await json<{ publicId: string; apiKey: string; name: string }>(['keys', 'rotate', account.publicId], env);
    expect(rotated).toMatchObject({ publicId: account.publicId, name: 'Ops' });
    expect(rotated.apiKey).toMatch(KEY_FORMAT);
    expect(rotated.apiKey).not.toBe(account.apiKey);
    expect(await json(['keys', 'revoke', account.publicId], env)).toEqual({ revoked: account.publicId });
    expect((await cli(['keys', 'rotate', account.publicId], env)).stderr).toContain('no live key');
    // A server key may carry both permissions, named in any order; anything else is refused and creates nothing.
    const both = await json<{ serverId: number; scope: string; apiKey: string }>(
      ['keys', 'create', '--server', String(server.id), '--scope', 'management,injection'],
      env,
    );
    expect(both).toMatchObject({ serverId: server.id, scope: 'injection,management', name: 'injection,management key' });
    const count = (await json<unknown[]>(['keys', 'list'], env)).length;
    const bad = await cli(['keys', 'create', '--server', String(server.id), '--scope', 'injection,bogus'], env);
    expect([bad.status, bad.stderr]).toEqual([1, 'postline: --scope must be one of injection, management, injection,management, account\n']);
    expect((await json<unknown[]>(['keys', 'list'], env)).length).toBe(count);
    // Scopes and owners must match.
    expect((await cli(['keys', 'create', '--server', String(server.id), '--scope', 'account'], env)).stderr).toContain('use --account ID instead of --server');
    expect((await cli(['keys', 'create', '--account', String(server.accountId), '--scope', 'management'], env)).stderr).toContain('belongs to a server');
    expect((await cli(['keys', 'create', '--account', '999', '--scope', 'account'], env)).stderr).toContain('account 999 does not exist');
    expect((await cli(['keys', 'rotate'], env)).stderr).toContain('usage: postline keys rotate');
  });

  it('a key rotated or a server disabled by the CLI takes effect at once on a running server', async () => {
    const env = { POSTLINE_DATA_DIR: tempDir() };
    const creds = await json<{ serverId: number; apiKey: string; accountKey: string }>(['init'], env);
    const p = await serve(env);
    try {
      const base = `http://127.0.0.1:${p.port}`;
      const send = (key: string) =>
        fetch(`${base}/api/v1/email`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({
            serverId: creds.serverId,
            messages: [{ to: [{ emailAddress: 'a@example.com' }], from: { emailAddress: 'b@example.com' }, subject: 's', textBody: 't' }],
          }),
        }).then((r) => r.json() as Promise<{ ErrorCode: string }>);
      const servers = (key: string) => fetch(`${base}/api/v2/servers`, { headers: { authorization: `Bearer ${key}` } });
      expect((await servers(creds.accountKey)).status).toBe(200);
      expect((await send(creds.apiKey)).ErrorCode).toBe('Success');
      const rotated = await json<{ apiKey: string }>(['keys', 'rotate', creds.apiKey.slice(0, 20)], env);
      expect((await send(creds.apiKey)).ErrorCode).toBe('InvalidAuthentication');
      expect((await send(rotated.apiKey)).ErrorCode).toBe('Success');
      await json(['servers', 'disable', '--server', String(creds.serverId)], env);
      expect((await send(rotated.apiKey)).ErrorCode).toBe('AccountDisabled');
      await json(['servers', 'enable', '--server', String(creds.serverId)], env);
      expect((await send(rotated.apiKey)).ErrorCode).toBe('Success');
    } finally {
      p.child.kill('SIGTERM');
      await exited(p.child);
    }
  });
});
