import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateTlsCredentials } from '../../src/smtp/tls.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'postline-tls-'));
  dirs.push(d);
  return d;
};
const cfg = (dataDir: string, hostname = 'smtp.postline.test') => ({ dataDir, hostname, tlsCertFile: null, tlsKeyFile: null });

describe('TLS credentials', () => {
  it('generates a self-signed certificate for the hostname once, key 0600, and reuses it', () => {
    const dir = tempDir();
    const first = loadOrCreateTlsCredentials(cfg(dir));
    expect(new X509Certificate(first.cert).checkHost('smtp.postline.test')).toBe('smtp.postline.test');
    expect(statSync(join(dir, 'tls', 'key.pem')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateTlsCredentials(cfg(dir))).toEqual(first);
    // Another hostname gets a new certificate.
    const renamed = loadOrCreateTlsCredentials(cfg(dir, 'mail.example.com'));
    expect(renamed.cert).not.toBe(first.cert);
    expect(new X509Certificate(renamed.cert).checkHost('mail.example.com')).toBe('mail.example.com');
  });

  it('uses the configured PEM files and refuses a key that does not match', () => {
    const a = tempDir();
    const b = tempDir();
    const ca = loadOrCreateTlsCredentials(cfg(a));
    const cb = loadOrCreateTlsCredentials(cfg(b));
    expect(loadOrCreateTlsCredentials({ ...cfg(tempDir()), tlsCertFile: join(a, 'tls', 'cert.pem'), tlsKeyFile: join(a, 'tls', 'key.pem') })).toEqual(ca);
    expect(() => loadOrCreateTlsCredentials({ ...cfg(tempDir()), tlsCertFile: join(a, 'tls', 'cert.pem'), tlsKeyFile: join(b, 'tls', 'key.pem') })).toThrow(
      'POSTLINE_TLS_CERT_FILE / POSTLINE_TLS_KEY_FILE: the private key does not match the certificate',
    );
    const junk = join(b, 'junk.pem');
    writeFileSync(junk, 'not pem');
    expect(() => loadOrCreateTlsCredentials({ ...cfg(tempDir()), tlsCertFile: junk, tlsKeyFile: join(b, 'tls', 'key.pem') })).toThrow(
      /the certificate is not PEM X\.509/,
    );
    expect(() => loadOrCreateTlsCredentials({ ...cfg(tempDir()), tlsCertFile: join(b, 'missing.pem'), tlsKeyFile: junk })).toThrow(
      /POSTLINE_TLS_CERT_FILE: cannot read/,
    );
    expect(readFileSync(join(b, 'tls', 'cert.pem'), 'utf8')).toBe(cb.cert);
  });
});
