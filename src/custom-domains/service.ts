/**
 * What can be done with a server's custom domains, shared by the v2 routes and the CLI: add,
 * verify (live DNS), change the default or https, remove. Refusals are CustomDomainError with a
 * v2 error code; every change that can move mail is announced through `changed` (the in-process
 * cache of bounce domains and the delivery worker's server settings).
 */
import type { ApiV2ErrorCode } from '../core/api-v2-codes.js';
import type { DnsLookup } from '../dns/lookup.js';
import type { CustomDomain, PageRequest, Store } from '../store/store.js';
import { normalizeDomain, type CustomDomainKind } from '../core/custom-domain.js';
import { checkRecords, verdictOf, type CustomDomainTargets } from './records.js';

export class CustomDomainError extends Error {
  constructor(
    readonly code: Extract<ApiV2ErrorCode, 'not_found' | 'domain_taken' | 'domain_not_verified' | 'validation_failed'>,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CustomDomainError';
  }
}

export interface CustomDomainDeps {
  store: Store;
  dns: DnsLookup;
  targets: CustomDomainTargets;
  now: () => number;
  /** A server's custom domains changed (awaited before the change is answered). */
  changed?: (serverId: number) => Promise<void>;
}

export const KIND_NAMES: Record<CustomDomainKind, string> = { bounce: 'bounce domain', tracking: 'tracking domain' };

function notVerified(kind: CustomDomainKind, domain: string, targets: CustomDomainTargets, detail: string): CustomDomainError {
  return new CustomDomainError(
    'domain_not_verified',
    `${domain} is not verified (${detail}): publish ${domain} CNAME ${targets[kind]}, verify it, then make it the default`,
    'isDefault',
  );
}

export class CustomDomains {
  constructor(private readonly d: CustomDomainDeps) {}

  async get(serverId: number, kind: CustomDomainKind, id: number): Promise<CustomDomain> {
    const found = await this.d.store.customDomains.get(serverId, kind, id);
    if (!found) throw new CustomDomainError('not_found', `server ${serverId} has no ${KIND_NAMES[kind]} ${id}`, 'domainId');
    return found;
  }

  list(serverId: number, kind: CustomDomainKind, page: PageRequest & { sort: 'createdAt' | 'domain' }): Promise<{ rows: CustomDomain[]; total: number }> {
    return this.d.store.customDomains.list(serverId, kind, page);
  }

  /**
   * Claims a domain for the server. Asked to be the default, it is checked first and stored only
   * when its records are verified (a default must reach us from its first message).
   */
  async add(serverId: number, kind: CustomDomainKind, input: { domain: string; isDefault: boolean; https: boolean }): Promise<CustomDomain> {
    const domain = normalizeDomain(input.domain);
    if (domain === null) throw new CustomDomainError('validation_failed', `"${input.domain}" is not a domain name (e.g. bounces.example.com)`, 'domain');
    const target = this.d.targets[kind];
    if (domain === target || domain.endsWith(`.${target}`)) {
      throw new CustomDomainError(
        'validation_failed',
        `${domain} is Postline's own ${KIND_NAMES[kind]} host; use a domain of yours that is a CNAME to ${target}`,
        'domain',
      );
    }
    let check = null;
    if (input.isDefault) {
      const at = this.d.now();
      const records = await checkRecords(this.d.dns, kind, domain, this.d.targets);
      if (verdictOf(records) !== true) throw notVerified(kind, domain, this.d.targets, records.map((r) => `${r.type} ${r.status}`).join(', '));
      check = { at, records, verified: true };
    }
    const created = await this.d.store.customDomains.create(
      { serverId, kind, domain, https: kind === 'bounce' ? true : input.https, isDefault: input.isDefault, check },
      this.d.now(),
    );
    if (!created) throw new CustomDomainError('domain_taken', `${domain} is already a ${KIND_NAMES[kind]} (of this or another server)`, 'domain');
    if (created.isDefault) await this.d.changed?.(serverId);
    return created;
  }

  /** Looks the records up now and stores what was found; a lookup that fails leaves a verified domain verified. */
  async verify(serverId: number, kind: CustomDomainKind, id: number): Promise<CustomDomain> {
    const current = await this.get(serverId, kind, id);
    const at = this.d.now();
    const records = await checkRecords(this.d.dns, kind, current.domain, this.d.targets);
    const updated = await this.d.store.customDomains.recordCheck(serverId, kind, id, { at, records, verified: verdictOf(records) }, this.d.now());
    if (!updated) throw new CustomDomainError('not_found', `server ${serverId} has no ${KIND_NAMES[kind]} ${id}`, 'domainId');
    if ((updated.verifiedAt === null) !== (current.verifiedAt === null) || updated.isDefault !== current.isDefault) await this.d.changed?.(serverId);
    return updated;
  }

  async update(serverId: number, kind: CustomDomainKind, id: number, patch: { isDefault?: boolean; https?: boolean }): Promise<CustomDomain> {
    const r = await this.d.store.customDomains.update(serverId, kind, id, patch, this.d.now());
    if (r === undefined) throw new CustomDomainError('not_found', `server ${serverId} has no ${KIND_NAMES[kind]} ${id}`, 'domainId');
    if (r === 'not-verified') {
      const d = await this.get(serverId, kind, id);
      throw notVerified(kind, d.domain, this.d.targets, d.lastCheckedAt === null ? 'never checked' : 'its last check failed');
    }
    await this.d.changed?.(serverId);
    return r;
  }

  /** Deletes it; a default stops being the default (the instance's bounce domain, or Postline's tracking URL, applies again). */
  async remove(serverId: number, kind: CustomDomainKind, id: number): Promise<CustomDomain> {
    const d = await this.get(serverId, kind, id);
    if (!(await this.d.store.customDomains.delete(serverId, kind, id)))
      throw new CustomDomainError('not_found', `server ${serverId} has no ${KIND_NAMES[kind]} ${id}`, 'domainId');
    if (d.isDefault || d.verifiedAt !== null) await this.d.changed?.(serverId);
    return d;
  }
}
