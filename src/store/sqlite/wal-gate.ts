/**
 * Keeps the SQLite WAL bounded under sustained writes.
 *
 * SQLite restarts the WAL from its beginning only when a write transaction starts while every frame
 * in it has been copied into the database file. The checkpoint thread (background-checkpoint.ts)
 * copies the WAL every 200 ms, but under a steady stream of commits a new one has always started
 * before a checkpoint ends, so the WAL never restarts and grows until the disk is full, the kernel
 * zeroing its new blocks on the event loop's time (BENCHMARKS.md). (A checkpoint's own report cannot tell: it counts the frames it saw when it started.)
 *
 * So once the checkpoint thread reports a WAL of `maxFrames` or more, the store's driver takes the
 * connection itself (no transaction runs; the others queue for it, asynchronously, the event loop
 * runs on), asks the thread for a checkpoint, and releases the connection when the thread has
 * copied everything: the next transaction restarts the WAL. A reader that holds an old snapshot
 * (another process) can keep a checkpoint from finishing: the connection is released after
 * `maxWaitMs` regardless, and the gate stays open for `backoffMs` before it tries again.
 */
import type { CheckpointResult } from './background-checkpoint.js';

export interface WalGateCheckpointer {
  /** The last checkpoint that found frames in the WAL, and how many such checkpoints there were. */
  readonly last: CheckpointResult | null;
  readonly checkpoints: number;
  checkpointNow(): Promise<CheckpointResult | null>;
}

export interface WalGateOptions {
  /** WAL frames (pages) from which the WAL is brought back to its start; 16,384 frames are about 64 MiB. */
  maxFrames: number;
  /** The longest a catch-up holds the connection. */
  maxWaitMs: number;
  /** After a catch-up that could not finish, how long before the next one. */
  backoffMs: number;
  now?: () => number;
}

export const WAL_GATE_DEFAULTS: WalGateOptions = { maxFrames: 16_384, maxWaitMs: 250, backoffMs: 30_000 };

export class WalGate {
  private readonly now: () => number;
  /** The thread's checkpoint count when the last catch-up ended: its report is not news after that. */
  private seenAt = -1;
  private openUntil = 0;
  /** Catch-ups that ended with the WAL fully copied, and ones that gave up (tests, diagnostics). */
  caughtUp = 0;
  gaveUp = 0;

  constructor(
    private readonly checkpointer: WalGateCheckpointer,
    private readonly o: WalGateOptions = WAL_GATE_DEFAULTS,
  ) {
    this.now = o.now ?? Date.now;
  }

  /** Whether the WAL should be brought back to its start before the next transaction. */
  needed(): boolean {
    const last = this.checkpointer.last;
    return last !== null && last.walFrames >= this.o.maxFrames && this.checkpointer.checkpoints !== this.seenAt && this.now() >= this.openUntil;
  }

  /** Called with the connection held (no transaction running): checkpoints until the WAL is fully copied, or maxWaitMs. */
  async catchUp(): Promise<void> {
    const deadline = this.now() + this.o.maxWaitMs;
    try {
      do {
        const r = await this.checkpointer.checkpointNow();
        if (!r) break;
        if (r.checkpointedFrames >= r.walFrames) {
          this.caughtUp++;
          return;
        }
      } while (this.now() < deadline);
      this.gaveUp++;
      this.openUntil = this.now() + this.o.backoffMs;
    } finally {
      this.seenAt = this.checkpointer.checkpoints;
    }
  }
}
