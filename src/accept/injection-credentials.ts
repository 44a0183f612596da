/**
 * The injection key SocketLabs' `credentials/injection-api` routes hand out. Clients call them
 * before every send (the route is how they learn the key and the gateway), so each call must
 * answer the same live key: a new key per call would pile up keys, and rotating one per call
 * would break a sender between its two requests. Postline stores only hashes of key secrets, so
 * this key's secret is derived instead: an HMAC of its public id under an installation secret
 * kept in the store's settings, and its hash is stored like any other key's. Revoking or rotating
 * the key through the API retires it; the next call creates a new one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { API_KEY_SECRET_LENGTH, generateApiKey, hashSecret } from '../core/api-key.js';
import type { Store } from '../store/store.js';

/** The settings row holding the installation secret the credential keys' secrets derive from. */
export const CREDENTIALS_SECRET_SETTING = 'credentials.injection.secret';
/** The name these keys carry, so the key list shows what made them. */
export const CREDENTIALS_KEY_NAME = 'injection-api credentials';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The 40-character secret of the credential key `publicId` (alphanumeric, as every key secret). */
export function derivedSecret(installationSecret: Buffer, publicId: string): string {
  let out = '';
  for (let counter = 0; out.length < API_KEY_SECRET_LENGTH; counter++) {
    const block = createHmac('sha256', installationSecret).update(`${publicId}:${counter}`).digest();
    // Rejection sampling keeps every character uniform, as for random keys.
    for (const b of block) if (b < 248 && out.length < API_KEY_SECRET_LENGTH) out += ALPHABET[b % 62];
  }
  return out;
}

export type CredentialsStore = Pick<Store, 'settings' | 'tenancy'>;

export class InjectionCredentials {
  private secret: Promise<Buffer> | null = null;

  constructor(
    private readonly store: CredentialsStore,
    private readonly now: () => number,
  ) {}

  /** The server's credential key, created on first use; the same key on every later call while it lives. */
  async keyFor(serverId: number): Promise<string> {
    const secret = await this.installationSecret();
    const current = await this.currentKey(serverId, secret);
    if (current) return current;
    const fresh = generateApiKey();
    const derived = derivedSecret(secret, fresh.publicId);
    await this.store.tenancy.createApiKey(
      { serverId, scope: 'injection', name: CREDENTIALS_KEY_NAME, publicId: fresh.publicId, secretHash: hashSecret(derived) },
      this.now(),
    );
    return `${fresh.publicId}.${derived}`;
  }

  /** The oldest live credential key of the server whose stored hash is still the derived secret's (a rotated one is not). */
  private async currentKey(serverId: number, secret: Buffer): Promise<string | null> {
    const candidates = (await this.store.tenancy.listApiKeys(serverId))
      .filter((k) => k.scope === 'injection' && k.revokedAt === null && k.name === CREDENTIALS_KEY_NAME)
      .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    for (const k of candidates) {
      const derived = derivedSecret(secret, k.publicId);
      const auth = await this.store.tenancy.findApiKeyForAuth(k.publicId);
      if (auth && auth.revokedAt === null && auth.secretHash === hashSecret(derived)) return `${k.publicId}.${derived}`;
    }
    return null;
  }

  private installationSecret(): Promise<Buffer> {
    this.secret ??= (async () => {
      const stored =
        (await this.store.settings.get(CREDENTIALS_SECRET_SETTING)) ??
        (await this.store.settings.setIfAbsent(CREDENTIALS_SECRET_SETTING, randomBytes(32).toString('base64url')));
      return Buffer.from(stored, 'base64url');
    })();
    // A failed read is not remembered: the next call tries again.
    this.secret.catch(() => {
      this.secret = null;
    });
    return this.secret;
  }
}
