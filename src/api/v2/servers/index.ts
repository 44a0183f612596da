import type { FastifyInstance } from 'fastify';
import { registerList } from './list.js';
import { registerCreate } from './create.js';
import { registerGet } from './get.js';
import { registerUpdate } from './update.js';
import { registerStatus } from './status.js';
import type { ServerRouteDeps } from './wire.js';

/** GET and POST /servers, registered in a scope behind managerAuth (no server in the path). */
export function registerServerCollectionRoutes(scope: FastifyInstance, deps: ServerRouteDeps): void {
  registerList(scope, deps);
  registerCreate(scope, deps);
}

/** GET and PATCH /servers/:serverId, .../disable, .../enable: inside the authenticated `/servers/:serverId` scope. */
export function registerServerRoutes(scope: FastifyInstance, deps: ServerRouteDeps): void {
  registerGet(scope, deps);
  registerUpdate(scope, deps);
  registerStatus(scope, deps);
}
