/**
 * Marketing API authentication (wire format §5): HTTP Basic with the ServerId as user name and the
 * key as password. The key is a live management key of that server or an account key of its
 * account (accept/authenticate.ts, as the v2 API checks it). Every failure of the credentials is a
 * 401, as SocketLabs answers it; a disabled server is a 403.
 *
 * The control panel calls it with its session cookie instead (Postline's own): no Authorization
 * header, the server named by `X-Postline-Server`, and the v2 API's session rules (CSRF on every
 * change, a viewer only reads, the server must be of the user's account).
 */
import type { FastifyRequest } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { AuthThrottle } from '../../../accept/auth-throttle.js';
import { authenticate } from '../../../accept/authenticate.js';
import { parseServerId, sessionPrincipal, type ManagementAuthDeps } from '../../v2/auth.js';
import { ApiError } from '../../v2/errors.js';
import type { Sessions } from '../../../accept/sessions.js';
import { MarketingError } from './errors.js';

export interface MarketingAuthDeps {
  store: Store;
  throttle: AuthThrottle;
  now: () => number;
  /** The control panel's sessions: without them only keys are accepted. */
  sessions?: Sessions;
  /** Origins besides the request's own that may send cookie-authenticated changes (POSTLINE_PUBLIC_URL's). */
  trustedOrigins?: readonly string[];
}

/** The header naming the server of a cookie-authenticated request (a key's request names it as the Basic user name). */
export const SERVER_HEADER = 'x-postline-server';

/** The server each authenticated request acts for (set by the hook below; gone with the request). */
const servers = new WeakMap<FastifyRequest, number>();

/** The authenticated server of a Marketing API request. */
export function serverOf(req: FastifyRequest): number {
  const s = servers.get(req);
  if (s === undefined) throw new Error('serverOf: the route is not behind marketingAuth');
  return s;
}

/** "Basic base64(user:password)" -> {user, password}; null when the header is anything else. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic\s+(\S+)\s*$/i.exec(header?.trim() ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const HOW = 'use HTTP Basic authentication with your ServerId as the user name and a management API key as the password';

export function marketingAuth(deps: MarketingAuthDeps): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const now = deps.now();
    if (deps.throttle.isBlocked(req.ip, now)) throw new MarketingError(429, 'too many failed authentications from this client; wait a minute');
    if (await sessionServer(deps, req, now)) return;
    const creds = basicCredentials(req.headers.authorization);
    const serverId = creds ? parseServerId(creds.user) : null;
    if (!creds || serverId === null) {
      deps.throttle.recordFailure(req.ip, now);
      throw new MarketingError(401, creds ? `the user name "${creds.user}" is not a ServerId; ${HOW}` : HOW);
    }
    const r = await authenticate(deps.store, serverId, creds.password, 'management');
    if (r.ok) {
      servers.set(req, serverId);
      return;
    }
    if (r.cause === 'disabled') throw new MarketingError(403, r.detail);
    deps.throttle.recordFailure(req.ip, now);
    throw new MarketingError(401, `${r.detail}; ${HOW}`);
  };
}

/** The v2 session refusals as this API's statuses (its error shape has no codes). */
const SESSION_STATUS: Partial<Record<string, 401 | 403 | 429>> = {
  unauthorized: 401,
  csrf_failed: 403,
  insufficient_role: 403,
  wrong_server: 403,
  too_many_requests: 429,
};

/**
 * A request carrying the panel's session cookie and no Authorization header: true once its server
 * is set; false when there is no cookie (the key rules apply). The session, CSRF and role checks
 * are v2's own (sessionPrincipal); the refusals keep this API's `{message}` shape.
 */
async function sessionServer(deps: MarketingAuthDeps, req: FastifyRequest, now: number): Promise<boolean> {
  let principal: Awaited<ReturnType<typeof sessionPrincipal>>;
  try {
    principal = await sessionPrincipal(deps as ManagementAuthDeps, req, now);
  } catch (err) {
    if (err instanceof ApiError) throw new MarketingError(SESSION_STATUS[err.code] ?? 403, err.message);
    throw err;
  }
  if (!principal) return false;
  const raw = req.headers[SERVER_HEADER];
  const serverId = parseServerId(typeof raw === 'string' ? raw : undefined);
  if (serverId === null) throw new MarketingError(400, `name the server in the ${SERVER_HEADER} header (a ServerId of your account)`);
  const server = await deps.store.tenancy.getServer(serverId);
  // A person acts like an account key of their account; a server of another account is not theirs to reach.
  if (!server || server.accountId !== principal.accountId) throw new MarketingError(403, `you cannot reach server ${serverId}`);
  servers.set(req, serverId);
  return true;
}
