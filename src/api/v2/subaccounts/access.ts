import type { FastifyRequest } from 'fastify';
import type { Server, Store } from '../../../store/store.js';
import { parseServerId, requireAccountKey } from '../auth.js';
import { ApiError } from '../errors.js';
import type { ServerPath } from '../server-path.js';

/** The sub-account (server) each `/subaccount/:subaccountId/...` request acts on, set by subaccountAccess. */
const subaccounts = new WeakMap<FastifyRequest, Server>();

/**
 * The second onRequest check of `/subaccount/:subaccountId/...` (after managerAuth): SocketLabs'
 * sub-account routes are the parent account's, so they need an account key, and the id must be a
 * server of that key's account. Any other id is 404 `not_found`, whether it is another account's
 * server or none at all, so ids cannot be probed.
 */
export function subaccountAccess(store: Store): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const p = requireAccountKey(req, 'the sub-account API');
    const raw = (req.params as Record<string, unknown>).subaccountId;
    const id = parseServerId(raw);
    const server = id === null ? undefined : await store.tenancy.getServer(id);
    if (!server || server.accountId !== p.accountId) throw new ApiError('not_found', `no sub-account ${String(raw)}`, 'subaccountId');
    subaccounts.set(req, server);
  };
}

/** The sub-account the request's path names (only behind subaccountAccess). */
export function subaccountOf(req: FastifyRequest): Server {
  const s = subaccounts.get(req);
  if (!s) throw new Error('subaccountOf: the route is not behind subaccountAccess');
  return s;
}

export const subaccountIdParams = {
  type: 'object',
  required: ['subaccountId'],
  properties: { subaccountId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'the sub-account id: a ServerId of the account' } },
} as const;

/** Routes written over a ServerPath serve a sub-account through this. */
export const SUBACCOUNT_PATH: ServerPath = { params: subaccountIdParams, serverIdOf: (req) => subaccountOf(req).id };
