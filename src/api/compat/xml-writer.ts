/**
 * Writing an XML answer with fast-xml-parser's XMLBuilder. Text is escaped here rather than by the
 * builder, because XML 1.0 cannot carry some characters a value may hold (controls, lone surrogates)
 * even as references: they become U+FFFD instead of making the document unreadable.
 */
import { XMLBuilder } from 'fast-xml-parser';

export const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance';
export const XSD_NAMESPACE = 'http://www.w3.org/2001/XMLSchema';
const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

const NOT_XML_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const MARKUP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };

/** A value as element text: markup escaped, CR kept as a reference (a parser would turn it into LF). */
export function xmlText(value: string | number | boolean): string {
  return String(value)
    .replace(NOT_XML_CHARS, '\ufffd')
    .replace(/[&<>\r]/g, (c) => MARKUP[c]!);
}

/**
 * Element trees as XMLBuilder takes them: `{ Name: child }`, an array of children for repeated
 * elements, `@_name` keys for attributes, '' for an empty element. Strings must come from xmlText.
 */
export type XmlTree = { [name: string]: XmlTree | XmlTree[] | string };

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: false,
  suppressEmptyNode: true,
  // Otherwise an attribute whose value is "true" is written bare (`xsi:nil`), which is not XML.
  suppressBooleanAttributes: false,
});

/** The document: the declaration, then the one root element of `tree`. */
export function buildXmlDocument(tree: XmlTree): string {
  return DECLARATION + (builder.build(tree) as string);
}
