/**
 * In-process notice that a server's sending domains or keys changed (verify, rotate, add, remove),
 * so the caches that must not wait for their TTL — the verified-From rule's domain sets and the
 * signer's keys — are refreshed at once in this process. Other processes catch up within their TTLs.
 */
export class DomainChanges {
  private readonly listeners: ((serverId: number) => void)[] = [];
  subscribe(fn: (serverId: number) => void): void {
    this.listeners.push(fn);
  }
  notify(serverId: number): void {
    for (const fn of this.listeners) fn(serverId);
  }
}
