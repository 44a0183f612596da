/**
 * SocketLabs `%%Field%%` mail merge. A template is split once into literal and placeholder parts,
 * so rendering many recipients is a join, not a regex scan per recipient.
 */
export interface MergeRow { field: string; value: string }
export interface MergeLookup { get(field: string): string | undefined }

const PLACEHOLDER = /%%([^%\r\n]{1,100})%%/g;
const RECIPIENT_NAME_ALIASES = new Set(['recipientname', 'recipient name']);

/** Case-insensitive lookup; a per-message row wins over a Global row of the same field. */
export function buildMergeLookup(perMessage: readonly MergeRow[] | undefined, global: readonly MergeRow[] | undefined): MergeLookup {
  const map = new Map<string, string>();
  for (const r of global ?? []) map.set(r.field.toLowerCase(), r.value);
  for (const r of perMessage ?? []) map.set(r.field.toLowerCase(), r.value);
  return { get: (field) => map.get(field.toLowerCase()) };
}

type Part = string | { name: string };
export interface CompiledTemplate { readonly source: string; readonly hasPlaceholders: boolean; readonly parts: readonly Part[] }

export function compileTemplate(source: string): CompiledTemplate {
  if (!source.includes('%%')) return { source, hasPlaceholders: false, parts: [source] };
  const parts: Part[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    if (m.index! > last) parts.push(source.slice(last, m.index));
    parts.push({ name: m[1]! });
    last = m.index! + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return { source, hasPlaceholders: parts.some((p) => typeof p !== 'string'), parts };
}

function resolve(name: string, lookup: MergeLookup): string | undefined {
  const v = lookup.get(name);
  if (v !== undefined) return v;
  // The PHP client writes %%Recipient Name%% while its rows say RecipientName; a missing name is empty.
  if (RECIPIENT_NAME_ALIASES.has(name.toLowerCase())) return lookup.get('RecipientName') ?? '';
  return undefined;
}

export function render(t: CompiledTemplate, lookup: MergeLookup): string {
  if (!t.hasPlaceholders) return t.source;
  let out = '';
  for (const p of t.parts) {
    if (typeof p === 'string') out += p;
    else out += resolve(p.name, lookup) ?? `%%${p.name}%%`; // unknown fields stay visible, not silently blank
  }
  return out;
}

/** As render, then every run of CR/LF becomes one space: a merge value can never add a header line. */
export function renderHeader(t: CompiledTemplate, lookup: MergeLookup): string {
  return render(t, lookup).replace(/[\r\n]+/g, ' ');
}

export function renderString(source: string, lookup: MergeLookup): string {
  return source.includes('%%') ? render(compileTemplate(source), lookup) : source;
}

export function hasPlaceholders(source: string): boolean {
  return compileTemplate(source).hasPlaceholders;
}

export function placeholderNames(source: string): string[] {
  return [...source.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}
