/**
 * Counts failed authentications per client and says when a client has failed too often: the
 * Injection API then answers `TooManyErrors` without checking keys, which makes guessing slow.
 * In memory per process: a restart forgets, which only ever errs towards letting a client in.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {
    if (!(limit >= 1) || !(windowMs >= 1)) throw new Error('AuthThrottle needs limit >= 1 and windowMs >= 1');
  }

  isBlocked(client: string, now: number): boolean {
    const list = this.prune(client, now);
    return list !== undefined && list.length >= this.limit;
  }

  recordFailure(client: string, now: number): void {
    const list = this.prune(client, now) ?? [];
    list.push(now);
    this.failures.set(client, list);
    // Bound memory under a spray of clients: drop the oldest entries beyond a generous cap.
    if (this.failures.size > 100_000) {
      const first = this.failures.keys().next().value;
      if (first !== undefined) this.failures.delete(first);
    }
  }

  private prune(client: string, now: number): number[] | undefined {
    const list = this.failures.get(client);
    if (!list) return undefined;
    const keep = list.filter((t) => now - t < this.windowMs);
    if (keep.length === 0) this.failures.delete(client);
    else this.failures.set(client, keep);
    return keep;
  }
}
