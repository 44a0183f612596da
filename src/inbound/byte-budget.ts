/**
 * A counting semaphore over bytes: acquire(n) waits until n bytes fit under the limit. One request
 * larger than the whole limit is let through when nothing else holds bytes, so no message can wait forever.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; go: () => void }[] = [];

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new Error(`byte budget must be positive, got ${limit}`);
  }

  get inUse(): number {
    return this.used;
  }

  async acquire(bytes: number): Promise<() => void> {
    if (!this.fits(bytes) || this.waiting.length > 0) {
      await new Promise<void>((go) => this.waiting.push({ bytes, go }));
    } else {
      this.used += bytes;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.drain();
    };
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }

  /** First come, first served: a large message is not overtaken forever by small ones. */
  private drain(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.go();
    }
  }
}
