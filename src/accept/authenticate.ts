import { parseApiKey, secretMatches, type ApiKeyScope } from '../core/api-key.js';
import type { Store } from '../store/store.js';

export type AuthResult =
  | { ok: true; serverId: number; keyId: number }
  | { ok: false; reason: 'invalid' | 'disabled'; detail: string };

/**
 * Checks that `key` is a live key of `scope` bound to `serverId`. One indexed lookup per call and
 * no cache, so a revoked key stops working at once in every process.
 */
export async function authenticate(store: Store, serverId: number | null, key: string | null, scope: ApiKeyScope): Promise<AuthResult> {
  const fail = (detail: string): AuthResult => ({ ok: false, reason: 'invalid', detail });
  if (serverId === null) return fail('ServerId is missing');
  if (key === null || key === '') return fail('no API key (Authorization: Bearer or ApiKey)');
  const parsed = parseApiKey(key);
  if (!parsed) return fail('the API key is not in the 61-character key format');
  const rec = await store.findApiKeyForAuth(parsed.publicId);
  if (!rec || !secretMatches(parsed.secret, rec.secretHash)) return fail('unknown API key');
  if (rec.revokedAt !== null) return fail('the API key was revoked');
  if (rec.scope !== scope) return fail(`the API key is a ${rec.scope} key, this needs a ${scope} key`);
  if (rec.serverId !== serverId) return fail(`the API key does not belong to server ${serverId}`);
  if (rec.accountStatus !== 'active' || rec.serverStatus !== 'active') {
    return { ok: false, reason: 'disabled', detail: 'the server or its account is disabled' };
  }
  return { ok: true, serverId: rec.serverId, keyId: rec.id };
}
