/**
 * What the custom-domain routes share. Bounce domains and tracking domains are the same resource
 * over two kinds (SocketLabs' `/bounce` and `/tracking`), so the route files here are written once
 * over a ResourceSpec; tracking-domains/index.ts registers them with the tracking spec.
 */
import type { CustomDomain } from '../../../store/store.js';
import type { CustomDomainKind } from '../../../core/custom-domain.js';
import { MAX_DOMAIN_LENGTH } from '../../../core/custom-domain.js';
import { recordsView, type CustomDomainTargets } from '../../../custom-domains/records.js';
import { CustomDomainError, type CustomDomains } from '../../../custom-domains/service.js';
import { ApiError } from '../errors.js';

export interface CustomDomainRouteDeps {
  domains: CustomDomains;
  targets: CustomDomainTargets;
}

/** One of the two resources: its kind, path segment and the words its docs use. */
export interface ResourceSpec {
  kind: CustomDomainKind;
  /** `/bounce-domains` */
  path: string;
  tag: string;
  noun: string;
}

export const BOUNCE_DOMAINS: ResourceSpec = { kind: 'bounce', path: '/bounce-domains', tag: 'bounce-domains', noun: 'bounce domain' };
export const TRACKING_DOMAINS: ResourceSpec = { kind: 'tracking', path: '/tracking-domains', tag: 'tracking-domains', noun: 'tracking domain' };

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export const recordsOf = (d: CustomDomain, targets: CustomDomainTargets) => recordsView(d.kind, d.domain, d.lastCheck, targets);

/** A custom domain as the API shows it: SocketLabs' fields plus its id, verification and records. */
export const toWire = (d: CustomDomain, targets: CustomDomainTargets) => ({
  domainId: d.id,
  domain: d.domain,
  isDefault: d.isDefault,
  verified: d.verifiedAt !== null,
  ...(d.kind === 'tracking' ? { httpsEnabled: d.https } : {}),
  verifiedOn: iso(d.verifiedAt),
  lastCheckedOn: iso(d.lastCheckedAt),
  createdOn: iso(d.createdAt)!,
  updatedOn: iso(d.updatedAt)!,
  records: recordsOf(d, targets),
});

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
export const recordSchema = {
  type: 'object',
  required: ['type', 'name', 'expected', 'status', 'found'],
  properties: {
    type: { type: 'string', enum: ['CNAME'] },
    name: { type: 'string', description: 'the name to publish the record at' },
    expected: { type: 'string', description: 'the value the record must have' },
    status: {
      type: 'string',
      enum: ['verified', 'missing', 'mismatch', 'error', 'unchecked'],
      description: 'what the last check found; unchecked before the first one',
    },
    found: { type: 'array', items: { type: 'string' }, description: 'the values the last check found' },
    error: { type: 'string', description: 'why the lookup failed (status error)' },
  },
} as const;

export function domainSchema(spec: ResourceSpec) {
  const properties = {
    domainId: { type: 'integer' },
    domain: { type: 'string', description: 'lower case' },
    isDefault: { type: 'boolean', description: `the server's default ${spec.noun}` },
    verified: { type: 'boolean', description: 'its DNS records were found correct at the last check that could tell' },
    ...(spec.kind === 'tracking' ? { httpsEnabled: { type: 'boolean', description: 'links use https:// (else http://)' } } : {}),
    verifiedOn: nullableTime,
    lastCheckedOn: nullableTime,
    createdOn: { type: 'string', format: 'date-time' },
    updatedOn: { type: 'string', format: 'date-time' },
    records: { type: 'array', items: recordSchema },
  };
  return { type: 'object', required: Object.keys(properties), properties } as const;
}

export const domainNameSchema = { type: 'string', minLength: 1, maxLength: MAX_DOMAIN_LENGTH + 1, description: 'e.g. bounces.example.com' } as const;

export const domainParams = {
  type: 'object',
  required: ['serverId', 'domainId'],
  properties: {
    serverId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
    domainId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'the custom domain id' },
  },
} as const;
export interface DomainParams {
  serverId: string;
  domainId: string;
}

/** Runs a service call, answering its refusals in the v2 error shape. */
export async function refusalsAsApiErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CustomDomainError) throw new ApiError(err.code, err.message, err.field);
    throw err;
  }
}
