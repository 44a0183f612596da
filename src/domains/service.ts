/**
 * Sending domains of a server: add (with DKIM keys), records to publish, live verification,
 * rotation, removal. One implementation for the v2 API and the CLI, so both behave alike.
 */
import { defaultSelector, generateDkimKey, normalizeDomain, type DkimAlgorithm } from '../compose/dkim.js';
import type { DnsLookup } from '../dns/lookup.js';
import type { NewServerDkimKey, SendingDomain, Store } from '../store/store.js';
import type { DomainChanges } from '../core/domain-changes.js';
import { expectedRecords, type RecordSettings } from './records.js';
import { freeSelector, keysToPublish, rotationChanges } from './rotation.js';
import type { ExpectedRecord } from '../core/sending-domain-types.js';
import { checkRecords, decideVerifiedAt } from './verify.js';
import { ownKeyRecord, readOwnKey } from './own-key.js';

/** A refusal: `invalid` input (field named), the domain `exists` already, a rotation is `pending`. */
export class DomainError extends Error {
  constructor(
    readonly kind: 'invalid' | 'exists' | 'rotation_pending',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export interface SendingDomainDeps {
  store: Store;
  dns: DnsLookup;
  now: () => number;
  records: RecordSettings;
  changes?: DomainChanges | null;
}

/** The key pair of one algorithm with the given selector, or a DomainError naming `selector`. */
function newKey(domain: string, selector: string, algorithm: DkimAlgorithm, state: NewServerDkimKey['state']): NewServerDkimKey {
  try {
    const k = generateDkimKey(domain, selector, algorithm);
    return { selector: k.selector, algorithm, privateKey: k.privateKeyPem, publicKey: k.publicKeyBase64, state };
  } catch (err) {
    throw new DomainError('invalid', (err as Error).message, 'selector');
  }
}

/** The selector for an algorithm: given (Ed25519 gets an `e` suffix) or this month's default. */
const selectorFor = (given: string | undefined, algorithm: DkimAlgorithm, now: number): string =>
  given ? (algorithm === 'rsa-sha256' ? given : `${given}e`) : defaultSelector(new Date(now), algorithm);

export class SendingDomainService {
  constructor(private readonly d: SendingDomainDeps) {}

  /** Validates and normalizes a domain name (DomainError naming `domain`). */
  static domainName(input: string): string {
    try {
      return normalizeDomain(input);
    } catch (err) {
      throw new DomainError('invalid', (err as Error).message, 'domain');
    }
  }

  /** Adds the domain with an RSA-2048 key (and an Ed25519 key when asked), both active. */
  async add(serverId: number, input: { domain: string; selector?: string; ed25519?: boolean }): Promise<SendingDomain> {
    const domain = SendingDomainService.domainName(input.domain);
    const now = this.d.now();
    const algorithms: DkimAlgorithm[] = input.ed25519 ? ['rsa-sha256', 'ed25519-sha256'] : ['rsa-sha256'];
    const keys = algorithms.map((a) => newKey(domain, selectorFor(input.selector, a, now), a, 'active'));
    const created = await this.d.store.sendingDomains.create({ serverId, domain, keys }, now);
    if (!created) throw new DomainError('exists', `server ${serverId} already has the sending domain ${domain}`, 'domain');
    this.d.changes?.notify(serverId);
    return created;
  }

  /**
   * Adds the domain with the customer's own private key (SocketLabs' `POST /subaccount/{id}/dkim`),
   * active at once, only when DNS already publishes its public half at `selector._domainkey.domain`:
   * mail signed with a key the world cannot find would fail DKIM.
   */
  async addOwnKey(serverId: number, input: { domain: string; selector: string; privateKey: string }): Promise<SendingDomain> {
    const domain = SendingDomainService.domainName(input.domain);
    const selector = input.selector.toLowerCase();
    let key: ReturnType<typeof readOwnKey>;
    try {
      key = readOwnKey(input.privateKey);
    } catch (err) {
      throw new DomainError('invalid', (err as Error).message, 'privateKey');
    }
    if (await this.d.store.sendingDomains.find(serverId, domain))
      throw new DomainError('exists', `server ${serverId} already has the sending domain ${domain}`, 'domain');
    const record = ownKeyRecord(domain, selector, key);
    const [check] = await checkRecords(this.d.dns, [record], this.d.records);
    if (check!.status === 'missing')
      throw new DomainError('invalid', `no DKIM key is published at ${record.name}: publish "${record.expected}" there first`, 'selector');
    if (check!.status === 'mismatch')
      throw new DomainError(
        'invalid',
        `the DKIM key published at ${record.name} is not the public half of privateKey (${check!.reason ?? 'different p='}); nothing was stored`,
        'privateKey',
      );
    if (check!.status === 'error')
      throw new DomainError('invalid', `could not look up ${record.name} (${check!.reason ?? 'DNS failure'}); nothing was stored`, 'selector');
    const created = await this.d.store.sendingDomains.create(
      {
        serverId,
        domain,
        keys: [{ selector, algorithm: key.algorithm, privateKey: key.privateKeyPem, publicKey: key.publicKeyBase64, state: 'active' }],
      },
      this.d.now(),
    );
    if (!created) throw new DomainError('exists', `server ${serverId} already has the sending domain ${domain}`, 'domain');
    this.d.changes?.notify(serverId);
    return created;
  }

  /** The records to publish now: DKIM of pending, active and retiring keys, SPF, DMARC, return-path. */
  records(domain: SendingDomain): ExpectedRecord[] {
    return expectedRecords(domain.domain, keysToPublish(domain.keys, this.d.now()), this.d.records);
  }

  /** Looks the records up now, records the results and what they decide (verified, key rotation). */
  async verify(domain: SendingDomain): Promise<SendingDomain> {
    const now = this.d.now();
    const checks = await checkRecords(this.d.dns, this.records(domain), this.d.records);
    const keyChanges = rotationChanges(domain.keys, checks, now);
    const verifiedAt = decideVerifiedAt(domain.verifiedAt, checks, now);
    const updated = await this.d.store.sendingDomains.recordCheck(domain.serverId, domain.id, { results: checks, verifiedAt, keyChanges }, now);
    if (!updated) throw new DomainError('invalid', `the sending domain ${domain.domain} was removed meanwhile`, 'domainId');
    if ((verifiedAt === null) !== (domain.verifiedAt === null) || keyChanges.length > 0) this.d.changes?.notify(domain.serverId);
    return updated;
  }

  /**
   * Starts a rotation: a new key (pending) per algorithm in use, with a new selector, to be
   * published next to the current one. One rotation at a time.
   */
  async rotate(domain: SendingDomain, selector?: string): Promise<SendingDomain> {
    const now = this.d.now();
    const live = keysToPublish(domain.keys, now);
    const pending = live.filter((k) => k.state === 'pending');
    if (pending.length > 0) {
      throw new DomainError(
        'rotation_pending',
        `a rotation is in progress (selector ${pending.map((k) => k.selector).join(', ')}): publish its record and verify first`,
      );
    }
    const algorithms = [...new Set(live.filter((k) => k.state === 'active').map((k) => k.algorithm))];
    if (algorithms.length === 0) algorithms.push('rsa-sha256');
    const keys = algorithms.map((a) => {
      const wanted = selectorFor(selector, a, now);
      if (selector && domain.keys.some((k) => k.selector.toLowerCase() === wanted.toLowerCase())) {
        throw new DomainError('exists', `the selector ${wanted} is already in use for ${domain.domain}`, 'selector');
      }
      return newKey(domain.domain, selector ? wanted : freeSelector(wanted, domain.keys), a, 'pending');
    });
    try {
      await this.d.store.sendingDomains.addKeys(domain.serverId, domain.domain, keys, now);
    } catch (err) {
      // The unique selector index: a retired key of an earlier rotation holds the name.
      if (/unique|duplicate/i.test((err as Error).message)) {
        throw new DomainError(
          'exists',
          `the selector ${keys.map((k) => k.selector).join(', ')} was used before for ${domain.domain}; choose another`,
          'selector',
        );
      }
      throw err;
    }
    this.d.changes?.notify(domain.serverId);
    return (await this.d.store.sendingDomains.get(domain.serverId, domain.id))!;
  }

  async remove(domain: SendingDomain): Promise<boolean> {
    const ok = await this.d.store.sendingDomains.delete(domain.serverId, domain.id);
    this.d.changes?.notify(domain.serverId);
    return ok;
  }
}
