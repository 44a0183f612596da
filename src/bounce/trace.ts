/**
 * Which Postline recipient a report is about. Postline sends every message with the Return-Path
 * b+<recipient id>@<bounce domain> and the Message-ID <recipient id@hostname> (delivery/worker.ts,
 * compose/compose.ts, ids lower-cased there), so the id comes back either as the address the report
 * is delivered to or inside the copy of the original message the report quotes.
 *
 * Evidence, strongest first: the envelope RCPT TO (chosen by the reporting server from our
 * Return-Path), then the original's Return-Path and X-Original-Return-Path, then its Message-ID.
 * A candidate counts only when it has the shape of a Postline id (ids.ts: a 26-character
 * Crockford base32 ULID); ids are compared case-insensitively and returned upper case.
 */
import { fieldValues, withoutAngles } from './fields.js';
import type { HeaderField } from './types.js';

/** 10 time characters (48 bits: the first is 0-7) and 16 random ones, Crockford base32 (no I, L, O, U). */
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
/** b+<id>@domain: the Return-Path local part delivery/worker.ts writes. */
const RETURN_PATH_LOCAL = /^b\+([0-9a-z]{26})$/i;
/** <id@host>: the Message-ID compose writes. */
const MESSAGE_ID = /^<?([0-9a-z]{26})@[^<>\s@]+>?$/i;

export interface TraceSources {
  /** The envelope RCPT TO the report arrived with, when known. */
  rcptTo?: string | null;
  /** Headers of the original message the report carries. */
  originalHeaders?: readonly HeaderField[];
  /** Message-IDs the report names for the original outside its headers (an MDN's Original-Message-ID). */
  originalMessageIds?: readonly string[];
}

export function traceRecipientId(sources: TraceSources): string | null {
  const headers = sources.originalHeaders ?? [];
  const candidates = [
    ...(sources.rcptTo ? [idFromReturnPath(sources.rcptTo)] : []),
    ...fieldValues(headers, 'Return-Path').map(idFromReturnPath),
    ...fieldValues(headers, 'X-Original-Return-Path').map(idFromReturnPath),
    ...fieldValues(headers, 'Message-ID').map(idFromMessageId),
    ...(sources.originalMessageIds ?? []).map(idFromMessageId),
  ];
  return candidates.find((id): id is string => id !== null) ?? null;
}

/** "<B+01jd...@bounce.example.com>" -> "01JD..."; null unless the local part is b+<ULID>. */
export function idFromReturnPath(address: string): string | null {
  const addr = withoutAngles(address);
  const at = addr.lastIndexOf('@');
  if (at <= 0) return null;
  const m = RETURN_PATH_LOCAL.exec(addr.slice(0, at));
  return m ? ulidOrNull(m[1]!) : null;
}

/** "<01jd...@mta.example.com>" -> "01JD..."; null unless the local part is a ULID. */
export function idFromMessageId(messageId: string): string | null {
  const m = MESSAGE_ID.exec(messageId.trim());
  return m ? ulidOrNull(m[1]!) : null;
}

function ulidOrNull(candidate: string): string | null {
  const id = candidate.toUpperCase();
  return ULID.test(id) ? id : null;
}
