import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The XML body variant of POST /api/v1/email (root <PostBody>, as .NET XmlSerializer writes it;
 * docs/injection-api.md), turned into the same plain object the JSON variant gives, so one
 * normalizer serves both. Element names become keys as sent; leaves stay strings.
 */
export type XmlParseResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/** Elements that are lists whatever their children are called (XmlSerializer names items after their type). */
const LISTS = new Set(['messages', 'to', 'cc', 'bcc', 'customheaders', 'attachments', 'metadata', 'tags', 'global', 'permessage']);
/** Single objects: an empty one (`<ReplyTo />`) is `{}`, as JSON clients send for "unset". */
const OBJECTS = new Set(['from', 'replyto', 'mergedata']);
/** Lists whose items are objects, so an empty item is `{}` rather than `""`. */
const OBJECT_ITEMS = new Set(['messages', 'customheaders', 'attachments', 'metadata', 'global']);

type Shape = { t: 'value' } | { t: 'object' } | { t: 'list'; item: Shape };
const VALUE: Shape = { t: 'value' };
const OBJECT: Shape = { t: 'object' };
const LIST_OF_VALUES: Shape = { t: 'list', item: VALUE };
const LIST_OF_OBJECTS: Shape = { t: 'list', item: OBJECT };
/** PerMessage: <ArrayOfMergeRow> items, each a list of <MergeRow> objects. */
const LIST_OF_ROW_LISTS: Shape = { t: 'list', item: LIST_OF_OBJECTS };

function shapeOfProperty(name: string): Shape {
  const n = name.toLowerCase();
  if (n === 'permessage') return LIST_OF_ROW_LISTS;
  if (LISTS.has(n)) return OBJECT_ITEMS.has(n) ? LIST_OF_OBJECTS : LIST_OF_VALUES;
  return OBJECTS.has(n) ? OBJECT : VALUE;
}

/** fast-xml-parser's preserveOrder node: `{ tag: children, ':@'?: attributes }` or a text/CDATA node. */
type PNode = Record<string, unknown>;
interface Element {
  name: string;
  children: PNode[];
  attrs: Record<string, unknown> | undefined;
}

class ShapeError extends Error {}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false, // needed to see xsi:nil; every other attribute is ignored below
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entities are decoded here (decodeText), not by the parser: only the five predefined ones and
  // character references exist without a DTD, and CDATA must stay undecoded.
  processEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** One pass, so `&amp;lt;` gives `&lt;`, never `<`. Anything else after `&` is not well-formed XML. */
function decodeText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,12});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new ShapeError(`malformed entity reference "${whole}"`);
    const named = PREDEFINED[ref];
    if (named !== undefined) return named;
    const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
    if (!m) throw new ShapeError(`unknown entity reference "${whole}" (no DTD, so only lt, gt, amp, quot, apos and &#...; exist)`);
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2] as string, 10);
    if (!isXmlChar(cp)) throw new ShapeError(`character reference "${whole}" is not an allowed XML character`);
    return String.fromCodePoint(cp);
  });
}

function asElement(node: PNode): Element | null {
  for (const key of Object.keys(node)) {
    if (key === ':@' || key === '#text' || key === '#cdata') continue;
    return { name: key, children: node[key] as PNode[], attrs: node[':@'] as Record<string, unknown> | undefined };
  }
  return null;
}

/** Text of a text or CDATA node (CDATA content is literal), or null for an element/other node. */
function textOf(node: PNode): string | null {
  if ('#text' in node) return decodeText(String(node['#text']));
  if ('#cdata' in node) return (node['#cdata'] as PNode[]).map((c) => String(c['#text'] ?? '')).join('');
  return null;
}

function isNil(el: Element): boolean {
  if (!el.attrs) return false;
  for (const [k, v] of Object.entries(el.attrs)) {
    // Any prefix bound to the XMLSchema-instance namespace; xs:boolean true is "true" or "1".
    if (/^@_(?:[^:]+:)?nil$/.test(k) && /^\s*(?:true|1)\s*$/.test(String(v))) return true;
  }
  return false;
}

const WHITESPACE = /^[ \t\r\n]*$/;

/** Child elements plus the concatenated text; text beside elements must be whitespace (formatting). */
function split(el: Element): { elements: Element[]; text: string } {
  const elements: Element[] = [];
  let text = '';
  for (const child of el.children) {
    const t = textOf(child);
    if (t !== null) text += t;
    else {
      const e = asElement(child);
      if (e) elements.push(e);
    }
  }
  if (elements.length > 0 && !WHITESPACE.test(text)) {
    throw new ShapeError(`<${el.name}> mixes text with child elements`);
  }
  return { elements, text };
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty: a key such as "__proto__" becomes an own property (as JSON.parse does), never a prototype.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function convert(el: Element, shape: Shape): unknown {
  if (isNil(el)) return null;
  const { elements, text } = split(el);
  if (shape.t === 'list') {
    if (elements.length === 0 && !WHITESPACE.test(text)) throw new ShapeError(`<${el.name}> must hold item elements, not text`);
    return elements.map((item) => convert(item, shape.item));
  }
  if (elements.length === 0) {
    // A leaf keeps its text exactly; an empty object-typed element is an empty object.
    return shape.t === 'object' && WHITESPACE.test(text) ? {} : text;
  }
  const obj: Record<string, unknown> = {};
  for (const child of elements) {
    if (Object.hasOwn(obj, child.name)) {
      throw new ShapeError(`<${el.name}> has more than one <${child.name}>`);
    }
    setKey(obj, child.name, convert(child, shapeOfProperty(child.name)));
  }
  return obj;
}

/** The validator stops checking after a self-closing root, and the parser drops what follows: `<PostBody/>junk`. */
function junkAfterSelfClosingRoot(doc: string): boolean {
  const bare = doc.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '');
  const m = /<(?![?!])[^<>]*>/.exec(bare);
  return !!m && m[0].endsWith('/>') && !WHITESPACE.test(bare.slice(m.index + m[0].length));
}

export function parsePostBodyXml(xml: string): XmlParseResult {
  // Refusing DTDs outright, before the parser sees them, is what stops entity expansion
  // ("billion laughs") and external entities.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    return { ok: false, reason: 'DOCTYPE and ENTITY declarations are not allowed' };
  }
  // Buffer#toString keeps a UTF-8 byte-order mark; the validator would call it stray text.
  const doc = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml;
  if (doc.trim() === '') return { ok: false, reason: 'empty XML document' };
  const valid = XMLValidator.validate(doc);
  if (valid !== true) return { ok: false, reason: `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})` };
  try {
    const nodes = parser.parse(doc) as PNode[];
    const top = nodes.map(asElement).filter((e): e is Element => e !== null);
    // The validator lets through several top-level elements and text after `<Root/>`; XML allows
    // exactly one element and nothing but whitespace around it.
    if (
      nodes.some((n) => {
        const t = textOf(n);
        return t !== null && !WHITESPACE.test(t);
      })
    ) {
      return { ok: false, reason: 'text outside the root element' };
    }
    if (top.length !== 1) return { ok: false, reason: `expected one root element, found ${top.length}` };
    const root = top[0] as Element;
    if (root.children.length === 0 && junkAfterSelfClosingRoot(doc)) return { ok: false, reason: 'text outside the root element' };
    if (root.name.toLowerCase() !== 'postbody') {
      return { ok: false, reason: `the root element must be PostBody, not ${root.name}` };
    }
    const { elements, text } = split(root);
    if (elements.length === 0 && !WHITESPACE.test(text)) return { ok: false, reason: 'PostBody must hold elements, not text' };
    // The root is always an object (an xsi:nil on it is ignored): the envelope, as in JSON.
    return { ok: true, value: convert({ ...root, attrs: undefined }, OBJECT) as Record<string, unknown> };
  } catch (err) {
    // ShapeError, or the parser's own refusals (e.g. an element named __proto__, nesting too deep).
    return { ok: false, reason: (err as Error).message };
  }
}
