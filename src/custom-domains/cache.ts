/**
 * The verified custom bounce domains, in memory, for the two hot paths that route by them: the
 * delivery worker (a server's Return-Path domain, per recipient) and the MX listener (is this a
 * bounce domain of ours?, per RCPT). One store query loads them all (a few per server at most);
 * a change made in this process refreshes at once (`changed`), a change made by another process
 * (the CLI, another node) is picked up by the periodic refresh.
 */
import type { Logger } from '../core/log.js';
import type { Store } from '../store/store.js';

/** How often the cache reloads, for changes made by other processes. */
export const CUSTOM_DOMAIN_REFRESH_MS = 30_000;

export class CustomDomainCache {
  private defaults = new Map<number, string>();
  private domains = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private loading: Promise<void> | null = null;
  private again = false;
  private readonly listeners: ((serverId: number) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly opts: { log?: Logger; refreshMs?: number } = {},
  ) {}

  /** Loads once, then keeps refreshing in the background until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.timer ??= setInterval(
      () =>
        void this.refresh().catch((err: unknown) => {
          this.opts.log?.error({ err, event: 'custom_domains.refresh_failed' }, 'reloading custom domains failed; keeping the previous ones');
        }),
      this.opts.refreshMs ?? CUSTOM_DOMAIN_REFRESH_MS,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The server's default bounce domain (verified), or null: the instance's bounce domain applies. */
  bounceDomainOf(serverId: number): string | null {
    return this.defaults.get(serverId) ?? null;
  }

  /** True for a verified custom bounce domain of any server (lower case). */
  isBounceDomain(domain: string): boolean {
    return this.domains.has(domain);
  }

  /** Called with the server whose domains changed in this process (e.g. the worker re-reads its tracking origin). */
  onChange(fn: (serverId: number) => void): void {
    this.listeners.push(fn);
  }

  /** A domain of `serverId` changed in this process: reload now and tell the listeners. */
  async changed(serverId: number): Promise<void> {
    await this.refresh();
    for (const fn of this.listeners) fn(serverId);
  }

  /** Reloads; a call while a reload runs waits for one that starts after it (it may miss a change otherwise). */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        const rows = await this.store.customDomains.listRouted('bounce');
        this.defaults = new Map(rows.filter((r) => r.isDefault).map((r) => [r.serverId, r.domain]));
        this.domains = new Set(rows.map((r) => r.domain));
      } while (this.again);
    };
    this.loading = run().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }
}
