import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AcceptOutcome, AcceptUnit, IdempotencyRecord, Store } from '../../../store/store.js';
import type { GroupCommitter } from '../../../store/group-commit.js';
import { authenticate } from '../../../accept/authenticate.js';
import type { VerifiedDomains } from '../../../domains/verified-domains.js';
import { unverifiedFromMessage } from '../../../domains/verified-domains.js';
import { domainOf } from '../../../core/address.js';
import type { AuthThrottle } from '../../../accept/auth-throttle.js';
import type { MessageResult } from '../../../core/injection-codes.js';
import type { NewMessage } from '../../../core/message.js';
import {
  IDEMPOTENCY_TTL_MS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_MESSAGES_PER_REQUEST,
  MAX_METADATA_AND_TAGS_BYTES,
  MAX_RECIPIENTS_PER_MESSAGE,
  MAX_REQUEST_BODY_BYTES,
} from '../../../core/limits.js';
import { InvalidDataError, normalizeEnvelope, normalizeMessage, type RawMessage } from '../../../message/normalize.js';
import { buildMessage, metadataAndTagsBytes, recipientCount } from '../../../message/build.js';
import { parsePostBodyXml } from './xml.js';
import { loadApiTemplates } from '../../../message/api-template.js';
import { ERROR_DETAIL_HEADER, headerSafe, injectionResponse, sendError } from './respond.js';
import { injectDocumentation } from './inject-schema.js';
import { injectionAnswerFormat } from './xml-response.js';
import { isXmlMediaType } from '../negotiate.js';
import { indexRoutes, pathOf } from '../../route-index.js';
import { DISK_FULL_DETAIL, DISK_FULL_RETRY_AFTER_SECONDS, isDiskFull } from '../../../store/disk-full.js';

export interface InjectDeps {
  store: Store;
  committer: GroupCommitter<AcceptUnit, AcceptOutcome>;
  throttle: AuthThrottle;
  now: () => number;
  /** The verified-From rule (domains/verified-domains.ts); absent: not enforced. */
  verifiedFrom?: VerifiedDomains;
}

/** The parsed body, or why it could not be parsed (answered as InvalidData after auth checks fail first). */
type Parsed = { ok: true; value: unknown; hash: string } | { ok: false; reason: string; hash: string };

function parseBody(contentType: string, raw: Buffer): Parsed {
  const hash = createHash('sha256').update(contentType.split(';')[0]!.trim().toLowerCase()).update('\n').update(raw).digest('hex');
  const text = raw.toString('utf8');
  if (isXmlMediaType(contentType)) {
    const r = parsePostBodyXml(text);
    return r.ok ? { ok: true, value: r.value, hash } : { ok: false, reason: `XML body: ${r.reason}`, hash };
  }
  try {
    return { ok: true, value: JSON.parse(text), hash };
  } catch (err) {
    return { ok: false, reason: `JSON body: ${(err as Error).message}`, hash };
  }
}

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1]!.trim() : null;
}

/** The answer to a request whose Idempotency-Key is taken: the first answer again, or 409 for another body. */
function replayOrConflict(reply: FastifyReply, prior: IdempotencyRecord | undefined, requestHash: string): FastifyReply {
  if (prior && prior.requestHash === requestHash) {
    return reply.header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(prior.response);
  }
  return sendError(reply, 'InvalidData', 'Idempotency-Key was already used with a different request body', 409);
}

/** The Injection API's prefix: SocketLabs' path, unchanged. */
export const INJECTION_PREFIX = '/api/v1';

/** POST /api/v1/email — SocketLabs' Injection API, answered exactly as its client libraries expect. */
export function registerInjectRoute(app: FastifyInstance, deps: InjectDeps): void {
  app.register(
    async (scope) => {
      // Every answer under the prefix (errors and unknown routes too) in the format the request asked for.
      scope.addHook('onSend', injectionAnswerFormat);
      const routes = indexRoutes(scope);
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REQUEST_BODY_BYTES }, (req, body, done) => {
        done(null, parseBody(String(req.headers['content-type'] ?? 'application/json'), body as Buffer));
      });
      scope.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
        if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          return sendError(reply, 'MessageTooLarge', `request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`);
        }
        if (err.statusCode !== undefined && err.statusCode < 500) return sendError(reply, 'InvalidData', err.message);
        // Retryable and the operator's to fix (store.disk_full is logged once): the client is told to come back.
        if (isDiskFull(err)) return sendError(reply.header('retry-after', String(DISK_FULL_RETRY_AFTER_SECONDS)), 'InternalError', DISK_FULL_DETAIL);
        reply.log.error({ err, event: 'injection.internal_error' }, 'injection failed');
        return sendError(reply, 'InternalError', 'internal error; the request may be retried');
      });

      // Anything else under /api/v1 answers in the Injection API's shape: 405 (with Allow) for a wrong
      // method on /api/v1/email, 404 for an unknown path; the reason in the detail header, as always.
      scope.setNotFoundHandler((req, reply) => {
        const allowed = routes.allowedMethods(pathOf(req.url));
        if (allowed.length === 0)
          return sendError(reply, 'InvalidData', `no route ${req.method} ${pathOf(req.url)}; the Injection API is POST ${INJECTION_PREFIX}/email`, 404);
        return sendError(
          reply.header('allow', allowed.join(', ')),
          'InvalidData',
          `${pathOf(req.url)} does not take ${req.method}; it takes ${allowed.join(', ')}`,
          405,
        );
      });

      // Documented, not validated: the schema is route config, which Fastify never compiles (see
      // api/openapi/transform.ts); parseBody and normalize.ts stay the only judges of the body.
      scope.post('/email', { config: { openapi: injectDocumentation } }, async (req, reply) => {
        const now = deps.now();
        const client = req.ip;
        if (deps.throttle.isBlocked(client, now)) {
          return sendError(reply, 'TooManyErrors', 'too many failed authentications from this client; wait a minute');
        }
        const parsed = (req.body ?? { ok: false, reason: 'empty body', hash: '' }) as Parsed;
        // A body that cannot be read says nothing about anyone's keys: InvalidData straight away.
        if (!parsed.ok) return sendError(reply, 'InvalidData', parsed.reason);
        let envelope: ReturnType<typeof normalizeEnvelope>;
        try {
          envelope = normalizeEnvelope(parsed.value);
        } catch (err) {
          return sendError(reply, 'InvalidData', (err as Error).message);
        }
        // Authenticate before judging the messages, so that nothing about validation leaks to strangers.
        const key = bearer(req) ?? envelope.apiKey;
        const serverId = envelope.serverId === null ? null : Number(envelope.serverId);
        const auth = await authenticate(deps.store, serverId, key, 'injection');
        if (!auth.ok) {
          if (auth.reason === 'disabled') return sendError(reply, 'AccountDisabled', auth.detail);
          deps.throttle.recordFailure(client, now);
          return sendError(reply, 'InvalidAuthentication', auth.detail);
        }

        const idemKey = req.headers['idempotency-key'];
        let idempotency: AcceptUnit['idempotency'] = null;
        if (idemKey !== undefined) {
          const k = Array.isArray(idemKey) ? idemKey[0]! : idemKey;
          if (k.length === 0 || k.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(k)) {
            return sendError(reply, 'InvalidData', `Idempotency-Key must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`, 400);
          }
          const prior = await deps.store.queue.findIdempotency(auth.serverId, k, now - IDEMPOTENCY_TTL_MS);
          if (prior) return replayOrConflict(reply, prior, parsed.hash);
          idempotency = { serverId: auth.serverId, key: k, requestHash: parsed.hash, response: '', now };
        }

        const messages = envelope.messages ?? [];
        if (messages.length === 0) return sendError(reply, 'NoMessages', 'Messages is empty');
        if (messages.length > MAX_MESSAGES_PER_REQUEST) {
          return sendError(reply, 'TooManyMessages', `${messages.length} messages; at most ${MAX_MESSAGES_PER_REQUEST} per request`);
        }

        let raws: RawMessage[];
        const results: MessageResult[] = [];
        const accepted: NewMessage[] = [];
        try {
          raws = messages.map((m, i) => normalizeMessage(m, i));
          for (const [i, m] of raws.entries()) {
            if (m.droppedMetadata > 0) {
              req.log.warn({ event: 'injection.metadata_dropped', message: i, count: m.droppedMetadata }, 'Metadata entries without a Key were dropped');
            }
            if (metadataAndTagsBytes(m) > MAX_METADATA_AND_TAGS_BYTES) {
              return sendError(reply, 'MetadataOrTagsAreTooLarge', `Messages[${i}] Metadata and Tags exceed ${MAX_METADATA_AND_TAGS_BYTES} bytes`);
            }
            if (recipientCount(m) > MAX_RECIPIENTS_PER_MESSAGE) {
              return sendError(reply, 'TooManyRecipients', `Messages[${i}] has ${recipientCount(m)} recipients; at most ${MAX_RECIPIENTS_PER_MESSAGE}`);
            }
          }
          const details: string[] = [];
          // One cached look per request (never a store query per message): see verified-domains.ts.
          const fromPolicy = deps.verifiedFrom ? await deps.verifiedFrom.forServer(auth.serverId) : null;
          const templates = await loadApiTemplates(deps.store, auth.serverId, raws);
          for (const [i, m] of raws.entries()) {
            const r = buildMessage(m, i, auth.serverId, now, templates);
            const fromDomain = r.kind === 'accepted' ? domainOf(r.message.template.from.email) : '';
            if (r.kind === 'accepted' && fromPolicy && !fromPolicy.allows(fromDomain)) {
              results.push({ Index: i, ErrorCode: 'InvalidFrom', AddressResults: [] });
              details.push(`Messages[${i}] InvalidFrom: ${unverifiedFromMessage(fromDomain, auth.serverId)}`);
            } else if (r.kind === 'accepted') {
              accepted.push(r.message);
              if (r.rejected.length > 0) results.push({ Index: i, ErrorCode: 'Warning', AddressResults: r.rejected });
            } else {
              results.push({ Index: i, ErrorCode: r.code, AddressResults: r.rejected });
              details.push(`Messages[${i}] ${r.code}: ${r.reason}`);
            }
          }
          if (details.length > 0) reply.header(ERROR_DETAIL_HEADER, headerSafe(details.join('; ')));
        } catch (err) {
          if (err instanceof InvalidDataError) return sendError(reply, 'InvalidData', err.message);
          throw err;
        }

        const body = JSON.stringify(injectionResponse(results.length === 0 ? 'Success' : 'Warning', results));
        if (accepted.length > 0) {
          const unit: AcceptUnit = { messages: accepted, idempotency: idempotency && { ...idempotency, response: body } };
          // Answered only after the commit: Success means the messages are on disk.
          const outcome = await deps.committer.submit(unit);
          if (outcome.kind === 'duplicate') {
            // Another request with this key committed first (a race): answer as if it had come before us.
            const prior = await deps.store.queue.findIdempotency(auth.serverId, idempotency!.key, now - IDEMPOTENCY_TTL_MS);
            return replayOrConflict(reply, prior, idempotency!.requestHash);
          }
          req.log.debug({ event: 'injection.accepted', messages: accepted.length, recipients: accepted.reduce((n, m) => n + m.recipients.length, 0) });
        }
        return reply.type('application/json; charset=utf-8').send(body);
      });
    },
    { prefix: INJECTION_PREFIX },
  );
}
