/**
 * A counting semaphore whose cap is read each time (a reloaded shaping file changes it while
 * sends wait): sends under way to one provider, or to one recipient domain.
 */
export class Slots {
  active = 0;
  private waiters: (() => void)[] = [];

  async take(cap: () => number): Promise<void> {
    while (this.active >= cap()) await new Promise<void>((r) => this.waiters.push(r));
    this.active++;
  }

  give(): void {
    this.active--;
    this.waiters.shift()?.();
  }

  /** The cap changed: every waiter looks again (a raised cap lets several go at once). */
  wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  get waiting(): number {
    return this.waiters.length;
  }
}
