/**
 * The Marketing API's one error shape, SocketLabs' `{"message": "..."}` (wire format §5), with the
 * HTTP status saying what kind of refusal it is. Schema violations reuse the v2 API's sentences.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { fromSchemaError } from '../../v2/errors.js';

export class MarketingError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500,
    message: string,
    /** The request field the refusal is about (Postline's addition to the shape), so a form can show it next to that field. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'MarketingError';
  }
}

export const errorSchema = {
  type: 'object',
  required: ['message'],
  additionalProperties: false,
  properties: {
    message: { type: 'string', description: 'what went wrong, for a person' },
    field: { type: 'string', description: "Postline's addition: the request field refused (e.g. name, emailAddress), when there is one" },
  },
} as const;

/** The route's success responses plus every refusal the Marketing API makes, for the document. */
export function withErrors<T extends Record<number, unknown>>(ok: T): T & Record<400 | 401 | 403 | 404 | 409 | 429, typeof errorSchema> {
  return { ...ok, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 429: errorSchema };
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Fastify's own refusals (validation, JSON syntax, content type, size) as a MarketingError; null for a fault of ours. */
export function toMarketingError(err: FastifyError & { validationContext?: string }): MarketingError | null {
  if (err instanceof MarketingError) return err;
  if (err.validation && err.validation.length > 0) {
    const e = fromSchemaError(err.validation[0] as SchemaError, err.validationContext);
    return new MarketingError(400, e.message, e.field);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new MarketingError(415, 'send the body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new MarketingError(413, err.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MarketingError(400, 'the body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MarketingError(400, 'the body is not valid JSON');
  }
  if (err.statusCode === 400) return new MarketingError(400, err.message);
  return null;
}

export function sendMarketingError(reply: FastifyReply, e: MarketingError): FastifyReply {
  if (e.status === 401) reply.header('www-authenticate', 'Basic realm="postline marketing"');
  return reply
    .code(e.status)
    .type('application/json; charset=utf-8')
    .send(e.field === undefined ? { message: e.message } : { message: e.message, field: e.field });
}

export function marketingErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = toMarketingError(err as FastifyError);
  if (known) {
    reply.log.info({ event: 'marketing.rejected', status: known.status, method: req.method, url: req.url.split('?')[0] }, known.message);
    return sendMarketingError(reply, known);
  }
  reply.log.error({ err, event: 'marketing.internal_error', method: req.method, url: req.url }, 'marketing API request failed');
  return sendMarketingError(reply, new MarketingError(500, 'internal error; the request may be retried'));
}
