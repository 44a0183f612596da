/**
 * How long delivery keeps what DNS said about a domain (delivery/mx.ts). Pure: the answer's kind
 * and TTL in, milliseconds out. Every kind is kept, failures too, so a burst of recipients to one
 * domain costs one lookup whatever DNS does.
 */

/** What a lookup came to, as far as caching is concerned. */
export type LookupOutcome =
  /** Records (MX or the implicit MX's addresses); ttlSec null when the resolver gave none. */
  | { kind: 'answer'; ttlSec: number | null }
  /** NXDOMAIN or NODATA (RFC 2308); ttlSec from the SOA (the lesser of its TTL and MINIMUM), null without one. */
  | { kind: 'negative'; ttlSec: number | null }
  /** The resolver failed: timeout, SERVFAIL, REFUSED, no route. The answer is unknown. */
  | { kind: 'failure' };

/** An answer without a TTL (Node's resolver gives none for A/AAAA, test stubs none at all). */
export const ANSWER_DEFAULT_MS = 5 * 60_000;
/** Answers are kept for their TTL within these bounds: a TTL of 0 would mean a query per recipient. */
export const ANSWER_TTL_MIN_MS = 10_000;
/** A day: a domain that moves its MX is followed within a day even if it published a longer TTL. */
export const ANSWER_TTL_MAX_MS = 24 * 3_600_000;
/**
 * NXDOMAIN/NODATA are kept for the SOA's negative TTL (RFC 2308 §5) within these bounds: at least
 * 30 s, so a zone with a tiny SOA minimum does not cost a query per recipient; at most an hour (the
 * RFC suggests capping at one to three hours), so a domain that is fixed is mailed again soon.
 */
export const NEGATIVE_TTL_MIN_MS = 30_000;
export const NEGATIVE_TTL_MAX_MS = 3_600_000;
/**
 * A resolver failure is kept this long: a storm of recipients to a failing domain costs one lookup
 * (a timed-out one takes seconds), and a resolver that recovers is asked again within half a minute,
 * before the first retry of the deferred recipients (a minute, delivery/retry.ts).
 */
export const FAILURE_TTL_MS = 30_000;

const clamp = (ms: number, min: number, max: number) => Math.min(max, Math.max(min, ms));

/** How long to keep `outcome`, in milliseconds. */
export function cacheLifetimeMs(outcome: LookupOutcome): number {
  switch (outcome.kind) {
    case 'answer':
      return outcome.ttlSec === null || !Number.isFinite(outcome.ttlSec)
        ? ANSWER_DEFAULT_MS
        : clamp(outcome.ttlSec * 1000, ANSWER_TTL_MIN_MS, ANSWER_TTL_MAX_MS);
    case 'negative':
      // Without an SOA there is no negative TTL to honour (RFC 2308 §5): the shortest bound.
      return outcome.ttlSec === null || !Number.isFinite(outcome.ttlSec)
        ? NEGATIVE_TTL_MIN_MS
        : clamp(outcome.ttlSec * 1000, NEGATIVE_TTL_MIN_MS, NEGATIVE_TTL_MAX_MS);
    case 'failure':
      return FAILURE_TTL_MS;
  }
}
