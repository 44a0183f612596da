import type { Logger } from '../core/log.js';
import type { Store, WorkerRegistration } from '../store/store.js';

/** How often a process writes its workers' heartbeats: a few seconds, one small UPSERT each time. */
export const WORKER_HEARTBEAT_MS = 5_000;
/**
 * A worker whose heartbeat is older than this is taken for dead and its claims are taken over.
 * Four heartbeats: a slow commit or a pause of the process is not taken for a crash, and a
 * crashed process's work is delivered again within about this long (plus a poll).
 */
export const WORKER_DEAD_AFTER_MS = 20_000;
/** The dead-after time must cover this many heartbeats, or one late heartbeat would hand live claims over. */
const MIN_HEARTBEATS_PER_DEAD_AFTER = 3;

export interface WorkerRegistryDeps {
  store: Store;
  log: Logger;
  now: () => number;
  hostname: string;
  pid: number;
  /** The store has one process (SQLite owns its file): registering removes every other registration. */
  sole: boolean;
  heartbeatMs?: number;
  deadAfterMs?: number;
}

/**
 * The claiming workers of this process in the store's worker registry: registered before they
 * claim anything, heartbeaten on a timer, deregistered at a graceful stop. Other processes (and a
 * restarted one) take over the claims of a worker that stops heartbeating.
 */
export class WorkerRegistry {
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  private readonly workers: WorkerRegistration[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastBeat = 0;
  private beating: Promise<void> = Promise.resolve();

  constructor(private readonly d: WorkerRegistryDeps) {
    this.heartbeatMs = d.heartbeatMs ?? WORKER_HEARTBEAT_MS;
    this.deadAfterMs = d.deadAfterMs ?? WORKER_DEAD_AFTER_MS;
    if (!(this.heartbeatMs >= 1) || !Number.isFinite(this.heartbeatMs)) throw new Error('worker heartbeat interval must be a positive number of milliseconds');
    if (!(this.deadAfterMs >= this.heartbeatMs * MIN_HEARTBEATS_PER_DEAD_AFTER) || !Number.isFinite(this.deadAfterMs)) {
      throw new Error(`worker dead-after time must be at least ${MIN_HEARTBEATS_PER_DEAD_AFTER} heartbeat intervals`);
    }
  }

  /** Adds a worker to register at start(); returns its id. */
  add(id: string, kind: WorkerRegistration['kind']): string {
    if (this.timer) throw new Error('workers are added before the registry starts');
    this.workers.push({ id, kind, hostname: this.d.hostname, pid: this.d.pid, startedAt: this.d.now() });
    return id;
  }

  /** Registers the workers (before any of them claims) and starts the heartbeat. */
  async start(): Promise<void> {
    if (this.timer) return;
    const now = this.d.now();
    await this.d.store.workers.register(this.workers, now, this.d.sole);
    this.lastBeat = now;
    this.d.log.info(
      { event: 'workers.registered', workers: this.workers.map((w) => w.id), heartbeatMs: this.heartbeatMs, deadAfterMs: this.deadAfterMs },
      'workers registered',
    );
    this.timer = setInterval(() => {
      this.beating = this.beat();
    }, this.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const now = this.d.now();
    try {
      await this.d.store.workers.heartbeat(this.workers, now);
      this.lastBeat = now;
    } catch (err) {
      // Past deadAfterMs other processes take our claims over: deliveries still running here may then go out twice.
      const sinceLastMs = now - this.lastBeat;
      this.d.log.error({ err, event: 'workers.heartbeat_failed', sinceLastMs, takenOver: sinceLastMs >= this.deadAfterMs }, 'worker heartbeat failed');
    }
  }

  /** Stops the heartbeat and deregisters (after the workers stopped): what they still hold is taken over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    try {
      await this.d.store.workers.deregister(this.workers.map((w) => w.id));
    } catch (err) {
      this.d.log.error({ err, event: 'workers.deregister_failed' }, 'deregistering workers failed; their claims are taken over after the dead-after time');
    }
  }
}
