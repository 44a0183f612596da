/**
 * Legacy v1 authentication (wire format §6.3): HTTP Basic, where SocketLabs took the control-panel
 * user name and the account's Reporting API key. Here the password is a live management key of
 * the server named by `serverId`, or an account key of that server's account (as v2 checks them,
 * accept/authenticate.ts); the user name is not checked, since the key alone says who is calling.
 *  - no Basic credentials: 401 with the Basic challenge
 *  - an unknown, malformed or revoked key: 401 (counts toward the throttle)
 *  - an injection key, a key of another server or account, a disabled server: 403
 *  - no or a malformed serverId (with a live key): 400
 */
import type { FastifyRequest } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { AuthThrottle } from '../../../accept/auth-throttle.js';
import { authenticate, identifyManager, type AuthFailure } from '../../../accept/authenticate.js';
import { basicCredentials } from '../marketing/auth.js';
import { V1Error } from './v1-error.js';
import { queryParams, serverParam } from './params.js';

export interface V1AuthDeps {
  store: Store;
  throttle: AuthThrottle;
  now: () => number;
}

export interface V1Caller {
  serverId: number;
  idName: 'serverId' | 'accountId';
  params: Map<string, string>;
}

/** The server and parameters of each authenticated request (set by the hook below; gone with the request). */
const callers = new WeakMap<FastifyRequest, V1Caller>();

export function callerOf(req: FastifyRequest): V1Caller {
  const c = callers.get(req);
  if (!c) throw new Error('callerOf: the route is not behind legacyV1Auth');
  return c;
}

const HOW = 'use HTTP Basic authentication with any user name and a management key of the server (or an account key) as the password';

export function legacyV1Auth(deps: V1AuthDeps): (req: FastifyRequest) => Promise<void> {
  const refuse = (req: FastifyRequest, now: number, r: AuthFailure): V1Error => {
    if (r.cause === 'scope' || r.cause === 'server' || r.cause === 'disabled') return new V1Error('Forbidden', r.detail);
    deps.throttle.recordFailure(req.ip, now);
    return new V1Error('Unauthorized', `${r.detail}; ${HOW}`);
  };
  return async (req) => {
    const now = deps.now();
    if (deps.throttle.isBlocked(req.ip, now)) throw new V1Error('TooManyRequests', 'too many failed authentications from this client; wait a minute');
    const creds = basicCredentials(req.headers.authorization);
    // No credentials guess no key, so they do not count toward the throttle: clients built on LWP or
    // Java's Authenticator send them only after this challenge, on every new connection.
    if (!creds) throw new V1Error('Unauthorized', HOW);
    let params: Map<string, string>;
    let server: ReturnType<typeof serverParam>;
    try {
      params = queryParams(req.query);
      server = serverParam(params);
    } catch (err) {
      // A stranger learns nothing about the parameters: the key is judged first.
      const who = await identifyManager(deps.store, creds.password);
      if (!who.ok) throw refuse(req, now, who);
      throw err;
    }
    const r = await authenticate(deps.store, server.serverId, creds.password, 'management');
    if (!r.ok) throw refuse(req, now, r);
    callers.set(req, { serverId: server.serverId, idName: server.name, params });
  };
}
