/**
 * Bodies of the legacy v1 API in JSON, JSONP and XML (CSV is streamed by the routes through
 * api/v2/csv-stream.ts). XML, written by the compat APIs' writer (../xml-writer.ts), is the JSON's
 * shape under a `<response>` root, a list's records as `<collection><item>…</item></collection>`,
 * as SocketLabs' PHP and Perl samples read it (`$xml->collection->item`, `<item>(.*?)</item>`);
 * a null is an empty element.
 */
import { buildXmlDocument, xmlText, type XmlTree } from '../xml-writer.js';
import type { Output } from './params.js';

export type V1Value = string | number | boolean | null;
export type V1Record = Record<string, V1Value>;

/** The same body as an element tree: every null '' (an empty element), lists of records as `{item: [...]}`. */
function forXml(value: unknown): XmlTree | string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.length === 0 ? '' : { item: value.map((v) => forXml(v) as XmlTree) };
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forXml(v)]));
  return xmlText(value as string | number | boolean);
}

export function toXml(body: Record<string, unknown>): string {
  return buildXmlDocument({ response: forXml(body) });
}

/** A JSON, JSONP or XML body and its content type. */
export function renderObject(out: Output, body: Record<string, unknown>): { contentType: string; body: string } {
  switch (out.format) {
    case 'xml':
      return { contentType: 'application/xml; charset=utf-8', body: toXml(body) };
    // The leading comment keeps a browser from reading the answer as anything but a script call.
    case 'jsonp':
      return { contentType: 'application/javascript; charset=utf-8', body: `/**/${out.callback}(${JSON.stringify(body)});` };
    default:
      return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
  }
}

/** A record's cells for the CSV writer: numbers and booleans as text, null as an empty cell. */
export function csvCells(columns: readonly string[], r: V1Record): (string | null)[] {
  return columns.map((c) => {
    const v = r[c];
    return v === null || v === undefined ? null : String(v);
  });
}
