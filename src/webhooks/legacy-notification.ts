import type { WebhookFormat } from '../store/store.js';
import { generateSecretKey } from './endpoint.js';
import type { PostOutcome } from '../net/post.js';

/**
 * The ValidationKey of SocketLabs' legacy Notification API (docs/webhooks.md), the `form` endpoint
 * format; which types such an endpoint gets is in core/legacy-notification-types.ts. The key is
 * shown to the owner and never sent; the receiver proves it is the owner's by putting it anywhere
 * in the body of its answer to EVERY notification, so a 2xx without it is a failed delivery (and
 * a failed validation).
 */

/** A new ValidationKey: 20 letters and digits, like a SecretKey. */
export const generateValidationKey = generateSecretKey;

/**
 * A ValidationKey an owner sets (to keep a receiver's existing key when moving from SocketLabs):
 * printable ASCII without spaces, long enough that an ordinary answer ("OK") cannot contain it by chance.
 */
export const VALIDATION_KEY_PATTERN = '^[!-~]{8,128}$';

/**
 * Whether a new endpoint is validated before it is stored. A form endpoint given no ValidationKey
 * gets a new one its receiver cannot know yet: like SocketLabs' control panel, Postline shows the
 * key first and the owner validates once the receiver answers it.
 */
export function validatesOnCreate(format: WebhookFormat, validate: boolean | undefined, validationKey: string | undefined): boolean {
  return validate ?? !(format === 'form' && validationKey === undefined);
}

/** Receivers' answers are read up to MAX_RESPONSE_SNIPPET_BYTES (4 KB): the key must be in them. */
export function requireValidationKey(outcome: PostOutcome, validationKey: string | null): PostOutcome {
  if (!outcome.ok || validationKey === null) return outcome;
  if ((outcome.responseSnippet ?? '').includes(validationKey)) return outcome;
  return {
    ...outcome,
    ok: false,
    error: `HTTP ${outcome.status} without the endpoint's ValidationKey in the answer; a legacy (form) endpoint must put its ValidationKey in the body of every answer`,
  };
}
