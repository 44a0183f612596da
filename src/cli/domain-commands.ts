import type { Config } from '../config/load.js';
import type { Store } from '../store/store.js';
import { defaultSelector, dnsRecordsFor, generateDkimKey, normalizeDomain, type DkimAlgorithm, type DkimKey } from '../compose/dkim.js';
import { printJson, printTable, UsageError } from './output.js';

type Flags = Record<string, string | boolean | undefined>;

const toKey = (k: { domain: string; selector: string; algorithm: DkimAlgorithm; privateKey: string; publicKey: string }): DkimKey =>
  ({ domain: k.domain, selector: k.selector, algorithm: k.algorithm, privateKeyPem: k.privateKey, publicKeyBase64: k.publicKey });

/**
 * `postline domains add DOMAIN [--ed25519] [--selector S] [--json]` generates the domain's DKIM
 * key (RSA-2048; with --ed25519 also an Ed25519 key for dual signing) and prints the DNS records
 * to publish. `domains list` shows the domains with keys. Adding a domain that has keys prints
 * its records again instead of replacing them (rotation is a separate, deliberate step).
 */
export async function domainsCommand(store: Store, cfg: Config, verb: string | undefined, args: string[], flags: Flags, now: number): Promise<void> {
  if (verb === 'list') {
    const keys = await store.listDkimKeys();
    if (flags.json) return printJson(keys.map(({ privateKey: _p, ...k }) => k));
    return printTable(keys.map((k) => ({ domain: k.domain, selector: k.selector, algorithm: k.algorithm, created: new Date(k.createdAt).toISOString() })));
  }
  if (verb === 'add') {
    if (args.length !== 1) throw new UsageError('usage: postline domains add DOMAIN [--ed25519] [--selector NAME] [--json]');
    let domain: string;
    try { domain = normalizeDomain(args[0]!); } catch (err) { throw new UsageError((err as Error).message); }
    let keys = (await store.listDkimKeys(domain)).map(toKey);
    const created = keys.length === 0;
    if (created) {
      const date = new Date(now);
      const algorithms: DkimAlgorithm[] = flags.ed25519 ? ['rsa-sha256', 'ed25519-sha256'] : ['rsa-sha256'];
      const base = typeof flags.selector === 'string' ? flags.selector : null;
      for (const algorithm of algorithms) {
        const selector = base ? (algorithm === 'rsa-sha256' ? base : `${base}e`) : defaultSelector(date, algorithm);
        let key: DkimKey;
        try { key = generateDkimKey(domain, selector, algorithm); } catch (err) { throw new UsageError((err as Error).message); }
        keys.push(key);
      }
      for (const k of keys) {
        await store.addDkimKey({ domain, selector: k.selector, algorithm: k.algorithm, privateKey: k.privateKeyPem, publicKey: k.publicKeyBase64 }, now);
      }
      keys = (await store.listDkimKeys(domain)).map(toKey);
    }
    const records = dnsRecordsFor(keys, { hostname: cfg.hostname });
    if (flags.json) return printJson({ domain, created, selectors: keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm })), records });
    process.stdout.write(`${created ? 'Created DKIM keys for' : 'DKIM keys already exist for'} ${domain}. Publish these DNS records:\n\n`);
    for (const r of records) process.stdout.write(`${r.type.padEnd(5)} ${r.name}\n      ${(r.chunks ?? [r.value]).map((c) => `"${c}"`).join(' ')}\n      (${r.purpose})\n\n`);
    return;
  }
  throw new UsageError('usage: postline domains add DOMAIN [--ed25519] [--selector NAME] [--json] | domains list [--json]');
}
