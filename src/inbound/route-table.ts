/**
 * Whose mail is it? The MX listener asks at every RCPT; the answer comes from every server's
 * inbound routes, read from the store and kept for a short while (other processes' changes show
 * within ROUTE_TABLE_TTL_MS), and reloaded at once after a change made in this process.
 */
import { isValidEmailAddress } from '../core/address.js';
import type { InboundRouteEntry, InboundRouteKind } from '../store/inbound.js';
import type { Store } from '../store/store.js';

/** Routes changed through another process (the CLI, another node) reach this one's MX listener within this time. */
export const ROUTE_TABLE_TTL_MS = 5_000;

/** A domain name: letters, digits and hyphens in dot-separated labels, at least two labels, at most 253 characters. */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `example.com` routes a whole domain, `support@example.com` one address; lower-cased. An error names what is wrong. */
export function parseMatch(input: string): { ok: true; match: string; kind: InboundRouteKind } | { ok: false; error: string } {
  const m = input.trim().toLowerCase();
  if (m.includes('@')) {
    return isValidEmailAddress(m) ? { ok: true, match: m, kind: 'address' } : { ok: false, error: `"${input}" is not a valid email address` };
  }
  return DOMAIN.test(m)
    ? { ok: true, match: m, kind: 'domain' }
    : { ok: false, error: `"${input}" is neither a domain name (example.com) nor an address (support@example.com)` };
}

/** The route an address reaches: its own address route first, else its domain's route. */
export function routeFor(address: string, routes: ReadonlyMap<string, InboundRouteEntry>): InboundRouteEntry | null {
  const lower = address.toLowerCase();
  const at = lower.lastIndexOf('@');
  if (at <= 0) return null;
  return routes.get(lower) ?? routes.get(lower.slice(at + 1)) ?? null;
}

export class InboundRouteTable {
  private routes: Map<string, InboundRouteEntry> | null = null;
  private loadedAt = 0;
  private loading: Promise<Map<string, InboundRouteEntry>> | null = null;
  /** Bumped by invalidate(): a load that started before a change must not be kept. */
  private generation = 0;

  constructor(
    private readonly store: Pick<Store, 'inbound'>,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = ROUTE_TABLE_TTL_MS,
  ) {}

  /** A route was created, changed or deleted in this process: the next lookup reads the store. */
  invalidate(): void {
    this.generation++;
    this.routes = null;
    this.loading = null;
  }

  async lookup(address: string): Promise<InboundRouteEntry | null> {
    return routeFor(address, await this.current());
  }

  private async current(): Promise<Map<string, InboundRouteEntry>> {
    if (this.routes && this.now() - this.loadedAt < this.ttlMs) return this.routes;
    if (!this.loading) {
      const gen = this.generation;
      const load = this.store.inbound
        .routingTable()
        .then((rows) => {
          const map = new Map(rows.map((r) => [r.match, r]));
          if (gen === this.generation) {
            this.routes = map;
            this.loadedAt = this.now();
          }
          return map;
        })
        .finally(() => {
          if (this.loading === load) this.loading = null;
        });
      this.loading = load;
    }
    return this.loading;
  }
}
