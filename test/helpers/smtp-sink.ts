import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SunkMessage {
  mailFrom: string;
  rcptTo: string[];
  data: Buffer;
  secure: boolean;
  host: string;
  /** MAIL FROM parameters as smtp-server parsed them, e.g. { SIZE: '123', BODY: '8BITMIME', SMTPUTF8: true }. */
  mailArgs: Record<string, string | true>;
}

/**
 * A real SMTP server on loopback standing in for recipients' MX hosts. Its answers are scripted
 * by the recipient's local part:
 *   permfail…@      RCPT answered 550 5.1.1 (unknown user)
 *   tempfail…@      RCPT answered 451 4.7.1 (greylisted), always
 *   tempfail-once…@ 451 the first time, accepted after that
 *   datafail…@      accepted at RCPT, the message refused with 554 5.7.1 at the end of DATA
 *   anything else   accepted
 */
export interface SmtpSink {
  port: number;
  host: string;
  messages: SunkMessage[];
  connections: number;
  /**
   * MAIL FROM and RCPT TO lines as the client sent them (UTF-8), from connections without TLS:
   * smtp-server turns A-label domains into U-labels before its callbacks see them.
   */
  envelopeLines: string[];
  /** Connections open now and the most open at once (shared when the options gave one gauge to several sinks). */
  gauge: ConnectionGauge;
  /** When set, answers the end of DATA in place of the script above (e.g. 421 to stand for a provider asking to slow down). */
  dataReply: ((rcptTo: string[]) => { code: number; message: string } | null) | null;
  close(): Promise<void>;
}

export interface ConnectionGauge {
  open: number;
  peak: number;
}

export interface SmtpSinkOptions {
  host?: string;
  port?: number;
  starttls?: boolean;
  /** Advertise 8BITMIME (default true). */
  eightBitMime?: boolean;
  /** Advertise SMTPUTF8 (default true). */
  smtpUtf8?: boolean;
  /** Count open connections here: several sinks standing for one provider's MX hosts may share one. */
  gauge?: ConnectionGauge;
  /** The STARTTLS certificate (default smtp-server's own self-signed one, which no client can verify). */
  tls?: { key: string; cert: string };
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = opts.host ?? '127.0.0.1';
  const seen = new Set<string>();
  const sink: SmtpSink = {
    port: 0,
    host,
    messages: [],
    connections: 0,
    envelopeLines: [],
    gauge: opts.gauge ?? { open: 0, peak: 0 },
    dataReply: null,
    close: async () => undefined,
  };
  const server = new SMTPServer({
    ...(opts.tls ?? {}),
    hide8BITMIME: opts.eightBitMime === false,
    hideSMTPUTF8: opts.smtpUtf8 === false,
    authOptional: true,
    disabledCommands: opts.starttls === false ? ['AUTH', 'STARTTLS'] : ['AUTH'],
    disableReverseLookup: true,
    logger: false,
    size: 50 * 1024 * 1024,
    onConnect(_session, cb) {
      sink.connections++;
      sink.gauge.open++;
      sink.gauge.peak = Math.max(sink.gauge.peak, sink.gauge.open);
      cb();
    },
    // smtp-server's own notice: a raw socket's 'close' is not seen once STARTTLS has wrapped it.
    onClose() {
      sink.gauge.open--;
    },
    onRcptTo(address, _session, cb) {
      const local = address.address.split('@')[0]!.toLowerCase();
      if (local.startsWith('permfail'))
        return cb(
          Object.assign(new Error('5.1.1 <' + address.address + '>: Recipient address rejected: User unknown in virtual mailbox table'), { responseCode: 550 }),
        );
      if (local.startsWith('tempfail-once')) {
        if (!seen.has(address.address)) {
          seen.add(address.address);
          return cb(
            Object.assign(new Error('4.7.1 <' + address.address + '>: Recipient address rejected: Greylisted, please try again'), { responseCode: 451 }),
          );
        }
        return cb();
      }
      if (local.startsWith('tempfail')) return cb(Object.assign(new Error('4.7.1 Greylisted, please try again'), { responseCode: 451 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      // slow*: a destination that takes a quarter second to accept each message.
      const slow = session.envelope.rcptTo.some((r) => r.address.toLowerCase().startsWith('slow'));
      stream.on('end', () =>
        setTimeout(
          () => {
            const rcptTo = session.envelope.rcptTo.map((r) => r.address);
            const scripted = sink.dataReply?.(rcptTo);
            if (scripted) return cb(Object.assign(new Error(scripted.message), { responseCode: scripted.code }));
            if (rcptTo.some((a) => a.toLowerCase().startsWith('datafail'))) {
              return cb(Object.assign(new Error('5.7.1 Message rejected as spam by Content Filtering'), { responseCode: 554 }));
            }
            const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            const mailArgs = (session.envelope.mailFrom ? session.envelope.mailFrom.args : false) || {};
            sink.messages.push({ mailFrom, rcptTo, data: Buffer.concat(chunks), secure: session.secure, host, mailArgs });
            cb(null, '2.0.0 Ok: queued');
          },
          slow ? 250 : 0,
        ),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  // A client that dies mid-session (the crash test kills Postline) is normal here, not a test failure.
  server.on('error', () => undefined);
  server.server.on('connection', (socket: Socket) => {
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const lines = pending.split('\r\n');
      pending = lines.pop()!;
      for (const l of lines) if (/^(MAIL FROM|RCPT TO):/i.test(l)) sink.envelopeLines.push(Buffer.from(l, 'latin1').toString('utf8'));
      if (pending.length > 4096) pending = ''; // message data, not a command
    });
  });
  const addr = server.server.address();
  sink.port = typeof addr === 'object' && addr ? addr.port : 0;
  sink.close = () => new Promise<void>((r) => server.close(() => r()));
  return sink;
}
