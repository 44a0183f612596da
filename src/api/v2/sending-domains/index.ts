import type { FastifyInstance } from 'fastify';
import { registerCreate } from './create.js';
import { registerList } from './list.js';
import { registerGet } from './get.js';
import { registerDelete } from './delete.js';
import { registerDnsRecords } from './dns-records.js';
import { registerVerify } from './verify.js';
import { registerRotate } from './rotate.js';
import { registerDkimGenerate } from './dkim-generate.js';
import type { SendingDomainRouteDeps } from './wire.js';

/** The sending-domain routes (and SocketLabs' dkim/generate), registered inside the authenticated `/servers/:serverId` scope. */
export function registerSendingDomainRoutes(scope: FastifyInstance, deps: SendingDomainRouteDeps): void {
  registerCreate(scope, deps);
  registerList(scope, deps);
  registerGet(scope, deps);
  registerDelete(scope, deps);
  registerDnsRecords(scope, deps);
  registerVerify(scope, deps);
  registerRotate(scope, deps);
  registerDkimGenerate(scope, deps);
}
