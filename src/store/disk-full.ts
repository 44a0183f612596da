import type { Logger } from '../core/log.js';
import type { Store } from './store.js';
import type { SettingsRepository } from './settings.js';
import { wrapStoreCalls } from './wrap-calls.js';

/**
 * A full disk, told apart from other store failures: it is the operator's to fix, every write
 * fails until space is freed, and a client should retry later rather than give up. SQLite says
 * SQLITE_FULL (its own write of the WAL or the database found no space; `max_page_count` gives
 * the same code), the file system ENOSPC (the WAL's fdatasync, a chunk file), PostgreSQL
 * 53100 disk_full.
 */
export function isDiskFull(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === '53100';
}

/** What clients are told, by the Injection API (the X-Postline-Error detail) and over SMTP. */
export const DISK_FULL_DETAIL = 'storage is full: the request was not accepted; retry later';
export const DISK_FULL_SMTP_REPLY = '4.3.1 Insufficient system storage; try again later';
/** Seconds a client is asked to wait (Retry-After) before trying again. */
export const DISK_FULL_RETRY_AFTER_SECONDS = 30;

/**
 * Headroom /readyz asks for before it calls the store writable again: it writes this much and
 * gives it back. A small write can succeed on a full disk (into WAL space a failed transaction
 * left allocated), and readiness that flapped on every such write would help no one.
 */
export const DISK_FULL_PROBE_BYTES = 1024 * 1024;

/** The settings row the probe writes while the disk is full, to learn when writes work again. */
export const DISK_FULL_PROBE_SETTING = 'readyz.write_probe';

/** How often a process whose disk is full probes for space by itself (nobody may be calling /readyz). */
export const DISK_FULL_PROBE_INTERVAL_MS = 5_000;

/**
 * Whether the store's disk is full, as this process last saw it: set by a write that failed for
 * lack of space, cleared when a probe can write DISK_FULL_PROBE_BYTES again. Meanwhile /readyz
 * answers not ready, and new mail is refused at once (withStorageHealth): a small accept could
 * still squeeze into space a failed transaction left, but that space is better kept for recording
 * delivery outcomes. The probe runs on each /readyz call and every DISK_FULL_PROBE_INTERVAL_MS.
 */
export class StorageHealth {
  private fullSince: number | null = null;
  private lastError = '';
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<boolean> | null = null;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly probeSettings: Pick<SettingsRepository, 'set'> | null = null,
    private readonly probeEveryMs = DISK_FULL_PROBE_INTERVAL_MS,
  ) {}

  get diskFull(): { since: number; error: string } | null {
    return this.fullSince === null ? null : { since: this.fullSince, error: this.lastError };
  }

  /** Call with any store failure; returns whether it was a full disk. */
  failed(err: unknown, operation: string): boolean {
    if (!isDiskFull(err)) return false;
    // Our own refusal of new mail while full: the state and its error are already set.
    if (err instanceof DiskFullRefusal) return true;
    this.lastError = (err as Error).message;
    if (this.fullSince === null) {
      this.fullSince = this.now();
      this.log.error(
        { event: 'store.disk_full', operation, code: (err as { code?: string }).code, error: this.lastError },
        "the store's disk is full: new mail is refused (answered as retryable) until space is freed",
      );
      if (this.probeSettings && this.timer === null) {
        this.timer = setInterval(() => {
          void this.probe();
        }, this.probeEveryMs);
        this.timer.unref();
      }
    }
    return true;
  }

  /**
   * While the disk is known full, writes the headroom and gives it back; true when the store takes
   * writes (then the state clears). One probe at a time.
   */
  probe(): Promise<boolean> {
    if (this.fullSince === null || !this.probeSettings) return Promise.resolve(this.fullSince === null);
    this.probing ??= (async () => {
      try {
        // The headroom, then a short value: its pages are free again for the accepts that follow.
        await this.probeSettings!.set(DISK_FULL_PROBE_SETTING, 'x'.repeat(DISK_FULL_PROBE_BYTES));
        await this.probeSettings!.set(DISK_FULL_PROBE_SETTING, String(this.now()));
        this.recovered();
        return true;
      } catch (err) {
        if (!this.failed(err, 'disk_probe')) throw err;
        return false;
      } finally {
        this.probing = null;
      }
    })();
    return this.probing;
  }

  /** Call when a write of the headroom succeeded. */
  recovered(): void {
    if (this.fullSince === null) return;
    this.log.info({ event: 'store.disk_space_recovered', fullForMs: this.now() - this.fullSince }, 'the store writes again');
    this.fullSince = null;
    this.stop();
  }

  /** Stops the periodic probe (the app is closing). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** What a write of new mail fails with while the disk is known full: not attempted, retryable like the real thing. */
export class DiskFullRefusal extends Error {
  readonly code = 'ENOSPC';
  constructor() {
    super('storage is full: new mail is refused until space is freed');
  }
}

/** The calls that store new mail (not delivery bookkeeping, which may still fit and frees the queue). */
const NEW_MAIL_WRITERS = new Set<string>([
  'queue.commitAccepts',
  'inbound.commitMessages',
  'inbound.putBodyChunk',
  'listSends.accept',
  'marketing.importContacts',
]);

/**
 * The store with every call watched: a rejection for lack of space marks `health` full (and is
 * passed on unchanged); while it is full, calls that store new mail fail at once with DiskFullRefusal.
 */
export function withStorageHealth(store: Store, health: StorageHealth): Store {
  return wrapStoreCalls(store, (call, name) => {
    if (NEW_MAIL_WRITERS.has(name) && health.diskFull) return Promise.reject(new DiskFullRefusal());
    const result = call();
    if (!(result instanceof Promise)) return result;
    return result.catch((err: unknown) => {
      health.failed(err, name);
      throw err;
    });
  });
}
