/**
 * Which Postline recipient a report is about, and whether the report proves it. Postline sends
 * every message with the Return-Path b+<recipient id>-<tag>@<bounce domain> and the Message-ID
 * <recipient id>-<tag>@<hostname> (delivery/worker.ts, compose/compose.ts; lower case), where the
 * tag is a keyed MAC over the id (core/verp.ts). The id comes back either as the address the
 * report is delivered to or inside the copy of the original message the report quotes.
 *
 * Evidence, strongest first: the envelope RCPT TO (chosen by the reporting server from our
 * Return-Path), then the original's Return-Path and X-Original-Return-Path, an ARF report's
 * Original-Mail-From, then the original's Message-ID. A candidate counts only when it has the
 * shape of a Postline id (ids.ts: a 26-character Crockford base32 ULID); ids are compared
 * case-insensitively and returned upper case.
 *
 * `traceRecipientId` names the id a report claims (shown by `postline dsn parse`); `verifyTrace`
 * is the policy the MX listener acts on: only a candidate whose tag verifies is proof. An id
 * without a tag proves nothing, wherever it appears, because ids are visible to recipients.
 */
import { fieldValues, withoutAngles } from './fields.js';
import type { HeaderField } from './types.js';

/** 10 time characters (48 bits: the first is 0-7) and 16 random ones, Crockford base32 (no I, L, O, U). */
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
/**
 * A tag as it may come back: any short run of letters and digits. Its length is not checked here,
 * so a wrong-length tag is judged a bad tag (a forgery), not mistaken for no trace at all.
 */
const TAG = '[0-9a-z]{1,32}';
/** b+<id>[-<tag>]@domain: the Return-Path local part delivery/worker.ts writes. */
const RETURN_PATH_LOCAL = new RegExp(`^b\\+([0-9a-z]{26})(?:-(${TAG}))?$`, 'i');
/** <id[-tag]@host>: the Message-ID compose writes. */
const MESSAGE_ID = new RegExp(`^<?([0-9a-z]{26})(?:-(${TAG}))?@[^<>\\s@]+>?$`, 'i');

export interface TraceSources {
  /** The envelope RCPT TO the report arrived with, when known. */
  rcptTo?: string | null;
  /** Headers of the original message the report carries. */
  originalHeaders?: readonly HeaderField[];
  /** An ARF report's Original-Mail-From (the envelope sender of the original: our Return-Path). */
  originalMailFrom?: string | null;
  /** Message-IDs the report names for the original outside its headers (an MDN's Original-Message-ID). */
  originalMessageIds?: readonly string[];
}

/** Where a candidate id was found. */
export type TraceSource = 'rcpt-to' | 'return-path' | 'x-original-return-path' | 'original-mail-from' | 'message-id';

export interface TraceCandidate {
  source: TraceSource;
  /** Upper case. */
  id: string;
  /** Lower case; null when the address or Message-ID carried none. */
  tag: string | null;
}

/** Every Postline id the sources name, strongest evidence first. */
export function traceCandidates(sources: TraceSources): TraceCandidate[] {
  const headers = sources.originalHeaders ?? [];
  const found: (TraceCandidate | null)[] = [
    ...(sources.rcptTo ? [fromReturnPath(sources.rcptTo, 'rcpt-to')] : []),
    ...fieldValues(headers, 'Return-Path').map((v) => fromReturnPath(v, 'return-path')),
    ...fieldValues(headers, 'X-Original-Return-Path').map((v) => fromReturnPath(v, 'x-original-return-path')),
    ...(sources.originalMailFrom ? [fromReturnPath(sources.originalMailFrom, 'original-mail-from')] : []),
    ...fieldValues(headers, 'Message-ID').map(fromMessageId),
    ...(sources.originalMessageIds ?? []).map(fromMessageId),
  ];
  return found.filter((c): c is TraceCandidate => c !== null);
}

/** The id the report claims to be about (unverified), or null. */
export function traceRecipientId(sources: TraceSources): string | null {
  return traceCandidates(sources)[0]?.id ?? null;
}

/**
 * What a report's trace proves:
 * - traced: a candidate's tag verifies (the strongest such candidate);
 * - untraced: the report names no Postline id at all (nothing claimed);
 * - bad-tag: some candidate carries a tag and none verifies (made up or altered);
 * - untagged: ids only, no tag (a forgery, a Message-ID alone, or mail sent before tags existed).
 */
export type TraceVerdict =
  | { ok: true; recipientId: string; via: TraceSource }
  | { ok: false; reason: 'untraced' | 'bad-tag' | 'untagged'; claimedId: string | null; via: TraceSource | null };

export function verifyTrace(candidates: readonly TraceCandidate[], verify: (id: string, tag: string) => boolean): TraceVerdict {
  const proven = candidates.find((c) => c.tag !== null && verify(c.id, c.tag));
  if (proven) return { ok: true, recipientId: proven.id, via: proven.source };
  const first = candidates[0];
  if (!first) return { ok: false, reason: 'untraced', claimedId: null, via: null };
  const badTag = candidates.find((c) => c.tag !== null);
  const shown = badTag ?? first;
  return { ok: false, reason: badTag ? 'bad-tag' : 'untagged', claimedId: shown.id, via: shown.source };
}

/** "<B+01jd...@bounce.example.com>" -> "01JD..."; null unless the local part is b+<ULID>[-<tag>]. */
export function idFromReturnPath(address: string): string | null {
  return fromReturnPath(address, 'return-path')?.id ?? null;
}

/** "<01jd...@mta.example.com>" -> "01JD..."; null unless the local part is a ULID[-<tag>]. */
export function idFromMessageId(messageId: string): string | null {
  return fromMessageId(messageId)?.id ?? null;
}

function fromReturnPath(address: string, source: TraceSource): TraceCandidate | null {
  const addr = withoutAngles(address);
  const at = addr.lastIndexOf('@');
  if (at <= 0) return null;
  const m = RETURN_PATH_LOCAL.exec(addr.slice(0, at));
  return m ? candidate(source, m[1]!, m[2]) : null;
}

function fromMessageId(messageId: string): TraceCandidate | null {
  const m = MESSAGE_ID.exec(messageId.trim());
  return m ? candidate('message-id', m[1]!, m[2]) : null;
}

function candidate(source: TraceSource, rawId: string, tag: string | undefined): TraceCandidate | null {
  const id = rawId.toUpperCase();
  return ULID.test(id) ? { source, id, tag: tag === undefined ? null : tag.toLowerCase() } : null;
}
