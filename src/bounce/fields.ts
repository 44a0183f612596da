/**
 * "Name: value" field blocks: message headers, and the field groups of delivery-status (RFC 3464)
 * and feedback-report (RFC 5965) parts, which use the same syntax with blank lines between groups.
 */
import type { HeaderField } from './types.js';

/** A field name: printable ASCII except ':' (RFC 5322 ftext), then optional blanks before ':'. */
const FIELD_LINE = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$/;

/**
 * Splits text into groups of fields; a blank line ends a group. Continuation lines (starting with
 * a space or tab) are unfolded onto their field; a line that is neither a field nor a
 * continuation is skipped, so one malformed line costs that line, not the report.
 */
export function parseFieldGroups(text: string): HeaderField[][] {
  const groups: HeaderField[][] = [];
  let current: HeaderField[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    if (line.trim() === '') {
      if (current.length > 0) groups.push(current);
      current = [];
      continue;
    }
    const last = current[current.length - 1];
    if (/^[ \t]/.test(line)) {
      if (last) last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const m = FIELD_LINE.exec(line);
    if (m) current.push({ name: m[1]!, value: m[2]!.trim() });
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * The header section at the start of `text` (up to the first blank line), unfolded. Leading blank
 * lines are skipped: a quoted copy of a message often starts after one or two.
 */
export function parseHeaderBlock(text: string): HeaderField[] {
  const start = text.search(/\S/);
  if (start < 0) return [];
  const end = text.slice(start).search(/\r?\n[ \t]*\r?\n/);
  const block = end < 0 ? text.slice(start) : text.slice(start, start + end);
  return parseFieldGroups(block)[0] ?? [];
}

/** The first value of a field, matched case-insensitively, or null. */
export function fieldValue(fields: readonly HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower)?.value ?? null;
}

/** Every value of a field, in order. */
export function fieldValues(fields: readonly HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  return fields.filter((f) => f.name.toLowerCase() === lower).map((f) => f.value);
}

/** "rfc822; user@example.com" -> "user@example.com"; "dns; mx.example.com" -> "mx.example.com". */
export function withoutType(value: string): string {
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(semi + 1)).trim();
}

/** "<user@example.com>" -> "user@example.com"; whitespace trimmed; other text kept. */
export function withoutAngles(value: string): string {
  const m = /<([^<>]*)>/.exec(value);
  return (m ? m[1]! : value).trim();
}

/** Collapses runs of whitespace to one space: unfolded fields keep the indentation of their continuation lines. */
export function collapseWhitespace(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}
