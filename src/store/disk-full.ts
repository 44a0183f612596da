import type { Logger } from '../core/log.js';
import type { Store } from './store.js';

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

/**
 * Whether the store's disk is full, as this process last saw it: set by a write that failed for
 * lack of space, cleared when /readyz's probe can write DISK_FULL_PROBE_BYTES again. /readyz
 * answers not ready meanwhile; it probes on each call, so a process a load balancer stopped
 * sending to still notices when space is back.
 */
export class StorageHealth {
  private fullSince: number | null = null;
  private lastError = '';

  constructor(private readonly log: Logger, private readonly now: () => number = Date.now) {}

  get diskFull(): { since: number; error: string } | null {
    return this.fullSince === null ? null : { since: this.fullSince, error: this.lastError };
  }

  /** Call with any store failure; returns whether it was a full disk. */
  failed(err: unknown, operation: string): boolean {
    if (!isDiskFull(err)) return false;
    this.lastError = (err as Error).message;
    if (this.fullSince === null) {
      this.fullSince = this.now();
      this.log.error({ event: 'store.disk_full', operation, code: (err as { code?: string }).code, error: this.lastError },
        'the store\'s disk is full: writes fail (answered as retryable) until space is freed');
    }
    return true;
  }

  /** Call when the probe wrote its headroom. */
  recovered(): void {
    if (this.fullSince === null) return;
    this.log.info({ event: 'store.disk_space_recovered', fullForMs: this.now() - this.fullSince }, 'the store writes again');
    this.fullSince = null;
  }
}

/** The store with every call watched: a rejection for lack of space marks `health` full (and is passed on unchanged). */
export function withStorageHealth(store: Store, health: StorageHealth): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const result = fn.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((err: unknown) => {
          health.failed(err, String(prop));
          throw err;
        });
      };
    },
  });
}
