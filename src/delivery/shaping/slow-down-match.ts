import { MAX_CLASSIFIED_REPLY_CHARS, normalizeReply } from '../../bounce/classify.js';
import type { SlowDownPattern } from './shaping-config.js';

/**
 * The slow-down pattern a reply matches, or null. The reply is read as the bounce classifier
 * reads it (continuation prefixes removed, whitespace collapsed, at most 8 KiB: a hostile server
 * should not make operators' expressions scan a megabyte), so "unusual rate of\n421-4.7.28
 * unsolicited mail" matches a phrase. `text` is the server's reply, or the error of a session
 * that broke off with one ("refused at greeting: 421 4.7.0 [TSS04] ..."): patterns are not
 * anchored, and name the reply code where it matters (`\b421[ -]`).
 */
export function slowDownMatch(text: string, patterns: readonly SlowDownPattern[]): SlowDownPattern | null {
  if (patterns.length === 0 || text.length === 0) return null;
  const normalized = normalizeReply(text.slice(0, MAX_CLASSIFIED_REPLY_CHARS));
  for (const p of patterns) if (normalized.search(p.match) !== -1) return p;
  return null;
}

/** A reply as one short line for reasons and logs. */
export function replyLine(text: string, max = 300): string {
  const line = normalizeReply(text.slice(0, MAX_CLASSIFIED_REPLY_CHARS));
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
