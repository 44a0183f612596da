import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateApiKey, parseApiKey, secretMatches } from '../core/api-key.js';
import type { Store } from '../store/store.js';

/** What `postline init` prints: the trial server, its injection key, and the account key that manages the account. */
export interface Credentials {
  serverId: number;
  apiKey: string;
  accountKey: string;
}

const CREDENTIALS_FILE = 'credentials.json';

/**
 * Makes sure an account, a server, an injection key and an account key exist, and returns usable
 * credentials. Keys are stored hashed, so the plaintexts of the bootstrap keys are kept only in
 * <dataDir>/credentials.json (mode 0600) for `postline init` to print again; a key missing from
 * that file or stale there (another machine, a revoked key, a file written before account keys)
 * is minted afresh, the live one kept.
 */
export async function ensureBootstrap(store: Store, dataDir: string, now: number): Promise<{ credentials: Credentials; created: boolean }> {
  const file = join(resolve(dataDir), CREDENTIALS_FILE);
  let created = false;
  let [account] = await store.tenancy.listAccounts();
  if (!account) {
    account = await store.tenancy.createAccount('Default account', now);
    created = true;
  }
  let server = (await store.tenancy.listServers()).find((s) => s.accountId === account!.id);
  if (!server) {
    server = await store.tenancy.createServer({ accountId: account.id, name: 'Default server' }, now);
    created = true;
  }
  const saved = readSaved(file);
  let apiKey = saved?.serverId === server.id && saved.apiKey && (await isLive(store, saved.apiKey, { serverId: server.id })) ? saved.apiKey : null;
  let accountKey = saved?.accountKey && (await isLive(store, saved.accountKey, { accountId: account.id })) ? saved.accountKey : null;
  if (apiKey && accountKey) return { credentials: { serverId: server.id, apiKey, accountKey }, created };
  if (!apiKey) {
    const key = generateApiKey();
    await store.tenancy.createApiKey(
      { serverId: server.id, scope: 'injection', name: 'Bootstrap injection key', publicId: key.publicId, secretHash: key.secretHash },
      now,
    );
    apiKey = key.key;
  }
  if (!accountKey) {
    const key = generateApiKey();
    await store.tenancy.createApiKey(
      { serverId: null, accountId: account.id, scope: 'account', name: 'Bootstrap account key', publicId: key.publicId, secretHash: key.secretHash },
      now,
    );
    accountKey = key.key;
  }
  const credentials = { serverId: server.id, apiKey, accountKey };
  mkdirSync(resolve(dataDir), { recursive: true });
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { credentials, created: true };
}

function readSaved(file: string): Partial<Credentials> | null {
  if (!existsSync(file)) return null;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
    return {
      serverId: typeof v.serverId === 'number' ? v.serverId : undefined,
      apiKey: typeof v.apiKey === 'string' ? v.apiKey : undefined,
      accountKey: typeof v.accountKey === 'string' ? v.accountKey : undefined,
    };
  } catch {
    return null;
  }
}

/** A live key of the expected owner: the server's injection key, or the account's account key. */
async function isLive(store: Store, key: string, owner: { serverId: number } | { accountId: number }): Promise<boolean> {
  const parsed = parseApiKey(key);
  if (!parsed) return false;
  const rec = await store.tenancy.findApiKeyForAuth(parsed.publicId);
  if (!rec || rec.revokedAt !== null || !secretMatches(parsed.secret, rec.secretHash)) return false;
  return 'serverId' in owner ? rec.scope === 'injection' && rec.serverId === owner.serverId : rec.scope === 'account' && rec.accountId === owner.accountId;
}
