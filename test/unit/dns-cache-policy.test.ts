import { describe, expect, it } from 'vitest';
import {
  ANSWER_DEFAULT_MS,
  ANSWER_TTL_MAX_MS,
  ANSWER_TTL_MIN_MS,
  FAILURE_TTL_MS,
  NEGATIVE_TTL_MAX_MS,
  NEGATIVE_TTL_MIN_MS,
  cacheLifetimeMs,
} from '../../src/dns/cache-policy.js';
import { MxResolver, type MxDns } from '../../src/delivery/mx.js';
import type { MxAnswer } from '../../src/delivery/mx-query.js';
import { FailingDomains } from '../../src/delivery/failing-domains.js';
import { Pacer } from '../../src/delivery/rate-limiter.js';

describe('DNS cache lifetimes (pure)', () => {
  it('keeps answers for their TTL within 10 s .. 24 h, 5 min without a TTL', () => {
    expect(cacheLifetimeMs({ kind: 'answer', ttlSec: 300 })).toBe(300_000);
    expect(cacheLifetimeMs({ kind: 'answer', ttlSec: 0 })).toBe(10_000);
    expect(cacheLifetimeMs({ kind: 'answer', ttlSec: 7 * 86_400 })).toBe(86_400_000);
    expect(cacheLifetimeMs({ kind: 'answer', ttlSec: null })).toBe(300_000);
    expect([ANSWER_TTL_MIN_MS, ANSWER_TTL_MAX_MS, ANSWER_DEFAULT_MS]).toEqual([10_000, 86_400_000, 300_000]);
  });

  it('keeps NXDOMAIN/NODATA for the negative TTL (RFC 2308) within 30 s .. 1 h, 30 s without an SOA', () => {
    expect(cacheLifetimeMs({ kind: 'negative', ttlSec: 600 })).toBe(600_000);
    expect(cacheLifetimeMs({ kind: 'negative', ttlSec: 1 })).toBe(30_000);
    expect(cacheLifetimeMs({ kind: 'negative', ttlSec: 86_400 })).toBe(3_600_000);
    expect(cacheLifetimeMs({ kind: 'negative', ttlSec: null })).toBe(30_000);
    expect([NEGATIVE_TTL_MIN_MS, NEGATIVE_TTL_MAX_MS]).toEqual([30_000, 3_600_000]);
  });

  it('keeps a resolver failure 30 s', () => {
    expect(cacheLifetimeMs({ kind: 'failure' })).toBe(30_000);
    expect(FAILURE_TTL_MS).toBe(30_000);
  });
});

/** A DNS stub that counts lookups and answers what the test says, when the test says. */
function scriptedDns() {
  const calls: string[] = [];
  let answer: () => Promise<MxAnswer> = () => Promise.reject(Object.assign(new Error('refused'), { code: 'EREFUSED' }));
  const dns: MxDns = {
    resolveMx: () => {
      throw new Error('not used');
    },
    resolveMxWithTtl: (d) => {
      calls.push(`MX ${d}`);
      return answer();
    },
    resolve4: (d) => {
      calls.push(`A ${d}`);
      return Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    },
    resolve6: (d) => {
      calls.push(`AAAA ${d}`);
      return Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    },
  };
  return {
    dns,
    calls,
    answer: (f: () => Promise<MxAnswer>) => {
      answer = f;
    },
  };
}

describe('MxResolver caching', () => {
  it('concurrent resolutions of one domain share one lookup, and a failure is kept 30 s', async () => {
    const s = scriptedDns();
    let now = 1_000_000;
    const r = new MxResolver(s.dns, 25, null, () => now);
    const got = await Promise.all(Array.from({ length: 50 }, () => r.resolve('down.test')));
    expect(s.calls).toEqual(['MX down.test']);
    expect(new Set(got.map((d) => JSON.stringify(d)))).toEqual(
      new Set([JSON.stringify({ kind: 'dns_error', reason: 'MX lookup for down.test failed: EREFUSED' })]),
    );
    now += 29_999;
    expect((await r.resolve('DOWN.test')).kind).toBe('dns_error');
    expect(s.calls).toHaveLength(1);
    now += 1;
    s.answer(async () => ({ kind: 'records', records: [{ exchange: 'mx.down.test.', priority: 10 }], ttlSec: 120 }));
    expect(await r.resolve('down.test')).toEqual({ kind: 'hosts', hosts: [{ host: 'mx.down.test', port: 25 }] });
    expect(s.calls).toEqual(['MX down.test', 'MX down.test']);
    expect(r.lookups).toBe(2);
  });

  it('keeps NXDOMAIN for the SOA negative TTL within its bounds', async () => {
    const s = scriptedDns();
    let now = 0;
    const r = new MxResolver(s.dns, 25, null, () => now);
    s.answer(async () => ({ kind: 'none', code: 'ENOTFOUND', ttlSec: 5 }));
    expect(await r.resolve('gone.test')).toMatchObject({ kind: 'undeliverable', definitive: false });
    const first = s.calls.length; // MX, then the implicit MX's A and AAAA
    now = 29_999;
    await r.resolve('gone.test');
    expect(s.calls.length).toBe(first);
    now = 30_000; // 5 s asked, 30 s kept
    s.answer(async () => ({ kind: 'none', code: 'ENOTFOUND', ttlSec: 86_400 }));
    await r.resolve('gone.test');
    expect(s.calls.length).toBe(2 * first);
    now = 30_000 + 3_599_999;
    await r.resolve('gone.test');
    expect(s.calls.length).toBe(2 * first);
    now = 30_000 + 3_600_000; // a day asked, an hour kept
    await r.resolve('gone.test');
    expect(s.calls.length).toBe(3 * first);
  });
});

describe('FailingDomains', () => {
  const dnsFailure = { permanent: false, failureCode: 4999, enhancedStatus: null, explanation: 'x', ruleId: null };
  it('keeps a domain failing until its time, with one jitter, case-insensitively; a current mark is not moved', () => {
    const f = new FailingDomains(() => 0.25);
    const a = f.fail('Down.test', 100, 30_100, 'refused', dnsFailure);
    expect(a).toEqual({ since: 100, until: 30_100, reason: 'refused', classification: dnsFailure, jitter: 0.25 });
    expect(f.fail('down.test', 5_000, 35_000, 'again', dnsFailure)).toBe(a);
    expect(f.check('DOWN.TEST', 30_099)).toBe(a);
    expect(f.check('down.test', 30_100)).toBeNull();
    expect(f.size).toBe(0);
    expect(f.check('other.test', 0)).toBeNull();
  });
});

describe("Pacer (failing domains' deferrals)", () => {
  it("gives callers slots 1000/rate ms apart in arrival order, after a burst of one second's worth", () => {
    let now = 10_000;
    const p = new Pacer(4, () => now); // 250 ms apart
    // Idle before: a second's worth (4) goes at once, then one every 250 ms.
    expect(Array.from({ length: 7 }, () => p.reserve())).toEqual([0, 0, 0, 0, 250, 500, 750]);
    now += 500; // time passes: the queue moved on, no new burst while slots are reserved ahead
    expect(p.reserve()).toBe(500);
    now += 5_000; // idle again: the burst is back, never more than a second's worth
    expect(Array.from({ length: 6 }, () => p.reserve())).toEqual([0, 0, 0, 0, 250, 500]);
  });

  it('refuses a rate that is not positive and finite', () => {
    expect(() => new Pacer(0)).toThrow(/positive, finite/);
    expect(() => new Pacer(Number.NaN)).toThrow(/positive, finite/);
  });
});
