/**
 * The Injection API (`POST /api/v1/email`) as documentation: SocketLabs' request and response in
 * JSON-schema form, for the OpenAPI document only. Fastify never validates or serializes with it
 * (see inject-route.ts): clients send property names in varying casing, ServerId as number or
 * string, nulls for absent values, and XML bodies, and normalize.ts is the single authority on
 * what is accepted. The schema shows the canonical PascalCase spelling.
 */
import { MESSAGE_ERROR_CODES, POST_ERROR_CODES } from '../../../core/injection-codes.js';
import {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_MESSAGES_PER_REQUEST,
  MAX_METADATA_AND_TAGS_BYTES,
  MAX_RECIPIENTS_PER_MESSAGE,
  MAX_REQUEST_BODY_BYTES,
} from '../../../core/limits.js';
import { ERROR_DETAIL_HEADER } from './respond.js';

const address = {
  type: 'object',
  required: ['EmailAddress'],
  description: 'An address. A bare string ("user@example.com") is accepted in To, Cc and Bcc too.',
  properties: {
    EmailAddress: { type: 'string', example: 'bob@example.com', description: 'may hold %%merge%% fields' },
    FriendlyName: { type: 'string', nullable: true, example: 'Robert Smith' },
  },
} as const;
const addressList = { type: 'array', nullable: true, items: address } as const;
const nameValue = {
  type: 'object',
  required: ['Name', 'Value'],
  properties: { Name: { type: 'string' }, Value: { type: 'string' } },
} as const;
const mergeRow = {
  type: 'object',
  required: ['Field', 'Value'],
  properties: { Field: { type: 'string', example: 'DeliveryAddress' }, Value: { type: 'string', description: 'must be a string' } },
} as const;

const message = {
  type: 'object',
  description: 'One message. Required: From, Subject, To (or MergeData.PerMessage rows with DeliveryAddress) and a body (TextBody, HtmlBody or ApiTemplate).',
  properties: {
    To: {
      ...addressList,
      description: `recipients; to+cc+bcc at most ${MAX_RECIPIENTS_PER_MESSAGE}. For a merge, usually the placeholder {"EmailAddress":"%%DeliveryAddress%%","FriendlyName":"%%RecipientName%%"}`,
    },
    Cc: addressList,
    Bcc: addressList,
    From: address,
    ReplyTo: { type: 'object', nullable: true, properties: address.properties, description: 'an empty object means unset' },
    Subject: { type: 'string', example: 'Welcome' },
    TextBody: { type: 'string', nullable: true },
    HtmlBody: { type: 'string', nullable: true },
    AmpBody: { type: 'string', nullable: true, description: 'AMP4Email part; needs HtmlBody or TextBody too' },
    ApiTemplate: {
      oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+$' }],
      nullable: true,
      description: 'id of a stored template; number or numeric string',
    },
    MessageId: { type: 'string', nullable: true, description: 'your id for the message, echoed in events' },
    MailingId: { type: 'string', nullable: true, description: 'campaign id, echoed in events' },
    Charset: { type: 'string', nullable: true, description: 'default UTF-8 (also spelt CharSet or charSet)' },
    CustomHeaders: { type: 'array', nullable: true, items: nameValue },
    Attachments: {
      type: 'array',
      nullable: true,
      items: {
        type: 'object',
        required: ['Name', 'Content', 'ContentType'],
        properties: {
          Name: { type: 'string', example: 'report.pdf' },
          Content: { type: 'string', format: 'byte', description: 'base64' },
          ContentType: { type: 'string', example: 'application/pdf' },
          ContentId: { type: 'string', nullable: true, description: 'for inline (cid:) images' },
          CustomHeaders: { type: 'array', nullable: true, items: nameValue },
        },
      },
    },
    MergeData: {
      type: 'object',
      nullable: true,
      description:
        'Mail merge: each PerMessage row is one outgoing message to its DeliveryAddress; %%Field%% placeholders are replaced anywhere in the message. Global rows apply to every message.',
      properties: {
        PerMessage: { type: 'array', items: { type: 'array', items: mergeRow } },
        Global: { type: 'array', items: mergeRow },
      },
    },
    Metadata: {
      type: 'array',
      nullable: true,
      items: { type: 'object', required: ['Key', 'Value'], properties: { Key: { type: 'string' }, Value: { type: 'string' } } },
      description: `echoed in events as Data.Meta; with Tags at most ${MAX_METADATA_AND_TAGS_BYTES} bytes`,
    },
    Tags: { type: 'array', nullable: true, items: { type: 'string' }, description: 'echoed in events as Data.Tags' },
  },
} as const;

export const injectRequestSchema = {
  type: 'object',
  description: [
    "SocketLabs' Injection API request. Property names are matched **case-insensitively** at every level",
    '(`serverId`, `ServerId`, `Charset`/`CharSet`/`charSet`, `CC`/`Cc` all work); `null` means absent.',
    'Authenticate with `Authorization: Bearer <injection key>`, or with `ServerId` and `ApiKey` in the body',
    '(an empty `ApiKey` is ignored when the header is sent). The same body is accepted as XML',
    "(`Content-Type: application/xml`, SocketLabs' `<PostBody>` serialization).",
    `At most ${MAX_MESSAGES_PER_REQUEST} messages and ${MAX_REQUEST_BODY_BYTES} bytes per request.`,
  ].join(' '),
  required: ['ServerId', 'Messages'],
  properties: {
    ServerId: { oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+$' }], description: 'number or numeric string', example: 10001 },
    ApiKey: { type: 'string', nullable: true, description: 'the injection key, when not sent as Authorization: Bearer' },
    Messages: { type: 'array', items: message, maxItems: MAX_MESSAGES_PER_REQUEST },
  },
} as const;

export const injectResponseSchema = {
  type: 'object',
  required: ['ErrorCode', 'MessageResults', 'TransactionReceipt'],
  additionalProperties: false,
  description: `Always exactly these three properties (SocketLabs' clients reject others). When ErrorCode is not Success, the ${ERROR_DETAIL_HEADER} header says why.`,
  properties: {
    ErrorCode: { type: 'string', enum: [...POST_ERROR_CODES], description: "the request's result" },
    MessageResults: {
      type: 'array',
      description: 'only the messages that failed or had refused recipients',
      items: {
        type: 'object',
        required: ['Index', 'ErrorCode', 'AddressResults'],
        properties: {
          Index: { type: 'integer', description: 'position in Messages' },
          ErrorCode: { type: 'string', enum: [...MESSAGE_ERROR_CODES] },
          AddressResults: {
            type: 'array',
            items: {
              type: 'object',
              required: ['EmailAddress', 'Accepted', 'ErrorCode'],
              properties: { EmailAddress: { type: 'string' }, Accepted: { type: 'boolean' }, ErrorCode: { type: 'string', enum: ['InvalidAddress'] } },
            },
          },
        },
      },
    },
    TransactionReceipt: { type: 'string', nullable: true, description: 'support reference of a refused request (matches the log line)' },
  },
} as const;

const detailHeader = { [ERROR_DETAIL_HEADER]: { type: 'string', description: 'why the request was not a Success' } };

/** JSON, or XML (`<PostResponse>`, same names) when Accept prefers it or the body was XML: see api/compat/negotiate.ts. */
const answerContent = {
  'application/json': { schema: injectResponseSchema },
  'application/xml': { schema: { type: 'object', description: "the same answer as SocketLabs' XML <PostResponse>; see the JSON form" } },
};

/**
 * The route's documentation schema: what the OpenAPI document shows for POST /api/v1/email.
 * Attached as route config (`openapi`), never as the Fastify `schema`: see api/openapi/transform.ts.
 */
export const injectDocumentation = {
  summary: 'Send messages (SocketLabs Injection API)',
  description:
    "Wire-compatible with SocketLabs' Injection API v1: point a SocketLabs client library at this URL. Every application-level outcome, refusals included, is answered with HTTP 200 and an ErrorCode.",
  tags: ['injection'],
  operationId: 'injectEmail',
  security: [{ bearer: [] }, {}],
  headers: {
    type: 'object',
    properties: {
      'idempotency-key': {
        type: 'string',
        maxLength: MAX_IDEMPOTENCY_KEY_LENGTH,
        description: 'printable ASCII; a retry with the same key and body within 24 h gets the first answer again',
      },
    },
  },
  body: {
    content: {
      'application/json': { schema: injectRequestSchema },
      'application/xml': { schema: { type: 'object', description: "the same request as SocketLabs' XML <PostBody>; see the JSON form" } },
    },
  },
  response: {
    200: { description: 'the outcome (Success, Warning or a refusal); refusals also carry the detail header', headers: detailHeader, content: answerContent },
    400: { description: 'a malformed Idempotency-Key (InvalidData)', headers: detailHeader, content: answerContent },
    409: { description: 'the Idempotency-Key was used with a different body (InvalidData)', headers: detailHeader, content: answerContent },
  },
} as const;
