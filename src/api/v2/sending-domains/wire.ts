import type { SendingDomain, Store } from '../../../store/store.js';
import { DomainError, type SendingDomainService } from '../../../domains/service.js';
import { effectiveState } from '../../../domains/rotation.js';
import type { ExpectedRecord } from '../../../core/sending-domain-types.js';
import { ApiError } from '../errors.js';

/** What the sending-domain routes need: the store, the clock and the domain logic (DNS included). */
export interface SendingDomainRouteDeps {
  store: Store;
  now: () => number;
  service: SendingDomainService;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** A domain as the API shows it: its keys with their rotation state (never a private key) and the last check. */
export const toWire = (d: SendingDomain, now: number) => ({
  id: d.id,
  domain: d.domain,
  verified: d.verifiedAt !== null,
  verifiedOn: iso(d.verifiedAt),
  lastCheckedOn: iso(d.lastCheckedAt),
  createdOn: iso(d.createdAt)!,
  lastUpdate: iso(d.updatedAt)!,
  keys: d.keys.map((k) => ({
    selector: k.selector,
    algorithm: k.algorithm,
    state: effectiveState(k, now),
    dnsName: `${k.selector}._domainkey.${d.domain}`,
    createdOn: iso(k.createdAt)!,
    activatedOn: iso(k.activatedAt),
    retiresOn: k.state === 'retiring' ? iso(k.retireAfter) : null,
  })),
  lastCheck: d.checkResults,
});

export const recordCheckSchema = {
  type: 'object',
  required: ['type', 'name', 'expected', 'purpose', 'required', 'status', 'found'],
  properties: {
    type: { type: 'string', enum: ['TXT', 'CNAME'] },
    name: { type: 'string' },
    expected: { type: 'string', description: 'what to publish' },
    purpose: { type: 'string' },
    required: { type: 'boolean', description: 'needed for the domain to count as verified' },
    status: { type: 'string', enum: ['verified', 'missing', 'mismatch', 'error'] },
    found: { type: 'array', items: { type: 'string' }, description: 'what DNS answered at the name' },
    reason: { type: 'string', description: 'why the record is not verified' },
    kind: { type: 'string', enum: ['dkim', 'spf', 'dmarc', 'return-path'] },
    selector: { type: 'string' },
  },
} as const;

const keyProperties = {
  selector: { type: 'string' },
  algorithm: { type: 'string', enum: ['rsa-sha256', 'ed25519-sha256'] },
  state: { type: 'string', enum: ['pending', 'active', 'retiring', 'retired'] },
  dnsName: { type: 'string' },
  createdOn: { type: 'string', format: 'date-time' },
  activatedOn: nullableTime,
  retiresOn: { ...nullableTime, description: 'retiring keys: when the overlap ends' },
} as const;
const domainProperties = {
  id: { type: 'integer' },
  domain: { type: 'string' },
  verified: { type: 'boolean', description: 'DKIM (every active selector) and SPF verified' },
  verifiedOn: nullableTime,
  lastCheckedOn: nullableTime,
  createdOn: { type: 'string', format: 'date-time' },
  lastUpdate: { type: 'string', format: 'date-time' },
  keys: { type: 'array', items: { type: 'object', required: Object.keys(keyProperties), properties: keyProperties } },
  lastCheck: { type: ['array', 'null'], items: recordCheckSchema, description: 'the last verification, record by record' },
} as const;
export const domainSchema = { type: 'object', required: Object.keys(domainProperties), properties: domainProperties } as const;

export const dnsRecordSchema = {
  type: 'object',
  required: ['type', 'name', 'value', 'purpose', 'required'],
  properties: {
    type: { type: 'string', enum: ['TXT', 'CNAME'] },
    name: { type: 'string' },
    value: { type: 'string' },
    purpose: { type: 'string' },
    required: { type: 'boolean' },
    chunks: { type: 'array', items: { type: 'string' }, description: 'TXT: the value as strings of at most 255 characters' },
  },
} as const;
export const recordToWire = (r: ExpectedRecord) => ({
  type: r.type,
  name: r.name,
  value: r.expected,
  purpose: r.purpose,
  required: r.required,
  ...(r.chunks ? { chunks: r.chunks } : {}),
});

export const selectorSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 63,
  pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$',
  description: 'DKIM selector',
} as const;
export const domainNameSchema = { type: 'string', minLength: 1, maxLength: 253, description: 'the domain of From addresses' } as const;

export const domainParams = {
  type: 'object',
  required: ['serverId', 'domainId'],
  properties: {
    serverId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
    domainId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'the sending domain id' },
  },
} as const;
export interface DomainParams {
  serverId: string;
  domainId: string;
}

/** The domain named by the path, or 404 (also for another server's domain). */
export async function domainOf(store: Store, p: DomainParams): Promise<SendingDomain> {
  const d = await store.sendingDomains.get(Number(p.serverId), Number(p.domainId));
  if (!d) throw new ApiError('not_found', `server ${p.serverId} has no sending domain ${p.domainId}`, 'domainId');
  return d;
}

/** The domain logic's refusals as API errors. */
export async function asApi<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    const code = err.kind === 'invalid' ? 'validation_failed' : err.kind === 'exists' ? 'already_exists' : 'rotation_in_progress';
    throw new ApiError(code, err.message, err.field);
  }
}
