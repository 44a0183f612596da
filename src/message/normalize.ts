/**
 * Turns a parsed Injection API body (JSON or XML) into typed values, the way SocketLabs' clients
 * send it: property names in any casing (`Charset`/`CharSet`/`charSet`, `Cc`/`CC`), `null` meaning
 * absent, ServerId and ApiTemplate as number or numeric string, `To` entries as objects or bare
 * strings. A value of the wrong type is `InvalidData`, with a path that says where.
 */
export interface RawAddress {
  email: string;
  name: string | null;
}
export interface RawHeader {
  name: string;
  value: string;
}
export interface RawAttachment {
  name: string | null;
  content: string | null;
  contentType: string | null;
  contentId: string | null;
  headers: RawHeader[];
}
export interface RawMergeRow {
  field: string;
  value: unknown;
}
export interface RawMessage {
  to: RawAddress[];
  cc: RawAddress[];
  bcc: RawAddress[];
  from: RawAddress | null;
  replyTo: RawAddress | null;
  subject: string | null;
  textBody: string | null;
  htmlBody: string | null;
  ampBody: string | null;
  apiTemplate: string | null;
  messageId: string | null;
  mailingId: string | null;
  charset: string | null;
  headers: RawHeader[];
  attachments: RawAttachment[];
  perMessage: RawMergeRow[][] | null;
  global: RawMergeRow[];
  metadata: { key: string; value: string }[];
  tags: string[];
  /** Metadata entries without a Key, dropped (the official Node client's own example sends one): the caller logs them. */
  droppedMetadata: number;
}
export interface RawPostBody {
  serverId: string | null;
  apiKey: string | null;
  messages: unknown[] | null;
}

export class InvalidDataError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'InvalidDataError';
  }
}

type Obj = Record<string, unknown>;

/** Case-insensitive view of an object's own properties (first spelling wins on a clash). */
function view(value: unknown, path: string): Map<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidDataError(path, 'expected an object');
  }
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value as Obj)) {
    const lk = k.toLowerCase();
    if (!m.has(lk)) m.set(lk, v);
  }
  return m;
}

function pick(v: Map<string, unknown>, ...names: string[]): unknown {
  for (const n of names) {
    const x = v.get(n);
    if (x !== undefined && x !== null) return x;
  }
  return null;
}

function str(value: unknown, path: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  throw new InvalidDataError(path, 'expected a string');
}

function list(value: unknown, path: string): unknown[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidDataError(path, 'expected an array');
  return value;
}

/** ServerId / ApiTemplate: a number or a string of digits. */
function numericId(value: unknown, path: string): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^\s*\d{1,15}\s*$/.test(value)) return value.trim();
  throw new InvalidDataError(path, 'expected a whole number or a string of digits');
}

function address(value: unknown, path: string): RawAddress | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return { email: value.trim(), name: null };
  const v = view(value, path);
  const email = str(pick(v, 'emailaddress'), `${path}.EmailAddress`);
  const name = str(pick(v, 'friendlyname'), `${path}.FriendlyName`);
  // The clients send an empty object for "no ReplyTo"; an address with no EmailAddress is absent.
  if (email === null || email.trim() === '') {
    if (name !== null && name.trim() !== '') throw new InvalidDataError(`${path}.EmailAddress`, 'is required with FriendlyName');
    return null;
  }
  return { email: email.trim(), name: name === null || name.trim() === '' ? null : name };
}

function addresses(value: unknown, path: string): RawAddress[] {
  return list(value, path).flatMap((a, i) => {
    const x = address(a, `${path}[${i}]`);
    return x ? [x] : [];
  });
}

function headers(value: unknown, path: string): RawHeader[] {
  return list(value, path).map((h, i) => {
    const v = view(h, `${path}[${i}]`);
    const name = str(pick(v, 'name'), `${path}[${i}].Name`);
    const val = str(pick(v, 'value'), `${path}[${i}].Value`);
    if (name === null) throw new InvalidDataError(`${path}[${i}].Name`, 'is required');
    return { name, value: val ?? '' };
  });
}

function mergeRows(value: unknown, path: string): RawMergeRow[] {
  return list(value, path).map((r, i) => {
    const v = view(r, `${path}[${i}]`);
    const field = str(pick(v, 'field'), `${path}[${i}].Field`);
    if (field === null) throw new InvalidDataError(`${path}[${i}].Field`, 'is required');
    // A missing or null Value is an empty value (the official Java client leaves an empty value
    // out); any other non-string Value is the sender's merge-data error (InvalidMergeData), judged later.
    const value = v.get('value');
    return { field, value: value === undefined || value === null ? '' : value };
  });
}

export function normalizeEnvelope(body: unknown): RawPostBody {
  const v = view(body, 'body');
  const messages = pick(v, 'messages');
  if (messages !== null && !Array.isArray(messages)) throw new InvalidDataError('Messages', 'expected an array');
  return {
    serverId: numericId(pick(v, 'serverid'), 'ServerId'),
    apiKey: str(pick(v, 'apikey'), 'ApiKey'),
    messages: messages as unknown[] | null,
  };
}

export function normalizeMessage(value: unknown, index: number): RawMessage {
  const p = `Messages[${index}]`;
  const v = view(value, p);
  const metadata: { key: string; value: string }[] = [];
  let droppedMetadata = 0;
  for (const [i, m] of list(pick(v, 'metadata'), `${p}.Metadata`).entries()) {
    const mv = view(m, `${p}.Metadata[${i}]`);
    const key = str(pick(mv, 'key'), `${p}.Metadata[${i}].Key`);
    const entryValue = str(pick(mv, 'value'), `${p}.Metadata[${i}].Value`) ?? '';
    if (key === null || key === '') droppedMetadata++;
    else metadata.push({ key, value: entryValue });
  }
  const merge = pick(v, 'mergedata');
  let perMessage: RawMergeRow[][] | null = null;
  let global: RawMergeRow[] = [];
  if (merge !== null) {
    const mv = view(merge, `${p}.MergeData`);
    const pm = pick(mv, 'permessage');
    if (pm !== null) perMessage = list(pm, `${p}.MergeData.PerMessage`).map((row, i) => mergeRows(row, `${p}.MergeData.PerMessage[${i}]`));
    global = mergeRows(pick(mv, 'global'), `${p}.MergeData.Global`);
  }
  return {
    to: addresses(pick(v, 'to'), `${p}.To`),
    cc: addresses(pick(v, 'cc'), `${p}.Cc`),
    bcc: addresses(pick(v, 'bcc'), `${p}.Bcc`),
    from: address(pick(v, 'from'), `${p}.From`),
    replyTo: address(pick(v, 'replyto'), `${p}.ReplyTo`),
    subject: str(pick(v, 'subject'), `${p}.Subject`),
    textBody: str(pick(v, 'textbody'), `${p}.TextBody`),
    htmlBody: str(pick(v, 'htmlbody'), `${p}.HtmlBody`),
    ampBody: str(pick(v, 'ampbody'), `${p}.AmpBody`),
    apiTemplate: numericId(pick(v, 'apitemplate'), `${p}.ApiTemplate`),
    messageId: str(pick(v, 'messageid'), `${p}.MessageId`),
    mailingId: str(pick(v, 'mailingid'), `${p}.MailingId`),
    charset: str(pick(v, 'charset'), `${p}.Charset`),
    headers: headers(pick(v, 'customheaders'), `${p}.CustomHeaders`),
    attachments: list(pick(v, 'attachments'), `${p}.Attachments`).map((a, i) => {
      const ap = `${p}.Attachments[${i}]`;
      const av = view(a, ap);
      return {
        name: str(pick(av, 'name'), `${ap}.Name`),
        content: str(pick(av, 'content'), `${ap}.Content`),
        contentType: str(pick(av, 'contenttype'), `${ap}.ContentType`),
        contentId: str(pick(av, 'contentid'), `${ap}.ContentId`),
        headers: headers(pick(av, 'customheaders'), `${ap}.CustomHeaders`),
      };
    }),
    perMessage,
    global,
    metadata,
    droppedMetadata,
    tags: list(pick(v, 'tags'), `${p}.Tags`).map((t, i) => {
      const s = str(t, `${p}.Tags[${i}]`);
      if (s === null) throw new InvalidDataError(`${p}.Tags[${i}]`, 'expected a string');
      return s;
    }),
  };
}
