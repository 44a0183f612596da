/**
 * `postline bounce-domains ...` and `postline tracking-domains ...`: the v2 custom-domain routes
 * from the command line, through the same service (custom-domains/service.ts) and with the same
 * JSON shape (`--json`). A running Postline picks a change made here up within
 * CUSTOM_DOMAIN_REFRESH_MS (its bounce domains) or a few seconds (a server's tracking origin).
 */
import type { Config } from '../config/load.js';
import type { Store, CustomDomain } from '../store/store.js';
import { dnsLookup } from '../dns/lookup.js';
import type { CustomDomainKind } from '../core/custom-domain.js';
import { customDomainTargets } from '../custom-domains/records.js';
import { CustomDomainError, CustomDomains, KIND_NAMES } from '../custom-domains/service.js';
import { recordsOf, toWire } from '../api/v2/bounce-domains/wire.js';
import { printJson, printTable, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';

type Flags = Record<string, string | boolean | undefined>;

const VERBS = ['add', 'list', 'records', 'verify', 'default', 'remove'] as const;
const LIST_PAGE = 100;

const usage = (
  command: string,
  kind: CustomDomainKind,
) => `usage: postline ${command} add DOMAIN --server ID [--default]${kind === 'tracking' ? ' [--https on|off]' : ''} [--json]
       postline ${command} list --server ID [--json]
       postline ${command} records|verify|remove ID|DOMAIN --server ID [--json]
       postline ${command} default ID|DOMAIN|none --server ID [--json]${
         kind === 'tracking'
           ? `
       postline ${command} https ID|DOMAIN on|off --server ID [--json]`
           : ''
       }`;

function onOff(v: string | boolean | undefined, flag: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'on' || v === 'off') return v === 'on';
  throw new UsageError(`--${flag} takes on or off, got ${JSON.stringify(v)}`);
}

async function all(domains: CustomDomains, serverId: number, kind: CustomDomainKind): Promise<CustomDomain[]> {
  const out: CustomDomain[] = [];
  for (let offset = 0; ; offset += LIST_PAGE) {
    const { rows, total } = await domains.list(serverId, kind, { limit: LIST_PAGE, offset, direction: 'asc', sort: 'createdAt' });
    out.push(...rows);
    if (offset + LIST_PAGE >= total || rows.length === 0) return out;
  }
}

/** A domain named by its id or its name. */
async function find(domains: CustomDomains, serverId: number, kind: CustomDomainKind, ref: string | undefined, command: string): Promise<CustomDomain> {
  if (ref === undefined) throw new UsageError(`name the ${KIND_NAMES[kind]} by its id or domain\n${usage(command, kind)}`);
  if (/^\d+$/.test(ref)) return domains.get(serverId, kind, Number(ref));
  const name = ref.toLowerCase().replace(/\.$/, '');
  const d = (await all(domains, serverId, kind)).find((x) => x.domain === name);
  if (!d) throw new CustomDomainError('not_found', `server ${serverId} has no ${KIND_NAMES[kind]} ${ref}`);
  return d;
}

export async function customDomainsCommand(
  store: Store,
  cfg: Config,
  kind: CustomDomainKind,
  verb: string | undefined,
  args: string[],
  flags: Flags,
): Promise<void> {
  const command = `${kind}-domains`;
  const extra = kind === 'tracking' ? ['https'] : [];
  if (verb === undefined || ![...VERBS, ...extra].includes(verb)) throw new UsageError(usage(command, kind));
  const serverId = positiveInt(flags.server, 'server');
  if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`server ${serverId} does not exist`);
  const targets = customDomainTargets(cfg);
  const domains = new CustomDomains({ store, dns: dnsLookup(cfg.dnsServers), targets, now: Date.now });
  const show = (d: CustomDomain, what: string) => {
    if (flags.json) return printJson(toWire(d, targets));
    const rec = recordsOf(d, targets)
      .map((r) => `${r.name} ${r.type} ${r.expected} (${r.status})`)
      .join('; ');
    process.stdout.write(
      `${what} ${KIND_NAMES[kind]} ${d.id} ${d.domain}: ${d.verifiedAt === null ? 'not verified' : 'verified'}${d.isDefault ? ', default' : ''}` +
        `${kind === 'tracking' ? `, ${d.https ? 'https' : 'http'}` : ''}\n  publish: ${rec}\n`,
    );
  };
  try {
    switch (verb) {
      case 'add': {
        if (args.length !== 1) throw new UsageError(`${command} add takes one DOMAIN\n${usage(command, kind)}`);
        const https = onOff(flags.https, 'https') ?? true;
        return show(await domains.add(serverId, kind, { domain: args[0]!, isDefault: flags.default === true, https }), 'added');
      }
      case 'list': {
        const rows = await all(domains, serverId, kind);
        if (flags.json) return printJson(rows.map((d) => toWire(d, targets)));
        return printTable(
          rows.map((d) => ({
            id: d.id,
            domain: d.domain,
            verified: d.verifiedAt !== null,
            default: d.isDefault,
            ...(kind === 'tracking' ? { https: d.https } : {}),
            record: `CNAME ${targets[kind]}`,
            lastChecked: d.lastCheckedAt === null ? null : new Date(d.lastCheckedAt).toISOString(),
          })),
        );
      }
      case 'records': {
        const d = await find(domains, serverId, kind, args[0], command);
        if (flags.json) return printJson(recordsOf(d, targets));
        return printTable(
          recordsOf(d, targets).map((r) => ({ type: r.type, name: r.name, value: r.expected, status: r.status, found: r.found.join(',') || null })),
        );
      }
      case 'verify':
        return show(await domains.verify(serverId, kind, (await find(domains, serverId, kind, args[0], command)).id), 'checked');
      case 'default': {
        if (args[0] === 'none') {
          const current = (await all(domains, serverId, kind)).find((d) => d.isDefault);
          if (!current) {
            if (flags.json) return printJson(null);
            process.stdout.write(`server ${serverId} has no default ${KIND_NAMES[kind]}\n`);
            return;
          }
          return show(await domains.update(serverId, kind, current.id, { isDefault: false }), 'no longer the default:');
        }
        const d = await find(domains, serverId, kind, args[0], command);
        return show(await domains.update(serverId, kind, d.id, { isDefault: true }), 'default');
      }
      case 'https': {
        const d = await find(domains, serverId, kind, args[0], command);
        const https = onOff(args[1], 'https');
        if (https === undefined) throw new UsageError(usage(command, kind));
        return show(await domains.update(serverId, kind, d.id, { https }), 'updated');
      }
      case 'remove': {
        const d = await find(domains, serverId, kind, args[0], command);
        await domains.remove(serverId, kind, d.id);
        if (flags.json) return printJson({ domainId: d.id, domain: d.domain, deleted: true, wasDefault: d.isDefault });
        process.stdout.write(`removed ${KIND_NAMES[kind]} ${d.id} ${d.domain}${d.isDefault ? ' (it was the default; the server has none now)' : ''}\n`);
        return;
      }
    }
  } catch (err) {
    if (err instanceof CustomDomainError) throw new UsageError(`${err.message} (${err.code})`);
    throw err;
  }
}
