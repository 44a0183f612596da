import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { countRows, startReceiver, type WebhookReceiver } from '../helpers/webhooks.js';

interface EndpointJson {
  id: number;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  secretKey: string;
  signingSecret?: string;
  format: string;
  validationKey: string | null;
}

/** `postline webhooks list|add|remove|attempts`, run as operators run it (the built CLI), on the run's store. */
describe(`postline webhooks (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let env: Record<string, string | undefined>;
  let serverId: number;
  let receiver: WebhookReceiver;
  const run = (...args: string[]) => cli(['webhooks', ...args], env);
  const listed = async () => JSON.parse((await run('list', '--server', String(serverId), '--json')).stdout) as EndpointJson[];

  beforeAll(async () => {
    db = await createTestDb();
    receiver = await startReceiver();
    env = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined, POSTLINE_WEBHOOK_ALLOW_CIDRS: '127.0.0.1' };
    serverId = JSON.parse((await cli(['init', '--json'], env)).stdout).serverId;
  });
  afterAll(async () => {
    await receiver.close();
    await db.drop();
  });

  it('adds an endpoint after the Validation handshake, lists it, shows its attempts and removes it', async () => {
    const added = await run('add', '--server', String(serverId), '--url', receiver.url, '--events', 'Delivered,Failed', '--json');
    expect(added.stderr).toBe('');
    const e = JSON.parse(added.stdout) as EndpointJson;
    expect(e).toMatchObject({ url: receiver.url, eventTypes: ['Delivered', 'Failed'], enabled: true });
    expect(e.signingSecret).toMatch(/^whsec_/);
    // The handshake reached the receiver with the endpoint's SecretKey.
    expect(receiver.received.some((r) => r.json?.Type === 'Validation' && r.json?.SecretKey === e.secretKey)).toBe(true);
    expect((await listed()).map((x) => x.id)).toEqual([e.id]);
    expect((await run('list', '--server', String(serverId))).stdout.split('\n')[0]).toMatch(/^id\s+url\s+format\s+events\s+enabled\s+validationKey/);

    const attempts = JSON.parse((await run('attempts', '--server', String(serverId), '--id', String(e.id), '--json')).stdout) as { total: number };
    expect(attempts.total).toBe(0);

    const unvalidated = JSON.parse(
      (await run('add', '--server', String(serverId), '--url', 'http://127.0.0.1:1/down', '--no-validate', '--json')).stdout,
    ) as EndpointJson;
    expect(unvalidated).toMatchObject({ enabled: false });
    expect(unvalidated.disabledReason).toMatch(/not validated/);

    expect(JSON.parse((await run('remove', '--server', String(serverId), '--id', String(e.id), '--json')).stdout)).toEqual({ id: e.id, deleted: true });
    expect((await listed()).map((x) => x.id)).toEqual([unvalidated.id]);
  });

  it('a form endpoint: add shows its ValidationKey (stored not validated until the receiver answers it), list shows it, rotate-validation-key changes it', async () => {
    const added = await run('add', '--server', String(serverId), '--url', receiver.url, '--format', 'form');
    expect(added.stderr).toBe('');
    const key = /ValidationKey:\s+(\S+)/.exec(added.stdout)?.[1];
    expect(key).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(added.stdout).toContain('disabled until validated');
    const e = (await listed()).find((x) => x.validationKey === key)!;
    expect(e).toMatchObject({ format: 'form', enabled: false });
    expect((await run('list', '--server', String(serverId))).stdout).toContain(key!);

    const rotated = JSON.parse(
      (await run('rotate-validation-key', '--server', String(serverId), '--id', String(e.id), '--validation-key', 'cli-given-key-1', '--json')).stdout,
    ) as EndpointJson;
    expect(rotated.validationKey).toBe('cli-given-key-1');
    const fresh = await run('rotate-validation-key', '--server', String(serverId), '--id', String(e.id));
    expect(fresh.stdout).toMatch(/ValidationKey: [A-Za-z0-9]{20} /);

    // Given the key its receiver answers, a form endpoint validates at once.
    receiver.answer = 'cli-receiver-key-2';
    try {
      const moved = JSON.parse(
        (await run('add', '--server', String(serverId), '--url', receiver.url, '--format', 'form', '--validation-key', 'cli-receiver-key-2', '--json')).stdout,
      ) as EndpointJson;
      expect(moved).toMatchObject({ enabled: true, validationKey: 'cli-receiver-key-2' });
      await run('remove', '--server', String(serverId), '--id', String(moved.id));
    } finally {
      receiver.answer = 'ok';
    }
    await run('remove', '--server', String(serverId), '--id', String(e.id));
  });

  it('refuses bad input with a clear message and changes nothing', async () => {
    const before = await countRows(db, 'webhook_endpoints');
    expect((await run('add', '--server', String(serverId))).stderr).toContain('webhooks add needs --url');
    expect((await run('add', '--server', String(serverId), '--url', receiver.url, '--events', 'Delivered,Exploded')).stderr).toContain(
      'unknown event type Exploded',
    );
    expect((await run('add', '--server', String(serverId), '--url', 'http://10.1.2.3/hook')).stderr).toMatch(/private|not allowed|refused/i);
    expect((await run('add', '--server', String(serverId), '--url', 'http://127.0.0.1:1/down')).stderr).toContain('nothing was changed');
    expect((await run('add', '--server', String(serverId), '--url', receiver.url, '--format', 'xml')).stderr).toContain('--format must be json or form');
    expect((await run('remove', '--server', String(serverId), '--id', '424242')).stderr).toContain(`server ${serverId} has no webhook endpoint 424242`);
    expect((await run('list', '--server', '424242')).stderr).toContain('server 424242 does not exist');
    expect((await run('add', '--server', String(serverId), '--url', receiver.url, '--format', 'form', '--events', 'Queued')).stderr).toContain(
      'cannot receive Queued',
    );
    expect((await run('add', '--server', String(serverId), '--url', receiver.url, '--format', 'form', '--validation-key', 'short')).stderr).toContain(
      '--validation-key needs 8 to 128',
    );
    expect((await run('add', '--server', String(serverId), '--url', receiver.url, '--validation-key', 'json-endpoint-key')).stderr).toContain(
      '--validation-key is for --format form',
    );
    // Answering 200 without the key fails the handshake.
    expect(
      (await run('add', '--server', String(serverId), '--url', receiver.url, '--format', 'form', '--validation-key', 'never-answered-key')).stderr,
    ).toContain("without the endpoint's ValidationKey");
    const usage = await run('purge', '--server', String(serverId));
    expect(usage.status).not.toBe(0);
    expect(usage.stderr).toContain('usage: postline webhooks list');
    expect(await countRows(db, 'webhook_endpoints')).toBe(before);
  });
});
