import type { SendingDomainCheck, ServerDkimKey } from '../store/store.js';
import type { DkimKeyState, RecordCheck } from '../core/sending-domain-types.js';

/**
 * How long a replaced DKIM key stays published after its successor starts signing: mail signed
 * just before the switch may sit in queues and be verified days later, and receivers re-verify
 * on forwarding. A week covers both.
 */
export const DKIM_ROTATION_OVERLAP_MS = 7 * 24 * 3_600_000;

/** The state now: a retiring key past its overlap is retired even before anything records it. */
export function effectiveState(k: ServerDkimKey, now: number): DkimKeyState {
  if (k.state === 'retiring' && k.retireAfter !== null && k.retireAfter <= now) return 'retired';
  return k.state;
}

/** The keys whose records are to be published (pending, active, retiring), with their state now. */
export function keysToPublish(keys: readonly ServerDkimKey[], now: number): ServerDkimKey[] {
  return keys.map((k) => ({ ...k, state: effectiveState(k, now) })).filter((k) => k.state !== 'retired');
}

/**
 * The key state changes a verification decides: a pending key whose record was seen becomes
 * active and the active key of its algorithm becomes retiring for the overlap period; retiring
 * keys past the overlap become retired.
 */
export function rotationChanges(keys: readonly ServerDkimKey[], checks: readonly RecordCheck[], now: number): SendingDomainCheck['keyChanges'] {
  const changes: SendingDomainCheck['keyChanges'] = [];
  for (const k of keys) if (k.state === 'retiring' && effectiveState(k, now) === 'retired') changes.push({ id: k.id, state: 'retired' });
  const seen = (selector: string) => checks.some((c) => c.kind === 'dkim' && c.selector === selector && c.status === 'verified');
  for (const p of keys.filter((k) => k.state === 'pending' && seen(k.selector))) {
    for (const old of keys.filter((k) => k.state === 'active' && k.algorithm === p.algorithm)) {
      changes.push({ id: old.id, state: 'retiring', retireAfter: now + DKIM_ROTATION_OVERLAP_MS });
    }
    changes.push({ id: p.id, state: 'active', activatedAt: now });
  }
  return changes;
}

/** A selector not used by any of `keys`: `base`, else `base-2`, `base-3`, ... */
export function freeSelector(base: string, keys: readonly { selector: string }[]): string {
  const taken = new Set(keys.map((k) => k.selector.toLowerCase()));
  if (!taken.has(base.toLowerCase())) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`.toLowerCase())) return `${base}-${i}`;
}
