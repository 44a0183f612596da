/**
 * The legacy v1 API's one error shape: `{timestamp, result, message, parameter?}` with the HTTP
 * status saying what kind of refusal it is, in the format the request asked for where it can be
 * told (XML for type=XML, a JSONP call for type=JSONP with a usable callback, JSON otherwise).
 * `result` is a stable code (V1_RESULTS); SocketLabs' own error body is not documented.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_FAILURE_WINDOW_MS } from '../../../core/limits.js';
import { renderObject } from './render.js';
import { requestedFormat } from './params.js';
import { V1Error } from './v1-error.js';

/** The realm SocketLabs' own Perl sample gives LWP, which sends credentials only to a matching challenge. */
export const V1_REALM = 'SocketLabsMarketingAPI';

export function sendV1Error(req: FastifyRequest, reply: FastifyReply, e: V1Error, now: number): FastifyReply {
  if (e.result === 'Unauthorized') reply.header('www-authenticate', `Basic realm="${V1_REALM}"`);
  if (e.result === 'TooManyRequests') reply.header('retry-after', String(Math.ceil(AUTH_FAILURE_WINDOW_MS / 1000)));
  const body = { timestamp: now, result: e.result, message: e.message, ...(e.parameter === undefined ? {} : { parameter: e.parameter }) };
  const out = renderObject(requestedFormat(req.query), body);
  return reply.code(e.status).type(out.contentType).send(out.body);
}

/** Fastify's own refusals (content type, body size) as a V1Error; null for a fault of ours. */
export function toV1Error(err: FastifyError): V1Error | null {
  if (err instanceof V1Error) return err;
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new V1Error('UnsupportedMediaType', 'this API takes its parameters in the query string');
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new V1Error('InvalidParameter', err.message);
  return null;
}

export function v1ErrorHandler(now: () => number) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const known = toV1Error(err as FastifyError);
    if (known) {
      reply.log.info(
        { event: 'legacy_v1.rejected', result: known.result, parameter: known.parameter, method: req.method, url: req.url.split('?')[0] },
        known.message,
      );
      return sendV1Error(req, reply, known, now());
    }
    reply.log.error({ err, event: 'legacy_v1.internal_error', method: req.method, url: req.url.split('?')[0] }, 'legacy v1 API request failed');
    return sendV1Error(req, reply, new V1Error('InternalError', 'internal error; the request may be retried'), now());
  };
}
