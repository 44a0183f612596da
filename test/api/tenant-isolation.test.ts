import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { v2, type V2Error } from '../helpers/api-v2.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhooks.js';
import {
  attackerKeys,
  createFixtures,
  OUTSIDE_SERVER,
  planRequest,
  SELF_LOCKING,
  victimMarkers,
  VOLATILE_GETS,
  type DocOperation,
  type Fixtures,
  type PlannedRequest,
} from '../helpers/tenant-fixtures.js';

interface Doc {
  paths: Record<string, Record<string, DocOperation>>;
}
interface Op {
  method: string;
  path: string;
  op: DocOperation;
}

const SERVER_SCOPE = '/api/v2/servers/{serverId}';
const V2 = '/api/v2';

/** Every operation of the document under /api/v2/. */
function v2Operations(doc: Doc): Op[] {
  return Object.entries(doc.paths)
    .filter(([p]) => p.startsWith(`${V2}/`))
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}
const inServerScope = (o: Op) => o.path === SERVER_SCOPE || o.path.startsWith(`${SERVER_SCOPE}/`);
const otherPathParams = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).filter((p) => p !== 'serverId');

describe(`tenant isolation across every v2 operation of the OpenAPI document (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let attackerReceiver: WebhookReceiver;
  let f: Fixtures;
  let ops: Op[];
  let before: Map<string, { status: number; text: string }>;
  let receivedBeforeAttacks: number;

  const send = (r: PlannedRequest, key: string) =>
    v2<V2Error & { data?: unknown }>(t, r.method, r.path.slice(V2.length), { key, query: r.query, body: r.body });
  const plan = (o: Op, serverId: number): PlannedRequest => {
    const p = planRequest(f, o.method, o.path, o.op, serverId);
    if (!p.ok) throw new Error(p.missing.join('\n'));
    return p.request;
  };
  /** What the victim reads back through every GET operation of its server. */
  const victimView = async () => {
    const view = new Map<string, { status: number; text: string }>();
    for (const o of ops.filter((x) => x.method === 'GET' && !VOLATILE_GETS.has(`${x.method} ${x.path}`))) {
      const r = await send(plan(o, f.victim.serverId), f.victim.managementKey);
      view.set(`${o.method} ${o.path}`, { status: r.status, text: r.text });
    }
    return view;
  };

  beforeAll(async () => {
    // smtp and webhooks too: the victim's inbound route receives a real message before the attacks.
    t = await startTestApp({ roles: ['api', 'smtp', 'webhooks'], config: { webhookAllowPrivate: true, submissionPort: 0, mxPort: 0, smtpHost: '127.0.0.1' } });
    receiver = await startReceiver();
    attackerReceiver = await startReceiver();
    f = await createFixtures(t, receiver.url, attackerReceiver.url);

    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as Doc;
    ops = v2Operations(doc).filter(inServerScope);
  });
  afterAll(async () => {
    await receiver.close();
    await attackerReceiver.close();
    await t.close();
  });

  it('knows how to call every operation under /servers/{serverId} (a new path parameter, query or body fails here, named)', () => {
    expect(ops.length).toBeGreaterThanOrEqual(15);
    const missing = ops.flatMap((o) => {
      const p = planRequest(f, o.method, o.path, o.op, f.victim.serverId);
      return p.ok ? [] : p.missing;
    });
    expect(missing).toEqual([]);
  });

  it('the planner names a path parameter it has no fixture for', () => {
    const p = planRequest(f, 'get', `${SERVER_SCOPE}/domains/{domainId}`, {}, 1);
    expect(p).toEqual({
      ok: false,
      missing: [`GET ${SERVER_SCOPE}/domains/{domainId}: path parameter {domainId} is not in PATH_PARAMS (test/helpers/tenant-fixtures.ts)`],
    });
  });

  it('the victim reads every GET operation of its server (the fixtures name real resources)', async () => {
    before = await victimView();
    expect([...before].filter(([, r]) => r.status !== 200).map(([k, r]) => `${k}: ${r.status} ${r.text.slice(0, 200)}`)).toEqual([]);
    expect(before.get(`GET ${SERVER_SCOPE}/webhooks/{webhookId}`)!.text).toContain(f.resources.webhookSecretKey);
    receivedBeforeAttacks = receiver.received.length;
  });

  it("refuses the attacker's keys on the victim's serverId: 403 wrong_server for every operation", async () => {
    const wrong: string[] = [];
    for (const { label, key } of attackerKeys(f)) {
      for (const o of ops) {
        const r = await send(plan(o, f.victim.serverId), key);
        if (r.status !== 403 || r.body.error?.code !== 'wrong_server')
          wrong.push(`${label}: ${o.method} ${o.path} answered ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("with the victim's ids under the attacker's own serverId: 404 (or 403), never 2xx, and nothing of the victim's in any answer", async () => {
    const wrong: string[] = [];
    const markers = victimMarkers(f);
    for (const { label, key } of attackerKeys(f)) {
      for (const o of ops.filter((x) => !SELF_LOCKING.has(`${x.method} ${x.path}`))) {
        const r = await send(plan(o, f.attacker.serverId), key);
        const name = `${label}: ${o.method} ${o.path}`;
        if (otherPathParams(o.path).length > 0 && r.status !== 404 && r.status !== 403) wrong.push(`${name} answered ${r.status} ${r.text.slice(0, 200)}`);
        for (const m of markers) if (r.text.includes(m)) wrong.push(`${name} answered the victim's ${m}`);
        // A list on the attacker's server holds none of the entries the victim's list holds.
        const theirs = before.get(`${o.method} ${o.path}`);
        if (theirs && o.method === 'GET' && r.status === 200) {
          for (const item of entriesOf(theirs.text)) if (entriesOf(r.text).includes(item)) wrong.push(`${name} lists the victim's ${item.slice(0, 120)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("v2 operations outside /servers/{serverId} are listed in OUTSIDE_SERVER and show none of the victim's items", async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as Doc;
    const outside = v2Operations(doc).filter((o) => !inServerScope(o));
    const unknown = outside
      .filter((o) => !(`${o.method} ${o.path}` in OUTSIDE_SERVER))
      .map((o) => `${o.method} ${o.path}: not in OUTSIDE_SERVER (test/helpers/tenant-fixtures.ts)`);
    expect(unknown).toEqual([]);
    const wrong: string[] = [];
    for (const { label, key } of attackerKeys(f)) {
      for (const o of outside) {
        const p = planRequest(f, o.method, o.path, o.op, f.attacker.serverId);
        if (!p.ok) {
          wrong.push(...p.missing);
          continue;
        }
        const r = await send(p.request, key);
        const name = `${label}: ${o.method} ${o.path}`;
        const expected = OUTSIDE_SERVER[`${o.method} ${o.path}`];
        if (expected === 'list' && (r.status < 200 || r.status > 299)) wrong.push(`${name} answered ${r.status}`);
        if (expected === 'refused' && r.status !== 403 && r.status !== 404) wrong.push(`${name} answered ${r.status}`);
        for (const m of [...victimMarkers(f), `"serverId":${f.victim.serverId}`, `"id":${f.victim.serverId},`]) {
          if (r.text.includes(m)) wrong.push(`${name} answered the victim's ${m}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("leaves the victim's resources as they were, and sent nothing to the victim's webhook", async () => {
    const after = await victimView();
    expect(Object.fromEntries(after)).toEqual(Object.fromEntries(before));
    expect(receiver.received.length).toBe(receivedBeforeAttacks);
  });
});

/** The entries of a list answer: JSON `data` items, or CSV rows after the header, as strings. */
function entriesOf(text: string): string[] {
  try {
    const v = JSON.parse(text) as { data?: unknown };
    return Array.isArray(v.data) ? v.data.map((x) => JSON.stringify(x)) : [];
  } catch {
    return text
      .split('\r\n')
      .slice(1)
      .filter((l) => l.length > 0);
  }
}
