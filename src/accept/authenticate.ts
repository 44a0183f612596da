import { parseApiKey, scopeAllows, secretMatches, type ApiKeyScope } from '../core/api-key.js';
import type { ApiKeyAuth, Store } from '../store/store.js';
import type { UserRole } from '../core/users.js';

/**
 * Why a key was refused. The Injection API and SMTP answer every `invalid` cause alike; the
 * management API tells a stranger (401) from a known key used in the wrong place (403).
 */
export type AuthFailureCause = 'no_server' | 'no_key' | 'malformed' | 'unknown' | 'revoked' | 'scope' | 'server' | 'disabled';

/**
 * Who a live key speaks for: one server (injection and management keys; serverId set), or a
 * whole account (account keys; serverId null).
 */
export interface Principal {
  keyId: number;
  publicId: string;
  scope: ApiKeyScope;
  accountId: number;
  serverId: number | null;
  /**
   * Set when a person signed in to the control panel made the request (a session cookie, no key):
   * the principal is then account-scoped for the user's account (keyId 0, publicId `user:<id>`)
   * and the role limits what it may do.
   */
  user?: { id: number; email: string; role: UserRole; sessionId: string };
}

export type AuthFailure = { ok: false; reason: 'invalid' | 'disabled'; cause: AuthFailureCause; detail: string };
export type AuthResult = { ok: true; serverId: number; keyId: number; principal: Principal } | AuthFailure;
export type IdentifyResult = { ok: true; principal: Principal } | AuthFailure;

const fail = (cause: AuthFailureCause, detail: string): AuthFailure => ({ ok: false, reason: 'invalid', cause, detail });
const DISABLED: AuthFailure = { ok: false, reason: 'disabled', cause: 'disabled', detail: 'the server or its account is disabled' };

const principalOf = (rec: ApiKeyAuth): Principal => ({
  keyId: rec.id,
  publicId: rec.publicId,
  scope: rec.scope,
  accountId: rec.accountId,
  serverId: rec.serverId,
});

/** The live key `key` names (right secret, not revoked): one indexed lookup, no cache, so a revoked or rotated key stops at once. */
async function liveKey(store: Store, key: string | null): Promise<ApiKeyAuth | AuthFailure> {
  if (key === null || key === '') return fail('no_key', 'no API key (Authorization: Bearer or ApiKey)');
  const parsed = parseApiKey(key);
  if (!parsed) return fail('malformed', 'the API key is not in the 61-character key format');
  const rec = await store.tenancy.findApiKeyForAuth(parsed.publicId);
  if (!rec || !secretMatches(parsed.secret, rec.secretHash)) return fail('unknown', 'unknown API key');
  if (rec.revokedAt !== null) return fail('revoked', 'the API key was revoked');
  return rec;
}

/**
 * Checks that `key` may act for `serverId`:
 *  - `injection` (Injection API, SMTP AUTH): a live key of that server with the injection
 *    permission, nothing else;
 *  - `management` (v2 routes under /servers/:serverId, Marketing API): a live key of that server
 *    with the management permission, or a live account key of the server's account. An account key also reaches a disabled server
 *    (to inspect and enable it); a server's own keys stop while it is disabled.
 * A key of another server or account fails with cause `server` whether or not serverId exists.
 */
export async function authenticate(store: Store, serverId: number | null, key: string | null, scope: 'injection' | 'management'): Promise<AuthResult> {
  if (serverId === null) return fail('no_server', 'ServerId is missing');
  const rec = await liveKey(store, key);
  if ('ok' in rec) return rec;
  const accountKey = scope === 'management' && rec.scope === 'account';
  if (!scopeAllows(rec.scope, scope) && !accountKey) return fail('scope', `the API key is a ${rec.scope} key, this needs a key with the ${scope} permission`);
  if (accountKey) {
    // A second indexed lookup, for account keys only: which account the path's server belongs to.
    const server = await store.tenancy.getServer(serverId);
    if (!server || server.accountId !== rec.accountId) return fail('server', `the API key does not reach server ${serverId}`);
    if (rec.accountStatus !== 'active') return DISABLED;
    return { ok: true, serverId, keyId: rec.id, principal: principalOf(rec) };
  }
  if (rec.serverId !== serverId) return fail('server', `the API key does not belong to server ${serverId}`);
  if (rec.accountStatus !== 'active' || rec.serverStatus !== 'active') return DISABLED;
  return { ok: true, serverId: rec.serverId, keyId: rec.id, principal: principalOf(rec) };
}

/**
 * For v2 routes that name no server (`/servers`, `/account/...`): a live key with the management
 * permission of an active server, or a live account key of an active account. Injection-only keys
 * fail with `scope`.
 */
export async function identifyManager(store: Store, key: string | null): Promise<IdentifyResult> {
  const rec = await liveKey(store, key);
  if ('ok' in rec) return rec;
  if (rec.scope !== 'account' && !scopeAllows(rec.scope, 'management'))
    return fail('scope', `the API key is a ${rec.scope} key, this needs a key with the management permission or an account key`);
  if (rec.accountStatus !== 'active' || (rec.scope !== 'account' && rec.serverStatus !== 'active')) return DISABLED;
  return { ok: true, principal: principalOf(rec) };
}
