import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { ApiError } from '../errors.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { TRACKING_DOMAINS, domainNameSchema, domainSchema, refusalsAsApiErrors, toWire } from '../bounce-domains/wire.js';
import { subaccountIdParams, subaccountOf } from './access.js';
import type { SubaccountRouteDeps } from './wire.js';

interface Body {
  domain: string;
  isDefault: boolean;
  httpsEnabled: boolean;
  opensEnabled?: boolean;
  clicksEnabled?: boolean;
  unsubscribesEnabled?: boolean;
  automaticTrackingEnabled?: boolean;
  googleAnalyticsEnabled?: boolean;
}

const flag = (description: string) => ({ type: 'boolean', description }) as const;

/**
 * POST /subaccount/:subaccountId/tracking — SocketLabs' custom tracking domain with its switches.
 * The domain becomes a tracking domain of the sub-account's server (as POST
 * /servers/{id}/tracking-domains); opens, clicks and unsubscribes are the server's tracking
 * switches, so the ones given are set on the server. Postline tracks every message of a server
 * whose switches are on and adds no Google Analytics parameters, so automaticTrackingEnabled false
 * and googleAnalyticsEnabled true are refused rather than silently ignored. Everything is checked
 * before anything is written.
 */
export function registerTracking(scope: FastifyInstance, deps: SubaccountRouteDeps): void {
  const properties = domainSchema(TRACKING_DOMAINS).properties;
  const switches = {
    opensEnabled: { type: 'boolean' },
    clicksEnabled: { type: 'boolean' },
    unsubscribesEnabled: { type: 'boolean' },
    automaticTrackingEnabled: { type: 'boolean' },
    googleAnalyticsEnabled: { type: 'boolean' },
  } as const;
  scope.post<{ Body: Body }>(
    '/tracking',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Add a custom tracking domain to a sub-account and set its tracking switches',
        tags: ['subaccounts'],
        params: subaccountIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['domain'],
          properties: {
            domain: domainNameSchema,
            isDefault: { type: 'boolean', default: false, description: 'make it the default now (its CNAME must already be published)' },
            httpsEnabled: { type: 'boolean', default: true, description: 'links use https:// (else http://)' },
            opensEnabled: flag("sets the server's open tracking"),
            clicksEnabled: flag("sets the server's click tracking"),
            unsubscribesEnabled: flag("sets the server's unsubscribe tracking"),
            automaticTrackingEnabled: flag('only true: Postline tracks every message of a server whose switches are on'),
            googleAnalyticsEnabled: flag('only false: Postline adds no Google Analytics parameters'),
          },
        },
        response: withErrors({
          200: dataResponse({ type: 'object', required: [...Object.keys(properties), ...Object.keys(switches)], properties: { ...properties, ...switches } }),
        }),
      },
    },
    async (req) => {
      const serverId = subaccountOf(req).id;
      const b = req.body;
      if (b.automaticTrackingEnabled === false)
        throw new ApiError(
          'validation_failed',
          'Postline tracks every message of a server whose tracking switches are on; automaticTrackingEnabled cannot be false',
          'automaticTrackingEnabled',
        );
      if (b.googleAnalyticsEnabled === true)
        throw new ApiError(
          'validation_failed',
          'Postline does not add Google Analytics parameters to links; googleAnalyticsEnabled cannot be true',
          'googleAnalyticsEnabled',
        );
      const d = await refusalsAsApiErrors(() =>
        deps.customDomains.domains.add(serverId, 'tracking', { domain: b.domain, isDefault: b.isDefault, https: b.httpsEnabled }),
      );
      req.log.info(
        { event: 'custom_domain.added', serverId, kind: 'tracking', domainId: d.id, domain: d.domain, isDefault: d.isDefault },
        'tracking domain added',
      );
      const tracking = { opens: b.opensEnabled, clicks: b.clicksEnabled, unsubscribes: b.unsubscribesEnabled };
      const given = Object.fromEntries(Object.entries(tracking).filter(([, v]) => v !== undefined));
      const server = Object.keys(given).length > 0 ? await deps.store.tenancy.updateServer(serverId, { tracking: given }) : subaccountOf(req);
      if (!server) throw new ApiError('not_found', `no sub-account ${serverId}`, 'subaccountId');
      if (Object.keys(given).length > 0) deps.serverChanged?.(serverId);
      return {
        data: {
          ...toWire(d, deps.customDomains.targets),
          opensEnabled: server.tracking.opens,
          clicksEnabled: server.tracking.clicks,
          unsubscribesEnabled: server.tracking.unsubscribes,
          automaticTrackingEnabled: true,
          googleAnalyticsEnabled: false,
        },
      };
    },
  );
}
