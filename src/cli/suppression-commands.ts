import type { Store } from '../store/store.js';
import { isValidEmailAddress } from '../core/address.js';
import { SUPPRESSION_REASONS, suppressionKey, type Suppression, type SuppressionReason } from '../core/suppression.js';
import { printJson, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';

type Flags = Record<string, string | boolean | undefined>;

/** Rows per store query while listing: the list is written as it is read, never held whole. */
const LIST_BATCH = 1_000;

const USAGE =
  'usage: postline suppressions list --server ID [--search TEXT] [--json]' +
  ' | suppressions add --server ID ADDRESS... [--reason R] [--json] | suppressions remove --server ID ADDRESS... [--json]';

const wire = (s: Suppression) => ({
  emailAddress: s.address,
  reason: s.reason,
  detail: s.detail,
  createdOn: new Date(s.createdAt).toISOString(),
  lastUpdate: new Date(s.updatedAt).toISOString(),
});

/** Every address must be valid before anything is written: a typo in the tenth aborts the whole call. */
function addressesFrom(args: string[], verb: string): string[] {
  if (args.length === 0) throw new UsageError(`suppressions ${verb} needs at least one ADDRESS\n${USAGE}`);
  const bad = args.filter((a) => !isValidEmailAddress(a));
  if (bad.length > 0) throw new UsageError(`not a valid email address: ${bad.map((b) => JSON.stringify(b)).join(', ')}; nothing was changed`);
  return args;
}

async function list(store: Store, serverId: number, flags: Flags): Promise<void> {
  const contains = typeof flags.search === 'string' && flags.search !== '' ? flags.search : undefined;
  const batches = store.suppressions.stream(serverId, { sort: 'updatedAt', direction: 'desc', contains }, LIST_BATCH);
  const out = process.stdout;
  if (flags.json) {
    // A JSON array written batch by batch: valid JSON at the end, one batch in memory at a time.
    let first = true;
    out.write('[');
    for await (const rows of batches) {
      for (const s of rows) {
        out.write(`${first ? '\n' : ',\n'}  ${JSON.stringify(wire(s))}`);
        first = false;
      }
    }
    out.write(first ? ']\n' : '\n]\n');
    return;
  }
  let count = 0;
  for await (const rows of batches) {
    if (count === 0) out.write(`${'address'.padEnd(40)}  ${'reason'.padEnd(15)}  ${'lastUpdate'.padEnd(24)}  detail\n`);
    for (const s of rows) {
      out.write(
        `${s.address.padEnd(40)}  ${s.reason.padEnd(15)}  ${new Date(s.updatedAt).toISOString().padEnd(24)}  ${s.detail === null ? '-' : s.detail.replace(/[\r\n]+/g, ' ')}\n`,
      );
    }
    count += rows.length;
  }
  out.write(count === 0 ? '(none)\n' : `${count} suppressed address${count === 1 ? '' : 'es'}\n`);
}

/** `postline suppressions list|add|remove --server ID` */
export async function suppressionsCommand(store: Store, verb: string | undefined, args: string[], flags: Flags, now: number): Promise<void> {
  if (verb !== 'list' && verb !== 'add' && verb !== 'remove') throw new UsageError(USAGE);
  const serverId = positiveInt(flags.server, 'server');
  if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`server ${serverId} does not exist`);
  if (verb === 'list') {
    if (args.length > 0) throw new UsageError(`suppressions list takes no ADDRESS (use --search)\n${USAGE}`);
    return list(store, serverId, flags);
  }
  const addresses = addressesFrom(args, verb);
  if (verb === 'add') {
    const reason = (flags.reason ?? 'CustomerRequest') as SuppressionReason;
    if (!SUPPRESSION_REASONS.includes(reason)) throw new UsageError(`--reason must be one of ${SUPPRESSION_REASONS.join(', ')}`);
    const added = await store.suppressions.add(
      serverId,
      addresses.map((address) => ({ address, reason, detail: null })),
      now,
    );
    if (flags.json) return printJson({ serverId, reason, added });
    process.stdout.write(`suppressed ${added} address${added === 1 ? '' : 'es'} on server ${serverId} (${reason})\n`);
    return;
  }
  const removed = await store.suppressions.remove(serverId, addresses);
  if (flags.json) return printJson({ serverId, requested: new Set(addresses.map(suppressionKey)).size, removed });
  process.stdout.write(`removed ${removed} of ${addresses.length} address${addresses.length === 1 ? '' : 'es'} from server ${serverId}'s suppression list\n`);
}
