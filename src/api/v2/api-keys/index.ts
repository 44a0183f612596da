import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { principalOf, requireAccountKey } from '../auth.js';
import { serverIdParams } from '../schemas.js';
import { registerList } from './list.js';
import { registerGet } from './get.js';
import { registerCreate } from './create.js';
import { registerRevoke } from './revoke.js';
import { registerRotate } from './rotate.js';
import type { KeySpace } from './wire.js';

export interface KeyRouteDeps {
  store: Store;
  now: () => number;
}

/**
 * /servers/:serverId/api-keys: the server's keys (injection, management or both), inside the
 * authenticated `/servers/:serverId` scope (its management key or its account's key).
 */
export function registerServerKeyRoutes(scope: FastifyInstance, deps: KeyRouteDeps): void {
  const space: KeySpace = {
    ...deps,
    path: '/api-keys',
    tag: 'server API keys',
    describe: 'the server',
    params: { serverId: serverIdParams.properties.serverId },
    ownerOf: (req) => ({ serverId: Number((req.params as { serverId: string }).serverId) }),
    authorize: () => undefined,
  };
  registerList(scope, space);
  registerGet(scope, space);
  registerCreate(scope, space, null);
  registerRevoke(scope, space);
  registerRotate(scope, space);
}

/** /account/api-keys: the account keys of the caller's account; account keys only (managerAuth scope). */
export function registerAccountKeyRoutes(scope: FastifyInstance, deps: KeyRouteDeps): void {
  const space: KeySpace = {
    ...deps,
    path: '/account/api-keys',
    tag: 'account API keys',
    describe: 'the account',
    params: {},
    ownerOf: (req) => ({ accountId: principalOf(req).accountId }),
    authorize: (req) => {
      requireAccountKey(req, 'managing account keys');
    },
  };
  registerList(scope, space);
  registerGet(scope, space);
  registerCreate(scope, space, 'account');
  registerRevoke(scope, space);
  registerRotate(scope, space);
}
