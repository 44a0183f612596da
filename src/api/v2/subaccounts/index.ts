import type { FastifyInstance } from 'fastify';
import { registerDkimGenerate } from '../sending-domains/dkim-generate.js';
import { registerDownload } from '../suppressions/download.js';
import { registerBulkRemove } from '../suppressions/bulk-remove.js';
import { SUBACCOUNT_PATH, subaccountAccess } from './access.js';
import { registerCreate } from './create.js';
import { registerServerCredentials, registerSubaccountCredentials } from './credentials.js';
import { registerBounce } from './bounce.js';
import { registerTracking } from './tracking.js';
import { registerDkim } from './dkim.js';
import type { SubaccountRouteDeps } from './wire.js';

export { registerServerCredentials };

/**
 * SocketLabs' sub-account family (Complex Sender), mapped onto servers: a sub-account is a server
 * of the account key's account and its subaccountId is the ServerId. Registered in a scope behind
 * managerAuth; every route needs an account key. Routes that exist for servers too are the same
 * handlers over a ServerPath.
 */
export function registerSubaccountRoutes(scope: FastifyInstance, deps: SubaccountRouteDeps): void {
  registerCreate(scope, deps);
  scope.register(
    async (sub) => {
      sub.addHook('onRequest', subaccountAccess(deps.store));
      registerSubaccountCredentials(sub, deps);
      registerBounce(sub, deps);
      registerTracking(sub, deps);
      registerDkimGenerate(sub, deps, SUBACCOUNT_PATH);
      registerDkim(sub, deps);
      registerDownload(sub, deps.store, SUBACCOUNT_PATH);
      registerBulkRemove(sub, deps.store, SUBACCOUNT_PATH);
    },
    { prefix: '/subaccount/:subaccountId' },
  );
}
