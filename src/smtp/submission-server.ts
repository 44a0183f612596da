/**
 * The SMTP submission (relay) listener: senders AUTH with username = ServerId and password = an
 * injection key (or connect from a trusted network), and each message they submit goes through
 * the same accept path as the Injection API: one NewMessage, committed by the shared group
 * committer. `250` is sent only after that commit, so an accepted message is on disk (RFC 5321
 * section 6.1). Policy lives in session-policy.ts; this file wires it to smtp-server.
 */
import type { AddressInfo } from 'node:net';
import type { SMTPServer, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { smtpServerClass } from '../patches/smtp-server.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../core/log.js';
import type { AcceptOutcome, AcceptUnit, Store } from '../store/store.js';
import type { GroupCommitter } from '../store/group-commit.js';
import { authenticate } from '../accept/authenticate.js';
import { AuthThrottle } from '../accept/auth-throttle.js';
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS } from '../core/limits.js';
import { buildSmtpMessage } from './mime-accept.js';
import { unverifiedFromMessage, type VerifiedDomains } from '../domains/verified-domains.js';
import { domainOf } from '../core/address.js';
import { loadOrCreateTlsCredentials } from './tls.js';
import { collectData } from './collect-data.js';
import { DISK_FULL_SMTP_REPLY, isDiskFull } from '../store/disk-full.js';
import {
  decideAuth,
  decideMailFrom,
  decideMessageSize,
  decideRcpt,
  parseServerIdUsername,
  parseTrustedNetworks,
  trustedServerFor,
  type Decision,
  type Principal,
} from './session-policy.js';

export interface SubmissionDeps {
  config: Config;
  log: Logger;
  store: Store;
  committer: GroupCommitter<AcceptUnit, AcceptOutcome>;
  now: () => number;
  /** The verified-From rule (domains/verified-domains.ts); absent: not enforced. */
  verifiedFrom?: VerifiedDomains;
}

export interface SubmissionServer {
  /** Bound STARTTLS submission port (useful with port 0). */
  port: number;
  /** Bound implicit-TLS port, or null when submissionTlsPort is unset. */
  tlsPort: number | null;
  /** Stops accepting, waits for commits in flight (their 250s are sent), then closes the sessions left. */
  close(): Promise<void>;
}

/** What onAuth stores as session.user. */
interface SessionUser {
  serverId: number;
  keyId: number;
}

type SmtpError = Error & { responseCode: number };
function smtpError(code: number, message: string): SmtpError {
  return Object.assign(new Error(message), { responseCode: code });
}
const refusal = (d: Extract<Decision, { ok: false }>): SmtpError => smtpError(d.code, d.message);

export async function startSubmissionServer(deps: SubmissionDeps): Promise<SubmissionServer> {
  const { config: cfg, log, store, committer } = deps;
  const networks = parseTrustedNetworks(cfg.trustedNetworks);
  const credentials = loadOrCreateTlsCredentials(cfg, deps.now());
  const throttle = new AuthThrottle(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS);
  const inflight = new Set<Promise<unknown>>();
  const greetingTimers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const principalOf = (session: SMTPServerSession): Principal | null => {
    const user = session.user as SessionUser | undefined;
    if (user) return { serverId: user.serverId, via: 'auth' };
    const trusted = trustedServerFor(session.remoteAddress, networks);
    return trusted === null ? null : { serverId: trusted, via: 'trusted' };
  };
  const who = (s: SMTPServerSession) => ({ sessionId: s.id, remoteAddress: s.remoteAddress });
  const rejected = (s: SMTPServerSession, stage: string, err: SmtpError): SmtpError => {
    log.info({ event: 'smtp.rejected', stage, code: err.responseCode, reply: err.message, ...who(s) }, 'smtp command refused');
    return err;
  };
  const greetingDelay = cfg.smtpGreetingDelayMs;

  const options: SMTPServerOptions = {
    name: cfg.hostname,
    banner: 'Postline',
    key: credentials.key,
    cert: credentials.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    // AUTH is optional at the protocol level because trusted networks send without it; the
    // session policy refuses every RCPT of a session that is neither authenticated nor trusted.
    authOptional: true,
    allowInsecureAuth: cfg.allowInsecureAuth,
    size: cfg.smtpMaxMessageBytes,
    // 8-bit bodies in any charset and UTF-8 addresses and headers are taken (mime-accept.ts) and
    // relayed as received; delivery negotiates both with the next hop (delivery/transaction-plan.ts).
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    disableReverseLookup: !cfg.smtpReverseDns,
    // Our replies carry their enhanced codes in the text (see session-policy.ts).
    hideENHANCEDSTATUSCODES: true,
    logger: false,

    onConnect(session, callback) {
      // The configured pause, none by default (src/patches/smtp-server.ts removes the library's);
      // clients that talk before the greeting are refused by smtp-server ("You talk too soon").
      // Trusted networks are not made to wait.
      if (greetingDelay === 0 || trustedServerFor(session.remoteAddress, networks) !== null) return callback();
      const t = setTimeout(() => {
        greetingTimers.delete(t);
        callback();
      }, greetingDelay);
      greetingTimers.add(t);
    },

    onAuth(auth, session, callback) {
      const secure = decideAuth({ secure: session.secure, allowInsecureAuth: cfg.allowInsecureAuth });
      if (!secure.ok) return callback(rejected(session, 'auth', refusal(secure)));
      const now = deps.now();
      if (throttle.isBlocked(session.remoteAddress, now)) {
        return callback(rejected(session, 'auth', smtpError(454, '4.7.0 Too many failed authentications; try again later')));
      }
      const serverId = parseServerIdUsername(auth.username);
      authenticate(store, serverId, auth.password ?? null, 'injection').then(
        (r) => {
          if (r.ok) return callback(null, { user: { serverId: r.serverId, keyId: r.keyId } satisfies SessionUser });
          if (r.reason === 'invalid') throttle.recordFailure(session.remoteAddress, now);
          log.warn({ event: 'smtp.auth_failed', username: auth.username, reason: r.detail, ...who(session) }, 'smtp authentication failed');
          callback(
            smtpError(
              535,
              r.reason === 'disabled' ? '5.7.8 Authentication refused: the server or its account is disabled' : '5.7.8 Authentication credentials invalid',
            ),
          );
        },
        (err: unknown) => {
          log.error({ event: 'smtp.internal_error', stage: 'auth', err, ...who(session) }, 'smtp authentication failed internally');
          callback(smtpError(454, '4.7.0 Temporary authentication failure'));
        },
      );
    },

    onMailFrom(address, session, callback) {
      const d = decideMailFrom(address.address);
      if (!d.ok) return callback(rejected(session, 'mail', refusal(d)));
      const principal = principalOf(session);
      if (principal?.via !== 'trusted') return callback();
      // A trusted network sends as a configured server: check it exists and is enabled, per
      // transaction and uncached, as authenticate() does for keys.
      store.tenancy.getServer(principal.serverId).then(
        (server) => {
          if (!server) {
            log.error(
              { event: 'smtp.internal_error', stage: 'mail', serverId: principal.serverId, ...who(session) },
              'POSTLINE_TRUSTED_NETWORKS names a server that does not exist',
            );
            return callback(smtpError(451, '4.3.5 Server configuration problem; try again later'));
          }
          if (server.status !== 'active') return callback(rejected(session, 'mail', smtpError(554, '5.7.1 This server is disabled')));
          callback();
        },
        (err: unknown) => {
          log.error({ event: 'smtp.internal_error', stage: 'mail', err, ...who(session) }, 'smtp server lookup failed');
          callback(smtpError(451, '4.3.0 Temporary failure; try again later'));
        },
      );
    },

    onRcptTo(address, session, callback) {
      const key = address.address.toLowerCase();
      const d = decideRcpt({
        principal: principalOf(session),
        address: address.address,
        recipientCount: session.envelope.rcptTo.length,
        alreadyListed: session.envelope.rcptTo.some((r) => r.address.toLowerCase() === key),
      });
      callback(d.ok ? undefined : rejected(session, 'rcpt', refusal(d)));
    },

    onData(stream, session, callback) {
      receive(stream, session, callback);
    },
  };

  /** Reads DATA into memory up to the SIZE limit, then accepts it through the group commit. */
  function receive(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const limit = cfg.smtpMaxMessageBytes;
    collectData(stream, limit, (data, receivedBytes) => {
      if (stopped) return callback(smtpError(421, '4.3.2 Service shutting down; try again later'));
      const size = decideMessageSize({ receivedBytes, limit });
      if (!size.ok) return callback(rejected(session, 'data', refusal(size)));
      const principal = principalOf(session);
      if (!principal) return callback(rejected(session, 'data', smtpError(530, '5.7.0 Authentication required')));
      const env = session.envelope;
      const built = buildSmtpMessage(
        data,
        {
          serverId: principal.serverId,
          mailFrom: env.mailFrom === false ? '' : env.mailFrom.address,
          rcptTo: env.rcptTo.map((r) => r.address),
        },
        { now: deps.now(), hostname: cfg.hostname },
      );
      if (!built.ok) return callback(rejected(session, 'data', smtpError(built.code, built.reply)));
      const msg = built.message;
      const commit = (deps.verifiedFrom ? deps.verifiedFrom.forServer(principal.serverId) : Promise.resolve(null))
        .then((policy) => {
          const fromDomain = domainOf(msg.template.from.email);
          if (policy && !policy.allows(fromDomain)) {
            callback(rejected(session, 'data', smtpError(550, `5.7.1 ${unverifiedFromMessage(fromDomain, principal.serverId)}`)));
            return;
          }
          return committer.submit({ messages: [msg], idempotency: null }).then(() => {
            log.info(
              {
                event: 'smtp.accepted',
                messageId: msg.id,
                serverId: msg.serverId,
                via: principal.via,
                recipients: msg.recipients.length,
                bytes: msg.sizeBytes,
                tls: session.secure,
                ...who(session),
              },
              'smtp message accepted',
            );
            callback(null, `2.0.0 Ok: queued as ${msg.id}`);
          });
        })
        .then(undefined, (err: unknown) => {
          if (isDiskFull(err)) {
            // Logged once as store.disk_full; the client keeps the message and retries.
            callback(rejected(session, 'data', smtpError(452, DISK_FULL_SMTP_REPLY)));
            return;
          }
          log.error({ event: 'smtp.internal_error', stage: 'commit', err, ...who(session) }, 'smtp message not committed');
          callback(smtpError(451, '4.3.0 Message not accepted (temporary failure); try again later'));
        });
      inflight.add(commit);
      void commit.finally(() => inflight.delete(commit));
    });
  }

  const Server = smtpServerClass();
  const plain: SMTPServer = new Server({ ...options });
  const implicit: SMTPServer | null = cfg.submissionTlsPort === null ? null : new Server({ ...options, secure: true });
  const servers = implicit ? [plain, implicit] : [plain];
  for (const s of servers) {
    // Socket-level errors of single clients (resets, TLS failures) arrive here; without a
    // listener they would crash the process.
    s.on('error', (err: Error) => log.debug({ event: 'smtp.connection_error', err: err.message }, 'smtp connection error'));
  }

  const listen = (s: SMTPServer, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      s.server.once('error', onError);
      s.listen(port, cfg.smtpHost, () => {
        s.server.off('error', onError);
        resolve((s.server.address() as AddressInfo).port);
      });
    });

  let port: number;
  let tlsPort: number | null = null;
  try {
    port = await listen(plain, cfg.submissionPort);
    if (implicit) tlsPort = await listen(implicit, cfg.submissionTlsPort!);
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    throw err;
  }
  log.info({ event: 'smtp.listening', port, tlsPort }, 'smtp submission listening');

  let closing: Promise<void> | null = null;
  return {
    port,
    tlsPort,
    close() {
      closing ??= (async () => {
        // 1. No new connections; smtp-server answers further commands 421.
        const closed = servers.map((s) => new Promise<void>((r) => s.close(() => r())));
        greetingTimers.forEach(clearTimeout);
        greetingTimers.clear();
        // 2. Let every message already handed to the committer finish and get its reply.
        while (inflight.size > 0) await Promise.allSettled([...inflight]);
        // 3. Whatever is left (idle sessions, a DATA still arriving) is told to come back later.
        stopped = true;
        for (const s of servers) {
          for (const c of s.connections) {
            c.send(421, '4.3.2 Service shutting down; try again later');
            c.close();
          }
        }
        await Promise.all(closed);
        log.info({ event: 'smtp.stopped' }, 'smtp submission stopped');
      })();
      return closing;
    },
  };
}
