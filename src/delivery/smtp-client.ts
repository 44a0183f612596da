import { connect as netConnect, isIP, type LookupFunction, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { planTransaction } from './transaction-plan.js';
import type { HostTls } from './tls-policy.js';
import { verifyDane, verifyPkix, usableTlsa, type TlsCheck } from './tls-verify.js';
import type { TlsResultType } from './tls-report/session-result.js';

/**
 * The outbound SMTP client session the delivery pool reuses for many messages.
 *
 * Postline first used nodemailer's SMTPConnection here. Profiles of both engine benchmarks put
 * it at about a fifth of the delivery process's CPU (its reply state machine, a stream pipeline
 * with an AbortController per message for dot-stuffing, one socket write per command; see
 * docs/mail-engine.md). A delivery only needs one envelope per transaction, so this client does
 * the minimum: MAIL, RCPT and DATA go out in one write where PIPELINING is offered (RFC 2920),
 * the message is dot-stuffed in one pass over its Buffer and written with the terminator, and
 * replies are parsed line by line as they arrive.
 */

export interface SmtpReply {
  code: number;
  /** The whole reply, every line with its code, joined by "\n" (what logs and classifiers read). */
  text: string;
}

export interface SmtpClientOptions {
  host: string;
  port: number;
  /** Our name in EHLO/HELO. */
  heloName: string;
  /** Upgrade with STARTTLS when offered (opportunistic: certificates are not verified). */
  opportunisticTls: boolean;
  connectionTimeoutMs: number;
  /** RFC 5321 §4.5.3.2: 5 minutes for the greeting. */
  greetingTimeoutMs: number;
  /** RFC 5321 §4.5.3.2: up to 10 minutes for a reply (the end of DATA); commands use the lesser of this and 5 minutes. */
  replyTimeoutMs: number;
  /** A smart host that must be reached over verified TLS (and may want credentials); absent for MX hosts. */
  relay?: RelaySecurity | null;
  /** The receiving domain's TLS policy for this MX host (tls-policy.ts); absent: opportunistic TLS. */
  mxTls?: HostTls | null;
  /** Trust roots for verifying an MX host's certificate (Node's plus POSTLINE_OUTBOUND_CA_FILE); absent: Node's. */
  ca?: string[] | null;
  /** Finds the host's address (dns/connect-lookup.ts); absent: the system's lookup. */
  lookup?: LookupFunction;
}

/**
 * How a smart host is reached: TLS is required (STARTTLS, or implicit TLS from the first byte as
 * on port 465, RFC 8314) and its certificate verified against the host name, so credentials and
 * mail never go to an impostor; then AUTH PLAIN or LOGIN (RFC 4954) when credentials are given.
 */
export interface RelaySecurity {
  tls: 'starttls' | 'implicit';
  /** PEM certificate authorities to trust instead of Node's bundled roots (a private relay's CA). */
  ca: string | null;
  auth: { username: string; password: string } | null;
}

/**
 * The TLS of a delivery: protocol and cipher as negotiated; `verified` when the certificate chains
 * to a trusted root and names the host (Node's check; MX hosts often fail it, which opportunistic
 * TLS accepts); `policy` says whether TLS was required (a smart host) or opportunistic.
 */
export interface TlsOutcome {
  version: string | null;
  cipher: string | null;
  verified: boolean;
  /**
   * required: a smart host's; mta-sts / dane: the receiving domain's policy, enforced;
   * mta-sts-testing: its policy in testing mode (checked and reported, not enforced).
   */
  policy: 'required' | 'opportunistic' | 'mta-sts' | 'mta-sts-testing' | 'dane';
}

function tlsOutcomeOf(socket: TLSSocket, policy: TlsOutcome['policy'], verified = socket.authorized): TlsOutcome {
  return { version: socket.getProtocol() ?? null, cipher: socket.getCipher()?.name ?? null, verified, policy };
}

/** The policy a host's TLS is held to, as the Delivered event names it. */
const policyName = (t: HostTls): TlsOutcome['policy'] => (t.kind === 'dane' ? 'dane' : t.enforce ? 'mta-sts' : 'mta-sts-testing');
/** Whether a policy requires TLS: DANE always, MTA-STS in enforce mode. */
const tlsRequired = (t: HostTls): boolean => t.kind === 'dane' || t.enforce;

/** The session cannot continue: network error, timeout, TLS failure or a reply out of protocol. */
export class SmtpSessionError extends Error {
  constructor(
    message: string,
    readonly reply: SmtpReply | null = null,
  ) {
    super(message);
    this.name = 'SmtpSessionError';
  }
}

/** The host did not meet its domain's TLS policy (no STARTTLS, a certificate that does not verify): nothing was sent. */
export class TlsPolicyError extends SmtpSessionError {
  constructor(
    message: string,
    /** The RFC 8460 result type, for TLS-RPT. */
    readonly result: Exclude<TlsResultType, 'success'>,
  ) {
    super(message);
    this.name = 'TlsPolicyError';
  }
}

export type TransactionResult =
  | { kind: 'accepted'; reply: SmtpReply }
  /**
   * The server refused the envelope or the message; the session is still usable after reset().
   * Stage `local`: refused here before anything was sent (transaction-plan.ts), with the reply
   * Postline gives in the server's place; the session needs no reset.
   */
  | { kind: 'rejected'; reply: SmtpReply; stage: 'MAIL' | 'RCPT' | 'DATA' | 'message' | 'local' };

const COMMAND_TIMEOUT_CAP_MS = 5 * 60_000;
/** Replies longer than this are not SMTP; the peer is cut off rather than buffered without end. */
const MAX_REPLY_BYTES = 64 * 1024;

interface Waiter {
  resolve: (r: SmtpReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class SmtpClient {
  private socket: Socket;
  private pending = '';
  private lines: string[] = [];
  private waiters: Waiter[] = [];
  private failure: Error | null = null;
  private extensions = new Map<string, string>();
  /** What the TLS session came to, once there is one (recorded on the Delivered event). */
  tls: TlsOutcome | null = null;
  /** The policy check of the certificate, for a host with a TLS policy (a testing-mode failure is kept here, not thrown). */
  tlsCheck: TlsCheck | null = null;
  /** True once the session is encrypted (implicit TLS, or STARTTLS succeeded). */
  get secure(): boolean {
    return this.tls !== null;
  }
  /**
   * The local address of the connection (the sending IP the receiver sees, SocketLabs' LocalIp),
   * taken when connected: it does not change with STARTTLS. IPv4-mapped IPv6 is given as IPv4.
   */
  readonly localIp: string | null;

  private constructor(
    socket: Socket,
    private readonly opts: SmtpClientOptions,
  ) {
    this.socket = socket;
    this.localIp = socket.localAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '') ?? null;
    this.attach(socket);
  }

  /**
   * Connects, reads the greeting, says EHLO (HELO if refused) and upgrades to TLS when offered.
   * A greeting or EHLO/HELO refusal throws SmtpSessionError carrying the reply.
   */
  static async open(opts: SmtpClientOptions): Promise<SmtpClient> {
    const implicitTls = opts.relay?.tls === 'implicit';
    const socket = await new Promise<Socket>((resolve, reject) => {
      const lookup = opts.lookup ? { lookup: opts.lookup } : {};
      const s = implicitTls ? tlsConnect({ port: opts.port, ...lookup, ...verifiedTls(opts) }) : netConnect({ host: opts.host, port: opts.port, ...lookup });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new SmtpSessionError(`connection timed out after ${opts.connectionTimeoutMs} ms`));
      }, opts.connectionTimeoutMs);
      s.once(implicitTls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new SmtpSessionError(implicitTls ? `TLS handshake failed: ${e.message}` : e.message));
      });
    });
    socket.setNoDelay(true);
    const client = new SmtpClient(socket, opts);
    if (implicitTls) client.tls = tlsOutcomeOf(socket as TLSSocket, 'required');
    try {
      const greeting = await client.read(opts.greetingTimeoutMs, 'greeting');
      if (greeting.code !== 220) throw new SmtpSessionError(`refused at greeting: ${greeting.text}`, greeting);
      await client.hello();
      if (opts.relay && !client.secure) {
        // Required, not opportunistic: a relay that does not offer it (or a man in the middle that
        // strips it) gets nothing. No reply is attached: this defers the mail, never fails it.
        if (!client.extensions.has('STARTTLS')) throw new SmtpSessionError('the smart host does not offer STARTTLS, which is required to reach it');
        const r = await client.command('STARTTLS');
        if (r.code !== 220) throw new SmtpSessionError(`the smart host refused STARTTLS: ${r.text}`);
        await client.upgrade();
        await client.hello();
      } else if (opts.mxTls && tlsRequired(opts.mxTls)) {
        // The domain's policy requires TLS: without it nothing is sent (the mail waits; never in the clear).
        const policy = opts.mxTls.kind === 'dane' ? 'DANE' : 'MTA-STS';
        if (!client.extensions.has('STARTTLS'))
          throw new TlsPolicyError(`${opts.host} does not offer STARTTLS, which its domain's ${policy} policy requires`, 'starttls-not-supported');
        const r = await client.command('STARTTLS');
        if (r.code !== 220)
          throw new TlsPolicyError(`${opts.host} refused STARTTLS, which its domain's ${policy} policy requires: ${r.text}`, 'starttls-not-supported');
        await client.upgrade();
        await client.hello();
      } else if (opts.opportunisticTls && client.extensions.has('STARTTLS')) {
        const r = await client.command('STARTTLS');
        if (r.code === 220) {
          await client.upgrade();
          await client.hello();
        }
      }
      if (opts.relay?.auth) await client.authenticate(opts.relay.auth);
      return client;
    } catch (err) {
      client.destroy();
      throw err;
    }
  }

  /** The server said it supports this EHLO keyword (upper case, e.g. "PIPELINING"). */
  supports(keyword: string): boolean {
    return this.extensions.has(keyword);
  }

  get usable(): boolean {
    return this.failure === null && !this.socket.destroyed;
  }

  /**
   * One transaction: one sender, one recipient, one message (CRLF line ends). Refusals come back
   * as values; only a broken session throws.
   */
  async send(from: string, to: string, message: Buffer): Promise<TransactionResult> {
    const plan = planTransaction({ from, to }, message, {
      size: this.extensions.has('SIZE'),
      eightBitMime: this.extensions.has('8BITMIME'),
      smtpUtf8: this.extensions.has('SMTPUTF8'),
    });
    if (!plan.ok) return { kind: 'rejected', reply: { code: plan.code, text: `${plan.code} ${plan.reply}` }, stage: 'local' };
    const params = plan.mailParams;
    const mail = `MAIL FROM:<${plan.from}>${params.length ? ' ' + params.join(' ') : ''}`;
    const rcpt = `RCPT TO:<${plan.to}>`;
    const commandMs = Math.min(this.opts.replyTimeoutMs, COMMAND_TIMEOUT_CAP_MS);
    let mailReply: SmtpReply, rcptReply: SmtpReply, dataReply: SmtpReply;
    if (this.extensions.has('PIPELINING')) {
      this.write(`${mail}\r\n${rcpt}\r\nDATA\r\n`);
      const settled = await Promise.allSettled([this.read(commandMs, 'MAIL'), this.read(commandMs, 'RCPT'), this.read(commandMs, 'DATA')]);
      // A server that refuses MAIL or RCPT with 421 closes the connection (RFC 5321 §3.8) before
      // answering the rest: its reply is the outcome (a slow-down, a busy server), not the
      // closed connection that follows it.
      const stages = ['MAIL', 'RCPT', 'DATA'] as const;
      const firstRefusal = settled.findIndex((r) => r.status === 'fulfilled' && !isPositive(r.value));
      const firstFailure = settled.findIndex((r) => r.status === 'rejected');
      if (firstFailure >= 0) {
        if (firstRefusal >= 0 && firstRefusal < firstFailure)
          return { kind: 'rejected', reply: (settled[firstRefusal] as PromiseFulfilledResult<SmtpReply>).value, stage: stages[firstRefusal]! };
        throw (settled[firstFailure] as PromiseRejectedResult).reason;
      }
      [mailReply, rcptReply, dataReply] = settled.map((r) => (r as PromiseFulfilledResult<SmtpReply>).value) as [SmtpReply, SmtpReply, SmtpReply];
    } else {
      mailReply = await this.command(mail, commandMs);
      if (!isPositive(mailReply)) return { kind: 'rejected', reply: mailReply, stage: 'MAIL' };
      rcptReply = await this.command(rcpt, commandMs);
      if (!isPositive(rcptReply)) return { kind: 'rejected', reply: rcptReply, stage: 'RCPT' };
      dataReply = await this.command('DATA', commandMs);
    }
    const refused = !isPositive(mailReply)
      ? { reply: mailReply, stage: 'MAIL' as const }
      : !isPositive(rcptReply)
        ? { reply: rcptReply, stage: 'RCPT' as const }
        : null;
    if (dataReply.code === 354) {
      if (refused) {
        // RFC 2920 says DATA must fail without a valid recipient; a server that said 354 anyway
        // gets an empty message, which it must refuse too, and the session stays in step.
        this.write('.\r\n');
        await this.read(this.opts.replyTimeoutMs, 'end of DATA');
        return { kind: 'rejected', ...refused };
      }
    } else {
      return { kind: 'rejected', ...(refused ?? { reply: dataReply, stage: 'DATA' as const }) };
    }
    this.socket.write(dotStuff(message));
    const final = await this.read(this.opts.replyTimeoutMs, 'end of DATA');
    return isPositive(final) ? { kind: 'accepted', reply: final } : { kind: 'rejected', reply: final, stage: 'message' };
  }

  /** RSET after a refused transaction; false when the session should be dropped instead. */
  async reset(): Promise<boolean> {
    try {
      return isPositive(await this.command('RSET'));
    } catch {
      return false;
    }
  }

  /** QUIT politely and close; never throws. */
  quit(): void {
    if (!this.usable) {
      this.destroy();
      return;
    }
    this.write('QUIT\r\n');
    this.socket.end();
    const t = setTimeout(() => this.destroy(), 5_000);
    t.unref();
  }

  destroy(): void {
    this.fail(new SmtpSessionError('session closed'));
    this.socket.destroy();
  }

  private async hello(): Promise<void> {
    const ehlo = await this.command(`EHLO ${this.opts.heloName}`);
    this.extensions.clear();
    if (ehlo.code === 250) {
      for (const line of ehlo.text.split('\n').slice(1)) {
        const [keyword, ...rest] = line.slice(4).trim().split(/\s+/);
        if (keyword) this.extensions.set(keyword.toUpperCase(), rest.join(' '));
      }
      return;
    }
    const helo = await this.command(`HELO ${this.opts.heloName}`);
    if (helo.code !== 250) throw new SmtpSessionError(`refused at HELO: ${helo.text}`, helo);
  }

  /**
   * AUTH PLAIN where offered, else AUTH LOGIN (RFC 4954). A refusal throws without a reply, so the
   * mail is deferred (wrong credentials are the operator's to fix) rather than failed.
   */
  private async authenticate(auth: { username: string; password: string }): Promise<void> {
    const offered = new Set((this.extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/));
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    let r: SmtpReply;
    if (offered.has('PLAIN')) {
      r = await this.command(`AUTH PLAIN ${b64(`\u0000${auth.username}\u0000${auth.password}`)}`, undefined, 'AUTH PLAIN');
    } else if (offered.has('LOGIN')) {
      r = await this.command('AUTH LOGIN');
      if (r.code === 334) r = await this.command(b64(auth.username), undefined, 'AUTH LOGIN username');
      if (r.code === 334) r = await this.command(b64(auth.password), undefined, 'AUTH LOGIN password');
    } else {
      throw new SmtpSessionError(`the smart host offers no AUTH mechanism Postline speaks (PLAIN, LOGIN): ${this.extensions.get('AUTH') ?? 'no AUTH at all'}`);
    }
    if (r.code !== 235) throw new SmtpSessionError(`the smart host refused the credentials: ${r.text}`);
  }

  private async upgrade(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('error');
    plain.removeAllListeners('close');
    const secured = await new Promise<Socket>((resolve, reject) => {
      const s = tlsConnect({
        socket: plain,
        // A smart host's certificate is verified by the handshake. An MX host's handshake accepts
        // any certificate: opportunistic TLS (RFC 7435) encrypts regardless, and a policy's check
        // runs after it (checkPolicy), so its failure can be told apart and reported.
        ...(this.opts.relay
          ? verifiedTls(this.opts)
          : {
              servername: isIP(this.opts.host) ? undefined : this.opts.host,
              rejectUnauthorized: false,
              ...(this.opts.mxTls && this.opts.ca ? { ca: this.opts.ca } : {}),
            }),
      });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new SmtpSessionError('TLS handshake timed out'));
      }, this.opts.connectionTimeoutMs);
      s.once('secureConnect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new SmtpSessionError(`TLS handshake failed: ${e.message}`));
      });
    });
    this.socket = secured;
    this.attach(secured);
    const mxTls = this.opts.relay ? null : this.opts.mxTls;
    if (!mxTls) {
      this.tls = tlsOutcomeOf(secured as TLSSocket, this.opts.relay ? 'required' : 'opportunistic');
      return;
    }
    const check = checkPolicy(secured as TLSSocket, this.opts.host, mxTls);
    this.tlsCheck = check;
    this.tls = tlsOutcomeOf(secured as TLSSocket, policyName(mxTls), check.ok && !(mxTls.kind === 'dane' && !mxTls.tlsa.some(usableTlsa)));
    if (!check.ok && tlsRequired(mxTls))
      throw new TlsPolicyError(`${check.detail} (${policyName(mxTls) === 'dane' ? 'DANE' : 'MTA-STS'} policy of ${mxTls.context.policyDomain})`, check.result);
  }

  /** The remote address of the connection (the receiving IP, for TLS-RPT). */
  get remoteIp(): string | null {
    return this.socket.remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '') ?? null;
  }

  private attach(socket: Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (e) => this.fail(new SmtpSessionError(e.message)));
    socket.on('close', () => this.fail(new SmtpSessionError('connection closed by the server')));
  }

  /** `what` names the command in a timeout message (default its verb; given where the line holds a secret). */
  private command(line: string, timeoutMs = Math.min(this.opts.replyTimeoutMs, COMMAND_TIMEOUT_CAP_MS), what = line.split(' ')[0]!): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.read(timeoutMs, what);
  }

  private write(data: string): void {
    if (this.failure) return; // the read that follows reports the failure
    this.socket.write(data, 'utf8'); // addresses may be UTF-8 (SMTPUTF8, only where offered: transaction-plan.ts)
  }

  /** The next complete reply, in order; several reads may wait at once (pipelining). */
  private read(timeoutMs: number, what: string): Promise<SmtpReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new SmtpSessionError(`timed out after ${timeoutMs} ms waiting for the reply to ${what}`);
        this.fail(err);
        this.socket.destroy();
      }, timeoutMs);
      this.waiters.push({ resolve, reject, timer });
    });
  }

  private onData(chunk: string): void {
    this.pending += chunk;
    if (this.pending.length > MAX_REPLY_BYTES) {
      this.fail(new SmtpSessionError('reply too long'));
      this.socket.destroy();
      return;
    }
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl).replace(/\r$/, '');
      this.pending = this.pending.slice(nl + 1);
      this.lines.push(line);
      if (line.length >= 4 && line[3] === '-') continue; // more lines of this reply follow
      const code = Number(line.slice(0, 3));
      const text = this.lines.join('\n');
      this.lines = [];
      if (!(code >= 200 && code <= 599)) {
        this.fail(new SmtpSessionError(`not an SMTP reply: ${JSON.stringify(line.slice(0, 200))}`));
        this.socket.destroy();
        return;
      }
      const w = this.waiters.shift();
      if (!w) {
        // A reply nobody asked for (e.g. 421 before closing): the session is out of step.
        this.fail(new SmtpSessionError(`unexpected reply: ${text}`, { code, text }));
        this.socket.destroy();
        return;
      }
      clearTimeout(w.timer);
      w.resolve({ code, text });
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.failure);
    }
  }
}

const isPositive = (r: SmtpReply): boolean => r.code >= 200 && r.code < 400;

/** What the host's certificate proves under its policy: WebPKI for MTA-STS, TLSA for DANE (with no usable TLSA record, encryption is all DANE asks). */
function checkPolicy(socket: TLSSocket, host: string, policy: HostTls): TlsCheck {
  if (policy.kind === 'mta-sts') return verifyPkix(socket, host);
  return policy.tlsa.some(usableTlsa) ? verifyDane(socket, host, policy.tlsa) : { ok: true };
}

/** TLS options that verify the peer: its certificate chains to `ca` (or Node's roots) and names the host. */
function verifiedTls(opts: SmtpClientOptions) {
  return {
    // The name the certificate must carry (checked against its IP SANs when the host is an address).
    host: opts.host,
    servername: isIP(opts.host) ? undefined : opts.host,
    rejectUnauthorized: true,
    ...(opts.relay?.ca ? { ca: opts.relay.ca } : {}),
  };
}

const CRLF_DOT = Buffer.from('\r\n.');
const TERMINATOR = Buffer.from('.\r\n');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n');

/**
 * The message as DATA carries it (RFC 5321 §4.5.2): a line starting with "." gets a second one,
 * and the terminator follows. The input has CRLF line ends (composed here, or normalised at
 * submission). Most messages have no such line, and then nothing is copied but the terminator.
 */
export function dotStuff(message: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  if (message[0] === 0x2e) parts.push(Buffer.from('.'));
  let i = message.indexOf(CRLF_DOT, 0);
  while (i >= 0) {
    parts.push(message.subarray(from, i + 2), Buffer.from('.'));
    from = i + 2;
    i = message.indexOf(CRLF_DOT, i + 3);
  }
  parts.push(message.subarray(from));
  const endsWithCrlf = message.length >= 2 && message[message.length - 2] === 0x0d && message[message.length - 1] === 0x0a;
  parts.push(endsWithCrlf ? TERMINATOR : CRLF_TERMINATOR);
  return Buffer.concat(parts);
}
