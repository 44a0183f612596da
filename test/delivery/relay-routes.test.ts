import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRelayRoutes, parseRelayRoutes, RelayRoutesError, routeFor } from '../../src/delivery/relay-routes.js';
import { createKey } from '../helpers/api-v2.js';
import { startApp } from '../../src/app.js';
import { createLogger } from '../../src/core/log.js';
import { inject, startTestApp } from '../helpers/app.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { waitForRecipients } from '../helpers/wait.js';

describe(`relay routes: a server's or a domain's mail through its own smart host (${TEST_STORE_KIND})`, () => {
  it('refuses a routes file that cannot work, naming the route and the field, never a password', () => {
    const refused = (routes: unknown) => {
      try {
        parseRelayRoutes(routes);
      } catch (err) {
        expect(err).toBeInstanceOf(RelayRoutesError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(routes)}`);
    };
    expect(refused({ domain: 'a.example' })).toMatch(/expected a JSON array/);
    expect(refused([{ domain: 'a.example', host: 'r:25', via: 'x' }])).toMatch(/route 1: unknown field "via"/);
    expect(refused([{ domain: 'a.example', host: 'r:25' }, { domain: 'b.example' }])).toMatch(/route 2: host must be host:port/);
    expect(refused([{ host: 'r:25' }])).toMatch(/route 1: give serverId, domain or both/);
    expect(refused([{ domain: 'not a domain', host: 'r:25' }])).toMatch(/route 1: domain "not a domain"/);
    expect(refused([{ serverId: 0, host: 'r:25' }])).toMatch(/serverId must be a positive integer/);
    expect(refused([{ domain: 'a.example', host: 'r:25', tls: 'maybe' }])).toMatch(/tls must be auto, starttls or implicit/);
    expect(refused([{ domain: 'a.example', host: 'r:25', caFile: '/nonexistent.pem', tls: 'starttls' }])).toMatch(
      /route 1: POSTLINE_RELAY_CA_FILE: cannot read/,
    );
    // The file itself: missing, or not JSON.
    const dir = mkdtempSync(join(tmpdir(), 'postline-routes-bad-'));
    expect(() => loadRelayRoutes(join(dir, 'missing.json'))).toThrow(/POSTLINE_RELAY_ROUTES_FILE: cannot read .*missing\.json/);
    writeFileSync(join(dir, 'broken.json'), '[{"domain": "a.example",');
    expect(() => loadRelayRoutes(join(dir, 'broken.json'))).toThrow(/POSTLINE_RELAY_ROUTES_FILE: .*broken\.json is not JSON/);
    expect(refused([{ domain: 'localhost', host: 'r:25' }])).toMatch(/route 1: domain "localhost" is not a domain name/);
    const noUser = refused([{ domain: 'a.example', host: 'r:587', password: 'hunter2 secret' }]);
    expect(noUser).toMatch(/route 1: username and password go together/);
    expect(noUser).not.toContain('hunter2');
  });

  it('picks the first route that matches: the server, the domain or a subdomain of it, both when a route names both', () => {
    const routes = parseRelayRoutes([
      { serverId: 7, domain: 'both.example', host: 'one:25' },
      { domain: 'Example.COM.', host: 'two:587', username: 'u', password: 'p' },
      { serverId: 7, host: 'three:25' },
    ]);
    expect(routes[1]).toMatchObject({ domain: 'example.com', host: { host: 'two', port: 587, relay: { tls: 'starttls', auth: { username: 'u' } } } });
    const pick = (serverId: number, domain: string) => routeFor(routes, serverId, domain)?.host ?? null;
    expect(pick(7, 'both.example')).toBe('one');
    expect(pick(8, 'both.example')).toBeNull();
    expect(pick(8, 'example.com')).toBe('two');
    expect(pick(7, 'mail.EXAMPLE.com')).toBe('two');
    expect(pick(8, 'notexample.com')).toBeNull();
    expect(pick(7, 'elsewhere.example')).toBe('three');
  });

  it('delivers each recipient by its route, the rest the default way, and a route that is down defers only its own mail', async () => {
    const byDomain = await startSmtpSink();
    const byServer = await startSmtpSink();
    const fallback = await startSmtpSink();
    const dir = mkdtempSync(join(tmpdir(), 'postline-routes-'));
    const file = join(dir, 'routes.json');
    // The api role accepts; a delivery role started on the same store after the routes file names the second server.
    const t = await startTestApp({ roles: ['api'] });
    const accountId = (await t.store.tenancy.getServer(t.credentials.serverId))!.accountId;
    const second = await t.store.tenancy.createServer({ accountId, name: 'Routed server' }, Date.now());
    const secondKey = await createKey(t.store, second.id, 'injection');
    writeFileSync(
      file,
      JSON.stringify([
        { serverId: second.id, host: `127.0.0.1:${byServer.port}` },
        { domain: 'routed.example', host: `127.0.0.1:${byDomain.port}` },
        { domain: 'down.example', host: '127.0.0.1:1' },
      ]),
    );
    const delivery = await startApp(
      {
        config: { ...t.config, relayHost: `127.0.0.1:${fallback.port}`, relayRoutesFile: file },
        log: createLogger('silent'),
        store: t.store,
        now: Date.now,
        delivery: { retrySchedule: [60_000], pollMs: 50 },
      },
      ['delivery'],
    );
    const send = async (serverId: number, apiKey: string, to: string[]) => {
      const r = await inject(t, {
        ServerId: serverId,
        ApiKey: apiKey,
        Messages: [{ From: { EmailAddress: 'shop@example.com' }, To: to.map((EmailAddress) => ({ EmailAddress })), Subject: 'Routes', TextBody: 'x' }],
      });
      expect(r.body.ErrorCode, r.text).toBe('Success');
      const messageId = (await t.store.events.list({ limit: 1000 })).filter((e) => e.type === 'Queued').at(-1)!.messageId;
      const rows = await waitForRecipients(t.store, messageId, (x) => x.every((y) => y.status === 'delivered' || y.status === 'deferred'));
      return Object.fromEntries(rows.map((x) => [x.address, [x.status, x.lastReply]]));
    };
    try {
      const first = await send(t.credentials.serverId, t.credentials.apiKey, [
        'ann@routed.example',
        'bo@mail.routed.example',
        'cy@other.example',
        'di@down.example',
      ]);
      expect(Object.fromEntries(Object.entries(first).map(([a, [s]]) => [a, s]))).toEqual({
        'ann@routed.example': 'delivered',
        'bo@mail.routed.example': 'delivered',
        'cy@other.example': 'delivered',
        'di@down.example': 'deferred',
      });
      expect(first['di@down.example']![1]).toMatch(/127\.0\.0\.1:1/);
      expect(byDomain.messages.flatMap((m) => m.rcptTo).sort()).toEqual(['ann@routed.example', 'bo@mail.routed.example']);
      expect(fallback.messages.flatMap((m) => m.rcptTo)).toEqual(['cy@other.example']);
      expect(byServer.messages).toEqual([]);

      // The second server's mail, whatever the domain, goes through its own host (its route comes first).
      const routed = await send(second.id, secondKey.key, ['eve@routed.example', 'fay@other.example']);
      expect(Object.values(routed).map(([s]) => s)).toEqual(['delivered', 'delivered']);
      expect(byServer.messages.flatMap((m) => m.rcptTo).sort()).toEqual(['eve@routed.example', 'fay@other.example']);
      expect(byDomain.messages).toHaveLength(2);
      expect(fallback.messages).toHaveLength(1);
    } finally {
      await delivery.stop();
      await t.close();
      await Promise.all([byDomain.close(), byServer.close(), fallback.close()]);
    }
  });
});
