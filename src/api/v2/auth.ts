import type { FastifyRequest } from 'fastify';
import type { Store } from '../../store/store.js';
import type { AuthThrottle } from '../../accept/auth-throttle.js';
import { authenticate, identifyManager, type AuthFailure, type Principal } from '../../accept/authenticate.js';
import { ApiError } from './errors.js';
import { cookieValue, csrfMatches, SESSION_COOKIE, type LiveSession, type Sessions } from '../../accept/sessions.js';
import { isSafeMethod } from '../../core/users.js';

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

export interface ManagementAuthDeps {
  store: Store;
  throttle: AuthThrottle;
  now: () => number;
  /** The control panel's sessions: without them only API keys are accepted. */
  sessions?: Sessions;
  /** Origins besides the request's own that may send cookie-authenticated changes (POSTLINE_PUBLIC_URL's). */
  trustedOrigins?: readonly string[];
}

/** Who made each authenticated request (set by the onRequest hooks below; gone with the request). */
const principals = new WeakMap<FastifyRequest, Principal>();

/** The session behind a cookie-authenticated request, set before the CSRF and role checks (the audit hook reads it). */
const sessionsOf = new WeakMap<FastifyRequest, LiveSession>();

export function sessionOf(req: FastifyRequest): LiveSession | undefined {
  return sessionsOf.get(req);
}

/** The origin this request was sent to, as the browser writes Origin: scheme://host[:port]. */
export function ownOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

/**
 * The session a request's cookie names, when it has no Authorization header (a key always wins):
 *  - no cookie: undefined (the key rules apply: 401);
 *  - a cookie of no live session: 401 `unauthorized` (counts toward the throttle);
 *  - a state-changing method (not GET/HEAD/OPTIONS) needs the session's `X-CSRF-Token` and, when
 *    the browser sends `Origin`, this server's origin: 403 `csrf_failed` otherwise;
 *  - a viewer may only read: 403 `insufficient_role` for anything else.
 */
export async function sessionPrincipal(deps: ManagementAuthDeps, req: FastifyRequest, now: number): Promise<Principal | undefined> {
  if (!deps.sessions || req.headers.authorization !== undefined) return undefined;
  const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
  if (token === null) return undefined;
  const live = await deps.sessions.resolve(token);
  if (!live) {
    deps.throttle.recordFailure(req.ip, now);
    throw new ApiError('unauthorized', 'the session has ended; sign in again');
  }
  sessionsOf.set(req, live);
  checkCsrf(deps, req, live);
  if (live.user.role === 'viewer' && !isSafeMethod(req.method)) throw new ApiError('insufficient_role', 'a viewer can look but not change anything');
  const principal: Principal = {
    keyId: 0,
    publicId: `user:${live.user.id}`,
    scope: 'account',
    accountId: live.user.accountId,
    serverId: null,
    user: { id: live.user.id, email: live.user.email, role: live.user.role, sessionId: live.session.id },
  };
  principals.set(req, principal);
  return principal;
}

/** The CSRF rule of a cookie-authenticated request (see sessionPrincipal). */
export function checkCsrf(deps: Pick<ManagementAuthDeps, 'trustedOrigins'>, req: FastifyRequest, live: LiveSession): void {
  if (isSafeMethod(req.method)) return;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== ownOrigin(req) && !(deps.trustedOrigins ?? []).includes(origin))
    throw new ApiError('csrf_failed', `a request from ${origin} cannot use this session; nothing was changed`);
  if (!csrfMatches(live.session, req.headers['x-csrf-token']))
    throw new ApiError('csrf_failed', 'send the X-CSRF-Token header the session was given; nothing was changed');
}

/**
 * User management and the audit log: an admin's session, or an account key (403
 * `insufficient_role` for other people, `insufficient_scope` for other keys).
 */
export function requireAdmin(req: FastifyRequest, what: string): Principal {
  const p = principalOf(req);
  if (p.user) {
    if (p.user.role !== 'admin') throw new ApiError('insufficient_role', `${what} is for admins; ask an admin of the account`);
    return p;
  }
  return requireAccountKey(req, what);
}

/** The key behind an authenticated request; only for routes behind managementAuth or managerAuth. */
export function principalOf(req: FastifyRequest): Principal {
  const p = principals.get(req);
  if (!p) throw new Error('principalOf: the route is not behind an authentication hook');
  return p;
}

/** An account key is needed (creating servers, enabling one, account keys): 403 `insufficient_scope` otherwise. */
export function requireAccountKey(req: FastifyRequest, what: string): Principal & { scope: 'account' } {
  const p = principalOf(req);
  if (p.scope !== 'account')
    throw new ApiError('insufficient_scope', `${what} needs an account key; create one with: postline keys create --account ${p.accountId} --scope account`);
  return p as Principal & { scope: 'account' };
}

/**
 * The onRequest check of every `/servers/:serverId/...` route: a live key of that server with
 * the management permission (scope `management` or `injection,management`) or a live account key of its account, before the body is read or validated, so
 * strangers learn nothing about either.
 *  - no key, malformed, unknown or revoked: 401 `unauthorized` (counts toward the throttle)
 *  - a live key without the management permission (an injection-only key): 403 `insufficient_scope`
 *  - a live management key of another server, or an account key of another account: 403
 *    `wrong_server`, whether or not the path's server exists, so ServerIds cannot be probed
 *  - the server or its account is disabled: 403 `server_disabled` (an account key still reaches
 *    a disabled server of its account, to inspect and enable it)
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
    const session = await sessionPrincipal(deps, req, now);
    if (session) {
      // A person acts like an account key of their account: the path's server must be one of it.
      const server = await deps.store.tenancy.getServer(serverId);
      if (!server || server.accountId !== session.accountId) throw new ApiError('wrong_server', `you cannot reach server ${serverId}`);
      return;
    }
    const key = credentialFrom(req.headers.authorization);
    if (key === null) {
      deps.throttle.recordFailure(req.ip, now);
      throw new ApiError('unauthorized', 'send a management API key as Authorization: Bearer <key>');
    }
    const r = await authenticate(deps.store, serverId, key, 'management');
    if (r.ok) {
      principals.set(req, r.principal);
      return;
    }
    throw refusal(deps, req, now, r, `postline keys create --server ${serverId} --scope management`);
  };
}

/** A failed authentication as the API answers it; a stranger's failure counts toward the throttle. */
function refusal(deps: ManagementAuthDeps, req: FastifyRequest, now: number, r: AuthFailure, createHint: string): ApiError {
  switch (r.cause) {
    case 'scope':
      return new ApiError('insufficient_scope', `${r.detail}; create one with: ${createHint}`);
    case 'server':
      return new ApiError('wrong_server', r.detail);
    case 'disabled':
      return new ApiError('server_disabled', r.detail);
    default:
      deps.throttle.recordFailure(req.ip, now);
      return new ApiError('unauthorized', r.detail);
  }
}

/**
 * The onRequest check of v2 routes that name no server (`/servers`, `/account/...`): a live
 * management key (it speaks for its own server) or account key (its whole account). Refusals as
 * managementAuth's; routes that need an account key check the scope themselves (requireAccountKey).
 */
export function managerAuth(deps: ManagementAuthDeps): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const now = deps.now();
    if (deps.throttle.isBlocked(req.ip, now)) {
      throw new ApiError('too_many_requests', 'too many failed authentications from this client; wait a minute');
    }
    if (await sessionPrincipal(deps, req, now)) return;
    const key = credentialFrom(req.headers.authorization);
    if (key === null) {
      deps.throttle.recordFailure(req.ip, now);
      throw new ApiError('unauthorized', 'send a management or account API key as Authorization: Bearer <key>');
    }
    const r = await identifyManager(deps.store, key);
    if (r.ok) {
      principals.set(req, r.principal);
      return;
    }
    throw refusal(deps, req, now, r, 'postline keys create --account ID --scope account');
  };
}
