import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalCa {
  /** The CA certificate (PEM), what a client is told to trust. */
  caPem: string;
  caFile: string;
  /** A server key and certificate signed by this CA for the given names (DNS names or IP addresses). */
  issue(names: readonly string[]): { key: string; cert: string };
}

/** A certificate authority of its own for a test, made with the openssl CLI (EC P-256, valid two days). */
export function createLocalCa(label = 'Postline Test CA'): LocalCa {
  const dir = mkdtempSync(join(tmpdir(), 'postline-ca-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    `/CN=${label}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  let n = 0;
  return {
    caPem: readFileSync(caFile, 'utf8'),
    caFile,
    issue(names) {
      n += 1;
      const key = join(dir, `leaf${n}.key`);
      const csr = join(dir, `leaf${n}.csr`);
      const cert = join(dir, `leaf${n}.pem`);
      const ext = join(dir, `leaf${n}.ext`);
      const san = names.map((x) => (/^[\d.]+$|:/.test(x) ? `IP:${x}` : `DNS:${x}`)).join(',');
      writeFileSync(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      ssl('req', ...ec, '-keyout', key, '-out', csr, '-subj', `/CN=${names[0]}`);
      ssl('x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext);
      return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
    },
  };
}
