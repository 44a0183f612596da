import { runRetentionPass, type RetentionAges, type RetentionDeps, type RetentionResult } from './pass.js';

/** The first pass waits this long after start: start-up (and a burst of queued work) goes first. */
const FIRST_PASS_DELAY_MS = 60_000;

/**
 * Runs a retention pass every `intervalMs` in the webhooks role's process (app.ts says why there).
 * One pass at a time; a failed pass is logged and the next one tries again. Several processes
 * sharing PostgreSQL may each run it: every batch deletes only rows that are still there, so
 * overlapping passes remove nothing twice and only split the work.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionResult | null> | null = null;
  private stopped = false;

  constructor(private readonly d: RetentionDeps & { ages: RetentionAges; intervalMs: number; firstDelayMs?: number }) {}

  start(): void {
    this.schedule(this.d.firstDelayMs ?? Math.min(FIRST_PASS_DELAY_MS, this.d.intervalMs));
  }

  /** Runs a pass now (or joins the one running). */
  runNow(): Promise<RetentionResult | null> {
    this.running ??= runRetentionPass({ ...this.d, stopping: () => this.stopped }, this.d.ages)
      .catch((err: unknown) => {
        this.d.log.error({ err, event: 'retention.failed' }, 'retention pass failed; the next pass tries again');
        return null;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow().then(() => this.schedule(this.d.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
