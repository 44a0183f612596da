import { readFileSync } from 'node:fs';
import { toSummary, toWire } from '../api/v2/templates/wire.js';
import type { Store, TemplateContent } from '../store/store.js';
import { checkTemplateContent, type TemplateInput } from '../templates/content.js';
import { printJson, printTable, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';

type Flags = Record<string, string | boolean | undefined>;

const USAGE =
  'usage: postline templates list --server ID [--json]' +
  ' | templates get --server ID --id N [--version N]' +
  ' | templates create --server ID --name NAME [--subject S] [--html-file F] [--text-file F] [--amp-file F] [--json]' +
  ' | templates update --server ID --id N [--name NAME] [--subject S] [--html-file F] [--text-file F] [--amp-file F] [--json]' +
  ' | templates versions --server ID --id N [--json]' +
  ' | templates delete --server ID --id N [--json]';

/** Templates `list` shows: a server's templates are few and named, one page of the API's largest size is plenty for a terminal. */
const LIST_SHOWN = 100;

/** The content fields the flags give (bodies read from files); absent flags are left out, so an update keeps them. */
function contentFlags(flags: Flags): TemplateInput {
  const input: TemplateInput = {};
  if (typeof flags.name === 'string') input.name = flags.name;
  if (typeof flags.subject === 'string') input.subject = flags.subject;
  for (const [flag, field] of [
    ['html-file', 'htmlBody'],
    ['text-file', 'textBody'],
    ['amp-file', 'ampBody'],
  ] as const) {
    const path = flags[flag];
    if (typeof path !== 'string') continue;
    try {
      input[field] = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`--${flag}: cannot read ${path}: ${(err as Error).message}`);
    }
  }
  return input;
}

function checked(input: TemplateInput): TemplateContent {
  const r = checkTemplateContent(input);
  if (!r.ok) throw new UsageError(`${r.field}: ${r.message}; nothing was changed`);
  return r.content;
}

/**
 * `postline templates list|get|create|update|versions|delete`: a server's stored templates (the
 * ApiTemplate ids), on the store directly, with the API's checks. An update saves a new version.
 */
export async function templatesCommand(store: Store, verb: string | undefined, flags: Flags, now: number): Promise<void> {
  if (!['list', 'get', 'create', 'update', 'versions', 'delete'].includes(verb ?? '')) throw new UsageError(USAGE);
  const serverId = positiveInt(flags.server, 'server');
  if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`server ${serverId} does not exist`);
  if (verb === 'list') {
    const { rows, total } = await store.templates.list(serverId, { limit: LIST_SHOWN, offset: 0, direction: 'asc', sort: 'createdAt' });
    if (flags.json) return printJson({ data: rows.map(toSummary), total });
    return printTable(
      rows.map((t) => ({ id: t.id, name: t.name, version: t.currentVersion, subject: t.subject, updated: new Date(t.updatedAt).toISOString() })),
    );
  }
  if (verb === 'create') {
    const t = await store.templates.create(serverId, checked(contentFlags(flags)), now);
    if (flags.json) return printJson(toWire(t));
    process.stdout.write(`template ${t.id} created (version 1); send it with "ApiTemplate": ${t.id}\n`);
    return;
  }
  const id = positiveInt(flags.id, 'id');
  const notFound = () => new UsageError(`server ${serverId} has no template ${id}`);
  if (verb === 'get') {
    const version = flags.version === undefined ? undefined : positiveInt(flags.version, 'version');
    const t = await store.templates.get(serverId, id, version);
    if (!t) throw version === undefined ? notFound() : new UsageError(`template ${id} has no version ${version}`);
    return printJson(toWire(t));
  }
  if (verb === 'versions') {
    const versions = await store.templates.versions(serverId, id);
    if (!versions) throw notFound();
    if (flags.json) return printJson({ data: versions.map(toSummary), total: versions.length });
    return printTable(versions.map((v) => ({ version: v.version, name: v.name, subject: v.subject, saved: new Date(v.versionCreatedAt).toISOString() })));
  }
  if (verb === 'update') {
    const current = await store.templates.get(serverId, id);
    if (!current) throw notFound();
    const changes = contentFlags(flags);
    if (Object.keys(changes).length === 0)
      throw new UsageError(`templates update needs at least one of --name, --subject, --html-file, --text-file, --amp-file\n${USAGE}`);
    const t = await store.templates.update(
      serverId,
      id,
      checked({
        name: current.name,
        subject: current.subject,
        htmlBody: current.htmlBody,
        textBody: current.textBody,
        ampBody: current.ampBody,
        ...changes,
      }),
      now,
    );
    if (!t) throw notFound();
    if (flags.json) return printJson(toWire(t));
    process.stdout.write(`template ${id} updated: version ${t.version} is current\n`);
    return;
  }
  if (!(await store.templates.delete(serverId, id))) throw notFound();
  if (flags.json) return printJson({ templateId: id, deleted: true });
  process.stdout.write(`template ${id} deleted\n`);
}
