import type { Store } from '../store/store.js';
import { signMessage, type DkimKey } from './dkim.js';
import type { SigningPool } from './signing-pool.js';

/** Keys are read from the store at most this often per domain; a new key takes effect within it. */
export const DKIM_KEY_CACHE_MS = 60_000;

/**
 * Signs outbound messages with every live DKIM key of their From domain (RSA-2048, plus Ed25519
 * when present: dual signing). A domain without keys is sent unsigned.
 */
export function createSigner(store: Store, pool: SigningPool | null = null): (message: Buffer, fromDomain: string) => Promise<Buffer> {
  const cache = new Map<string, { until: number; keys: Promise<DkimKey[]> }>();
  const keysFor = (domain: string): Promise<DkimKey[]> => {
    const hit = cache.get(domain);
    if (hit && hit.until > Date.now()) return hit.keys;
    const keys = store.listDkimKeys(domain).then((rows) => rows
      .sort((a, b) => (a.algorithm === b.algorithm ? b.id - a.id : a.algorithm === 'rsa-sha256' ? -1 : 1))
      .filter((k, i, all) => all.findIndex((x) => x.algorithm === k.algorithm) === i) // newest key per algorithm
      .map((k) => ({ domain: k.domain, selector: k.selector, algorithm: k.algorithm, privateKeyPem: k.privateKey, publicKeyBase64: k.publicKey })));
    cache.set(domain, { until: Date.now() + DKIM_KEY_CACHE_MS, keys });
    keys.catch(() => cache.delete(domain));
    return keys;
  };
  return async (message, fromDomain) => {
    const keys = await keysFor(fromDomain.toLowerCase());
    if (keys.length === 0) return message;
    return pool ? pool.sign(message, keys) : signMessage(message, keys);
  };
}
