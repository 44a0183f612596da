/**
 * A customer's own DKIM private key (SocketLabs' `POST /subaccount/{id}/dkim`): read it, and say
 * which TXT record publishes its public half, so the key is taken only once DNS already carries it.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { publicKeyValue, type DkimAlgorithm } from '../compose/dkim.js';
import type { ExpectedRecord } from '../core/sending-domain-types.js';

/** RFC 8301: verifiers refuse RSA keys under 1024 bits, so mail signed with one would fail DKIM. */
export const MIN_OWN_RSA_BITS = 1024;

export interface OwnKey {
  algorithm: DkimAlgorithm;
  privateKeyPem: string;
  publicKeyBase64: string;
}

/** The key as the signer stores it (PKCS#8 PEM) and its p= value; an Error saying why when it cannot be used. */
export function readOwnKey(pem: string): OwnKey {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey({ key: pem.trim(), format: 'pem' });
  } catch {
    throw new Error('privateKey is not a PEM private key (PKCS#1 "BEGIN RSA PRIVATE KEY" or PKCS#8 "BEGIN PRIVATE KEY")');
  }
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ed25519') throw new Error(`privateKey is a ${String(type)} key; DKIM keys are RSA or Ed25519`);
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_OWN_RSA_BITS) throw new Error(`privateKey is a ${bits}-bit RSA key; receivers refuse DKIM keys under ${MIN_OWN_RSA_BITS} bits`);
  }
  return {
    algorithm: type === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256',
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKeyValue(createPublicKey(key)),
  };
}

/** The DKIM record that must already be published for the key (checked like a sending domain's). */
export function ownKeyRecord(domain: string, selector: string, key: OwnKey): ExpectedRecord {
  return {
    kind: 'dkim',
    type: 'TXT',
    name: `${selector}._domainkey.${domain}`,
    selector,
    required: true,
    expected: `v=DKIM1; k=${key.algorithm === 'rsa-sha256' ? 'rsa' : 'ed25519'}; p=${key.publicKeyBase64}`,
    purpose: 'DKIM public key of the private key given',
  };
}
