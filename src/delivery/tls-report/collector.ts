import type { Logger } from '../../core/log.js';
import type { TlsReportRepository, TlsResultCount } from '../../store/tls-reports.js';
import type { TlsReportRecorder, TlsSessionResult } from './session-result.js';
import { utcDayOf } from './utc-day.js';

/** Counts reach the store this often: a crash loses at most this much of a day's report. */
export const TLS_REPORT_FLUSH_MS = 5_000;
/**
 * Distinct keys (day, domain, policy, result, hosts) held between flushes. A busy MTA sees a few
 * hundred policy domains a day with a handful of MX hosts each; this bounds the memory (well under
 * 10 MB) should results ever vary without end (a receiver behind thousands of addresses).
 */
export const TLS_REPORT_MAX_KEYS = 10_000;

export interface TlsReportCollectorOptions {
  store: { tlsReports: Pick<TlsReportRepository, 'addCounts'> };
  log: Logger;
  now?: () => number;
  flushIntervalMs?: number;
  maxKeys?: number;
}

/** The identity of a count: everything but the detail (free text would split counts without end). */
const countKey = (...parts: (string | readonly string[] | null)[]): string =>
  parts.map((p) => (p === null ? '\u0002' : typeof p === 'string' ? p : p.join('\u0001'))).join('\u0000');

/**
 * Counts TLS session results in memory and adds them to the store's daily counts in batches:
 * delivery records a result per session and must never wait for (or fail with) the store.
 *
 * At the key cap, a result with a new key is dropped and counted (logged with the next flush as
 * `tls_report.results_dropped`), and a flush starts at once to make room; results for keys already
 * held keep counting. Dropping rather than folding a result into another key: a report that
 * blames the wrong MX host or IP would mislead the receiving domain, an undercount does not.
 */
export class TlsReportCollector implements TlsReportRecorder {
  private counts = new Map<string, TlsResultCount>();
  /** Sessions not counted since the last flush: over the key cap, or unusable input. */
  private dropped = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly flushIntervalMs: number;

  constructor(private readonly o: TlsReportCollectorOptions) {
    this.now = o.now ?? Date.now;
    this.maxKeys = o.maxKeys ?? TLS_REPORT_MAX_KEYS;
    this.flushIntervalMs = o.flushIntervalMs ?? TLS_REPORT_FLUSH_MS;
    if (!(this.maxKeys >= 1) || !(this.flushIntervalMs > 0)) throw new Error('TlsReportCollector: maxKeys and flushIntervalMs must be positive');
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  record(r: TlsSessionResult): void {
    try {
      const day = utcDayOf(this.now());
      // A success appears in a report only as a count in its policy's summary, so its hosts
      // would split one count into rows no report shows.
      const failed = r.result !== 'success';
      const mx = failed ? r.receivingMxHostname : null;
      const ip = failed ? r.receivingIp : null;
      const sendingIp = failed ? r.sendingMtaIp : null;
      const key = countKey(day, r.policyDomain, r.policyType, r.policyString, r.mxHost, r.result, mx, ip, sendingIp);
      const cur = this.counts.get(key);
      if (cur) {
        cur.sessions++;
        if (r.detail) cur.detail = r.detail;
        return;
      }
      if (this.counts.size >= this.maxKeys) {
        this.dropped++;
        void this.flush();
        return;
      }
      this.counts.set(key, {
        day,
        policyDomain: r.policyDomain,
        policyType: r.policyType,
        policyString: r.policyString,
        mxHost: r.mxHost,
        resultType: r.result,
        receivingMxHostname: mx,
        receivingIp: ip,
        sendingMtaIp: sendingIp,
        detail: failed ? (r.detail ?? null) : null,
        sessions: 1,
      });
    } catch {
      // A malformed result (a caller's bug) is counted as dropped; delivery goes on.
      this.dropped++;
    }
  }

  /** Writes what is counted so far (joins a flush already running). Never rejects. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Stops the timer and writes the rest. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flushing;
    await this.flush();
  }

  /** Counts held and not yet written (tests, metrics). */
  get pendingKeys(): number {
    return this.counts.size;
  }

  private async flushOnce(): Promise<void> {
    const batch = [...this.counts.values()];
    this.counts = new Map();
    if (this.dropped > 0) {
      this.o.log.warn(
        { event: 'tls_report.results_dropped', sessions: this.dropped, maxKeys: this.maxKeys },
        'TLS session results were not counted: too many distinct results between flushes',
      );
      this.dropped = 0;
    }
    if (batch.length === 0) return;
    try {
      await this.o.store.tlsReports.addCounts(batch);
    } catch (err) {
      // Kept for the next flush (within the cap), so a short store outage loses nothing.
      this.o.log.error({ err, event: 'tls_report.flush_failed', keys: batch.length }, 'writing TLS report counts failed; the next flush tries again');
      for (const c of batch) this.restore(c);
    }
  }

  private restore(c: TlsResultCount): void {
    const key = countKey(c.day, c.policyDomain, c.policyType, c.policyString, c.mxHost, c.resultType, c.receivingMxHostname, c.receivingIp, c.sendingMtaIp);
    const cur = this.counts.get(key);
    if (cur) {
      cur.sessions += c.sessions;
      cur.detail ??= c.detail;
    } else if (this.counts.size < this.maxKeys) this.counts.set(key, c);
    else this.dropped += c.sessions;
  }
}
