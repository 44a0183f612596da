import { FAILURE_TTL_MS } from '../dns/cache-policy.js';
import type { Classification } from './outcome.js';

/**
 * Recipient domains whose delivery just failed as a whole (DNS could not be asked, or none of
 * their MX hosts could be connected to), until when, and why. The worker defers every recipient
 * of such a domain that it holds or claims until then without a lookup or a connection, and
 * defers them alike (one jitter for the domain), so they are written by one statement and retried
 * together, when one lookup decides for all of them again.
 */
export interface DomainFailure {
  /** When the failure was seen: the domain's recipients are deferred as of then, so they share one retry time. */
  since: number;
  until: number;
  reason: string;
  /** What the deferral says (FailureCode 4999 for DNS; the connection error's classification otherwise). */
  classification: Classification;
  /** Shared by the domain's recipients in place of a random jitter (delivery/retry.ts). */
  jitter: number;
}

/**
 * How long a domain stays failing after none of its MX hosts took a connection: as long as a
 * failed DNS lookup is kept, so both kinds of failure are asked again on the same footing.
 */
export const CONNECT_FAILURE_TTL_MS = FAILURE_TTL_MS;
/** Domains remembered at once; the oldest is dropped first beyond this. */
export const FAILING_DOMAINS_MAX = 10_000;

export class FailingDomains {
  private readonly failing = new Map<string, DomainFailure>();

  constructor(private readonly random: () => number = Math.random) {}

  /** Marks `domain` failing until `until` (an existing, still current mark is kept: its recipients stay alike). */
  fail(domain: string, now: number, until: number, reason: string, classification: Classification): DomainFailure {
    const key = domain.toLowerCase();
    const current = this.failing.get(key);
    if (current && current.until > now) return current;
    this.failing.delete(key);
    const entry = { since: now, until, reason, classification, jitter: this.random() };
    this.failing.set(key, entry);
    if (this.failing.size > FAILING_DOMAINS_MAX) this.failing.delete(this.failing.keys().next().value!);
    return entry;
  }

  /** The current failure of `domain`, or null (an expired one is forgotten). */
  check(domain: string, now: number): DomainFailure | null {
    const key = domain.toLowerCase();
    const entry = this.failing.get(key);
    if (!entry) return null;
    if (entry.until > now) return entry;
    this.failing.delete(key);
    return null;
  }

  get size(): number {
    return this.failing.size;
  }
}
