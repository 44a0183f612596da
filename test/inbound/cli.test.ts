import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, cli } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhooks.js';
import { verify } from '../../src/net/standard-signature.js';
import { newId } from '../../src/core/ids.js';

/** The CLI without blocking this process: the receiver of the handshake runs here. */
function cliAsync(args: string[], env: Record<string, string | undefined>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
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

/** `postline routes list|add|remove|messages`, run as operators run it (the built CLI), on the run's store. */
describe(`postline routes (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let env: Record<string, string | undefined>;
  let serverId: number;
  let receiver: WebhookReceiver;
  const run = (...args: string[]) => cli(['routes', ...args], env);
  const listed = async () =>
    JSON.parse((await run('list', '--server', String(serverId), '--json')).stdout) as { match: string; url: string; validatedOn: string | null }[];

  beforeAll(async () => {
    db = await createTestDb();
    receiver = await startReceiver();
    env = {
      POSTLINE_DATA_DIR: db.dataDir,
      POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined,
      POSTLINE_WEBHOOK_ALLOW_CIDRS: '127.0.0.1',
      POSTLINE_HOSTNAME: 'postline.test',
    };
    serverId = JSON.parse((await cli(['init', '--json'], env)).stdout).serverId;
  });
  afterAll(async () => {
    await receiver.close();
    await db.drop();
  });

  it('adds (with the handshake, or without it on --no-validate), lists, shows messages and removes routes', async () => {
    expect(await listed()).toEqual([]);
    const added = await cliAsync(['routes', 'add', '--server', String(serverId), '--match', 'Customer.Example', '--url', receiver.url, '--json'], env);
    expect(added.stderr).toBe('');
    const route = JSON.parse(added.stdout) as { id: number; match: string; secretKey: string; signingSecret: string; validatedOn: string | null };
    expect(route).toMatchObject({ match: 'customer.example', kind: 'domain', enabled: true });
    expect(route.validatedOn).not.toBeNull();
    const [v] = receiver.received;
    expect(v!.json).toMatchObject({ Type: 'Validation', SecretKey: route.secretKey, ServerId: serverId });
    expect(verify(v!.headers, v!.body, [route.signingSecret])).toEqual({ ok: true });

    const unvalidated = await run('add', '--server', String(serverId), '--match', 'help@other.example', '--url', 'http://127.0.0.1:1/down', '--no-validate');
    expect(unvalidated.status).toBe(0);
    expect(unvalidated.stdout).toMatch(/^routed help@other\.example to http:\/\/127\.0\.0\.1:1\/down \(route \d+\)/);
    expect(receiver.received).toHaveLength(1);
    expect((await listed()).map((r) => [r.match, r.validatedOn === null])).toEqual([
      ['customer.example', false],
      ['help@other.example', true],
    ]);
    expect((await run('list', '--server', String(serverId))).stdout.split('\n')[0]).toMatch(/^id\s+match\s+url\s+enabled\s+validated$/);

    // A message stored for the route shows in `messages`.
    const store = await db.open();
    try {
      await store.inbound.commitMessages([
        {
          id: newId(),
          mailFrom: '',
          remoteIp: '192.0.2.7',
          helo: null,
          receivedAt: Date.now(),
          raw: Buffer.from('Subject: x\r\n\r\ny\r\n'),
          posts: [{ routeId: route.id, serverId, rcptTo: 'a@customer.example' }],
        },
      ]);
    } finally {
      await store.close();
    }
    const msgs = JSON.parse((await run('messages', '--server', String(serverId), '--match', 'customer.example', '--json')).stdout) as {
      total: number;
      data: { rcptTo: string; status: string }[];
    };
    expect(msgs).toMatchObject({ total: 1, data: [{ rcptTo: 'a@customer.example', status: 'pending' }] });
    expect((await run('messages', '--server', String(serverId), '--match', 'customer.example')).stdout).toMatch(/a@customer\.example\s+<>/);

    const removed = await run('remove', '--server', String(serverId), '--match', 'CUSTOMER.EXAMPLE', '--json');
    expect(JSON.parse(removed.stdout)).toEqual({ id: route.id, match: 'customer.example', deleted: true });
    expect((await listed()).map((r) => r.match)).toEqual(['help@other.example']);
  });

  it('refuses bad input with a clear message and changes nothing', async () => {
    const before = await listed();
    const add = (...a: string[]) => run('add', '--server', String(serverId), ...a);
    expect((await add('--match', 'not a domain', '--url', receiver.url)).stderr).toContain('neither a domain name');
    expect((await add('--match', 'postline.test', '--url', receiver.url)).stderr).toContain('bounce domain');
    expect((await add('--match', 'x.example', '--url', 'http://10.0.0.1/')).stderr).toContain('private');
    expect((await add('--match', 'x.example', '--url', 'http://127.0.0.1:1/down')).stderr).toMatch(
      /did not accept the Validation request.*nothing was changed/,
    );
    const taken = await add('--match', 'HELP@other.example', '--url', receiver.url, '--no-validate');
    expect([taken.status, taken.stderr]).toEqual([1, expect.stringContaining('help@other.example is already routed')]);
    expect((await add('--match', 'x.example')).stderr).toContain('routes needs --url');
    expect((await run('remove', '--server', String(serverId), '--match', 'nothing.example')).stderr).toContain('has no inbound route for nothing.example');
    expect((await run('list', '--server', '424242')).stderr).toContain('server 424242 does not exist');
    expect((await run('purge', '--server', String(serverId))).stderr).toContain('usage: postline routes list');
    expect(await listed()).toEqual(before);
  });
});
