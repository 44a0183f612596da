import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, exited, serve } from '../helpers/process.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'postline-host-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const logLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const PORTS = {
  POSTLINE_HTTP_PORT: '0',
  POSTLINE_HTTP_HOST: '127.0.0.1',
  POSTLINE_SUBMISSION_PORT: '0',
  POSTLINE_MX_PORT: '0',
  POSTLINE_SMTP_HOST: '127.0.0.1',
};

describe('postline serve and the host name', () => {
  it('the quick start (no POSTLINE_HOSTNAME) runs every role on localhost, serves /healthz, and warns', async () => {
    const p = await serve({
      POSTLINE_DATA_DIR: tempDir(),
      POSTLINE_HOSTNAME: undefined,
      POSTLINE_BOUNCE_DOMAIN: undefined,
      POSTLINE_ALLOW_LOCAL_HOSTNAME: undefined,
    });
    try {
      expect(await (await fetch(`http://127.0.0.1:${p.port}/healthz`)).json()).toEqual({ status: 'ok' });
      const logs = logLines(p.stdout());
      expect(logs).toContainEqual(
        expect.objectContaining({ level: 40, event: 'config.hostname_not_fqdn', key: 'POSTLINE_HOSTNAME', value: 'localhost', reason: 'it is localhost' }),
      );
      expect(logs).toContainEqual(expect.objectContaining({ event: 'mx.listening', bounceDomain: 'localhost' }));
    } finally {
      p.child.kill('SIGTERM');
      await exited(p.child);
    }
  });

  it('refuses the smtp role on a typed name that is not fully qualified, says why and how to fix it, and opens nothing', async () => {
    const dir = tempDir();
    const r = await cli(['serve', '--roles', 'smtp'], {
      ...PORTS,
      POSTLINE_DATA_DIR: dir,
      POSTLINE_HOSTNAME: 'mybox',
      POSTLINE_ALLOW_LOCAL_HOSTNAME: undefined,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'postline: invalid configuration POSTLINE_HOSTNAME="mybox": not a fully qualified domain name (it has no dot), ' +
        "which the MX listener (role smtp) needs: set POSTLINE_HOSTNAME to this host's public name (e.g. mta.example.com, with an A record), " +
        'or set POSTLINE_ALLOW_LOCAL_HOSTNAME=true for a test setup (bounces sent to this name will not arrive from elsewhere)\n',
    );
    expect(logLines(r.stdout)).toEqual([expect.objectContaining({ event: 'config.hostname_not_fqdn', value: 'mybox', reason: 'it has no dot' })]);
    expect(readdirSync(dir)).toEqual([]); // no database, no TLS files: refused before anything opened
  });

  it('refuses a bounce domain that is not fully qualified, naming that key', async () => {
    const r = await cli(['serve'], {
      ...PORTS,
      POSTLINE_DATA_DIR: tempDir(),
      POSTLINE_HOSTNAME: 'mta.example.com',
      POSTLINE_BOUNCE_DOMAIN: '192.0.2.7',
      POSTLINE_ALLOW_LOCAL_HOSTNAME: undefined,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^postline: invalid configuration POSTLINE_BOUNCE_DOMAIN="192.0.2.7": not a fully qualified domain name \(it is an IP address\)/);
  });

  it('starts on such a name when the operator allows it, or without the smtp role, and still warns', async () => {
    for (const [env, roles] of [
      [{ POSTLINE_ALLOW_LOCAL_HOSTNAME: 'true' }, undefined],
      [{ POSTLINE_ALLOW_LOCAL_HOSTNAME: undefined }, 'api'],
    ] as const) {
      const p = await serve(
        { POSTLINE_DATA_DIR: tempDir(), POSTLINE_HOSTNAME: 'mybox', POSTLINE_BOUNCE_DOMAIN: undefined, ...env },
        roles ? ['--roles', roles] : [],
      );
      try {
        expect((await fetch(`http://127.0.0.1:${p.port}/readyz`)).status).toBe(200);
        expect(logLines(p.stdout())).toContainEqual(expect.objectContaining({ event: 'config.hostname_not_fqdn', value: 'mybox' }));
        expect(logLines(p.stdout()).some((l) => l.event === 'mx.listening')).toBe(roles === undefined);
      } finally {
        p.child.kill('SIGTERM');
        await exited(p.child);
      }
    }
  });
});
