import type { DkimKeyRecord, Store } from '../store/store.js';
import type { DomainChanges } from '../core/domain-changes.js';
import { signMessage, type DkimKey } from './dkim.js';
import type { SigningPool } from './signing-pool.js';

/** Keys are read from the store at most this often per domain; a new key takes effect within it. */
export const DKIM_KEY_CACHE_MS = 60_000;

/** The newest key per algorithm, RSA first. */
const newestPerAlgorithm = (rows: DkimKeyRecord[]): DkimKey[] =>
  rows
    .sort((a, b) => (a.algorithm === b.algorithm ? b.id - a.id : a.algorithm === 'rsa-sha256' ? -1 : 1))
    .filter((k, i, all) => all.findIndex((x) => x.algorithm === k.algorithm) === i)
    .map((k) => ({ domain: k.domain, selector: k.selector, algorithm: k.algorithm, privateKeyPem: k.privateKey, publicKeyBase64: k.publicKey }));

/**
 * Signs outbound messages with the live DKIM keys of their From domain (RSA-2048, plus Ed25519
 * when present: dual signing): the sending server's own active keys for the domain (its sending
 * domain, newest active key per algorithm), else the instance-wide keys of the domain, else the
 * message goes unsigned. `changes` (the sending-domain API in this process) drops a server's
 * cached keys at once, so a rotation's new key signs from the next message.
 */
export function createSigner(
  store: Store,
  pool: SigningPool | null = null,
  changes: DomainChanges | null = null,
): (message: Buffer, fromDomain: string, serverId?: number) => Promise<Buffer> {
  const cache = new Map<string, { until: number; keys: Promise<DkimKey[]> }>();
  changes?.subscribe((serverId) => {
    for (const k of cache.keys()) if (k.startsWith(`${serverId}\n`)) cache.delete(k);
  });
  const load = async (domain: string, serverId: number | undefined): Promise<DkimKey[]> => {
    if (serverId !== undefined) {
      const own = await store.sendingDomains.signingKeys(serverId, domain);
      if (own.length > 0) return newestPerAlgorithm(own);
    }
    return newestPerAlgorithm(await store.settings.listDkimKeys(domain));
  };
  const keysFor = (domain: string, serverId: number | undefined): Promise<DkimKey[]> => {
    const id = `${serverId ?? ''}\n${domain}`;
    const hit = cache.get(id);
    if (hit && hit.until > Date.now()) return hit.keys;
    const keys = load(domain, serverId);
    cache.set(id, { until: Date.now() + DKIM_KEY_CACHE_MS, keys });
    keys.catch(() => cache.delete(id));
    return keys;
  };
  return async (message, fromDomain, serverId) => {
    const keys = await keysFor(fromDomain.toLowerCase(), serverId);
    if (keys.length === 0) return message;
    return pool ? pool.sign(message, keys) : signMessage(message, keys);
  };
}
