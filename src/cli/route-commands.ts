import type { Config } from '../config/load.js';
import { checkMatch } from '../api/v2/inbound-routes/create.js';
import { checkUrl, handshake } from '../api/v2/webhooks/handshake.js';
import { MAX_INBOUND_ROUTES_PER_SERVER } from '../inbound/limits.js';
import { mxAddressesOf } from '../mx/recipient-policy.js';
import type { InboundPostView, InboundRoute } from '../store/inbound.js';
import type { Store } from '../store/store.js';
import { generateSecretKey } from '../webhooks/endpoint.js';
import { generateSecret } from '../net/standard-signature.js';
import { createUrlGuard } from '../net/url-guard.js';
import { asUsage, printJson, printTable, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';

type Flags = Record<string, string | boolean | undefined>;

const USAGE =
  'usage: postline routes list --server ID [--json]' +
  ' | routes add --server ID --match DOMAIN|ADDRESS --url URL [--no-validate] [--json]' +
  ' | routes remove --server ID --match DOMAIN|ADDRESS [--json]' +
  ' | routes messages --server ID --match DOMAIN|ADDRESS [--json]';

/** Messages `routes messages` shows: the newest page, as the API's first page of the largest size. */
const MESSAGES_SHOWN = 100;

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const wire = (r: InboundRoute) => ({
  id: r.id,
  match: r.match,
  kind: r.kind,
  url: r.url,
  enabled: r.enabled,
  secretKey: r.secretKey,
  createdOn: iso(r.createdAt),
  lastUpdate: iso(r.updatedAt),
  validatedOn: iso(r.validatedAt),
});
const messageWire = (p: InboundPostView) => ({
  id: p.id,
  messageId: p.messageId,
  rcptTo: p.rcptTo,
  mailFrom: p.mailFrom,
  size: p.sizeBytes,
  receivedOn: iso(p.receivedAt),
  status: p.status,
  attempts: p.attempts,
  lastStatus: p.lastStatus,
  lastError: p.lastError,
});

function stringFlag(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`routes needs --${name}\n${USAGE}`);
  return v.trim();
}

async function routeByMatch(store: Store, serverId: number, flags: Flags): Promise<InboundRoute> {
  const match = stringFlag(flags, 'match').toLowerCase();
  const { rows } = await store.inbound.listRoutes(serverId, { limit: MAX_INBOUND_ROUTES_PER_SERVER, offset: 0, direction: 'asc' });
  const r = rows.find((x) => x.match === match);
  if (!r) throw new UsageError(`server ${serverId} has no inbound route for ${match}`);
  return r;
}

/**
 * `postline routes list|add|remove|messages`: the inbound routes of a server, on the store
 * directly (a running server sees changes within its routing table's cache time, 5 s). `add` runs
 * the Validation handshake like the API unless --no-validate.
 */
export async function routesCommand(store: Store, cfg: Config, verb: string | undefined, flags: Flags, now: number): Promise<void> {
  if (!['list', 'add', 'remove', 'messages'].includes(verb ?? '')) throw new UsageError(USAGE);
  const serverId = positiveInt(flags.server, 'server');
  if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`server ${serverId} does not exist`);
  if (verb === 'list') {
    const { rows } = await store.inbound.listRoutes(serverId, { limit: MAX_INBOUND_ROUTES_PER_SERVER, offset: 0, direction: 'asc' });
    if (flags.json) return printJson(rows.map(wire));
    return printTable(rows.map((r) => ({ id: r.id, match: r.match, url: r.url, enabled: r.enabled, validated: iso(r.validatedAt) })));
  }
  if (verb === 'add') {
    const url = stringFlag(flags, 'url');
    const deps = {
      store,
      now: () => now,
      guard: createUrlGuard({ allowPrivate: cfg.webhookAllowPrivate, allowCidrs: cfg.webhookAllowCidrs }),
      bounceDomain: mxAddressesOf(cfg).bounceDomain,
    };
    const m = await asUsage(() => checkMatch(deps, stringFlag(flags, 'match')));
    await asUsage(() => checkUrl(deps, url));
    const secretKey = generateSecretKey();
    const signingSecret = generateSecret();
    const validate = flags['no-validate'] !== true;
    if (validate) await asUsage(() => handshake(deps, serverId, { url, format: 'json', secretKey, signingSecrets: [signingSecret], secretsRotatedAt: null }));
    const route = await store.inbound.createRoute(
      { serverId, match: m.match, kind: m.kind, url, secretKey, signingSecret, enabled: true, validatedAt: validate ? now : null },
      now,
    );
    if (!route) throw new UsageError(`${m.match} is already routed; a domain or address has one route; nothing was changed`);
    if (flags.json) return printJson({ ...wire(route), signingSecret });
    process.stdout.write(
      `routed ${route.match} to ${route.url} (route ${route.id})\n  SecretKey:      ${secretKey}\n  signing secret: ${signingSecret} (shown once)\n`,
    );
    return;
  }
  const route = await routeByMatch(store, serverId, flags);
  if (verb === 'remove') {
    await store.inbound.deleteRoute(serverId, route.id);
    if (flags.json) return printJson({ id: route.id, match: route.match, deleted: true });
    process.stdout.write(`removed the route of ${route.match}\n`);
    return;
  }
  const { rows, total } = await store.inbound.listPosts(serverId, route.id, { limit: MESSAGES_SHOWN, offset: 0, direction: 'desc' });
  if (flags.json) return printJson({ data: rows.map(messageWire), total });
  printTable(
    rows.map((p) => ({
      id: p.id,
      received: iso(p.receivedAt),
      rcptTo: p.rcptTo,
      mailFrom: p.mailFrom || '<>',
      size: p.sizeBytes,
      status: p.status,
      attempts: p.attempts,
    })),
  );
  if (total > rows.length) process.stdout.write(`(newest ${rows.length} of ${total})\n`);
}
