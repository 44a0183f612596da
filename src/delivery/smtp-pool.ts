import type { LookupFunction } from 'node:net';
import { SmtpClient, SmtpSessionError, TlsPolicyError, type TlsOutcome } from './smtp-client.js';
import type { MxHost } from './mx.js';
import type { TlsReportRecorder } from './tls-report/session-result.js';
import type { RateLimiter } from './rate-limiter.js';
import { ShapingTicket, type ShapingHold, type TrafficShaper } from './shaping/traffic-shaper.js';

/** What one SMTP transaction came to. Outcomes are values: nothing here throws. */
export type SendResult =
  /** `localIp`: the local address of the connection that delivered it (null if the socket did not say). */
  | { kind: 'accepted'; response: string; mx: string; tls: boolean; tlsOutcome?: TlsOutcome | null; localIp: string | null }
  /** `local`: Postline refused in the server's place before sending (e.g. no SMTPUTF8 for a UTF-8 address). */
  | { kind: 'rejected'; code: number; response: string; mx: string; local?: true }
  /** `connect`: no MX host could be connected to (as opposed to a connection lost during the transaction). */
  | { kind: 'unreachable'; error: string; mx: string | null; connect?: boolean }
  /** Held back by traffic shaping without connecting: its provider asked to slow down, or an hourly limit is used up. */
  | { kind: 'held'; hold: ShapingHold };

export interface SmtpPoolOptions {
  heloName: string;
  maxConnections: number;
  maxPerDestination: number;
  /** RFC 5321 §4.5.3.2: 5 min for the greeting and commands, 10 min for the end of DATA. */
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Paces messages per destination (RateLimiter, or SharedRateLimiter across processes); absent when a relay host does its own shaping. */
  rateLimiter?: Pick<RateLimiter, 'take'> | null;
  /**
   * Provider-aware limits (delivery/shaping/): when given, they pace and cap every send in place of
   * maxPerDestination (their default block keeps its value per destination); rateLimiter then
   * paces only destinations of no known provider, through the shaper.
   */
  shaping?: TrafficShaper | null;
  /** Trust roots for MX certificates under a TLS policy (Node's plus POSTLINE_OUTBOUND_CA_FILE); absent: Node's. */
  ca?: string[] | null;
  /** Finds MX hosts' addresses through the configured resolvers (dns/connect-lookup.ts); absent: the system's. */
  lookup?: LookupFunction;
  /** Told how each session to a host with a TLS policy came out (TLS-RPT). */
  tlsReport?: TlsReportRecorder | null;
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
  /** With traffic shaping: the gate whose open connections this one counts in, and the destination it is parked in. */
  gate?: GateConnections;
  home?: Destination;
}
/**
 * The connections of one shaping gate (a provider, across all its destinations), as its servers
 * count them: idle ones, and closing ones until their socket has closed.
 */
interface GateConnections {
  open: number;
  idle: Set<Conn>;
  /** Sends waiting for a closing connection of the gate to be gone. */
  waiters: (() => void)[];
}

/** How often a closing connection is looked at; SmtpClient gives up on a polite close after 5 s, so this ends by then. */
const CLOSE_POLL_MS = 10;
const CLOSE_POLL_MAX = 600;
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
  private readonly gates = new Map<string, GateConnections>();
  private total = 0;
  private totalWaiters: (() => void)[] = [];
  private closed = false;
  private seq = 0;
  /** Connections opened since start (tests and metrics read it). */
  opened = 0;

  constructor(private readonly opts: SmtpPoolOptions) {
    if (!(opts.maxConnections >= 1) || !(opts.maxPerDestination >= 1)) throw new Error('SmtpPool limits must be >= 1');
    // A suspended provider's idle connections are closed at once (busy ones when their transaction ends).
    opts.shaping?.onSuspend((gateKey) => this.closeIdleOf(gateKey));
  }

  async send(hosts: readonly MxHost[], envelope: { from: string; to: string }, message: Buffer): Promise<SendResult> {
    const rateKey = hosts.map((h) => `${h.host}:${h.port}`).join(',');
    // A host's TLS policy is part of the pool's key: a connection opened under one policy never carries mail that needs another.
    const key = hosts.some((h) => h.tls)
      ? hosts.map((h) => `${h.host}:${h.port}${h.tls ? `/${h.tls.kind}${h.tls.kind === 'mta-sts' && h.tls.enforce ? '+' : ''}` : ''}`).join(',')
      : rateKey;
    const dest = this.dest(key);
    const queued = ++this.seq;
    // With traffic shaping the send's provider and recipient domain pace it and cap its connections.
    const ticket = this.opts.shaping ? await this.opts.shaping.admit(hosts, envelope.to, this.opts.rateLimiter) : null;
    if (ticket && !(ticket instanceof ShapingTicket)) return { kind: 'held', hold: ticket };
    if (!ticket) await this.opts.rateLimiter?.take(rateKey);
    await this.acquire(dest, ticket ? Number.POSITIVE_INFINITY : this.opts.maxPerDestination);
    try {
      // Suspended (or the hour filled) while this send waited: it does not connect either.
      const hold = ticket?.ready();
      if (hold) return { kind: 'held', hold };
      let conn = this.takeIdle(dest);
      // The hosts refused a connection while this send waited: it fails alike, without trying again.
      const failure = dest.connectFailure;
      if (!conn && failure && failure.seq > queued) return { kind: 'unreachable', error: failure.error, mx: failure.mx, connect: true };
      if (!conn) {
        const gate = ticket ? await this.roomFor(ticket) : null;
        const opened = await this.open(hosts);
        if ('error' in opened) {
          if (gate) this.unreserve(gate);
          ticket?.observe(opened.error, null);
          if (!opened.refused) dest.connectFailure = { seq: ++this.seq, error: opened.error, mx: opened.mx };
          return { kind: 'unreachable', error: opened.error, mx: opened.mx, connect: !opened.refused };
        }
        conn = opened;
        if (gate) {
          conn.gate = gate;
          conn.home = dest;
        }
      }
      const result = await this.transact(conn, envelope, message);
      ticket?.observe(result.kind === 'rejected' && !result.local ? result.response : result.kind === 'unreachable' ? result.error : null, conn.smtp.localIp);
      conn.sent++;
      const perConnection = ticket ? ticket.messagesPerConnection : MAX_MESSAGES_PER_CONNECTION;
      if (!conn.dead && conn.smtp.usable && conn.sent < perConnection && !this.closed && !ticket?.suspended) this.park(dest, conn);
      else this.destroy(conn);
      return result;
    } finally {
      this.release(dest);
      ticket?.done();
    }
  }

  /** Connections of a shaping gate now: busy, idle, being opened or closing. */
  connectionsOf(gateKey: string): number {
    return this.gates.get(gateKey)?.open ?? 0;
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

  private async acquire(d: Destination, max: number): Promise<void> {
    while (d.active >= max) await new Promise<void>((r) => d.waiters.push(r));
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
      c.gate?.idle.delete(c);
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
    if (c.gate) {
      c.gate.idle.add(c);
      // A send of the gate's other destinations waiting for room may close this one now.
      for (const w of c.gate.waiters.splice(0)) w();
    }
  }

  private destroy(c: Conn): void {
    c.dead = true;
    if (c.idleTimer) clearTimeout(c.idleTimer);
    c.smtp.quit();
    const g = c.gate;
    if (g) {
      g.idle.delete(c);
      c.gate = undefined;
      // Still open to the receiver until the QUIT exchange ends and the socket closes.
      whenClosed(c.smtp, () => this.unreserve(g));
    }
  }

  /**
   * Room for one more connection of a gate at its cap, reserved (counted) before it is opened.
   * The gate's sends under way are capped by the shaper, so past them its open connections are
   * idle ones, parked for its other destinations (this send's own destination had none), or
   * closing ones: an idle one is closed, and the send waits until a closing one is gone.
   */
  private async roomFor(ticket: ShapingTicket): Promise<GateConnections> {
    let g = this.gates.get(ticket.gateKey);
    if (!g) this.gates.set(ticket.gateKey, (g = { open: 0, idle: new Set(), waiters: [] }));
    const gate = g;
    while (gate.open >= ticket.connections) {
      const idle = gate.idle.values().next();
      if (!idle.done) this.evict(idle.value);
      if (gate.open >= ticket.connections) await new Promise<void>((r) => gate.waiters.push(r));
    }
    gate.open++;
    return gate;
  }

  /** A connection of the gate is gone (closed, or never opened): one waiting for room may look again. */
  private unreserve(g: GateConnections): void {
    g.open--;
    for (const w of g.waiters.splice(0)) w();
  }

  private closeIdleOf(gateKey: string): void {
    const g = this.gates.get(gateKey);
    if (g) for (const c of g.idle) this.evict(c);
  }

  /** Closes an idle connection, taking it out of its destination's idle list. */
  private evict(c: Conn): void {
    const idle = c.home?.idle;
    const i = idle ? idle.indexOf(c) : -1;
    if (i >= 0) idle!.splice(i, 1);
    this.destroy(c);
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
          mxTls: h.tls ?? null,
          ca: this.opts.ca ?? null,
          ...(this.opts.lookup ? { lookup: this.opts.lookup } : {}),
        });
        this.opened++;
        this.reportTls(h, smtp, null);
        return { smtp, mx: h.host, sent: 0, idleTimer: null, dead: false };
      } catch (err) {
        lastError = `${h.host}:${h.port}: ${(err as Error).message}`;
        lastMx = h.host;
        if (err instanceof TlsPolicyError) this.reportTls(h, null, err);
        // A server that greets with a 5xx refuses mail for good; do not try it as a network error.
        const reply = err instanceof SmtpSessionError ? err.reply : null;
        if (reply && reply.code >= 500) return { error: reply.text, mx: h.host, refused: true };
      }
    }
    return { error: lastError, mx: lastMx };
  }

  /** One TLS-RPT session result for a host under a policy: the check's outcome, or why the session could not meet it. */
  private reportTls(h: MxHost, smtp: SmtpClient | null, err: TlsPolicyError | null): void {
    if (!h.tls || !this.opts.tlsReport) return;
    const check = smtp?.tlsCheck;
    // A testing-mode host without STARTTLS has no check: that is a starttls-not-supported for the report.
    const failure = err
      ? { result: err.result, detail: err.message }
      : check && !check.ok
        ? check
        : !smtp?.secure
          ? { result: 'starttls-not-supported' as const, detail: `${h.host} offered no STARTTLS` }
          : null;
    this.opts.tlsReport.record({
      ...h.tls.context,
      receivingMxHostname: h.host,
      receivingIp: smtp?.remoteIp ?? null,
      sendingMtaIp: smtp?.localIp ?? null,
      result: failure ? failure.result : 'success',
      ...(failure ? { detail: failure.detail } : {}),
    });
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

/** Calls `done` once the session's socket has closed (SmtpClient has no event for it; `usable` turns false then). */
function whenClosed(smtp: SmtpClient, done: () => void): void {
  if (!smtp.usable) {
    done();
    return;
  }
  let polls = 0;
  const t = setInterval(() => {
    if (smtp.usable && ++polls < CLOSE_POLL_MAX) return;
    clearInterval(t);
    done();
  }, CLOSE_POLL_MS);
  t.unref();
}
