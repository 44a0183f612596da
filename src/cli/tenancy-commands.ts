import { API_KEY_SCOPES, generateApiKey, newSecretFor, serverScopeOf, type ApiKeyScope } from '../core/api-key.js';
import type { Server, ServerPatch, Store } from '../store/store.js';
import { printJson, printTable, UsageError } from './output.js';

type Flags = Record<string, string | boolean | undefined>;

export function positiveInt(v: unknown, flag: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${flag} needs a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** `postline servers create|list` */
export async function serversCommand(store: Store, verb: string | undefined, flags: Flags, now: number): Promise<void> {
  if (verb === 'list') {
    const accountId = flags.account === undefined ? undefined : positiveInt(flags.account, 'account');
    const servers = (await store.tenancy.listServers()).filter((s) => accountId === undefined || s.accountId === accountId);
    if (flags.json) return printJson(servers);
    return printTable(servers.map(serverRow));
  }
  if (verb === 'create') {
    const name = typeof flags.name === 'string' ? flags.name.trim() : '';
    if (name === '' || name.length > 200) throw new UsageError('servers create needs --name NAME (1-200 characters)');
    let accountId: number;
    if (flags.account !== undefined) {
      accountId = positiveInt(flags.account, 'account');
      if (!(await store.tenancy.listAccounts()).some((a) => a.id === accountId)) throw new UsageError(`account ${accountId} does not exist`);
    } else {
      const [first] = await store.tenancy.listAccounts();
      accountId = first ? first.id : (await store.tenancy.createAccount('Default account', now)).id;
    }
    // As through the API: a new server sends only from verified domains unless told otherwise.
    const requireVerifiedDomain = onOff(flags, 'require-verified-domain') ?? true;
    const server = await store.tenancy.createServer({ accountId, name, sandbox: flags.sandbox === true, requireVerifiedDomain }, now);
    if (flags.json) return printJson(server);
    process.stdout.write(`created server ${server.id} (${server.name})\n`);
    return;
  }
  if (verb === 'update') {
    const id = positiveInt(flags.server, 'server');
    const patch: ServerPatch = { tracking: {} };
    if (flags.name !== undefined) {
      const name = String(flags.name).trim();
      if (name === '' || name.length > 200) throw new UsageError('--name must be 1-200 characters');
      patch.name = name;
    }
    patch.sandbox = onOff(flags, 'sandbox-mode');
    patch.requireVerifiedDomain = onOff(flags, 'require-verified-domain');
    patch.tracking = { opens: onOff(flags, 'track-opens'), clicks: onOff(flags, 'track-clicks'), unsubscribes: onOff(flags, 'track-unsubscribes') };
    if (flags['tracking-domain'] !== undefined) patch.tracking.domain = trackingOrigin(String(flags['tracking-domain']));
    if (!(await store.tenancy.getServer(id))) throw new UsageError(`server ${id} does not exist`);
    const server = (await store.tenancy.updateServer(id, patch))!;
    if (flags.json) return printJson(server);
    process.stdout.write(
      `updated server ${server.id}: sandbox ${server.sandbox ? 'on' : 'off'}, tracking opens ${server.tracking.opens ? 'on' : 'off'}, ` +
        `clicks ${server.tracking.clicks ? 'on' : 'off'}, unsubscribes ${server.tracking.unsubscribes ? 'on' : 'off'}, domain ${server.tracking.domain ?? '(public URL)'}\n`,
    );
    return;
  }
  if (verb === 'get') {
    const server = await existingServer(store, flags);
    if (flags.json) return printJson(server);
    return printTable([serverRow(server)]);
  }
  if (verb === 'disable' || verb === 'enable') {
    // Keys are checked uncached on every request: the server's keys stop, or work again, at once.
    const server = await existingServer(store, flags);
    const updated = (await store.tenancy.updateServer(server.id, { status: verb === 'disable' ? 'disabled' : 'active' }))!;
    if (flags.json) return printJson(updated);
    process.stdout.write(`server ${updated.id} is ${updated.status}\n`);
    return;
  }
  throw new UsageError(
    'usage: postline servers list [--account ID] [--json] | servers get --server ID [--json] | servers create --name NAME [--account ID] [--sandbox] [--require-verified-domain on|off] [--json] | servers update --server ID [...] | servers disable|enable --server ID [--json]',
  );
}

function onOff(flags: Flags, flag: string): boolean | undefined {
  const v = flags[flag];
  if (v === undefined) return undefined;
  if (v === 'on' || v === 'off') return v === 'on';
  throw new UsageError(`--${flag} takes on or off, got ${JSON.stringify(v)}`);
}

async function existingServer(store: Store, flags: Flags): Promise<Server> {
  const id = positiveInt(flags.server, 'server');
  const server = await store.tenancy.getServer(id);
  if (!server) throw new UsageError(`server ${id} does not exist`);
  return server;
}

const serverRow = (s: Server) => ({
  serverId: s.id,
  name: s.name,
  account: s.accountId,
  status: s.status,
  sandbox: s.sandbox,
  requireVerifiedDomain: s.requireVerifiedDomain,
});

/** A tracking domain is stored as an origin (`https://track.example.com`); `none` clears it. */
function trackingOrigin(v: string): string | null {
  if (v === 'none') return null;
  let u: URL;
  try {
    u = new URL(v.includes('://') ? v : `https://${v}`);
  } catch {
    throw new UsageError(`--tracking-domain is not a host name or URL: ${JSON.stringify(v)}`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.pathname !== '/' || u.search || u.hash || u.username || u.password) {
    throw new UsageError('--tracking-domain must be a host name or an origin like https://track.example.com');
  }
  return u.origin;
}

/** `postline keys list|create|revoke|rotate` */
export async function keysCommand(store: Store, verb: string | undefined, args: string[], flags: Flags, now: number): Promise<void> {
  if (verb === 'list') {
    const serverId = flags.server === undefined ? undefined : positiveInt(flags.server, 'server');
    const accountId = flags.account === undefined ? undefined : positiveInt(flags.account, 'account');
    const keys = (await store.tenancy.listApiKeys(serverId)).filter((k) => accountId === undefined || k.accountId === accountId);
    if (flags.json) return printJson(keys);
    return printTable(
      keys.map((k) => ({
        publicId: k.publicId,
        serverId: k.serverId,
        account: k.accountId,
        scope: k.scope,
        name: k.name,
        created: new Date(k.createdAt).toISOString(),
        revoked: k.revokedAt && new Date(k.revokedAt).toISOString(),
      })),
    );
  }
  if (verb === 'create') {
    const asked = typeof flags.scope === 'string' ? flags.scope : flags.account !== undefined && flags.server === undefined ? 'account' : 'injection';
    // A server key's permissions may be given in any order (`management,injection`); stored in one spelling.
    const scope: ApiKeyScope | null = asked.trim().toLowerCase() === 'account' ? 'account' : serverScopeOf(asked);
    if (scope === null) throw new UsageError(`--scope must be one of ${API_KEY_SCOPES.join(', ')}`);
    const name = typeof flags.name === 'string' ? flags.name : `${scope} key`;
    const key = generateApiKey();
    let owner: { serverId: number } | { serverId: null; accountId: number };
    if (scope === 'account') {
      if (flags.server !== undefined) throw new UsageError('an account key belongs to an account, not a server: use --account ID instead of --server');
      const accountId = positiveInt(flags.account, 'account');
      if (!(await store.tenancy.listAccounts()).some((a) => a.id === accountId)) throw new UsageError(`account ${accountId} does not exist`);
      owner = { serverId: null, accountId };
    } else {
      if (flags.account !== undefined) throw new UsageError(`a ${scope} key belongs to a server: use --server ID (--account is for --scope account)`);
      const serverId = positiveInt(flags.server, 'server');
      if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`server ${serverId} does not exist`);
      owner = { serverId };
    }
    const rec = await store.tenancy.createApiKey({ ...owner, scope, name, publicId: key.publicId, secretHash: key.secretHash }, now);
    if (flags.json) return printJson({ ...rec, apiKey: key.key });
    const whose = rec.serverId === null ? `account ${rec.accountId}` : `server ${rec.serverId}`;
    process.stdout.write(`created ${scope} key for ${whose}; it is shown only now:\n${key.key}\n`);
    return;
  }
  if (verb === 'revoke') {
    const publicId = args[0];
    if (!publicId) throw new UsageError('usage: postline keys revoke PUBLIC_ID (the 20 characters before the dot)');
    const done = await store.tenancy.revokeApiKey(publicId.split('.')[0]!, now);
    if (!done) throw new UsageError(`no live key with public id ${publicId}`);
    if (flags.json) return printJson({ revoked: publicId });
    process.stdout.write(`revoked ${publicId}\n`);
    return;
  }
  if (verb === 'rotate') {
    const publicId = args[0]?.split('.')[0];
    if (!publicId) throw new UsageError('usage: postline keys rotate PUBLIC_ID (the 20 characters before the dot)');
    const current = await store.tenancy.findApiKeyForAuth(publicId);
    const fresh = newSecretFor(publicId);
    const rec =
      current &&
      (await store.tenancy.rotateApiKeyOf(
        current.serverId === null ? { accountId: current.accountId } : { serverId: current.serverId },
        publicId,
        fresh.secretHash,
      ));
    if (!rec) throw new UsageError(`no live key with public id ${publicId}`);
    if (flags.json) return printJson({ ...rec, apiKey: fresh.key });
    process.stdout.write(`rotated ${publicId}; the old secret no longer works. The new key is shown only now:\n${fresh.key}\n`);
    return;
  }
  throw new UsageError(
    'usage: postline keys list [--server ID | --account ID] [--json] | keys create --server ID [--scope injection|management|injection,management] | --account ID --scope account [--name N] [--json] | keys revoke|rotate PUBLIC_ID [--json]',
  );
}
