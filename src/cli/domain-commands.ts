import type { Config } from '../config/load.js';
import type { Store } from '../store/store.js';
import { defaultSelector, dnsRecordsFor, generateDkimKey, normalizeDomain, type DkimAlgorithm, type DkimKey } from '../compose/dkim.js';
import { printJson, printTable, UsageError } from './output.js';
import { dnsLookup } from '../dns/lookup.js';
import { DomainError, SendingDomainService } from '../domains/service.js';
import { effectiveState } from '../domains/rotation.js';
import type { ExpectedRecord } from '../core/sending-domain-types.js';
import type { SendingDomain } from '../store/store.js';

type Flags = Record<string, string | boolean | undefined>;

const toKey = (k: { domain: string; selector: string; algorithm: DkimAlgorithm; privateKey: string; publicKey: string }): DkimKey => ({
  domain: k.domain,
  selector: k.selector,
  algorithm: k.algorithm,
  privateKeyPem: k.privateKey,
  publicKeyBase64: k.publicKey,
});

/**
 * `postline domains add DOMAIN [--ed25519] [--selector S] [--json]` generates the domain's DKIM
 * key (RSA-2048; with --ed25519 also an Ed25519 key for dual signing) and prints the DNS records
 * to publish. `domains list` shows the domains with keys. Adding a domain that has keys prints
 * its records again instead of replacing them (rotation is a separate, deliberate step).
 */
export async function domainsCommand(store: Store, cfg: Config, verb: string | undefined, args: string[], flags: Flags, now: number): Promise<void> {
  if (flags.server !== undefined) return serverDomainsCommand(store, cfg, verb, args, flags);
  if (verb === 'list') {
    const keys = await store.settings.listDkimKeys();
    if (flags.json) return printJson(keys.map(({ privateKey: _p, ...k }) => k));
    return printTable(keys.map((k) => ({ domain: k.domain, selector: k.selector, algorithm: k.algorithm, created: new Date(k.createdAt).toISOString() })));
  }
  if (verb === 'add') {
    if (args.length !== 1) throw new UsageError('usage: postline domains add DOMAIN [--ed25519] [--selector NAME] [--json]');
    let domain: string;
    try {
      domain = normalizeDomain(args[0]!);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let keys = (await store.settings.listDkimKeys(domain)).map(toKey);
    const created = keys.length === 0;
    if (created) {
      const date = new Date(now);
      const algorithms: DkimAlgorithm[] = flags.ed25519 ? ['rsa-sha256', 'ed25519-sha256'] : ['rsa-sha256'];
      const base = typeof flags.selector === 'string' ? flags.selector : null;
      for (const algorithm of algorithms) {
        const selector = base ? (algorithm === 'rsa-sha256' ? base : `${base}e`) : defaultSelector(date, algorithm);
        let key: DkimKey;
        try {
          key = generateDkimKey(domain, selector, algorithm);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        keys.push(key);
      }
      for (const k of keys) {
        await store.settings.addDkimKey(
          { domain, selector: k.selector, algorithm: k.algorithm, privateKey: k.privateKeyPem, publicKey: k.publicKeyBase64 },
          now,
        );
      }
      keys = (await store.settings.listDkimKeys(domain)).map(toKey);
    }
    const records = dnsRecordsFor(keys, { hostname: cfg.hostname });
    if (flags.json) return printJson({ domain, created, selectors: keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm })), records });
    process.stdout.write(`${created ? 'Created DKIM keys for' : 'DKIM keys already exist for'} ${domain}. Publish these DNS records:\n\n`);
    for (const r of records)
      process.stdout.write(`${r.type.padEnd(5)} ${r.name}\n      ${(r.chunks ?? [r.value]).map((c) => `"${c}"`).join(' ')}\n      (${r.purpose})\n\n`);
    return;
  }
  throw new UsageError(`usage: postline domains add DOMAIN [--ed25519] [--selector NAME] [--json] | domains list [--json]\n${SERVER_USAGE}`);
}

const SERVER_USAGE =
  "a server's sending domains: postline domains add|records|verify|rotate|remove DOMAIN --server ID [--json] | domains list --server ID [--json]" +
  ' (add: [--ed25519] [--selector S]; rotate: [--selector S])';

/** A domain as `--json` prints it: the API's view (keys with states, never a private key). */
const domainJson = (d: SendingDomain) => ({
  id: d.id,
  domain: d.domain,
  verified: d.verifiedAt !== null,
  verifiedOn: d.verifiedAt === null ? null : new Date(d.verifiedAt).toISOString(),
  keys: d.keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm, state: effectiveState(k, Date.now()) })),
  lastCheck: d.checkResults,
});

function printRecords(records: ExpectedRecord[]): void {
  for (const r of records) {
    process.stdout.write(
      `${r.type.padEnd(5)} ${r.name}${r.required ? '' : '   (recommended)'}\n      ${(r.chunks ?? [r.expected]).map((c) => (r.type === 'TXT' ? `"${c}"` : c)).join(' ')}\n      (${r.purpose})\n\n`,
    );
  }
}

/**
 * `postline domains ... --server ID`: the sending domains of one server, as the v2 API manages
 * them (domains/service.ts): add, list, records, verify (live DNS), rotate, remove.
 */
async function serverDomainsCommand(store: Store, cfg: Config, verb: string | undefined, args: string[], flags: Flags): Promise<void> {
  const serverId = Number(flags.server);
  if (!Number.isSafeInteger(serverId) || serverId <= 0) throw new UsageError(`--server must be a ServerId, not "${String(flags.server)}"`);
  if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`no server ${serverId}`);
  const service = new SendingDomainService({
    store,
    dns: dnsLookup(cfg.dnsServers),
    now: Date.now,
    records: { hostname: cfg.hostname, bounceHost: cfg.bounceDomain ?? cfg.hostname },
  });
  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof DomainError) throw new UsageError(err.message);
      throw err;
    }
  };
  if (verb === 'list') {
    const { rows } = await store.sendingDomains.list(serverId, { limit: 1_000_000, offset: 0, direction: 'asc', sortField: 'domain' });
    if (flags.json) return printJson(rows.map(domainJson));
    return printTable(
      rows.map((d) => ({
        domain: d.domain,
        verified: d.verifiedAt === null ? 'no' : 'yes',
        selectors: d.keys.map((k) => `${k.selector} (${effectiveState(k, Date.now())})`).join(', '),
      })),
    );
  }
  if (!['add', 'records', 'verify', 'rotate', 'remove'].includes(verb ?? '') || args.length !== 1) throw new UsageError(`usage: ${SERVER_USAGE}`);
  if (verb === 'add') {
    const d = await run(() =>
      service.add(serverId, { domain: args[0]!, selector: typeof flags.selector === 'string' ? flags.selector : undefined, ed25519: !!flags.ed25519 }),
    );
    const records = service.records(d);
    if (flags.json)
      return printJson({
        ...domainJson(d),
        records: records.map((r) => ({ type: r.type, name: r.name, value: r.expected, purpose: r.purpose, required: r.required })),
      });
    process.stdout.write(
      `Added ${d.domain} to server ${serverId}. Publish these DNS records, then run: postline domains verify ${d.domain} --server ${serverId}\n\n`,
    );
    return printRecords(records);
  }
  const name = await run(async () => SendingDomainService.domainName(args[0]!));
  const d = await store.sendingDomains.find(serverId, name);
  if (!d) throw new UsageError(`server ${serverId} has no sending domain ${name}; add it with: postline domains add ${name} --server ${serverId}`);
  if (verb === 'records') {
    const records = service.records(d);
    if (flags.json) return printJson(records.map((r) => ({ type: r.type, name: r.name, value: r.expected, purpose: r.purpose, required: r.required })));
    return printRecords(records);
  }
  if (verb === 'verify') {
    const checked = await service.verify(d);
    if (flags.json) return printJson(domainJson(checked));
    process.stdout.write(`${checked.domain}: ${checked.verifiedAt === null ? 'NOT verified' : 'verified'}\n`);
    return printTable(
      (checked.checkResults ?? []).map((c) => ({ status: c.status, type: c.type, name: c.name, required: c.required ? 'yes' : 'no', reason: c.reason ?? '' })),
    );
  }
  if (verb === 'rotate') {
    const rotated = await run(() => service.rotate(d, typeof flags.selector === 'string' ? flags.selector : undefined));
    if (flags.json) return printJson(domainJson(rotated));
    process.stdout.write(
      `New DKIM key(s) pending for ${rotated.domain}. Publish the records below (keep the current ones), then run: postline domains verify ${rotated.domain} --server ${serverId}\n\n`,
    );
    return printRecords(service.records(rotated));
  }
  await service.remove(d);
  if (flags.json) return printJson({ domain: d.domain, removed: true });
  process.stdout.write(`Removed ${d.domain} and its DKIM keys from server ${serverId}.\n`);
}
