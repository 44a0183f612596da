/**
 * The Marketing API's answers in XML, for clients whose Accept prefers it (wire format §5: "JSON or
 * XML via Accept"). SocketLabs' XML names are not published, so the elements are the JSON names:
 * each route names its root element (route config `marketingXml`), arrays hold one element per item
 * named in the singular, null is `xsi:nil="true"`, and a contact's `customFields` map becomes
 * `<field><name/><value/></field>` entries (field names are user data, not always valid XML names).
 * Handlers answer JSON; the hook turns it into XML at the reply boundary.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { negotiate } from '../negotiate.js';
import { buildXmlDocument, XSI_NAMESPACE, xmlText, type XmlTree } from '../xml-writer.js';

/** The XML names of a route's success answer: the root element and, when the answer is an array, each item's. */
export interface MarketingXmlNames {
  root: string;
  item?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The Marketing API route's XML element names (api/compat/marketing/xml.ts). */
    marketingXml?: MarketingXmlNames;
  }
}

/** Every refusal, `{"message"}`, is `<error><message>...</message></error>`. */
export const ERROR_XML: MarketingXmlNames = { root: 'error' };

/** Element names of the items of arrays inside an answer, by the array's property name. */
const ITEM_OF: Record<string, string> = { contacts: 'contact', lists: 'list', customFields: 'customField', rejectedRows: 'rejectedRow' };
/** Objects whose keys are data (custom field names), written as name/value entries. */
const MAPS = new Set(['customFields']);

function child(name: string, value: unknown): XmlTree | string {
  if (value === null || value === undefined) return { '@_xsi:nil': 'true' };
  if (Array.isArray(value)) {
    const item = ITEM_OF[name];
    if (item === undefined) throw new Error(`marketing XML: no item name for the array "${name}"`);
    return items(item, value);
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (MAPS.has(name)) {
      return entries.length === 0 ? '' : { field: entries.map(([k, v]) => ({ name: xmlText(k), value: child('value', v) })) };
    }
    return entries.length === 0 ? '' : Object.fromEntries(entries.map(([k, v]) => [k, child(k, v)]));
  }
  return xmlText(value as string | number | boolean);
}

function items(item: string, values: unknown[]): XmlTree | string {
  return values.length === 0 ? '' : { [item]: values.map((v) => child(item, v)) as XmlTree[] };
}

/** A JSON answer of the Marketing API as an XML document with these names. */
export function marketingXml(body: unknown, names: MarketingXmlNames): string {
  let root: XmlTree;
  if (Array.isArray(body)) {
    if (names.item === undefined) throw new Error(`marketing XML: <${names.root}> is an array and needs an item name`);
    const list = items(names.item, body);
    root = typeof list === 'string' ? {} : list;
  } else {
    const tree = child(names.root, body);
    root = typeof tree === 'string' ? {} : tree;
  }
  return buildXmlDocument({ [names.root]: { '@_xmlns:xsi': XSI_NAMESPACE, ...root } });
}

/** onRoute guard: a route that answers a body must name its XML root, or its XML answer could not be written. */
export function requireXmlNames(route: RouteOptions): void {
  const responses = (route.schema?.response ?? {}) as Record<string, { type?: string }>;
  const hasBody = Object.entries(responses).some(([code, s]) => /^2\d\d$/.test(code) && s.type !== 'null');
  if (hasBody && route.config?.marketingXml === undefined) {
    throw new Error(`Marketing API route ${String(route.method)} ${route.url} has no config.marketingXml`);
  }
}

/** onSend: the JSON answer as XML when the request's Accept prefers XML (the API takes only JSON bodies). */
export async function marketingAnswerFormat(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  reply.header('vary', 'Accept');
  const want = negotiate(req.headers.accept);
  if (want.format === 'json' || typeof payload !== 'string' || payload === '') return payload;
  const names = reply.statusCode >= 400 ? ERROR_XML : req.routeOptions.config.marketingXml;
  if (names === undefined) return payload;
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  reply.type(`${want.mediaType}; charset=utf-8`);
  return marketingXml(body, names);
}
