import type { FastifyRequest } from 'fastify';
import type { Store } from '../../store/store.js';
import type { AuthThrottle } from '../../accept/auth-throttle.js';
import { authenticate } from '../../accept/authenticate.js';
import { ApiError } from './errors.js';

/**
 * The key a request carries: `Authorization: Bearer <key>`, or `Basic` with any user name and
 * the key as password (SocketLabs' v2 accepts both, §6.1). null when there is none or the header
 * is malformed.
 */
export function credentialFrom(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header.trim());
  if (!m) return null;
  if (m[1]!.toLowerCase() === 'bearer') return m[2]!;
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : decoded.slice(colon + 1);
}

/** ServerIds are positive integers; anything else in the path names no server. */
export function parseServerId(raw: unknown): number | null {
  if (typeof raw !== 'string' || !/^[1-9]\d{0,14}$/.test(raw)) return null;
  return Number(raw);
}

export interface ManagementAuthDeps { store: Store; throttle: AuthThrottle; now: () => number }

/**
 * The onRequest check of every `/servers/:serverId/...` route: a live management key of that
 * server, before the body is read or validated, so strangers learn nothing about either.
 *  - no key, malformed, unknown or revoked: 401 `unauthorized` (counts toward the throttle)
 *  - a live key of the injection scope: 403 `insufficient_scope`
 *  - a live management key of another server: 403 `wrong_server`, whether or not the path's
 *    server exists, so ServerIds cannot be probed
 *  - the server or its account is disabled: 403 `server_disabled`
 */
export function managementAuth(deps: ManagementAuthDeps): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const now = deps.now();
    if (deps.throttle.isBlocked(req.ip, now)) {
      throw new ApiError('too_many_requests', 'too many failed authentications from this client; wait a minute');
    }
    const raw = (req.params as Record<string, unknown>).serverId;
    const serverId = parseServerId(raw);
    if (serverId === null) throw new ApiError('not_found', `"${String(raw)}" is not a ServerId`, 'serverId');
    const key = credentialFrom(req.headers.authorization);
    if (key === null) {
      deps.throttle.recordFailure(req.ip, now);
      throw new ApiError('unauthorized', 'send a management API key as Authorization: Bearer <key>');
    }
    const r = await authenticate(deps.store, serverId, key, 'management');
    if (r.ok) return;
    switch (r.cause) {
      case 'scope': throw new ApiError('insufficient_scope', `${r.detail}; create one with: postline keys create --server ${serverId} --scope management`);
      case 'server': throw new ApiError('wrong_server', r.detail);
      case 'disabled': throw new ApiError('server_disabled', r.detail);
      default:
        deps.throttle.recordFailure(req.ip, now);
        throw new ApiError('unauthorized', r.detail);
    }
  };
}
