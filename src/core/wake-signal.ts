/**
 * Lets a worker loop sleep until its next poll or until work arrives, whichever comes first. A
 * commit in this process calls wake(), so new rows are claimed at once instead of after the poll;
 * the poll still finds rows committed by other processes.
 */
export class WakeSignal {
  private readonly sleepers = new Set<() => void>();

  /** Ends every sleep in progress. */
  wake(): void {
    for (const s of [...this.sleepers]) s();
  }

  /** Resolves true when woken, false when `ms` passed first. */
  sleep(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const sleeper = () => {
        clearTimeout(timer);
        this.sleepers.delete(sleeper);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.sleepers.delete(sleeper);
        resolve(false);
      }, ms);
      this.sleepers.add(sleeper);
    });
  }
}
