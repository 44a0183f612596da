import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MtaStsPolicies, mxAllowed, parseStsPolicy, parseStsRecord } from '../../src/delivery/mta-sts.js';
import type { TlsSessionResult } from '../../src/delivery/tls-report/session-result.js';
import { createLocalCa, type LocalCa } from '../helpers/local-ca.js';

const POLICY = 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmx: *.backup.example.test\nmax_age: 3600\n';

describe('MTA-STS records and policies (RFC 8461 §3)', () => {
  it('reads the one v=STSv1 TXT record and its id; anything else announces no policy', () => {
    expect(parseStsRecord(['v=STSv1; id=20261206T01;'])).toEqual({ id: '20261206T01' });
    expect(parseStsRecord(['v=spf1 -all', 'v=STSv1;id=abc'])).toEqual({ id: 'abc' });
    expect(parseStsRecord([])).toBeNull();
    expect(parseStsRecord(['v=STSv1; id=1', 'v=STSv1; id=2'])).toBeNull(); // two records: none
    expect(parseStsRecord(['v=STSv1;'])).toBeNull(); // no id
    expect(parseStsRecord(['v=STSv1; id=has-dash'])).toBeNull();
    expect(parseStsRecord(['v=STSv1; id=123456789012345678901234567890123'])).toBeNull(); // 33 characters
    expect(parseStsRecord(['id=1; v=STSv1'])).toBeNull(); // v= must come first
  });

  it('parses a policy, CRLF or LF, ignoring unknown keys', () => {
    expect(parseStsPolicy(POLICY.replace(/\n/g, '\r\n') + 'extension: yes\r\n')).toEqual({
      mode: 'enforce',
      mx: ['mx1.example.test', '*.backup.example.test'],
      maxAgeSec: 3600,
      lines: ['version: STSv1', 'mode: enforce', 'mx: mx1.example.test', 'mx: *.backup.example.test', 'max_age: 3600', 'extension: yes'],
    });
    expect(parseStsPolicy('version: STSv1\nmode: none\nmax_age: 0\n')).toMatchObject({ mode: 'none', mx: [] });
  });

  it('refuses a policy that is not one, with the reason', () => {
    expect(() => parseStsPolicy(POLICY.replace('version: STSv1', 'version: STSv2'))).toThrow(/version must be STSv1/);
    expect(() => parseStsPolicy(POLICY.replace('mode: enforce', 'mode: strict'))).toThrow(/mode must be/);
    expect(() => parseStsPolicy(POLICY.replace('max_age: 3600', 'max_age: 31557601'))).toThrow(/max_age/);
    expect(() => parseStsPolicy(POLICY.replace('max_age: 3600', 'max_age: -1'))).toThrow(/max_age/);
    expect(() => parseStsPolicy('version: STSv1\nmode: enforce\nmax_age: 60\n')).toThrow(/at least one mx/);
    expect(() => parseStsPolicy(POLICY.replace('mx: mx1.example.test', 'mx: mx1.*.test'))).toThrow(/not a host name/);
    expect(() => parseStsPolicy('<html>not a policy</html>')).toThrow(/version/);
  });

  it('matches MX hosts: exact names, and "*." for exactly one leftmost label', () => {
    const p = ['mx1.example.test', '*.backup.example.test'];
    expect(mxAllowed('MX1.example.test.', p)).toBe(true);
    expect(mxAllowed('a.backup.example.test', p)).toBe(true);
    expect(mxAllowed('backup.example.test', p)).toBe(false);
    expect(mxAllowed('a.b.backup.example.test', p)).toBe(false);
    expect(mxAllowed('mx2.example.test', p)).toBe(false);
    expect(mxAllowed('evilbackup.example.test', p)).toBe(false);
  });
});

describe('MTA-STS policy cache (RFC 8461 §5)', () => {
  let ca: LocalCa;
  let server: Server;
  let port: number;
  const served = { status: 200, type: 'text/plain', body: POLICY };
  let fetches = 0;
  let txt: string[] | Error = ['v=STSv1; id=one'];

  beforeAll(async () => {
    ca = createLocalCa();
    server = createHttpsServer(ca.issue(['mta-sts.example.test']), (_req, res) => {
      fetches++;
      res.writeHead(served.status, { 'content-type': served.type }).end(served.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const lookup = ((_h: string, o: { all?: boolean }, cb: (e: null, a: unknown, f?: number) => void) =>
    o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never;

  it('fetches once per id, keeps the policy through a missing record and a failed refetch, and forgets it after max_age', async () => {
    let now = 1_000_000;
    let txtQueries = 0;
    const reports: TlsSessionResult[] = [];
    const policies = new MtaStsPolicies({
      dns: {
        resolveTxt: async () => {
          txtQueries++;
          if (txt instanceof Error) throw txt;
          return txt.map((t) => [t]);
        },
      },
      lookup,
      extraCa: ca.caPem,
      port,
      now: () => now,
      report: { record: (r) => reports.push(r) },
    });
    fetches = 0;
    expect(await policies.policyFor('example.test')).toMatchObject({ kind: 'policy', id: 'one', policy: { mode: 'enforce' } });
    expect(await policies.policyFor('EXAMPLE.test')).toMatchObject({ kind: 'policy', id: 'one' });
    expect([fetches, txtQueries]).toEqual([1, 1]);

    now += 6 * 60_000; // the record is asked again; same id: no fetch
    expect(await policies.policyFor('example.test')).toMatchObject({ kind: 'policy' });
    expect([fetches, txtQueries]).toEqual([1, 2]);

    now += 6 * 60_000; // the record is gone (or blocked): the cached policy still holds
    txt = Object.assign(new Error('ENODATA'), { code: 'ENODATA' });
    expect(await policies.policyFor('example.test')).toMatchObject({ kind: 'policy', id: 'one' });

    now += 6 * 60_000; // a new id, but its policy cannot be fetched: the old one holds, the failure is reported
    txt = ['v=STSv1; id=two'];
    served.status = 500;
    expect(await policies.policyFor('example.test')).toMatchObject({ kind: 'policy', id: 'one' });
    expect(reports).toEqual([expect.objectContaining({ policyDomain: 'example.test', policyType: 'sts', result: 'sts-policy-fetch-error' })]);

    now += 3_600_000; // past max_age, still nothing to fetch: no policy
    expect(await policies.policyFor('example.test')).toMatchObject({ kind: 'failed', result: 'sts-policy-fetch-error' });

    now += 6 * 60_000; // fetchable again: the new policy
    served.status = 200;
    served.body = POLICY.replace('mode: enforce', 'mode: testing');
    expect(await policies.policyFor('example.test')).toMatchObject({ kind: 'policy', id: 'two', policy: { mode: 'testing' } });
    served.body = POLICY;
    txt = ['v=STSv1; id=one'];
  });

  it('tells apart a policy that is not text/plain or too large (invalid) from a host whose certificate does not verify (webpki)', async () => {
    const make = (extraCa: string | null) => new MtaStsPolicies({ dns: { resolveTxt: async () => [['v=STSv1; id=x']] }, lookup, extraCa, port, now: () => 0 });
    served.type = 'text/html';
    expect(await make(ca.caPem).policyFor('example.test')).toMatchObject({ kind: 'failed', result: 'sts-policy-invalid', detail: /not text\/plain/ });
    served.type = 'text/plain';
    served.body = `${POLICY}${'x'.repeat(70 * 1024)}`;
    expect(await make(ca.caPem).policyFor('example.test')).toMatchObject({ kind: 'failed', result: 'sts-policy-invalid', detail: /larger than/ });
    served.body = POLICY;
    expect(await make(null).policyFor('example.test')).toMatchObject({ kind: 'failed', result: 'sts-webpki-invalid' });
  });
});
