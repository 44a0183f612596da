import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys in SocketLabs' format: 20-character public id, `.`, 40-character secret (61 in all).
 * The official clients recognise exactly this shape and send it as `Authorization: Bearer`.
 * Only a SHA-256 of the secret is stored: the secret has 238 random bits, so a slow KDF buys
 * nothing, and a fast hash keeps authentication off the hot path's profile.
 */
export const API_KEY_PUBLIC_LENGTH = 20;
export const API_KEY_SECRET_LENGTH = 40;
export const API_KEY_LENGTH = API_KEY_PUBLIC_LENGTH + 1 + API_KEY_SECRET_LENGTH;

/**
 * - injection: sends mail for one server (Injection API, SMTP AUTH) and nothing else.
 * - management: manages one server through the v2 API.
 * - account: manages every server of one account, creates servers and their keys.
 */
export const API_KEY_SCOPES = ['injection', 'management', 'account'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
/** The scopes a key bound to one server may have. */
export const SERVER_KEY_SCOPES = ['injection', 'management'] as const;
export type ServerKeyScope = (typeof SERVER_KEY_SCOPES)[number];

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomToken(length: number): string {
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export interface GeneratedKey { key: string; publicId: string; secretHash: string }

export function generateApiKey(): GeneratedKey {
  return newSecretFor(randomToken(API_KEY_PUBLIC_LENGTH));
}

/** A fresh secret for an existing public id (rotation: the key keeps its id, the old secret stops). */
export function newSecretFor(publicId: string): GeneratedKey {
  const secret = randomToken(API_KEY_SECRET_LENGTH);
  return { key: `${publicId}.${secret}`, publicId, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export interface ParsedKey { publicId: string; secret: string }

export function parseApiKey(key: string): ParsedKey | null {
  if (key.length !== API_KEY_LENGTH || key[API_KEY_PUBLIC_LENGTH] !== '.') return null;
  const publicId = key.slice(0, API_KEY_PUBLIC_LENGTH);
  const secret = key.slice(API_KEY_PUBLIC_LENGTH + 1);
  if (!/^[A-Za-z0-9]+$/.test(publicId) || !/^[A-Za-z0-9]+$/.test(secret)) return null;
  return { publicId, secret };
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
