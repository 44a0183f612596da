import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The XML body variant of POST /api/v1/email (root <PostBody>, as .NET XmlSerializer writes it),
 * turned into the same plain object the JSON variant gives, so one normalizer serves both.
 */
export type XmlParseResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/** Elements that are lists whatever their children are called (XmlSerializer names items after their type). */
const LISTS = new Set(['messages', 'to', 'cc', 'bcc', 'customheaders', 'attachments', 'metadata', 'tags', 'global']);
/** PerMessage is a list of lists (<ArrayOfMergeRow><MergeRow>…). */
const LIST_OF_LISTS = 'permessage';

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false,
  parseAttributeValue: false, trimValues: false, processEntities: true, htmlEntities: true,
});

function tagOf(n: Node): string | null {
  return Object.keys(n).find((k) => k !== ':@') ?? null;
}
function childrenOf(n: Node, tag: string): Node[] {
  return (n[tag] as Node[]).filter((c) => !(tagOf(c) === '#text' && String(c['#text']).trim() === ''));
}
function isNil(n: Node): boolean {
  const attrs = n[':@'];
  return !!attrs && Object.entries(attrs).some(([k, v]) => /(^|:)nil$/.test(k) && v === 'true');
}

function valueOf(n: Node, tag: string, as: 'auto' | 'list' | 'listOfLists' = 'auto'): unknown {
  if (isNil(n)) return null;
  const kids = childrenOf(n, tag);
  if (as === 'list') return kids.filter((k) => tagOf(k) !== '#text').map((k) => valueOf(k, tagOf(k)!));
  if (as === 'listOfLists') return kids.filter((k) => tagOf(k) !== '#text').map((k) => valueOf(k, tagOf(k)!, 'list'));
  const elements = kids.filter((k) => tagOf(k) !== '#text');
  if (elements.length === 0) {
    return (n[tag] as Node[]).map((k) => String(k['#text'] ?? '')).join('');
  }
  const obj: Record<string, unknown> = {};
  for (const k of elements) {
    const name = tagOf(k)!;
    const lower = name.toLowerCase();
    obj[name] = valueOf(k, name, lower === LIST_OF_LISTS ? 'listOfLists' : LISTS.has(lower) ? 'list' : 'auto');
  }
  return obj;
}

export function parsePostBodyXml(xml: string): XmlParseResult {
  // Refusing DTDs outright is what stops entity expansion ("billion laughs") and external entities.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) return { ok: false, reason: 'DOCTYPE and ENTITY declarations are not allowed' };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { ok: false, reason: `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})` };
  const doc = parser.parse(xml) as Node[];
  const root = doc.find((n) => { const t = tagOf(n); return t !== null && t !== '?xml' && t !== '#text'; });
  if (!root || tagOf(root) !== 'PostBody') return { ok: false, reason: `the root element must be PostBody` };
  const value = valueOf(root, 'PostBody');
  if (typeof value !== 'object' || value === null) return { ok: true, value: {} };
  return { ok: true, value: value as Record<string, unknown> };
}
