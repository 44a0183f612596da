import type { FastifyInstance } from 'fastify';
import { registerCreate } from './create.js';
import { registerList } from './list.js';
import { registerGet } from './get.js';
import { registerUpdate } from './update.js';
import { registerDelete } from './delete.js';
import { registerDnsRecords } from './dns-records.js';
import { registerVerify } from './verify.js';
import { BOUNCE_DOMAINS, type CustomDomainRouteDeps, type ResourceSpec } from './wire.js';

/** The routes of one custom-domain resource (bounce or tracking), inside the authenticated `/servers/:serverId` scope. */
export function registerCustomDomainRoutes(scope: FastifyInstance, deps: CustomDomainRouteDeps, spec: ResourceSpec): void {
  registerCreate(scope, deps, spec);
  registerList(scope, deps, spec);
  registerGet(scope, deps, spec);
  registerUpdate(scope, deps, spec);
  registerDelete(scope, deps, spec);
  registerDnsRecords(scope, deps, spec);
  registerVerify(scope, deps, spec);
}

/** `/servers/:serverId/bounce-domains...` */
export function registerBounceDomainRoutes(scope: FastifyInstance, deps: CustomDomainRouteDeps): void {
  registerCustomDomainRoutes(scope, deps, BOUNCE_DOMAINS);
}
