/**
 * JSON or XML for the SocketLabs-compatible APIs, chosen the way ASP.NET Web API's default content
 * negotiation chooses (SocketLabs' APIs are .NET services): the Accept header first, by q-value, then
 * by how specific the matching range is, then JSON before XML; when Accept names neither, the media
 * type of the request's body. So the any-type range answers JSON, and so does a RestSharp client's
 * default `Accept: application/json, application/xml, ...` (SocketLabs' own XML sample posts XML with
 * it and reads the answer as JSON).
 */

export type ResponseFormat = 'json' | 'xml';

export interface Negotiated {
  format: ResponseFormat;
  /** The media type to answer with. */
  mediaType: 'application/json' | 'application/xml' | 'text/xml';
}

export const JSON_ANSWER: Negotiated = { format: 'json', mediaType: 'application/json' };

/** application/xml, text/xml and structured-syntax types such as application/soap+xml. */
const XML_MEDIA_TYPE = /^(application|text)\/([a-z0-9.+-]*\+)?xml$/i;

/** The bare media type of a Content-Type or Accept entry, lower-cased ("" when there is none). */
function bareType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isXmlMediaType(contentType: string | undefined): boolean {
  return XML_MEDIA_TYPE.test(bareType(contentType));
}

interface Candidate {
  mediaType: string;
  answer: Negotiated;
}

/** In the order ties are broken: JSON first, as Web API's formatter list has it. */
const CANDIDATES: Candidate[] = [
  { mediaType: 'application/json', answer: JSON_ANSWER },
  { mediaType: 'application/xml', answer: { format: 'xml', mediaType: 'application/xml' } },
  { mediaType: 'text/xml', answer: { format: 'xml', mediaType: 'text/xml' } },
];

interface Range {
  type: string;
  subtype: string;
  q: number;
}

/** Accept's media ranges; an entry that is not `type/subtype` or has a malformed q is ignored. */
function parseAccept(accept: string): Range[] {
  const ranges: Range[] = [];
  for (const entry of accept.split(',')) {
    const [media, ...params] = entry.split(';');
    const m = /^([a-z0-9!#$%&'*+.^_`|~-]+)\/([a-z0-9!#$%&'*+.^_`|~-]+)$/i.exec(media!.trim());
    if (!m) continue;
    let q = 1;
    let valid = true;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k?.toLowerCase() !== 'q') continue;
      if (v === undefined || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v)) valid = false;
      else q = Number(v);
    }
    if (valid) ranges.push({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), q });
  }
  return ranges;
}

/** The q the Accept ranges give a media type: that of the most specific matching range (RFC 9110 §12.5.1). */
function qualityOf(mediaType: string, ranges: Range[]): { q: number; specificity: number } {
  const [type, subtype] = mediaType.split('/') as [string, string];
  let best = { q: 0, specificity: -1 };
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity > best.specificity || (specificity === best.specificity && specificity >= 0 && r.q > best.q)) {
      best = { q: r.q, specificity };
    }
  }
  return best;
}

/** What the request's own body was: XML answers XML when Accept does not decide (unless Accept refuses it, q=0). */
function byRequestBody(contentType: string | undefined, ranges: Range[]): Negotiated {
  if (!isXmlMediaType(contentType)) return JSON_ANSWER;
  const mediaType = bareType(contentType).startsWith('text/') ? 'text/xml' : 'application/xml';
  const { q, specificity } = qualityOf(mediaType, ranges);
  return specificity >= 0 && q === 0 ? JSON_ANSWER : { format: 'xml', mediaType };
}

/**
 * The answer's format for a request with these Accept and Content-Type headers. Without Accept (or
 * when it accepts neither JSON nor XML) the body's own type decides; an API without request bodies
 * in XML passes no content type and gets JSON then.
 */
export function negotiate(accept: string | undefined, requestContentType?: string): Negotiated {
  const ranges = accept === undefined ? [] : parseAccept(accept);
  let best: { q: number; specificity: number; answer: Negotiated } | null = null;
  for (const c of CANDIDATES) {
    const { q, specificity } = qualityOf(c.mediaType, ranges);
    if (q <= 0) continue;
    if (!best || q > best.q || (q === best.q && specificity > best.specificity)) best = { q, specificity, answer: c.answer };
  }
  return best ? best.answer : byRequestBody(requestContentType, ranges);
}
