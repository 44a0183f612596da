import type { Config } from '../config/load.js';
import { MAX_WEBHOOK_ENDPOINTS_PER_SERVER } from '../core/api-v2-limits.js';
import { checkUrl, handshake } from '../api/v2/webhooks/handshake.js';
import { NOT_VALIDATED_REASON } from '../api/v2/webhooks/create.js';
import { attemptToWire, checkTypesForFormat, toWire } from '../api/v2/webhooks/wire.js';
import { generateValidationKey, VALIDATION_KEY_PATTERN, validatesOnCreate } from '../webhooks/legacy-notification.js';
import type { Store, WebhookFormat } from '../store/store.js';
import { generateSecretKey, SUBSCRIBABLE_EVENT_TYPES } from '../webhooks/endpoint.js';
import { generateSecret } from '../net/standard-signature.js';
import { createUrlGuard } from '../net/url-guard.js';
import { asUsage, printJson, printTable, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';

type Flags = Record<string, string | boolean | undefined>;

const USAGE =
  'usage: postline webhooks list --server ID [--json]' +
  ' | webhooks add --server ID --url URL [--events Delivered,Failed,...] [--format json|form] [--validation-key KEY] [--no-validate] [--json]' +
  ' | webhooks rotate-validation-key --server ID --id ENDPOINT [--validation-key KEY] [--json]' +
  ' | webhooks remove --server ID --id ENDPOINT [--json]' +
  ' | webhooks attempts --server ID --id ENDPOINT [--json]';

/** Attempts `webhooks attempts` shows: the newest, as the API's largest page. */
const ATTEMPTS_SHOWN = 100;

function eventTypes(v: string | boolean | undefined): string[] {
  if (v === undefined) return [];
  if (typeof v !== 'string') throw new UsageError(`--events needs a comma-separated list of: ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}`);
  const list = [
    ...new Set(
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
  const unknown = list.filter((t) => !(SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) throw new UsageError(`unknown event type ${unknown.join(', ')}; one of: ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}`);
  return list;
}

function validationKeyFlag(v: string | boolean | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !new RegExp(VALIDATION_KEY_PATTERN).test(v)) {
    throw new UsageError('--validation-key needs 8 to 128 printable characters without spaces');
  }
  return v;
}

/**
 * `postline webhooks list|add|remove|attempts`: a server's event webhook endpoints, on the store
 * directly, with the API's checks: the URL guard, the endpoint limit, and the Validation handshake
 * (unless --no-validate, which stores the endpoint disabled until validated, as the API does), and
 * a form endpoint's ValidationKey (shown by add and list, changed by rotate-validation-key).
 */
export async function webhooksCommand(store: Store, cfg: Config, verb: string | undefined, flags: Flags, now: number): Promise<void> {
  if (!['list', 'add', 'remove', 'attempts', 'rotate-validation-key'].includes(verb ?? '')) throw new UsageError(USAGE);
  const serverId = positiveInt(flags.server, 'server');
  if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`server ${serverId} does not exist`);
  if (verb === 'list') {
    const { rows } = await store.webhooks.listEndpoints(serverId, { limit: MAX_WEBHOOK_ENDPOINTS_PER_SERVER, offset: 0, direction: 'asc' });
    if (flags.json) return printJson(rows.map(toWire));
    return printTable(
      rows.map((e) => ({
        id: e.id,
        url: e.url,
        format: e.format,
        events: e.eventTypes.join(',') || 'all',
        enabled: e.enabled,
        validationKey: toWire(e).validationKey ?? '',
        disabledReason: e.disabledReason,
      })),
    );
  }
  if (verb === 'add') {
    const url = typeof flags.url === 'string' ? flags.url.trim() : '';
    if (url === '') throw new UsageError(`webhooks add needs --url\n${USAGE}`);
    const types = eventTypes(flags.events);
    const format = (flags.format ?? 'json') as WebhookFormat;
    if (format !== 'json' && format !== 'form') throw new UsageError('--format must be json or form');
    const givenKey = validationKeyFlag(flags['validation-key']);
    if (givenKey !== undefined && format !== 'form') throw new UsageError('--validation-key is for --format form endpoints only');
    await asUsage(async () => checkTypesForFormat(format, types));
    const { total } = await store.webhooks.listEndpoints(serverId, { limit: 1, offset: 0, direction: 'asc' });
    if (total >= MAX_WEBHOOK_ENDPOINTS_PER_SERVER)
      throw new UsageError(`server ${serverId} already has ${total} webhook endpoints (at most ${MAX_WEBHOOK_ENDPOINTS_PER_SERVER})`);
    const deps = { store, now: () => now, guard: createUrlGuard({ allowPrivate: cfg.webhookAllowPrivate, allowCidrs: cfg.webhookAllowCidrs }) };
    await asUsage(() => checkUrl(deps, url));
    const secretKey = generateSecretKey();
    const signingSecret = generateSecret();
    const validate = validatesOnCreate(format, flags['no-validate'] === true ? false : undefined, givenKey);
    const validationKey = format === 'form' ? (givenKey ?? generateValidationKey()) : null;
    if (validate)
      await asUsage(() => handshake(deps, serverId, { url, format, secretKey, validationKey, signingSecrets: [signingSecret], secretsRotatedAt: null }));
    const endpoint = await store.webhooks.createEndpoint(
      {
        serverId,
        url,
        eventTypes: types,
        format,
        secretKey,
        signingSecret,
        validationKey,
        enabled: validate,
        disabledReason: validate ? null : NOT_VALIDATED_REASON,
        validatedAt: validate ? now : null,
      },
      now,
    );
    if (flags.json) return printJson({ ...toWire(endpoint), signingSecret });
    process.stdout.write(
      `created webhook endpoint ${endpoint.id} for ${url}${validate ? '' : ' (disabled until validated)'}\n` +
        `  SecretKey:      ${secretKey}\n  signing secret: ${signingSecret} (shown once)\n` +
        (validationKey === null ? '' : `  ValidationKey:  ${validationKey} (the receiver must put it in the body of every answer)\n`),
    );
    return;
  }
  const id = positiveInt(flags.id, 'id');
  const endpoint = await store.webhooks.getEndpoint(serverId, id);
  if (!endpoint) throw new UsageError(`server ${serverId} has no webhook endpoint ${id}`);
  if (verb === 'rotate-validation-key') {
    if (endpoint.format !== 'form') throw new UsageError(`webhook endpoint ${id} is a ${endpoint.format} endpoint; only form endpoints have a ValidationKey`);
    const validationKey = validationKeyFlag(flags['validation-key']) ?? generateValidationKey();
    const updated = await store.webhooks.updateEndpoint(serverId, id, { validationKey }, now);
    if (flags.json) return printJson(toWire(updated ?? endpoint));
    process.stdout.write(`webhook endpoint ${id} ValidationKey: ${validationKey} (the receiver must answer it from now on)\n`);
    return;
  }
  if (verb === 'remove') {
    await store.webhooks.deleteEndpoint(serverId, id);
    if (flags.json) return printJson({ id, deleted: true });
    process.stdout.write(`removed webhook endpoint ${id}\n`);
    return;
  }
  const { rows, total } = await store.webhooks.listAttempts(serverId, id, { limit: ATTEMPTS_SHOWN, offset: 0, direction: 'desc' });
  if (flags.json) return printJson({ data: rows.map(attemptToWire), total });
  printTable(rows.map((a) => ({ at: new Date(a.at).toISOString(), event: a.eventType, ok: a.ok, status: a.httpStatus, ms: a.durationMs, error: a.error })));
  if (total > rows.length) process.stdout.write(`(newest ${rows.length} of ${total})\n`);
}
