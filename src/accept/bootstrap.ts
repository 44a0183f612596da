import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateApiKey, parseApiKey, secretMatches } from '../core/api-key.js';
import type { Store } from '../store/store.js';

export interface Credentials { serverId: number; apiKey: string }

const CREDENTIALS_FILE = 'credentials.json';

/**
 * Makes sure an account, a server and an injection key exist, and returns usable credentials.
 * Keys are stored hashed, so the plaintext of the bootstrap key is kept only in
 * <dataDir>/credentials.json (mode 0600) for `postline init` to print again; if that file is
 * missing or stale (another machine, a revoked key) a fresh key is minted for the same server.
 */
export async function ensureBootstrap(store: Store, dataDir: string, now: number): Promise<{ credentials: Credentials; created: boolean }> {
  const file = join(resolve(dataDir), CREDENTIALS_FILE);
  let created = false;
  let [account] = await store.listAccounts();
  if (!account) {
    account = await store.createAccount('Default account', now);
    created = true;
  }
  let server = (await store.listServers()).find((s) => s.accountId === account!.id);
  if (!server) {
    server = await store.createServer({ accountId: account.id, name: 'Default server' }, now);
    created = true;
  }
  const saved = readSaved(file);
  if (saved && saved.serverId === server.id && (await isLive(store, saved))) {
    return { credentials: saved, created };
  }
  const key = generateApiKey();
  await store.createApiKey({ serverId: server.id, scope: 'injection', name: 'Bootstrap injection key', publicId: key.publicId, secretHash: key.secretHash }, now);
  const credentials = { serverId: server.id, apiKey: key.key };
  mkdirSync(resolve(dataDir), { recursive: true });
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { credentials, created: true };
}

function readSaved(file: string): Credentials | null {
  if (!existsSync(file)) return null;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
    return typeof v.serverId === 'number' && typeof v.apiKey === 'string' ? { serverId: v.serverId, apiKey: v.apiKey } : null;
  } catch {
    return null;
  }
}

async function isLive(store: Store, c: Credentials): Promise<boolean> {
  const parsed = parseApiKey(c.apiKey);
  if (!parsed) return false;
  const rec = await store.findApiKeyForAuth(parsed.publicId);
  return !!rec && rec.revokedAt === null && rec.serverId === c.serverId && secretMatches(parsed.secret, rec.secretHash);
}
