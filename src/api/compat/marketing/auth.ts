/**
 * Marketing API authentication (wire format §5): HTTP Basic with the ServerId as user name and the
 * key as password. The key is a live management key of that server or an account key of its
 * account (accept/authenticate.ts, as the v2 API checks it). Every failure of the credentials is a
 * 401, as SocketLabs answers it; a disabled server is a 403.
 */
import type { FastifyRequest } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { AuthThrottle } from '../../../accept/auth-throttle.js';
import { authenticate } from '../../../accept/authenticate.js';
import { parseServerId } from '../../v2/auth.js';
import { MarketingError } from './errors.js';

export interface MarketingAuthDeps {
  store: Store;
  throttle: AuthThrottle;
  now: () => number;
}

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
