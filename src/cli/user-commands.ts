import { hashPassword, passwordProblem } from '../accept/passwords.js';
import { toUserWire } from '../api/v2/users/wire.js';
import { isValidEmailAddress } from '../core/address.js';
import { isUserRole, normalizeEmail, USER_ROLES } from '../core/users.js';
import type { Store, UserRecord } from '../store/store.js';
import { printJson, printTable, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';

type Flags = Record<string, string | boolean | undefined>;

const USAGE =
  'usage: postline users create --email E --role admin|member|viewer --password-stdin [--account ID] [--json]' +
  ' | users list [--account ID] [--json]' +
  ' | users disable --email E [--json]' +
  ' | users reset-password --email E --password-stdin [--json]';

/** The password on standard input: one line (a trailing newline is not part of it). */
async function passwordFromStdin(flags: Flags, readStdin: () => Promise<string>): Promise<string> {
  if (flags['password-stdin'] !== true) throw new UsageError('give the password on standard input with --password-stdin (it never goes on the command line)');
  const text = (await readStdin()).replace(/\r?\n$/, '');
  if (text.includes('\n')) throw new UsageError('the password must be one line; nothing was changed');
  const problem = passwordProblem(text);
  if (problem) throw new UsageError(`${problem}; nothing was changed`);
  return text;
}

function emailFlag(flags: Flags): string {
  if (typeof flags.email !== 'string' || flags.email.trim() === '') throw new UsageError('--email is required');
  const email = normalizeEmail(flags.email);
  if (!isValidEmailAddress(email)) throw new UsageError(`--email: ${JSON.stringify(flags.email)} is not a valid email address; nothing was changed`);
  return email;
}

async function userByEmail(store: Store, flags: Flags): Promise<UserRecord> {
  const email = emailFlag(flags);
  const user = await store.users.findByEmail(email);
  if (!user) throw new UsageError(`no user ${email}; see postline users list`);
  return user;
}

/** The account a new user joins: --account, or the only account when there is exactly one. */
async function accountOf(store: Store, flags: Flags): Promise<number> {
  const accounts = await store.tenancy.listAccounts();
  if (flags.account !== undefined) {
    const id = positiveInt(flags.account, 'account');
    if (!accounts.some((a) => a.id === id)) throw new UsageError(`account ${id} does not exist; nothing was changed`);
    return id;
  }
  if (accounts.length === 1) return accounts[0]!.id;
  if (accounts.length === 0) throw new UsageError('there is no account yet: run postline init first');
  throw new UsageError(`there are ${accounts.length} accounts: say which with --account ID (${accounts.map((a) => a.id).join(', ')})`);
}

/**
 * `postline users create|list|disable|reset-password`: the control panel's people, on the store
 * directly (docs/panel-auth.md). Every check runs before anything is written.
 */
export async function usersCommand(store: Store, verb: string | undefined, flags: Flags, now: number, readStdin: () => Promise<string>): Promise<void> {
  switch (verb) {
    case 'create': {
      const email = emailFlag(flags);
      if (!isUserRole(flags.role))
        throw new UsageError(`--role must be one of ${USER_ROLES.join(', ')}, got ${JSON.stringify(flags.role ?? null)}; nothing was changed`);
      const accountId = await accountOf(store, flags);
      if (await store.users.findByEmail(email)) throw new UsageError(`${email} already has a user; nothing was changed`);
      const password = await passwordFromStdin(flags, readStdin);
      const created = await store.users.create({ accountId, email, role: flags.role, passwordHash: await hashPassword(password) }, now);
      if ('duplicate' in created) throw new UsageError(`${email} already has a user; nothing was changed`);
      if (flags.json) return printJson(toUserWire(created));
      process.stdout.write(`user ${created.id} created: ${created.email} (${created.role}) in account ${created.accountId}\n`);
      return;
    }
    case 'list': {
      const accountId = flags.account === undefined ? null : positiveInt(flags.account, 'account');
      const users = await store.users.list(accountId);
      if (flags.json) return printJson({ data: users.map(toUserWire), total: users.length });
      return printTable(
        users.map((u) => ({
          id: u.id,
          account: u.accountId,
          email: u.email,
          role: u.role,
          status: u.status,
          created: new Date(u.createdAt).toISOString(),
          lastSignIn: u.lastSignInAt === null ? null : new Date(u.lastSignInAt).toISOString(),
        })),
      );
    }
    case 'disable': {
      const user = await userByEmail(store, flags);
      const updated = (await store.users.update(user.accountId, user.id, { status: 'disabled' }, now))!;
      if (flags.json) return printJson(toUserWire(updated));
      process.stdout.write(`user ${updated.email} disabled; their sessions have ended\n`);
      return;
    }
    case 'reset-password': {
      const user = await userByEmail(store, flags);
      const password = await passwordFromStdin(flags, readStdin);
      const updated = (await store.users.update(user.accountId, user.id, { passwordHash: await hashPassword(password) }, now))!;
      if (flags.json) return printJson(toUserWire(updated));
      process.stdout.write(`password of ${updated.email} reset; their sessions have ended\n`);
      return;
    }
    default:
      throw new UsageError(USAGE);
  }
}

/** All of standard input as text. */
export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
