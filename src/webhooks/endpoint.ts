import { randomBytes } from 'node:crypto';
import type { WebhookEndpoint } from '../store/store.js';
import { generateSecret } from '../net/standard-signature.js';
import { WEBHOOK_EVENT_TYPES } from './payload.js';

/**
 * Rules about one endpoint that are not I/O: which event types it may ask for, its secrets and
 * their rotation. The store keeps the values; the API and the dispatcher apply these.
 */

/** Types an endpoint can subscribe to: every event type but Validation, which is sent on request only. */
export const SUBSCRIBABLE_EVENT_TYPES = WEBHOOK_EVENT_TYPES.filter((t) => t !== 'Validation');

/**
 * After a rotation the previous signing secret keeps signing (beside the new one) for this long:
 * a day lets a receiver be redeployed with the new secret at leisure. It then stops by itself;
 * a further rotation drops it at once (only the newest two secrets are ever kept).
 */
export const SIGNING_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

const SECRET_KEY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const SECRET_KEY_LENGTH = 20;

/** A SocketLabs-style SecretKey (20 letters and digits, as in SocketLabs' examples). */
export function generateSecretKey(): string {
  const bytes = randomBytes(SECRET_KEY_LENGTH * 2);
  let out = '';
  // Rejection sampling: byte values past the largest multiple of the alphabet size would bias it.
  const limit = 256 - (256 % SECRET_KEY_ALPHABET.length);
  for (const b of bytes) {
    if (out.length === SECRET_KEY_LENGTH) break;
    if (b < limit) out += SECRET_KEY_ALPHABET[b % SECRET_KEY_ALPHABET.length];
  }
  return out.length === SECRET_KEY_LENGTH ? out : generateSecretKey();
}

/** The secrets that sign a request at `now`: the newest, plus the previous one during the overlap. */
export function activeSigningSecrets(e: Pick<WebhookEndpoint, 'signingSecrets' | 'secretsRotatedAt'>, now: number): string[] {
  const [newest, previous] = e.signingSecrets;
  if (newest === undefined) return [];
  const overlapping = previous !== undefined && e.secretsRotatedAt !== null && now < e.secretsRotatedAt + SIGNING_SECRET_OVERLAP_MS;
  return overlapping ? [newest, previous] : [newest];
}

/** A rotation: a new secret first, the current one kept for the overlap, any older one dropped. */
export function rotatedSecrets(
  e: Pick<WebhookEndpoint, 'signingSecrets'>,
  now: number,
): { signingSecrets: string[]; secretsRotatedAt: number; newSecret: string } {
  const newSecret = generateSecret();
  return { signingSecrets: [newSecret, ...e.signingSecrets.slice(0, 1)], secretsRotatedAt: now, newSecret };
}
