import { describe, expect, it } from 'vitest';
import { activeSigningSecrets, generateSecretKey, rotatedSecrets, SIGNING_SECRET_OVERLAP_MS, SUBSCRIBABLE_EVENT_TYPES } from '../../src/webhooks/endpoint.js';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { nextAttemptAt, shouldDisableEndpoint } from '../../src/net/backoff.js';

describe('webhook endpoint rules', () => {
  it('subscribes to every event type but Validation', () => {
    expect(SUBSCRIBABLE_EVENT_TYPES).toEqual(['Queued', 'Deferred', 'Delivered', 'Failed', 'Tracking', 'Complaint']);
  });

  it('generates 20-character SocketLabs-style secret keys, different each time', () => {
    const keys = new Set(Array.from({ length: 50 }, generateSecretKey));
    expect(keys.size).toBe(50);
    for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9]{20}$/);
  });

  it('signs with the previous secret only during the overlap after a rotation, and keeps two at most', () => {
    const now = 1_700_000_000_000;
    const first = rotatedSecrets({ signingSecrets: ['whsec_old'] }, now);
    expect(first.signingSecrets).toEqual([first.newSecret, 'whsec_old']);
    const e = { signingSecrets: first.signingSecrets, secretsRotatedAt: now };
    expect(activeSigningSecrets(e, now + SIGNING_SECRET_OVERLAP_MS - 1)).toEqual([first.newSecret, 'whsec_old']);
    expect(activeSigningSecrets(e, now + SIGNING_SECRET_OVERLAP_MS)).toEqual([first.newSecret]);
    expect(activeSigningSecrets({ signingSecrets: ['whsec_a'], secretsRotatedAt: null }, now)).toEqual(['whsec_a']);
    const second = rotatedSecrets({ signingSecrets: first.signingSecrets }, now + 1);
    expect(second.signingSecrets).toEqual([second.newSecret, first.newSecret]);
  });

  it('takes a test schedule and disable window where given', () => {
    expect(nextAttemptAt(1, 1000, () => 0.5, [200])).toBe(1200);
    expect(nextAttemptAt(2, 1000, () => 0.5, [200])).toBeNull();
    expect(shouldDisableEndpoint({ failingSince: 1000, now: 1100, disableAfterMs: 100 })).toBe(true);
    expect(shouldDisableEndpoint({ failingSince: 1000, now: 1099, disableAfterMs: 100 })).toBe(false);
  });
});

describe('webhook configuration', () => {
  it('reads the private-address switch and allow-list; a bad range stops start-up naming the key', () => {
    const cfg = loadConfig({ POSTLINE_WEBHOOK_ALLOW_PRIVATE: 'true', POSTLINE_WEBHOOK_ALLOW_CIDRS: '10.1.2.0/24, 127.0.0.1' });
    expect(cfg.webhookAllowPrivate).toBe(true);
    expect(cfg.webhookAllowCidrs).toEqual(['10.1.2.0/24', '127.0.0.1']);
    expect(loadConfig({}).webhookAllowPrivate).toBe(false);
    expect(() => loadConfig({ POSTLINE_WEBHOOK_ALLOW_CIDRS: '10.1.2.0/33' })).toThrow(ConfigError);
    expect(() => loadConfig({ POSTLINE_WEBHOOK_ALLOW_CIDRS: 'example.com' })).toThrow(/POSTLINE_WEBHOOK_ALLOW_CIDRS/);
  });
});
