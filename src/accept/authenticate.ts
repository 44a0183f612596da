import { parseApiKey, secretMatches, type ApiKeyScope } from '../core/api-key.js';
import type { Store } from '../store/store.js';

/**
 * Why a key was refused. The Injection API and SMTP answer every `invalid` cause alike; the
 * management API tells a stranger (401) from a known key used in the wrong place (403).
 */
export type AuthFailureCause = 'no_server' | 'no_key' | 'malformed' | 'unknown' | 'revoked' | 'scope' | 'server' | 'disabled';

export type AuthResult =
  | { ok: true; serverId: number; keyId: number }
  | { ok: false; reason: 'invalid' | 'disabled'; cause: AuthFailureCause; detail: string };

/**
 * Checks that `key` is a live key of `scope` bound to `serverId`. One indexed lookup per call and
 * no cache, so a revoked key stops working at once in every process.
 */
export async function authenticate(store: Store, serverId: number | null, key: string | null, scope: ApiKeyScope): Promise<AuthResult> {
  const fail = (cause: AuthFailureCause, detail: string): AuthResult => ({ ok: false, reason: 'invalid', cause, detail });
  if (serverId === null) return fail('no_server', 'ServerId is missing');
  if (key === null || key === '') return fail('no_key', 'no API key (Authorization: Bearer or ApiKey)');
  const parsed = parseApiKey(key);
  if (!parsed) return fail('malformed', 'the API key is not in the 61-character key format');
  const rec = await store.findApiKeyForAuth(parsed.publicId);
  if (!rec || !secretMatches(parsed.secret, rec.secretHash)) return fail('unknown', 'unknown API key');
  if (rec.revokedAt !== null) return fail('revoked', 'the API key was revoked');
  if (rec.scope !== scope) return fail('scope', `the API key is a ${rec.scope} key, this needs a ${scope} key`);
  if (rec.serverId !== serverId) return fail('server', `the API key does not belong to server ${serverId}`);
  if (rec.accountStatus !== 'active' || rec.serverStatus !== 'active') {
    return { ok: false, reason: 'disabled', cause: 'disabled', detail: 'the server or its account is disabled' };
  }
  return { ok: true, serverId: rec.serverId, keyId: rec.id };
}
