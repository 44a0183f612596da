import { SmtpClient, SmtpSessionError, type TlsOutcome } from './smtp-client.js';
import type { MxHost } from './mx.js';
import type { RateLimiter } from './rate-limiter.js';

/** What one SMTP transaction came to. Outcomes are values: nothing here throws. */
export type SendResult =
  /** `localIp`: the local address of the connection that delivered it (null if the socket did not say). */
  | { kind: 'accepted'; response: string; mx: string; tls: boolean; tlsOutcome?: TlsOutcome | null; localIp: string | null }
  /** `local`: Postline refused in the server's place before sending (e.g. no SMTPUTF8 for a UTF-8 address). */
  | { kind: 'rejected'; code: number; response: string; mx: string; local?: true }
  /** `connect`: no MX host could be connected to (as opposed to a connection lost during the transaction). */
  | { kind: 'unreachable'; error: string; mx: string | null; connect?: boolean };

export interface SmtpPoolOptions {
  heloName: string;
  maxConnections: number;
  maxPerDestination: number;
  /** RFC 5321 §4.5.3.2: 5 min for the greeting and commands, 10 min for the end of DATA. */
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Paces messages per destination; absent when a relay host does its own shaping. */
  rateLimiter?: RateLimiter | null;
}

/** Messages sent over one connection before it is replaced (spreads load across MX hosts, bounds session state). */
export const MAX_MESSAGES_PER_CONNECTION = 100;
/** An idle pooled connection is closed after this; most receivers drop idle clients within a minute. */
export const IDLE_CLOSE_MS = 10_000;

interface Conn {
  smtp: SmtpClient;
  mx: string;
  sent: number;
  idleTimer: NodeJS.Timeout | null;
  dead: boolean;
}
interface Destination {
  idle: Conn[];
  active: number;
  waiters: (() => void)[];
  /** The last time none of the hosts took a connection (a sequence number, not a clock), and why. */
  connectFailure: { seq: number; error: string; mx: string | null } | null;
}

/**
 * Outbound SMTP connections, pooled per destination (the ordered MX host list) and reused for
 * many messages; opportunistic STARTTLS; PIPELINING where offered (see SmtpClient). Caps
 * connections per destination and in total.
 */
export class SmtpPool {
  private readonly dests = new Map<string, Destination>();
  private total = 0;
  private totalWaiters: (() => void)[] = [];
  private closed = false;
  private seq = 0;
  /** Connections opened since start (tests and metrics read it). */
  opened = 0;

  constructor(private readonly opts: SmtpPoolOptions) {
    if (!(opts.maxConnections >= 1) || !(opts.maxPerDestination >= 1)) throw new Error('SmtpPool limits must be >= 1');
  }

  async send(hosts: readonly MxHost[], envelope: { from: string; to: string }, message: Buffer): Promise<SendResult> {
    const key = hosts.map((h) => `${h.host}:${h.port}`).join(',');
    const dest = this.dest(key);
    const queued = ++this.seq;
    await this.opts.rateLimiter?.take(key);
    await this.acquire(dest);
    try {
      let conn = this.takeIdle(dest);
      // The hosts refused a connection while this send waited: it fails alike, without trying again.
      const failure = dest.connectFailure;
      if (!conn && failure && failure.seq > queued) return { kind: 'unreachable', error: failure.error, mx: failure.mx, connect: true };
      if (!conn) {
        const opened = await this.open(hosts);
        if ('error' in opened) {
          if (!opened.refused) dest.connectFailure = { seq: ++this.seq, error: opened.error, mx: opened.mx };
          return { kind: 'unreachable', error: opened.error, mx: opened.mx, connect: !opened.refused };
        }
        conn = opened;
      }
      const result = await this.transact(conn, envelope, message);
      conn.sent++;
      if (!conn.dead && conn.smtp.usable && conn.sent < MAX_MESSAGES_PER_CONNECTION && !this.closed) this.park(dest, conn);
      else this.destroy(conn);
      return result;
    } finally {
      this.release(dest);
    }
  }

  /** Closes every idle connection; busy ones close when their transaction ends. */
  close(): void {
    this.closed = true;
    for (const d of this.dests.values()) for (const c of d.idle.splice(0)) this.destroy(c);
  }

  private dest(key: string): Destination {
    let d = this.dests.get(key);
    if (!d) this.dests.set(key, (d = { idle: [], active: 0, waiters: [], connectFailure: null }));
    return d;
  }

  private async acquire(d: Destination): Promise<void> {
    while (d.active >= this.opts.maxPerDestination) await new Promise<void>((r) => d.waiters.push(r));
    d.active++;
    while (this.total >= this.opts.maxConnections) await new Promise<void>((r) => this.totalWaiters.push(r));
    this.total++;
  }

  private release(d: Destination): void {
    d.active--;
    this.total--;
    d.waiters.shift()?.();
    this.totalWaiters.shift()?.();
  }

  private takeIdle(d: Destination): Conn | null {
    while (d.idle.length > 0) {
      const c = d.idle.pop()!;
      if (c.idleTimer) clearTimeout(c.idleTimer);
      c.idleTimer = null;
      if (!c.dead && c.smtp.usable) return c; // the server may have closed it while idle
      this.destroy(c);
    }
    return null;
  }

  private park(d: Destination, c: Conn): void {
    c.idleTimer = setTimeout(() => {
      const i = d.idle.indexOf(c);
      if (i >= 0) d.idle.splice(i, 1);
      this.destroy(c);
    }, IDLE_CLOSE_MS);
    c.idleTimer.unref();
    d.idle.push(c);
  }

  private destroy(c: Conn): void {
    c.dead = true;
    if (c.idleTimer) clearTimeout(c.idleTimer);
    c.smtp.quit();
  }

  /** Tries the hosts in order until one greets us (MX fallback). */
  private async open(hosts: readonly MxHost[]): Promise<Conn | { error: string; mx: string | null; refused?: boolean }> {
    let lastError = 'no hosts';
    let lastMx: string | null = null;
    for (const h of hosts) {
      try {
        const smtp = await SmtpClient.open({
          host: h.host,
          port: h.port,
          heloName: this.opts.heloName,
          // Opportunistic TLS: encrypt when offered; MX certificates are rarely valid for the MX name.
          opportunisticTls: true,
          connectionTimeoutMs: this.opts.connectionTimeoutMs ?? 30_000,
          greetingTimeoutMs: this.opts.greetingTimeoutMs ?? 300_000,
          replyTimeoutMs: this.opts.socketTimeoutMs ?? 600_000,
          relay: h.relay ?? null,
        });
        this.opened++;
        return { smtp, mx: h.host, sent: 0, idleTimer: null, dead: false };
      } catch (err) {
        lastError = `${h.host}:${h.port}: ${(err as Error).message}`;
        lastMx = h.host;
        // A server that greets with a 5xx refuses mail for good; do not try it as a network error.
        const reply = err instanceof SmtpSessionError ? err.reply : null;
        if (reply && reply.code >= 500) return { error: reply.text, mx: h.host, refused: true };
      }
    }
    return { error: lastError, mx: lastMx };
  }

  private async transact(c: Conn, envelope: { from: string; to: string }, message: Buffer): Promise<SendResult> {
    try {
      const r = await c.smtp.send(envelope.from, envelope.to, message);
      if (r.kind === 'accepted')
        return { kind: 'accepted', response: r.reply.text, mx: c.mx, tls: c.smtp.secure, tlsOutcome: c.smtp.tls, localIp: c.smtp.localIp };
      if (r.stage === 'local') return { kind: 'rejected', code: r.reply.code, response: r.reply.text, mx: c.mx, local: true };
      // The session is still usable after a refused envelope or message; reset it for the next one.
      if (!(await c.smtp.reset())) c.dead = true;
      return { kind: 'rejected', code: r.reply.code, response: r.reply.text, mx: c.mx };
    } catch (err) {
      c.dead = true;
      return { kind: 'unreachable', error: (err as Error).message, mx: c.mx };
    }
  }
}
