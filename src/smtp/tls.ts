/**
 * TLS credentials of the SMTP listeners: the operator's PEM files, or a self-signed certificate for
 * cfg.hostname generated once into <dataDir>/tls/ and reused, so that STARTTLS works out of the box
 * (submission clients then need to accept an untrusted certificate, or the operator sets
 * POSTLINE_TLS_CERT_FILE / POSTLINE_TLS_KEY_FILE). Generated with the openssl command line: Node's
 * crypto makes keys but not certificates, and this keeps the dependency list short.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { Config } from '../config/load.js';

export interface TlsCredentials {
  key: string;
  cert: string;
}

const KEY_FILE = 'key.pem';
const CERT_FILE = 'cert.pem';
/** Long enough never to bother an operator who relies on it; it is self-signed, nobody checks. */
const SELF_SIGNED_DAYS = 3650;
/** A certificate this close to expiry is replaced at start-up rather than used. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

type TlsConfig = Pick<Config, 'tlsCertFile' | 'tlsKeyFile' | 'hostname' | 'dataDir'>;

export function loadOrCreateTlsCredentials(cfg: TlsConfig, now = Date.now()): TlsCredentials {
  if (cfg.tlsCertFile !== null && cfg.tlsKeyFile !== null) {
    const cert = readPem(cfg.tlsCertFile, 'POSTLINE_TLS_CERT_FILE');
    const key = readPem(cfg.tlsKeyFile, 'POSTLINE_TLS_KEY_FILE');
    const problem = mismatch(key, cert);
    if (problem) throw new Error(`POSTLINE_TLS_CERT_FILE / POSTLINE_TLS_KEY_FILE: ${problem}`);
    return { key, cert };
  }
  const dir = join(resolve(cfg.dataDir), 'tls');
  const keyPath = join(dir, KEY_FILE);
  const certPath = join(dir, CERT_FILE);
  if (existsSync(keyPath) && existsSync(certPath)) {
    const key = readFileSync(keyPath, 'utf8');
    const cert = readFileSync(certPath, 'utf8');
    // Reused unless broken, expiring, or made for another hostname (POSTLINE_HOSTNAME changed).
    if (mismatch(key, cert) === null && fitsHost(cert, cfg.hostname, now)) return { key, cert };
  }
  return generate(dir, keyPath, certPath, cfg.hostname);
}

function readPem(file: string, setting: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${setting}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Why key and cert cannot serve together, or null when they can. */
function mismatch(key: string, cert: string): string | null {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    return `the certificate is not PEM X.509 (${(err as Error).message})`;
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    return `the private key is not a PEM key (${(err as Error).message})`;
  }
  return x509.checkPrivateKey(privateKey) ? null : 'the private key does not match the certificate';
}

function fitsHost(cert: string, hostname: string, now: number): boolean {
  const x509 = new X509Certificate(cert);
  if (Date.parse(x509.validTo) - now < RENEW_BEFORE_MS) return false;
  return isIP(hostname) ? x509.checkIP(hostname) !== undefined : x509.checkHost(hostname) !== undefined;
}

/**
 * Writes key and certificate into a private temporary directory first and renames them into
 * place, so a crash half-way never leaves a key without its certificate, and the key is 0600
 * from the moment it exists under its final name.
 */
function generate(dir: string, keyPath: string, certPath: string, hostname: string): TlsCredentials {
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(hostname)) {
    throw new Error(`POSTLINE_HOSTNAME "${hostname}" cannot name a certificate; set POSTLINE_TLS_CERT_FILE and POSTLINE_TLS_KEY_FILE`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(dir, '.new-'));
  try {
    const tmpKey = join(tmp, KEY_FILE);
    const tmpCert = join(tmp, CERT_FILE);
    const san = isIP(hostname) ? `IP:${hostname}` : `DNS:${hostname}`;
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-sha256',
          '-days',
          String(SELF_SIGNED_DAYS),
          '-keyout',
          tmpKey,
          '-out',
          tmpCert,
          '-subj',
          `/CN=${hostname.slice(0, 64)}`,
          '-addext',
          `subjectAltName=${san}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(
        `cannot generate a self-signed TLS certificate with openssl (${stderr || (err as Error).message}); ` +
          'install openssl or set POSTLINE_TLS_CERT_FILE and POSTLINE_TLS_KEY_FILE',
      );
    }
    chmodSync(tmpKey, 0o600);
    renameSync(tmpKey, keyPath);
    renameSync(tmpCert, certPath);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}
