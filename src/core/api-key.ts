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
 * What a key bound to one server may do (SocketLabs' keys allow injection and/or configuration):
 * - injection: sends mail for its server (Injection API, SMTP AUTH);
 * - management: manages its server through the v2 and Marketing APIs.
 */
export const SERVER_KEY_PERMISSIONS = ['injection', 'management'] as const;
export type ServerKeyPermission = (typeof SERVER_KEY_PERMISSIONS)[number];

/**
 * A key's scope, as stored and as the API and CLI show it: a server key's set of permissions,
 * comma-joined in SERVER_KEY_PERMISSIONS' order (`injection,management` for both), or `account`
 * (manages every server of one account, creates servers and their keys; never sends).
 */
export const API_KEY_SCOPES = ['injection', 'management', 'injection,management', 'account'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
/** The scopes a key bound to one server may have. */
export const SERVER_KEY_SCOPES = ['injection', 'management', 'injection,management'] as const;
export type ServerKeyScope = (typeof SERVER_KEY_SCOPES)[number];

/** Whether a key of `scope` may do `permission` for its own server (account keys are judged apart). */
export function scopeAllows(scope: ApiKeyScope, permission: ServerKeyPermission): boolean {
  return scope !== 'account' && scope.split(',').includes(permission);
}

/**
 * The server-key scope a caller asked for — one permission, a comma-separated list (any order,
 * spaces allowed) or an array of them — in its stored spelling; null when it names nothing else
 * than server permissions, or none, or one twice.
 */
export function serverScopeOf(asked: string | readonly string[]): ServerKeyScope | null {
  const parts = (typeof asked === 'string' ? asked.split(',') : asked).map((p) => p.trim().toLowerCase());
  if (parts.length === 0 || new Set(parts).size !== parts.length) return null;
  if (!parts.every((p) => (SERVER_KEY_PERMISSIONS as readonly string[]).includes(p))) return null;
  return SERVER_KEY_PERMISSIONS.filter((p) => parts.includes(p)).join(',') as ServerKeyScope;
}

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

export interface GeneratedKey {
  key: string;
  publicId: string;
  secretHash: string;
}

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

export interface ParsedKey {
  publicId: string;
  secret: string;
}

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
