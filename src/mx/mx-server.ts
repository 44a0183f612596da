/**
 * The MX listener (role smtp, POSTLINE_MX_PORT): the internet's mail for the bounce domain, i.e.
 * asynchronous bounces (DSNs and plain non-delivery reports) to the Return-Path b+<id>-<tag>@,
 * and feedback-loop complaints (ARF) to the complaint address. A report acts only on a recipient
 * it proves with a valid tag (process-report.ts); any other is logged as mx.report_forged. No AUTH; STARTTLS with the submission
 * certificate; RCPT only for Postline's own mailboxes (recipient-policy.ts). Each message is
 * processed at the end of DATA and answered 250 only after what it caused is committed; a report
 * that means nothing to us is still answered 250 (a bounce is never bounced) and logged.
 * It also takes mail for the domains and addresses customers route (src/inbound/): stored, one
 * post per routed recipient, before the 250, and posted by the webhooks role.
 */
import type { AddressInfo } from 'node:net';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { smtpServerClass } from '../patches/smtp-server.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../core/log.js';
import type { Store } from '../store/store.js';
import { loadOrCreateTlsCredentials } from '../smtp/tls.js';
import { decideMailFrom, decideMessageSize, type Decision } from '../smtp/session-policy.js';
import { decideMxRcpt, mailboxFor, mxAddressesOf } from './recipient-policy.js';
import { collectData } from '../smtp/collect-data.js';
import { processReport, type ProcessedReport } from './process-report.js';
import { isForgery } from './report-plan.js';
import type { VerpKeyring } from '../core/verp.js';
import { loadVerpKeyring } from '../bounce/verp-keys.js';
import type { InboundRouteTable } from '../inbound/route-table.js';
import { InboundAcceptor, type RoutedRecipient } from '../inbound/accept.js';
import { DISK_FULL_SMTP_REPLY, isDiskFull } from '../store/disk-full.js';

export interface MxMetrics {
  inboundReport(kind: string, outcome: string): void;
  /** A message for routed recipients was stored (src/inbound/). */
  inboundAccepted?(recipients: number, bytes: number): void;
}

export interface MxDeps {
  config: Config;
  log: Logger;
  store: Store;
  now: () => number;
  metrics?: MxMetrics;
  /** Verified custom bounce domains (custom-domains/cache.ts), accepted like the bounce domain. */
  customBounceDomains?: { isBounceDomain(domain: string): boolean };
  /** The keys that verify trace tags (bounce/verp-keys.ts); loaded from the store when not given. */
  verp?: VerpKeyring;
  /** Inbound routing: whose domains and addresses this listener also takes, and who to wake when one is stored. */
  inbound?: { routes: InboundRouteTable; onStored?: () => void };
}

export interface MxServer {
  /** Bound port (useful with port 0). */
  port: number;
  /** Stops accepting, lets reports being recorded finish (their replies are sent), closes the rest. */
  close(): Promise<void>;
}

type SmtpError = Error & { responseCode: number };
const smtpError = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code });
const refusal = (d: Extract<Decision, { ok: false }>): SmtpError => smtpError(d.code, d.message);

export async function startMxServer(deps: MxDeps): Promise<MxServer> {
  const { config: cfg, log, store } = deps;
  const custom = deps.customBounceDomains;
  const addresses = { ...mxAddressesOf(cfg), ...(custom ? { isCustomBounceDomain: (d: string) => custom.isBounceDomain(d) } : {}) };
  const credentials = loadOrCreateTlsCredentials(cfg, deps.now());
  const verp = deps.verp ?? (await loadVerpKeyring(store));
  const inflight = new Set<Promise<unknown>>();
  const greetingTimers = new Set<NodeJS.Timeout>();
  const greetingDelay = cfg.smtpGreetingDelayMs;
  let stopped = false;

  const who = (s: SMTPServerSession) => ({ sessionId: s.id, remoteAddress: s.remoteAddress });
  const rejected = (s: SMTPServerSession, stage: string, err: SmtpError): SmtpError => {
    log.info({ event: 'mx.rejected', stage, code: err.responseCode, reply: err.message, ...who(s) }, 'mx command refused');
    return err;
  };

  const server = new (smtpServerClass())({
    name: cfg.hostname,
    banner: 'Postline',
    key: credentials.key,
    cert: credentials.cert,
    disabledCommands: ['AUTH'],
    authOptional: true,
    size: cfg.mxMaxMessageBytes,
    disableReverseLookup: !cfg.smtpReverseDns,
    hideENHANCEDSTATUSCODES: true,
    logger: false,

    onConnect(_session, callback) {
      // The configured pause, none by default (src/patches/smtp-server.ts removes the library's).
      if (greetingDelay === 0) return callback();
      const t = setTimeout(() => {
        greetingTimers.delete(t);
        callback();
      }, greetingDelay);
      greetingTimers.add(t);
    },
    onMailFrom(address, session, callback) {
      // DSNs come from the null reverse-path (<>), which passes.
      const d = decideMailFrom(address.address);
      callback(d.ok ? undefined : rejected(session, 'mail', refusal(d)));
    },
    onRcptTo(address, session, callback) {
      const key = address.address.toLowerCase();
      routeOf(address.address).then(
        (route) => {
          const d = decideMxRcpt({
            address: address.address,
            book: addresses,
            recipientCount: session.envelope.rcptTo.length,
            alreadyListed: session.envelope.rcptTo.some((r) => r.address.toLowerCase() === key),
            route,
          });
          callback(d.ok ? undefined : rejected(session, 'rcpt', refusal(d)));
        },
        (err: unknown) => {
          log.error({ event: 'mx.internal_error', stage: 'rcpt', err, ...who(session) }, 'inbound routes could not be read');
          callback(smtpError(451, '4.3.0 Temporary failure; try again later'));
        },
      );
    },
    onData(stream, session, callback) {
      receive(stream, session, callback);
    },
  });
  /** The inbound route an address reaches; none for Postline's own mailboxes, which come first. */
  async function routeOf(address: string) {
    if (!deps.inbound || mailboxFor(address, addresses) !== null) return null;
    return deps.inbound.routes.lookup(address);
  }

  server.on('error', (err: Error) => log.debug({ event: 'mx.connection_error', err: err.message }, 'mx connection error'));

  /** Reads DATA into memory up to the SIZE limit, then records the report before answering. */
  function receive(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const limit = cfg.mxMaxMessageBytes;
    collectData(stream, limit, (data, received) => {
      if (stopped) return callback(smtpError(421, '4.3.2 Service shutting down; try again later'));
      const size = decideMessageSize({ receivedBytes: received, limit });
      if (!size.ok) return callback(rejected(session, 'data', refusal(size)));
      const all = session.envelope.rcptTo.map((r) => r.address);
      // Reports first: recording one again is harmless (already-failed, duplicate), so a failure of
      // the inbound commit after it can be answered 451 and retried whole.
      const work = splitRecipients(all)
        .then(async ({ rcptTo, routed }) => {
          let reply = '2.0.0 Ok';
          if (rcptTo.length > 0 || routed.length === 0) {
            const r = await processReport(data, { rcptTo }, { store, now: deps.now, addresses, verp }).catch((err: unknown) => {
              deps.metrics?.inboundReport('unknown', 'error');
              throw err;
            });
            deps.metrics?.inboundReport(r.kind, r.outcome);
            logOutcome(r, rcptTo, received, session);
            if (r.outcome === 'recorded') reply = '2.0.0 Ok: report recorded';
          }
          if (routed.length > 0) {
            const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            const id = await acceptor.accept(data, { mailFrom, remoteIp: session.remoteAddress, heloName: session.hostNameAppearsAs || null, routed });
            log.info(
              {
                event: 'mx.inbound_stored',
                inboundMessageId: id,
                rcptTo: routed.map((r) => r.rcptTo),
                routeIds: routed.map((r) => r.route.id),
                bytes: received,
                ...who(session),
              },
              'inbound message stored',
            );
            reply = `2.0.0 Ok: queued as ${id}`;
          }
          callback(null, reply);
        })
        .catch((err: unknown) => {
          // Logged once as store.disk_full; the sending server keeps the message and retries.
          if (isDiskFull(err)) return callback(rejected(session, 'data', smtpError(452, DISK_FULL_SMTP_REPLY)));
          log.error({ event: 'mx.internal_error', stage: 'record', err, rcptTo: all, ...who(session) }, 'mx message not recorded');
          callback(smtpError(451, '4.3.0 Temporary failure; try again later'));
        });
      inflight.add(work);
      void work.finally(() => inflight.delete(work));
    });
  }

  const acceptor = new InboundAcceptor({ store, now: deps.now, onStored: deps.inbound?.onStored, metrics: deps.metrics });

  /** Postline's own mailboxes (reports) and routed recipients, each with the route it reaches now. */
  async function splitRecipients(all: string[]): Promise<{ rcptTo: string[]; routed: RoutedRecipient[] }> {
    const rcptTo: string[] = [];
    const routed: RoutedRecipient[] = [];
    for (const a of all) {
      const route = await routeOf(a);
      // Accepted at RCPT, so stored even if its route was disabled since (it waits to be enabled);
      // a route deleted since leaves nobody to post to.
      if (route) routed.push({ rcptTo: a, route });
      else if (mailboxFor(a, addresses) !== null) rcptTo.push(a);
      else log.warn({ event: 'mx.route_gone', rcptTo: a }, 'route of an accepted recipient went away before DATA ended');
    }
    return { rcptTo, routed };
  }

  function logOutcome(r: ProcessedReport, rcptTo: string[], bytes: number, session: SMTPServerSession): void {
    const fields = { kind: r.kind, outcome: r.outcome, recipientId: r.recipientId, tracedVia: r.tracedVia, rcptTo, bytes, ...who(session) };
    if (isForgery(r.outcome)) {
      log.warn({ event: 'mx.report_forged', reason: r.outcome, ...fields }, 'inbound report not proven for the recipient it names; nothing recorded');
    } else if (r.outcome === 'recorded') {
      log.info({ event: 'mx.recorded', eventType: r.eventType, serverId: r.serverId, messageId: r.messageId, ...fields }, 'inbound report recorded');
    } else {
      log.info({ event: 'mx.ignored', reason: r.outcome, ...fields }, 'inbound message accepted, nothing recorded');
    }
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(cfg.mxPort, cfg.smtpHost, () => {
      server.server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
  log.info({ event: 'mx.listening', port, bounceDomain: addresses.bounceDomain, complaintAddress: addresses.complaintAddress }, 'mx listening');

  let closing: Promise<void> | null = null;
  return {
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((r) => server.close(() => r()));
        greetingTimers.forEach(clearTimeout);
        greetingTimers.clear();
        while (inflight.size > 0) await Promise.allSettled([...inflight]);
        await acceptor.close();
        stopped = true;
        for (const c of server.connections) {
          c.send(421, '4.3.2 Service shutting down; try again later');
          c.close();
        }
        await closed;
        log.info({ event: 'mx.stopped' }, 'mx stopped');
      })();
      return closing;
    },
  };
}
