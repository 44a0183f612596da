import type { Store } from '../store/store.js';
import type { DomainChanges } from '../core/domain-changes.js';

/**
 * How long a server's verified domains and switches are trusted in memory. The accept paths ask
 * for every message and must not query the store each time; a verify in this process refreshes
 * at once (DomainChanges), one in another process is seen within this.
 */
export const VERIFIED_DOMAINS_TTL_MS = 10_000;

export const SENDING_DOMAINS_DOC = 'docs/sending-domains.md';

/** Whether a server's mail must come from its verified sending domains, and which those are. */
export interface FromPolicy {
  serverId: number;
  /** requireVerifiedDomain and not sandboxed. */
  enforce: boolean;
  allows(fromDomain: string): boolean;
}

/** The sentence both accept paths refuse with (SMTP after `550 5.7.1 `). */
export function unverifiedFromMessage(domain: string, serverId: number): string {
  return `${domain} is not a verified sending domain of server ${serverId}; verify it (docs: ${SENDING_DOMAINS_DOC}) or turn off requireVerifiedDomain`;
}

/** The verified-From rule's per-server view, cached for VERIFIED_DOMAINS_TTL_MS. */
export class VerifiedDomains {
  private readonly cache = new Map<number, { until: number; policy: Promise<FromPolicy> }>();

  constructor(
    private readonly store: Store,
    changes: DomainChanges | null = null,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = VERIFIED_DOMAINS_TTL_MS,
  ) {
    changes?.subscribe((serverId) => this.cache.delete(serverId));
  }

  forServer(serverId: number): Promise<FromPolicy> {
    const hit = this.cache.get(serverId);
    if (hit && hit.until > this.now()) return hit.policy;
    const policy = this.load(serverId);
    this.cache.set(serverId, { until: this.now() + this.ttlMs, policy });
    policy.catch(() => this.cache.delete(serverId));
    return policy;
  }

  private async load(serverId: number): Promise<FromPolicy> {
    const server = await this.store.tenancy.getServer(serverId);
    const enforce = !!server && server.requireVerifiedDomain && !server.sandbox;
    const domains = enforce ? new Set(await this.store.sendingDomains.verifiedDomains(serverId)) : new Set<string>();
    return { serverId, enforce, allows: (d) => !enforce || domains.has(d.toLowerCase()) };
  }
}
