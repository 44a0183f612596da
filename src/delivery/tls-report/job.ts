import { hostname as osHostname } from 'node:os';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../../core/log.js';
import { newId } from '../../core/ids.js';
import type { DnsLookup } from '../../dns/lookup.js';
import { createUrlGuard, type UrlGuard } from '../../net/url-guard.js';
import type { TlsReportRepository, TlsReportSend, TlsRuaOutcome } from '../../store/tls-reports.js';
import { buildTlsReport } from './report.js';
import { postTlsReport } from './report-https.js';
import { composeTlsReportMail } from './report-mail.js';
import { lookupTlsRptRecord, type TlsRptRecord, type TlsRptRua } from './tlsrpt-record.js';
import { DAY_MS, utcDayOf } from './utc-day.js';

/** How often the job looks for days to report: a day's reports go out within this of its grace ending. */
export const TLS_REPORT_CHECK_MS = 10 * 60_000;
/** The first check waits this long after start: start-up goes first. */
const FIRST_CHECK_MS = 60_000;
/**
 * A day is reported this long after it ends (UTC), so the last minutes' counts have been flushed
 * by every process (collectors flush every few seconds; this covers a slow or restarting one).
 */
export const TLS_REPORT_GRACE_MS = 15 * 60_000;
/** Counts and send records older than this are removed; a day not reported by then never is. */
export const TLS_REPORT_KEEP_DAYS = 14;
/** Runs that try a day's report (DNS lookup and every rua) before it is given up. */
export const TLS_REPORT_MAX_ATTEMPTS = 5;
/** A claim's lease: longer than a run takes over one report (POST timeouts, a slow mail hop), so it lapses only when its process died. */
export const TLS_REPORT_CLAIM_LEASE_MS = 15 * 60_000;
/** One POST to an https rua, answer included. */
export const TLS_REPORT_HTTPS_TIMEOUT_MS = 30_000;
/** Reports claimed in one run at most; the next run goes on. */
const MAX_REPORTS_PER_RUN = 1_000;

export type TlsReportSendMail = (to: string, from: string, mime: Buffer) => Promise<{ ok: boolean; detail: string }>;

export interface TlsReportJobDeps {
  store: { tlsReports: TlsReportRepository };
  dns: Pick<DnsLookup, 'resolveTxt'>;
  log: Logger;
  /** Delivers a mailto: report (the MTA's path); resolves with the outcome, and should not throw. */
  sendMail: TlsReportSendMail;
  /** Our host name: the reports' submitter, the domain of the default From and contact addresses. */
  hostname: string;
  /** organization-name of the reports (POSTLINE_TLS_REPORT_ORGANIZATION, default the host name). */
  organizationName: string;
  /** From address of mailed reports; default tlsrpt-noreply@<hostname>. */
  from?: string;
  /** contact-info of the reports (an email address); default postmaster@<hostname>. */
  contactInfo?: string;
  /** Certificate authorities for https ruas instead of Node's roots (tests, a private receiver). */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** Which addresses https ruas may reach; default the public internet only (net/url-guard.ts). */
  guard?: UrlGuard;
  /** This process's name in claims; default host/pid/random. */
  owner?: string;
  now?: () => number;
  intervalMs?: number;
  firstDelayMs?: number;
  graceMs?: number;
  keepDays?: number;
  maxAttempts?: number;
  /** Wait before a failed report is due again; default the check interval (it is tried on the next run). */
  retryAfterMs?: number;
  leaseMs?: number;
  httpsTimeoutMs?: number;
}

/** What a run did, report by report (tests, logs). */
export interface TlsReportRunResult {
  sent: number;
  retrying: number;
  gaveUp: number;
  noRecord: number;
  /** Claimed by another process meanwhile (or done): not this run's. */
  skipped: number;
  /** Policy-days removed for age. */
  removed: number;
}

/**
 * Sends the daily TLS-RPT reports (RFC 8460) from the counts the collectors store: every
 * `intervalMs` it looks for ended UTC days not yet reported, and for each (day, policy domain)
 * claims the report in the store (one process sends it, whichever gets the claim), looks up the
 * domain's `_smtp._tls` record, builds the report and sends it to every rua (https POST, or mail
 * through `sendMail`), recording each rua's outcome. A rua that failed is tried again on a later
 * run, the ones that took it are not, until `maxAttempts` runs have tried; then it is given up.
 */
export class TlsReportJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<TlsReportRunResult> | null = null;
  private stopped = false;
  private readonly now: () => number;
  private readonly owner: string;
  private readonly guard: UrlGuard;
  private readonly from: string;
  private readonly contactInfo: string;
  private readonly intervalMs: number;
  private readonly maxAttempts: number;
  private readonly keepDays: number;

  constructor(private readonly d: TlsReportJobDeps) {
    this.now = d.now ?? Date.now;
    this.owner = d.owner ?? `${osHostname()}/${process.pid}/${newId()}`;
    this.guard = d.guard ?? createUrlGuard();
    this.from = d.from ?? `tlsrpt-noreply@${d.hostname}`;
    this.contactInfo = d.contactInfo ?? `postmaster@${d.hostname}`;
    this.intervalMs = d.intervalMs ?? TLS_REPORT_CHECK_MS;
    this.maxAttempts = d.maxAttempts ?? TLS_REPORT_MAX_ATTEMPTS;
    this.keepDays = d.keepDays ?? TLS_REPORT_KEEP_DAYS;
    for (const [name, v] of Object.entries({ intervalMs: this.intervalMs, maxAttempts: this.maxAttempts, keepDays: this.keepDays })) {
      if (!(v > 0)) throw new Error(`TlsReportJob: ${name} must be positive, got ${v}`);
    }
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.d.firstDelayMs ?? Math.min(FIRST_CHECK_MS, this.intervalMs));
  }

  /** Runs a check now (or joins the one running). Never rejects. */
  runNow(): Promise<TlsReportRunResult> {
    this.running ??= this.run()
      .catch((err: unknown) => {
        this.d.log.error({ err, event: 'tls_report.run_failed' }, 'TLS report run failed; the next run tries again');
        return { sent: 0, retrying: 0, gaveUp: 0, noRecord: 0, skipped: 0, removed: 0 };
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Stops the timer and waits for a run under way (it stops after the report it is on). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow().then(() => this.schedule(this.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async run(): Promise<TlsReportRunResult> {
    const result: TlsReportRunResult = { sent: 0, retrying: 0, gaveUp: 0, noRecord: 0, skipped: 0, removed: 0 };
    const now = this.now();
    const from = utcDayOf(now - this.keepDays * DAY_MS);
    result.removed = await this.d.store.tlsReports.deleteBefore(from);
    // Days before this one have ended, and their grace with them.
    const before = utcDayOf(now - (this.d.graceMs ?? TLS_REPORT_GRACE_MS));
    const due = await this.d.store.tlsReports.dueReports({ from, before, now, limit: MAX_REPORTS_PER_RUN });
    // One lookup per domain and run, however many of its days are due.
    const records = new Map<string, Promise<TlsRptRecord | { kind: 'failed'; error: string }>>();
    for (const { day, policyDomain } of due) {
      if (this.stopped) break;
      const outcome = await this.report(day, policyDomain, records);
      if (outcome === 'sent') result.sent++;
      else if (outcome === 'retry') result.retrying++;
      else if (outcome === 'gave-up') result.gaveUp++;
      else if (outcome === 'no-record') result.noRecord++;
      else result.skipped++;
    }
    return result;
  }

  /** Claims, sends and records one (day, domain) report; what became of it ('skipped': not claimed). */
  private async report(
    day: string,
    policyDomain: string,
    records: Map<string, Promise<TlsRptRecord | { kind: 'failed'; error: string }>>,
  ): Promise<'sent' | 'retry' | 'gave-up' | 'no-record' | 'skipped'> {
    const now = this.now();
    const claim = await this.d.store.tlsReports.claim(day, policyDomain, {
      owner: this.owner,
      reportId: `${newId().toLowerCase()}@${this.d.hostname}`,
      now,
      leaseUntil: now + (this.d.leaseMs ?? TLS_REPORT_CLAIM_LEASE_MS),
    });
    if (!claim) return 'skipped';
    let lookup = records.get(policyDomain);
    if (!lookup) records.set(policyDomain, (lookup = lookupTlsRptRecord(this.d.dns, policyDomain)));
    const record = await lookup;
    const log = { day, policyDomain, reportId: claim.reportId };

    if (record.kind === 'none') {
      this.d.log.debug({ ...log, event: 'tls_report.no_record', reason: record.reason }, 'the domain takes no TLS reports');
      return this.finish(claim, 'no-record', claim.outcomes);
    }
    if (record.kind === 'failed') {
      this.d.log.warn({ ...log, event: 'tls_report.lookup_failed', error: record.error }, 'looking up the TLS-RPT record failed');
      return this.finish(claim, this.failedState(claim), claim.outcomes);
    }
    if (record.ignored.length > 0) this.d.log.debug({ ...log, event: 'tls_report.rua_ignored', rua: record.ignored }, 'rua URIs that cannot be used');

    const report = buildTlsReport({
      organizationName: this.d.organizationName,
      contactInfo: this.contactInfo,
      reportId: claim.reportId,
      day,
      policyDomain,
      policies: await this.d.store.tlsReports.policiesOf(day, policyDomain),
    });
    const gzipped = gzipSync(JSON.stringify(report));
    const outcomes = new Map(claim.outcomes.map((o) => [o.rua, o]));
    for (const rua of record.rua) {
      if (outcomes.get(rua.uri)?.ok) continue; // took this report on an earlier run
      const r = await this.deliver(rua, gzipped, claim, day);
      outcomes.set(rua.uri, { rua: rua.uri, ok: r.ok, detail: r.detail, at: this.now() });
      if (r.ok) this.d.log.info({ ...log, event: 'tls_report.sent', rua: rua.uri, detail: r.detail }, 'TLS report sent');
      else this.d.log.warn({ ...log, event: 'tls_report.failed', rua: rua.uri, error: r.detail, attempt: claim.attempts }, 'sending a TLS report failed');
    }
    const failed = record.rua.filter((r) => !outcomes.get(r.uri)?.ok).map((r) => r.uri);
    const state = failed.length === 0 ? 'sent' : this.failedState(claim);
    if (state === 'gave-up') {
      this.d.log.error({ ...log, event: 'tls_report.gave_up', rua: failed, attempts: claim.attempts }, 'TLS report given up after its last attempt');
    }
    return this.finish(claim, state, [...outcomes.values()]);
  }

  private failedState(claim: TlsReportSend): 'retry' | 'gave-up' {
    return claim.attempts >= this.maxAttempts ? 'gave-up' : 'retry';
  }

  private async deliver(rua: TlsRptRua, gzipped: Buffer, claim: TlsReportSend, day: string): Promise<{ ok: boolean; detail: string }> {
    try {
      if (rua.kind === 'https') {
        return await postTlsReport(rua.url, gzipped, {
          timeoutMs: this.d.httpsTimeoutMs ?? TLS_REPORT_HTTPS_TIMEOUT_MS,
          guard: this.guard,
          ...(this.d.ca ? { ca: this.d.ca } : {}),
        });
      }
      const mime = await composeTlsReportMail({
        from: this.from,
        to: rua.address,
        submitter: this.d.hostname,
        policyDomain: claim.policyDomain,
        reportId: claim.reportId,
        day,
        // The report id's left part: the same file name on every try of this report.
        uniqueId: claim.reportId.split('@')[0]!,
        gzipped,
        now: this.now(),
      });
      return await this.d.sendMail(rua.address, this.from, mime);
    } catch (err) {
      return { ok: false, detail: (err as Error).message || String(err) };
    }
  }

  private async finish(
    claim: TlsReportSend,
    state: 'sent' | 'retry' | 'gave-up' | 'no-record',
    outcomes: TlsRuaOutcome[],
  ): Promise<'sent' | 'retry' | 'gave-up' | 'no-record' | 'skipped'> {
    const now = this.now();
    const own = await this.d.store.tlsReports.finish(
      claim.day,
      claim.policyDomain,
      this.owner,
      { state, outcomes, nextAttemptAt: state === 'retry' ? now + (this.d.retryAfterMs ?? this.intervalMs) : now },
      now,
    );
    if (!own) {
      // The lease ran out mid-send and another process took the report over: it may send it again.
      this.d.log.warn(
        { day: claim.day, policyDomain: claim.policyDomain, event: 'tls_report.claim_lost' },
        'a TLS report claim was taken over before it was recorded',
      );
      return 'skipped';
    }
    return state;
  }
}
