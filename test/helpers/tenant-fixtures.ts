/**
 * The tenant-isolation harness: two tenants (victim and attacker), the victim's resources, and the
 * tables that turn every operation of the OpenAPI document into a concrete request. A route added
 * later is covered by adding what it needs here: a row in PATH_PARAMS for a new path parameter,
 * in BODIES / QUERIES when it requires a body or query parameters, in OUTSIDE_SERVER when it is a
 * v2 route outside /servers/{serverId}. The test fails naming whatever is missing.
 */
import { randomBytes } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { Store } from '../../src/store/store.js';
import { inject, type TestApp } from './app.js';
import { createAccountKey, createKey, v2 } from './api-v2.js';

export interface Tenant {
  label: string;
  accountId: number;
  serverId: number;
  managementKey: string;
  /** An account-level key (scope account). */
  accountKey?: string;
  accountKeyId?: string;
}

/** What the victim owns, created through the API with the victim's key. */
export interface VictimResources {
  suppressedAddress: string;
  webhookId: number;
  /** The victim's endpoint URL (unique to it) and SocketLabs SecretKey: neither may reach the attacker. */
  webhookUrl: string;
  webhookSecretKey: string;
  /** Public id of an injection key of the victim's server. */
  serverKeyId: string;
  sendingDomainId: number;
  bounceDomainId: number;
  trackingDomainId: number;
  inboundRouteId: number;
  inboundSecretKey: string;
  /** An inbound message received through the victim's route (posted before the attacks begin). */
  inboundMessageId: number;
  /** A message the victim sent (Injection API), for the reports routes, and its subject (only the victim's data holds it). */
  sentMessageId: string;
  /** Its one recipient's id, for the message content routes. */
  sentRecipientId: string;
  sentSubject: string;
  /** The victim's injection-api credentials key (fetched before the attacks, so reading it again changes nothing). */
  credentialsKey: string;
  /** A stored template of the victim's, and a string only its content holds. */
  templateId: number;
  templateMarker: string;
  /** A control panel user of the victim's account, and its (unique) email. */
  userId: number;
  userEmail: string;
}

export interface Fixtures {
  victim: Tenant;
  attacker: Tenant;
  resources: VictimResources;
  /** A loopback webhook receiver (POSTLINE_WEBHOOK_ALLOW_PRIVATE lets endpoints point at it). */
  receiverUrl: string;
  /** Another receiver, for what the attacker creates: the victim's receiver must see nothing during the attacks. */
  attackerReceiverUrl: string;
}

export const uniqueTag = () => randomBytes(6).toString('hex');

/** A new account with one server and a management key of that server. */
export async function createTenant(store: Store, label: string): Promise<Tenant> {
  const tag = uniqueTag();
  const account = await store.tenancy.createAccount(`${label} account ${tag}`, Date.now());
  const server = await store.tenancy.createServer({ accountId: account.id, name: `${label} server ${tag}` }, Date.now());
  const managementKey = (await createKey(store, server.id, 'management')).key;
  const accountKey = await createAccountKey(store, account.id);
  return { label, accountId: account.id, serverId: server.id, managementKey, accountKey: accountKey.key, accountKeyId: accountKey.publicId };
}

/**
 * Both tenants and the victim's resources, created through the API with each tenant's own key.
 * The attacker gets resources of its own too, so its lists are not trivially empty. A new
 * resource type: create it here, add its id to VictimResources and its path parameter to PATH_PARAMS.
 */
export async function createFixtures(t: TestApp, receiverUrl: string, attackerReceiverUrl: string): Promise<Fixtures> {
  const victim = await createTenant(t.store, 'Victim');
  const attacker = await createTenant(t.store, 'Attacker');
  const ok = <T>(r: { status: number; text: string; body: T }, what: string): T => {
    if (r.status !== 200 && r.status !== 201) throw new Error(`creating ${what} failed: ${r.status} ${r.text}`);
    return r.body;
  };
  const suppressedAddress = `victim-${uniqueTag()}@example.com`;
  ok(
    await v2(t, 'POST', `/servers/${victim.serverId}/suppressions`, {
      key: victim.managementKey,
      body: { emailAddress: suppressedAddress, reason: 'Unsubscribe' },
    }),
    'a suppression',
  );
  const webhookUrl = `${receiverUrl}?tenant=victim-${uniqueTag()}`;
  const webhook = ok(
    await v2<{ data: { id: number; secretKey: string } }>(t, 'POST', `/servers/${victim.serverId}/webhooks`, {
      key: victim.managementKey,
      body: { url: webhookUrl },
    }),
    'a webhook endpoint',
  ).data;
  const serverKey = ok(
    await v2<{ data: { keyId: string; apiKey: string } }>(t, 'POST', `/servers/${victim.serverId}/api-keys`, {
      key: victim.managementKey,
      body: { name: 'victim injection key', scope: 'injection' },
    }),
    'an API key',
  ).data;
  const sentSubject = `victim subject ${uniqueTag()}`;
  const sent = await inject(t, {
    ServerId: victim.serverId,
    ApiKey: serverKey.apiKey,
    Messages: [
      {
        To: [{ EmailAddress: `victim-rcpt-${uniqueTag()}@example.com` }],
        From: { EmailAddress: 'victim@example.com' },
        Subject: sentSubject,
        TextBody: 'for the victim',
        HtmlBody: '<p>for the victim</p>',
        Attachments: [{ Name: 'victim.txt', ContentType: 'text/plain', Content: Buffer.from('for the victim only').toString('base64') }],
      },
    ],
  });
  if (sent.body.ErrorCode !== 'Success') throw new Error(`sending the victim's message failed: ${sent.text}`);
  const sentRow = ok(
    await v2<{ data: { messageId: string; recipientId: string }[] }>(t, 'GET', `/servers/${victim.serverId}/reports/recipient-search`, {
      key: victim.managementKey,
    }),
    "the victim's sent message",
  ).data[0]!;
  const sentMessageId = sentRow.messageId;
  const sentRecipientId = sentRow.recipientId;
  const sendingDomain = ok(
    await v2<{ data: { id: number } }>(t, 'POST', `/servers/${victim.serverId}/sending-domains`, {
      key: victim.managementKey,
      body: { domain: `victim-${uniqueTag()}.example.com` },
    }),
    'a sending domain',
  ).data;
  const bounceDomain = ok(
    await v2<{ data: { domainId: number } }>(t, 'POST', `/servers/${victim.serverId}/bounce-domains`, {
      key: victim.managementKey,
      body: { domain: `bounce-${uniqueTag()}.victim.example.com` },
    }),
    'a bounce domain',
  ).data;
  const trackingDomain = ok(
    await v2<{ data: { domainId: number } }>(t, 'POST', `/servers/${victim.serverId}/tracking-domains`, {
      key: victim.managementKey,
      body: { domain: `track-${uniqueTag()}.victim.example.com` },
    }),
    'a tracking domain',
  ).data;
  const inboundDomain = `victim-${uniqueTag()}.example.com`;
  const inboundRoute = ok(
    await v2<{ data: { id: number; secretKey: string } }>(t, 'POST', `/servers/${victim.serverId}/inbound-routes`, {
      key: victim.managementKey,
      body: { match: inboundDomain, url: receiverUrl },
    }),
    'an inbound route',
  ).data;
  const inboundMessageId = await receiveInbound(t, victim, inboundRoute.id, `support@${inboundDomain}`);
  const credentials = ok(
    await v2<{ data: { apiKey: string } }>(t, 'GET', `/servers/${victim.serverId}/credentials/injection-api`, { key: victim.managementKey }),
    'the injection credentials',
  ).data;
  const templateMarker = `victim template ${uniqueTag()}`;
  const template = ok(
    await v2<{ data: { templateId: number } }>(t, 'POST', `/servers/${victim.serverId}/templates`, {
      key: victim.managementKey,
      body: { name: 'victim template', textBody: templateMarker, htmlBody: `<p>${templateMarker}</p>` },
    }),
    'a template',
  ).data;

  const userEmail = `victim-user-${uniqueTag()}@example.com`;
  const user = ok(
    await v2<{ data: { id: number } }>(t, 'POST', '/account/users', {
      key: victim.accountKey,
      body: { email: userEmail, role: 'admin', password: 'victim password 123' },
    }),
    'a panel user',
  ).data;

  ok(
    await v2(t, 'POST', `/servers/${attacker.serverId}/suppressions`, {
      key: attacker.managementKey,
      body: { emailAddress: `attacker-${uniqueTag()}@example.com` },
    }),
    "the attacker's suppression",
  );
  ok(
    await v2(t, 'POST', `/servers/${attacker.serverId}/webhooks`, { key: attacker.managementKey, body: { url: receiverUrl, validate: false } }),
    "the attacker's webhook endpoint",
  );
  return {
    victim,
    attacker,
    receiverUrl,
    resources: {
      suppressedAddress,
      webhookId: webhook.id,
      webhookUrl,
      webhookSecretKey: webhook.secretKey,
      serverKeyId: serverKey.keyId,
      sendingDomainId: sendingDomain.id,
      bounceDomainId: bounceDomain.domainId,
      trackingDomainId: trackingDomain.domainId,
      inboundRouteId: inboundRoute.id,
      inboundSecretKey: inboundRoute.secretKey,
      inboundMessageId,
      sentMessageId,
      sentRecipientId,
      sentSubject,
      credentialsKey: credentials.apiKey,
      templateId: template.templateId,
      templateMarker,
      userId: user.id,
      userEmail,
    },
    attackerReceiverUrl,
  };
}

/** Sends one message to a routed address over the MX port and waits until its post was delivered; returns its inbound message id. */
async function receiveInbound(t: TestApp, victim: Tenant, routeId: number, to: string): Promise<number> {
  const transport = createTransport({ host: '127.0.0.1', port: t.app.mxPort!, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({
      envelope: { from: 'someone@sender.example', to: [to] },
      raw: `From: someone@sender.example\r\nTo: ${to}\r\nSubject: for the victim\r\n\r\nhello\r\n`,
    });
  } finally {
    transport.close();
  }
  for (let i = 0; i < 200; i++) {
    const r = await v2<{ data: { id: number; status: string }[] }>(t, 'GET', `/servers/${victim.serverId}/inbound-routes/${routeId}/messages`, {
      key: victim.managementKey,
    });
    const m = r.body.data?.[0];
    if (m && m.status === 'delivered') return m.id;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error("the victim's inbound message was not posted");
}

/** Every key the attacker holds; each one is tried against every operation. */
export function attackerKeys(f: Fixtures): { label: string; key: string }[] {
  const keys = [{ label: 'attacker management key', key: f.attacker.managementKey }];
  if (f.attacker.accountKey) keys.push({ label: 'attacker account key', key: f.attacker.accountKey });
  return keys;
}

/**
 * Path parameter (other than serverId) -> the victim's id for it. A key is the parameter's name,
 * or the path segments before it and its name ("sending-domains/{domainId}") when one name means
 * different resources on different paths; the longest key that ends the path so far wins.
 */
export const PATH_PARAMS: Record<string, (f: Fixtures) => string> = {
  webhookId: (f) => String(f.resources.webhookId),
  'servers/{serverId}/api-keys/{keyId}': (f) => f.resources.serverKeyId,
  'account/api-keys/{keyId}': (f) => f.victim.accountKeyId!,
  'sending-domains/{domainId}': (f) => String(f.resources.sendingDomainId),
  'bounce-domains/{domainId}': (f) => String(f.resources.bounceDomainId),
  'tracking-domains/{domainId}': (f) => String(f.resources.trackingDomainId),
  routeId: (f) => String(f.resources.inboundRouteId),
  'messages/{messageId}': (f) => String(f.resources.inboundMessageId),
  // A sub-account is a server: the victim's server is the victim's sub-account.
  subaccountId: (f) => String(f.victim.serverId),
  templateId: (f) => String(f.resources.templateId),
  userId: (f) => String(f.resources.userId),
};

/** The PATH_PARAMS entry for the parameter that ends `pathSoFar` ("/api/v2/.../{p}"). */
function pathParamFill(pathSoFar: string, p: string): ((f: Fixtures) => string) | undefined {
  const keys = Object.keys(PATH_PARAMS)
    .filter((k) => k === p || pathSoFar.endsWith(`/${k}`))
    .sort((a, b) => b.length - a.length);
  return keys.length > 0 ? PATH_PARAMS[keys[0]!] : undefined;
}

/**
 * GET operations whose answer differs on every call by design (a freshly generated key pair):
 * left out of the before/after comparison of the victim's view.
 */
export const VOLATILE_GETS = new Set([
  'GET /api/v2/servers/{serverId}/dkim/generate',
  // Its rendered messages are composed on each call, with new random MIME boundaries.
  'GET /api/v2/servers/{serverId}/reports/messages/detail',
]);

/**
 * Operations the attacker does not send to its own server in the "victim's ids under one's own
 * server" pass because they would lock the attacker out of the rest of it (disabling its server).
 */
export const SELF_LOCKING = new Set(['POST /api/v2/servers/{serverId}/disable']);

/** Operation ("METHOD /path" as in the document) -> required query parameters, naming the victim's resources. */
export const QUERIES: Record<string, (f: Fixtures) => Record<string, string>> = {
  'GET /api/v2/servers/{serverId}/suppressions': (f) => ({ emailAddress: f.resources.suppressedAddress }),
  'GET /api/v2/servers/{serverId}/dkim/generate': () => ({ domain: 'generated.example.com', selector: 'gen1' }),
  'GET /api/v2/subaccount/{subaccountId}/dkim/generate': () => ({ domain: 'generated.example.com', selector: 'gen1' }),
  'DELETE /api/v2/servers/{serverId}/suppressions': (f) => ({ emailAddress: f.resources.suppressedAddress }),
  'GET /api/v2/servers/{serverId}/reports/statistics': () => ({
    startDate: new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10),
    endDate: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
  }),
  'GET /api/v2/account/reports/statistics': () => ({
    startDate: new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10),
    endDate: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
  }),
  'GET /api/v2/servers/{serverId}/reports/recipient-search': (f) => ({ messageId: f.resources.sentMessageId }),
  'GET /api/v2/servers/{serverId}/reports/messages/detail': (f) => ({ messageId: f.resources.sentMessageId }),
  'GET /api/v2/servers/{serverId}/reports/messages/content': (f) => ({ recipientId: f.resources.sentRecipientId }),
  'GET /api/v2/servers/{serverId}/reports/messages/html': (f) => ({ recipientId: f.resources.sentRecipientId }),
  'GET /api/v2/servers/{serverId}/reports/messages/attachment': (f) => ({ recipientId: f.resources.sentRecipientId, index: '0' }),
};

/**
 * Operation -> a body that passes validation, so that a refusal means isolation and not a
 * malformed request. Bodies naming resources name the victim's.
 */
export const BODIES: Record<string, (f: Fixtures) => unknown> = {
  'POST /api/v2/servers/{serverId}/suppressions': (f) => ({ emailAddress: f.resources.suppressedAddress, reason: 'Complaint' }),
  'POST /api/v2/servers/{serverId}/suppressions/bulk-remove': (f) => ({ emailAddresses: [f.resources.suppressedAddress] }),
  'POST /api/v2/servers/{serverId}/suppressions/bulk-add': (f) => ({ emailAddresses: [f.resources.suppressedAddress], reason: 'Complaint' }),
  'POST /api/v2/servers/{serverId}/webhooks': (f) => ({ url: f.attackerReceiverUrl, validate: false }),
  'PATCH /api/v2/servers/{serverId}/webhooks/{webhookId}': () => ({ enabled: false, eventTypes: ['Failed'] }),
  'POST /api/v2/servers/{serverId}/webhooks/{webhookId}/replay': () => ({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' }),
  'POST /api/v2/servers/{serverId}/webhooks/{webhookId}/rotate-validation-key': () => ({ validationKey: 'attacker-validation-key' }),
  'PATCH /api/v2/servers/{serverId}': () => ({ name: 'renamed by the attacker' }),
  'POST /api/v2/servers/{serverId}/api-keys': () => ({ name: 'attacker key', scope: 'management' }),
  'POST /api/v2/servers/{serverId}/sending-domains': () => ({ domain: `attacker-${uniqueTag()}.example.com` }),
  'POST /api/v2/servers/{serverId}/sending-domains/{domainId}/dkim/rotate': () => ({}),
  'POST /api/v2/servers/{serverId}/bounce-domains': () => ({ domain: `bounce-${uniqueTag()}.attacker.example.com` }),
  'PATCH /api/v2/servers/{serverId}/bounce-domains/{domainId}': () => ({ isDefault: false }),
  'POST /api/v2/servers/{serverId}/tracking-domains': () => ({ domain: `track-${uniqueTag()}.attacker.example.com` }),
  'PATCH /api/v2/servers/{serverId}/tracking-domains/{domainId}': () => ({ httpsEnabled: false }),
  'POST /api/v2/servers': () => ({ name: 'attacker server' }),
  'POST /api/v2/account/api-keys': () => ({ name: 'attacker account key' }),
  'POST /api/v2/servers/{serverId}/inbound-routes': (f) => ({ match: `attacker-${uniqueTag()}.example.com`, url: f.attackerReceiverUrl }),
  'PATCH /api/v2/servers/{serverId}/inbound-routes/{routeId}': () => ({ enabled: false }),
  'POST /api/v2/subaccount': () => ({ name: 'attacker sub-account', useRuleEngine: true }),
  'POST /api/v2/subaccount/{subaccountId}/bounce': () => ({ domain: `bounce-${uniqueTag()}.attacker.example.com`, isDefault: false }),
  'POST /api/v2/subaccount/{subaccountId}/tracking': () => ({ domain: `track-${uniqueTag()}.attacker.example.com`, opensEnabled: true }),
  'POST /api/v2/subaccount/{subaccountId}/dkim': () => ({
    domain: `dkim-${uniqueTag()}.attacker.example.com`,
    selector: 's1',
    privateKey: 'not checked before the sub-account is',
  }),
  'POST /api/v2/subaccount/{subaccountId}/suppressions/bulk-remove': (f) => ({ emailAddresses: [f.resources.suppressedAddress] }),
  'POST /api/v2/servers/{serverId}/inbound-routes/{routeId}/replay': () => ({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' }),
  'POST /api/v2/servers/{serverId}/templates': () => ({ name: 'attacker template', textBody: 'from the attacker' }),
  'PATCH /api/v2/servers/{serverId}/templates/{templateId}': () => ({ textBody: 'rewritten by the attacker' }),
  'POST /api/v2/account/users': () => ({ email: `attacker-${uniqueTag()}@example.com`, role: 'viewer', password: 'attacker password 123' }),
  'PATCH /api/v2/account/users/{userId}': () => ({ role: 'viewer', password: 'taken over by the attacker' }),
  'POST /api/v2/session': (f) => ({ email: f.resources.userEmail, password: 'a guess at the password' }),
};

/**
 * v2 operations outside /servers/{serverId} (account-level routes, a list of servers): `list`
 * answers 2xx with none of the victim's items; `own` acts on the caller's own account only (2xx
 * for an account key, 403 for a server's key) and shows none of the victim's items; `refused`
 * answers 403 or 404 with the victim's ids in its path parameters.
 */
export const OUTSIDE_SERVER: Record<string, 'list' | 'own' | 'refused'> = {
  'GET /api/v2/servers': 'list',
  'POST /api/v2/servers': 'own',
  'GET /api/v2/account/api-keys': 'own',
  'POST /api/v2/account/api-keys': 'own',
  'GET /api/v2/account/api-keys/{keyId}': 'refused',
  'DELETE /api/v2/account/api-keys/{keyId}': 'refused',
  'POST /api/v2/account/api-keys/{keyId}/rotate': 'refused',
  'POST /api/v2/subaccount': 'own',
  'POST /api/v2/subaccount/{subaccountId}/credentials/injection-api': 'refused',
  'POST /api/v2/subaccount/{subaccountId}/bounce': 'refused',
  'POST /api/v2/subaccount/{subaccountId}/tracking': 'refused',
  'GET /api/v2/subaccount/{subaccountId}/dkim/generate': 'refused',
  'POST /api/v2/subaccount/{subaccountId}/dkim': 'refused',
  'GET /api/v2/subaccount/{subaccountId}/suppressions/download': 'refused',
  'POST /api/v2/subaccount/{subaccountId}/suppressions/bulk-remove': 'refused',
  'GET /api/v2/account/users': 'own',
  'POST /api/v2/account/users': 'own',
  'PATCH /api/v2/account/users/{userId}': 'refused',
  'GET /api/v2/account/audit-log': 'own',
  // Sums over the caller's own servers (an account key's account, a server key's server).
  'GET /api/v2/account/reports/statistics': 'list',
  'GET /api/v2/account/queue': 'list',
  // The installation's traffic shaping (no tenant's data): an admin's session or an account key; a server key is refused.
  'GET /api/v2/delivery/shaping': 'own',
  // The session routes act on the cookie's session only; a key is no session (401).
  'POST /api/v2/session': 'own',
  'GET /api/v2/session': 'own',
  'DELETE /api/v2/session': 'own',
};

/**
 * Strings only the victim's data holds: none may appear in an answer to the attacker. (Not the
 * suppressed address: the attacker sends it itself, and answers may echo it.)
 */
export function victimMarkers(f: Fixtures): string[] {
  return [
    f.resources.webhookUrl,
    f.resources.webhookSecretKey,
    f.resources.inboundSecretKey,
    f.resources.sentSubject,
    f.resources.credentialsKey,
    f.resources.templateMarker,
    f.resources.userEmail,
  ];
}

export interface PlannedRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

export interface DocOperation {
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { required?: boolean };
}

/**
 * The request for one operation of the document, with `serverId` and every other path parameter
 * filled in (the victim's ids from PATH_PARAMS), or the list of what the tables lack.
 */
export function planRequest(
  f: Fixtures,
  method: string,
  docPath: string,
  op: DocOperation,
  serverId: number,
): { ok: true; request: PlannedRequest } | { ok: false; missing: string[] } {
  const name = `${method.toUpperCase()} ${docPath}`;
  const missing: string[] = [];
  const path = docPath.replace(/\{([^}]+)\}/g, (m, p: string, offset: number) => {
    if (p === 'serverId') return String(serverId);
    const fill = pathParamFill(docPath.slice(0, offset + m.length), p);
    if (!fill) {
      missing.push(`${name}: path parameter {${p}} is not in PATH_PARAMS (test/helpers/tenant-fixtures.ts)`);
      return `{${p}}`;
    }
    return encodeURIComponent(fill(f));
  });
  const requiredQuery = (op.parameters ?? []).filter((p) => p.in === 'query' && p.required).map((p) => p.name);
  const query = QUERIES[name]?.(f);
  for (const q of requiredQuery)
    if (!query || !(q in query)) missing.push(`${name}: required query parameter ${q} is not in QUERIES (test/helpers/tenant-fixtures.ts)`);
  const body = BODIES[name]?.(f);
  if (op.requestBody?.required && body === undefined) missing.push(`${name}: needs a body; add one to BODIES (test/helpers/tenant-fixtures.ts)`);
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, request: { method: method.toUpperCase(), path, ...(query ? { query } : {}), ...(body === undefined ? {} : { body }) } };
}
