import type { WebhookFormat } from '../store/store.js';
import { generateSecretKey } from './endpoint.js';
import { LEGACY_NOTIFICATION_TYPES } from './payload.js';
import type { PostOutcome } from './post.js';

/**
 * SocketLabs' legacy Notification API (reference §3.4), the `form` endpoint format: which event
 * types such an endpoint gets, and its ValidationKey. The ValidationKey is shown to the owner and
 * never sent; the receiver proves it is the owner's by putting it anywhere in the body of its
 * answer to EVERY notification, so a 2xx without it is a failed delivery (and a failed validation).
 */

/** Types a form endpoint may subscribe to: the legacy ones but Validation, which is sent on request only. */
export const LEGACY_SUBSCRIBABLE_TYPES: readonly string[] = LEGACY_NOTIFICATION_TYPES.filter((t) => t !== 'Validation');

/**
 * The event types an endpoint receives: null for every type (a JSON endpoint that asked for none
 * in particular), else the list. A form endpoint never receives Queued or Deferred, whatever it
 * asked for: the legacy API had no such types.
 */
export function typesReceived(e: { format: WebhookFormat | string; eventTypes: readonly string[] }): readonly string[] | null {
  if (e.format !== 'form') return e.eventTypes.length === 0 ? null : e.eventTypes;
  return e.eventTypes.length === 0 ? LEGACY_SUBSCRIBABLE_TYPES : e.eventTypes.filter((t) => LEGACY_SUBSCRIBABLE_TYPES.includes(t));
}

/** Event types a form endpoint cannot have (to refuse them with a clear error). */
export function typesNotForForm(eventTypes: readonly string[]): string[] {
  return eventTypes.filter((t) => !LEGACY_SUBSCRIBABLE_TYPES.includes(t));
}

/** A new ValidationKey: 20 letters and digits, like a SecretKey. */
export const generateValidationKey = generateSecretKey;

/**
 * A ValidationKey an owner sets (to keep a receiver's existing key when moving from SocketLabs):
 * printable ASCII without spaces, long enough that an ordinary answer ("OK") cannot contain it by chance.
 */
export const VALIDATION_KEY_PATTERN = '^[!-~]{8,128}$';

/** Receivers' answers are read up to MAX_RESPONSE_SNIPPET_BYTES (4 KB): the key must be in them. */
export function requireValidationKey(outcome: PostOutcome, validationKey: string | null): PostOutcome {
  if (!outcome.ok || validationKey === null) return outcome;
  if ((outcome.responseSnippet ?? '').includes(validationKey)) return outcome;
  return {
    ...outcome, ok: false,
    error: `HTTP ${outcome.status} without the endpoint's ValidationKey in the answer; a legacy (form) endpoint must put its ValidationKey in the body of every answer`,
  };
}
