import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { SigningPool } from '../../src/compose/signing-pool.js';
import { dnsRecordsFor, generateDkimKey } from '../../src/compose/dkim.js';

// The thread runs the built worker (npm test builds dist/ first), as production does.
const WORKER = join(import.meta.dirname, '../../dist/compose/signing-worker.js');

describe('DKIM signing threads', () => {
  const pool = new SigningPool(WORKER, 2);
  afterAll(() => pool.close());
  const keys = [generateDkimKey('pool.example', 's1'), generateDkimKey('pool.example', 's1e', 'ed25519-sha256')];
  const records = dnsRecordsFor(keys, { hostname: 'mta.example' });
  const resolver = async (name: string, rrtype: string): Promise<string[][]> => {
    const hits = records.filter((r) => r.type === rrtype && r.name === name.toLowerCase());
    if (hits.length === 0) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return hits.map((r) => r.chunks ?? [r.value]);
  };
  const message = (i: number) =>
    Buffer.from(`From: a@pool.example\r\nTo: b@example.net\r\nSubject: n${i}\r\nMessage-ID: <${i}@pool.example>\r\n\r\nBody ${i}\r\n`);

  it('signs many messages concurrently; every signature verifies against its own message', async () => {
    const signed = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.sign(message(i), keys)));
    for (const [i, s] of signed.entries()) {
      expect(s.toString()).toContain(`Subject: n${i}`);
      const res = await dkimVerify(s, { resolver });
      expect(res.results.map((r) => r.status.result)).toEqual(['pass', 'pass']);
    }
  });

  it('fails a job cleanly when signing throws, and keeps working', async () => {
    await expect(pool.sign(Buffer.from('Subject: no from\r\n\r\nx\r\n'), keys)).rejects.toThrow(/From/);
    const ok = await pool.sign(message(99), keys);
    expect((await dkimVerify(ok, { resolver })).results[0]!.status.result).toBe('pass');
  });
});
