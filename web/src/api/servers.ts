/**
 * The Servers pages' calls: servers (docs/api-v2.md, Servers), a server's API keys (API keys) and
 * its stored templates with their preview (Templates).
 */
import { call, seg, type Page } from '../api.js';

export interface ServerDetail {
  serverId: number;
  accountId: number;
  name: string;
  status: 'active' | 'disabled';
  sandbox: boolean;
  requireVerifiedDomain: boolean;
  tracking: { opens: boolean; clicks: boolean; unsubscribes: boolean; domain: string | null };
  createdOn: string;
}

/** The settings a server is created or updated with (PATCH takes any of them). */
export interface ServerSettings {
  name: string;
  sandbox: boolean;
  trackOpens: boolean;
  trackClicks: boolean;
  trackUnsubscribes: boolean;
  requireVerifiedDomain: boolean;
}

export type KeyScope = 'injection' | 'management' | 'injection,management' | 'account';

export interface ApiKey {
  keyId: string;
  name: string;
  scope: KeyScope;
  serverId: number | null;
  accountId: number;
  status: 'active' | 'revoked';
  createdOn: string;
  revokedOn: string | null;
}

/** A key as create and rotate answer it: with the whole secret, the one time it is shown. */
export interface ApiKeyWithSecret extends ApiKey {
  apiKey: string;
}

export interface TemplateSummary {
  templateId: number;
  name: string;
  subject: string | null;
  version: number;
  currentVersion: number;
  createdOn: string;
  updatedOn: string;
  versionCreatedOn: string;
}

export interface Template extends TemplateSummary {
  htmlBody: string | null;
  textBody: string | null;
  ampBody: string | null;
}

export interface TemplateContent {
  name: string;
  subject: string | null;
  htmlBody: string | null;
  textBody: string | null;
}

export interface TemplatePreview {
  templateId: number;
  version: number;
  fields: string[];
  subject: string | null;
  htmlBody: string | null;
  textBody: string | null;
  ampBody: string | null;
}

const server = (id: number) => `/api/v2/servers/${seg(id)}`;

export async function listServerDetails(): Promise<Page<ServerDetail>> {
  return call<Page<ServerDetail>>('GET', '/api/v2/servers?pageSize=100&sortField=name&sortDirection=asc');
}

export async function getServer(id: number): Promise<ServerDetail> {
  return (await call<{ data: ServerDetail }>('GET', server(id))).data;
}

export async function createServer(s: ServerSettings): Promise<ServerDetail> {
  return (await call<{ data: ServerDetail }>('POST', '/api/v2/servers', s)).data;
}

export async function updateServer(id: number, s: Partial<ServerSettings>): Promise<ServerDetail> {
  return (await call<{ data: ServerDetail }>('PATCH', server(id), s)).data;
}

export async function setServerStatus(id: number, action: 'disable' | 'enable'): Promise<ServerDetail> {
  return (await call<{ data: ServerDetail }>('POST', `${server(id)}/${action}`)).data;
}

export async function listKeys(id: number): Promise<Page<ApiKey>> {
  return call<Page<ApiKey>>('GET', `${server(id)}/api-keys?pageSize=100`);
}

export async function createKey(id: number, name: string, scope: string): Promise<ApiKeyWithSecret> {
  return (await call<{ data: ApiKeyWithSecret }>('POST', `${server(id)}/api-keys`, { name, scope })).data;
}

export async function rotateKey(id: number, keyId: string): Promise<ApiKeyWithSecret> {
  return (await call<{ data: ApiKeyWithSecret }>('POST', `${server(id)}/api-keys/${seg(keyId)}/rotate`)).data;
}

export async function revokeKey(id: number, keyId: string): Promise<ApiKey> {
  return (await call<{ data: ApiKey }>('DELETE', `${server(id)}/api-keys/${seg(keyId)}`)).data;
}

export async function listTemplates(id: number): Promise<Page<TemplateSummary>> {
  return call<Page<TemplateSummary>>('GET', `${server(id)}/templates?pageSize=100&sortField=name&sortDirection=asc`);
}

export async function getTemplate(id: number, templateId: number, version?: number): Promise<Template> {
  const q = version === undefined ? '' : `?version=${seg(version)}`;
  return (await call<{ data: Template }>('GET', `${server(id)}/templates/${seg(templateId)}${q}`)).data;
}

export async function templateVersions(id: number, templateId: number): Promise<Page<TemplateSummary>> {
  return call<Page<TemplateSummary>>('GET', `${server(id)}/templates/${seg(templateId)}/versions`);
}

export async function createTemplate(id: number, c: TemplateContent): Promise<Template> {
  return (await call<{ data: Template }>('POST', `${server(id)}/templates`, c)).data;
}

export async function updateTemplate(id: number, templateId: number, c: Partial<TemplateContent>): Promise<Template> {
  return (await call<{ data: Template }>('PATCH', `${server(id)}/templates/${seg(templateId)}`, c)).data;
}

export async function deleteTemplate(id: number, templateId: number): Promise<void> {
  await call<unknown>('DELETE', `${server(id)}/templates/${seg(templateId)}`);
}

function previewQuery(mergeData: Record<string, string>, version?: number): string {
  const q = new URLSearchParams({ mergeData: JSON.stringify(mergeData) });
  if (version !== undefined) q.set('version', String(version));
  return q.toString();
}

export async function previewTemplate(id: number, templateId: number, mergeData: Record<string, string>, version?: number): Promise<TemplatePreview> {
  return (await call<{ data: TemplatePreview }>('GET', `${server(id)}/templates/${seg(templateId)}/preview?${previewQuery(mergeData, version)}`)).data;
}

/**
 * Where the sandboxed `<iframe>` loads the rendered HTML from: the API answers it with a sandbox
 * CSP of its own, so the template's HTML never enters the panel's document.
 */
export function previewHtmlUrl(id: number, templateId: number, mergeData: Record<string, string>, version?: number): string {
  return `${server(id)}/templates/${seg(templateId)}/preview/html?${previewQuery(mergeData, version)}`;
}
