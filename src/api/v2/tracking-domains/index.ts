import type { FastifyInstance } from 'fastify';
import { registerCustomDomainRoutes } from '../bounce-domains/index.js';
import { TRACKING_DOMAINS, type CustomDomainRouteDeps } from '../bounce-domains/wire.js';

/**
 * `/servers/:serverId/tracking-domains...`: the custom-domain routes over the tracking kind (written
 * once in bounce-domains/; a tracking domain adds httpsEnabled).
 */
export function registerTrackingDomainRoutes(scope: FastifyInstance, deps: CustomDomainRouteDeps): void {
  registerCustomDomainRoutes(scope, deps, TRACKING_DOMAINS);
}
