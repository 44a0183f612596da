import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, exited, serve } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { countRows } from '../helpers/webhooks.js';
import type { Store } from '../../src/store/store.js';

const PASSWORD = 'a long enough password';

/** `postline users create|list|disable|reset-password`, run as operators run it (the built CLI), on the run's store. */
describe(`postline users (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let env: Record<string, string | undefined>;
  let accountId: number;
  const run = (args: string[], input?: string) => cli(['users', ...args], env, input);
  const users = () => countRows(db, 'users');

  beforeAll(async () => {
    db = await createTestDb();
    env = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined };
    expect((await cli(['init', '--json'], env)).status).toBe(0);
    store = await db.open();
    accountId = (await store.tenancy.listAccounts())[0]!.id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('at serve start with no user, logs how to create the first admin and where the panel is; then the created admin signs in', async () => {
    const p = await serve(env, ['--roles', 'api']);
    try {
      // Logged just after http.listening: wait for it (up to 10 s).
      const find = () =>
        p
          .stdout()
          .split('\n')
          .find((l) => l.includes('"panel.no_users"'));
      for (let i = 0; i < 100 && !find(); i++) await new Promise((r) => setTimeout(r, 100));
      const line = find();
      expect(line).toBeDefined();
      const logged = JSON.parse(line!) as { level: number; panel: string; command: string; msg: string };
      expect(logged.command).toBe('npx postline users create --email you@example.com --role admin --password-stdin');
      expect(logged.panel).toMatch(/^http:\/\/.+\/$/);
      expect(logged.msg).toContain(logged.command);

      const created = await run(['create', '--email', 'Boss@Example.com', '--role', 'admin', '--password-stdin', '--json'], `${PASSWORD}\n`);
      expect(created.status, created.stderr).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({ email: 'boss@example.com', role: 'admin', status: 'active', accountId, lastSignInAt: null });
      const signIn = await fetch(`http://127.0.0.1:${p.port}/api/v2/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'boss@example.com', password: PASSWORD }),
      });
      expect(signIn.status).toBe(200);
      const cookie = /^(postline_session=[^;]+)/.exec(signIn.headers.get('set-cookie')!)![1]!;
      const me = await fetch(`http://127.0.0.1:${p.port}/api/v2/account/users`, { headers: { cookie } });
      expect(me.status).toBe(200);

      // Disabled from the CLI: the running server refuses the session at once.
      const disabled = await run(['disable', '--email', 'boss@example.com']);
      expect(disabled.status, disabled.stderr).toBe(0);
      expect(disabled.stdout).toContain('disabled');
      expect((await fetch(`http://127.0.0.1:${p.port}/api/v2/session`, { headers: { cookie } })).status).toBe(401);
    } finally {
      p.child.kill('SIGTERM');
      await exited(p.child);
    }
  });

  it('refuses bad input with a clear message and writes nothing', async () => {
    const before = await users();
    const cases: [string[], string | undefined, RegExp][] = [
      [['create', '--email', 'not-an-email', '--role', 'admin', '--password-stdin'], PASSWORD, /not a valid email address/],
      [['create', '--email', 'x@example.com', '--role', 'owner', '--password-stdin'], PASSWORD, /--role must be one of admin, member, viewer/],
      [['create', '--email', 'x@example.com', '--role', 'viewer', '--password-stdin'], 'short\n', /at least 12 characters/],
      [['create', '--email', 'x@example.com', '--role', 'viewer', '--password-stdin', '--account', '999999'], PASSWORD, /account 999999 does not exist/],
      [['create', '--email', 'x@example.com', '--role', 'viewer'], undefined, /--password-stdin/],
      [['create', '--role', 'viewer', '--password-stdin'], PASSWORD, /--email is required/],
      [['create', '--email', 'boss@example.com', '--role', 'viewer', '--password-stdin'], PASSWORD, /already has a user/],
      [['reset-password', '--email', 'nobody@example.com', '--password-stdin'], PASSWORD, /no user nobody@example.com/],
      [['disable', '--email', 'nobody@example.com'], undefined, /no user nobody@example.com/],
      [['frobnicate'], undefined, /usage: postline users/],
    ];
    for (const [args, input, message] of cases) {
      const r = await run(args, input);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(await users()).toBe(before);
  });

  it('needs --account when there are several accounts', async () => {
    const other = await store.tenancy.createAccount('Second', Date.now());
    const before = await users();
    const r = await run(['create', '--email', 'two@example.com', '--role', 'member', '--password-stdin'], PASSWORD);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/say which with --account ID/);
    expect(await users()).toBe(before);
    const ok = await run(['create', '--email', 'two@example.com', '--role', 'member', '--password-stdin', '--account', String(other.id)], PASSWORD);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/two@example.com \(member\) in account/);
    expect((await store.users.findByEmail('two@example.com'))!.accountId).toBe(other.id);
  });

  it('lists users as a table or JSON, and resets a password (ending the sessions; a short one is refused)', async () => {
    const json = await run(['list', '--json']);
    expect(json.status).toBe(0);
    const listed = JSON.parse(json.stdout) as { data: { email: string; status: string }[]; total: number };
    expect(listed.total).toBe(listed.data.length);
    expect(listed.data.find((u) => u.email === 'boss@example.com')?.status).toBe('disabled');
    const table = await run(['list']);
    expect(table.stdout).toMatch(/^id\s+account\s+email\s+role\s+status/);
    expect(table.stdout).toContain('two@example.com');

    const user = (await store.users.findByEmail('two@example.com'))!;
    const short = await run(['reset-password', '--email', 'two@example.com', '--password-stdin'], 'tooshort');
    expect(short.status).toBe(1);
    expect((await store.users.get(user.id))!.passwordHash).toBe(user.passwordHash);
    const reset = await run(['reset-password', '--email', 'TWO@example.com', '--password-stdin'], 'another long password\n');
    expect(reset.status, reset.stderr).toBe(0);
    expect((await store.users.get(user.id))!.passwordHash).not.toBe(user.passwordHash);
  });
});
