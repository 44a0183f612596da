import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/process.js';
import { createTestDb, TEST_STORE_KIND } from '../helpers/stores.js';
import { reportAboutRecipient } from '../helpers/verp.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/reports');
const RECIPIENT_KEYS = ['action', 'address', 'diagnosticCode', 'explanation', 'failureCode', 'permanent', 'status'];

describe('postline dsn parse (operator contract)', () => {
  it('--json prints the report with the agreed keys and the exact recipient shape', async () => {
    const r = await cli(['dsn', 'parse', join(FIXTURES, 'two-recipients.eml'), '--json'], {});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['complaint', 'isBounce', 'isComplaint', 'kind', 'recipientId', 'recipients', 'trace']);
    expect(out).toMatchObject({ isBounce: true, isComplaint: false, kind: 'bounce', recipientId: '01M7X8SCJ543XRHE90NH4ZJAVC', complaint: null });
    // Without --verify no keys are read: the trace is not checked, and the fixture's ids carry no tag.
    expect(out.trace).toEqual({ verified: null, via: 'message-id', tagged: false, reason: null });
    for (const recipient of out.recipients) expect(Object.keys(recipient).sort()).toEqual(RECIPIENT_KEYS);
    expect(out.recipients).toEqual([
      {
        address: 'ravi.menon@example.org',
        status: '5.1.1',
        action: 'failed',
        diagnosticCode: 'smtp; 550 5.1.1 <ravi.menon@example.org>: Recipient address rejected: User unknown in local recipient table',
        permanent: true,
        failureCode: 2001,
        explanation: "The recipient's mailbox does not exist.",
      },
      {
        address: 'ravi@old-startup.example',
        status: '5.4.4',
        action: 'failed',
        diagnosticCode: 'X-Postfix; Host or domain name not found. Name service error for name=old-startup.example type=MX: Host not found',
        permanent: true,
        failureCode: 2002,
        explanation: 'The recipient domain does not exist.',
      },
    ]);
  });

  it('--json answers isBounce false for an auto-reply, and carries the feedback fields of a complaint', async () => {
    const ooo = JSON.parse((await cli(['dsn', 'parse', join(FIXTURES, 'auto-reply-vacation-sieve.eml'), '--json'], {})).stdout);
    expect(ooo).toMatchObject({ isBounce: false, isComplaint: false, kind: 'auto-reply', recipients: [] });
    const arf = JSON.parse((await cli(['dsn', 'parse', join(FIXTURES, 'arf-yahoo.eml'), '--json'], {})).stdout);
    expect(arf).toMatchObject({ isBounce: false, isComplaint: true, recipientId: '01M7YW75AYBNQE9AABFWQWS6ND' });
    expect(arf.complaint).toMatchObject({ feedbackType: 'abuse', originalRcptTo: ['morgan.ellis@yahoo.com'] });
  });

  it('--rcpt-to gives the envelope a saved file does not record', async () => {
    const file = join(FIXTURES, 'amazon-ses.eml');
    expect(JSON.parse((await cli(['dsn', 'parse', file, '--json'], {})).stdout).recipientId).toBeNull();
    const traced = await cli(['dsn', 'parse', file, '--rcpt-to', 'b+01m7wyf2frddyn4xh2q6171k9a@bounces.harbor-outfitters.example', '--json'], {});
    expect(JSON.parse(traced.stdout).recipientId).toBe('01M7WYF2FRDDYN4XH2Q6171K9A');
  });

  it('prints a short table without --json', async () => {
    const r = await cli(['dsn', 'parse', join(FIXTURES, 'postfix-4.4.1-delayed.eml')], {});
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('kind: delay, bounce: yes, complaint: no, recipient id: 01M7W6CAZF33ZGCFNEFHWNRRX0');
    expect(lines[1]).toBe("trace: not checked, no tag (message-id) (--verify checks it with this installation's keys)");
    expect(lines[2]).toMatch(/^address\s+action\s+status\s+permanent\s+failureCode\s+explanation$/);
    expect(lines[3]).toMatch(/^sam\.okafor@example\.net\s+delayed\s+4\.4\.1\s+no\s+4003\s+Could not connect/);
    expect(lines).toHaveLength(4);
  });

  it('needs no configuration: a broken POSTLINE_* setting does not stop it', async () => {
    const r = await cli(['dsn', 'parse', join(FIXTURES, 'postfix-5.1.1-user-unknown.eml'), '--json'], { POSTLINE_HTTP_PORT: '99999' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).isBounce).toBe(true);
  });

  it('refuses a missing file with a clear message on stderr and a non-zero exit', async () => {
    const missing = join(FIXTURES, 'no-such-report.eml');
    const r = await cli(['dsn', 'parse', missing, '--json'], {});
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`postline: cannot read ${missing}: ENOENT: no such file or directory\n`);
  });

  it('refuses a directory and a missing FILE argument', async () => {
    const dir = await cli(['dsn', 'parse', FIXTURES], {});
    expect(dir.status).not.toBe(0);
    expect(dir.stderr).toBe(`postline: cannot read ${FIXTURES}: EISDIR: illegal operation on a directory, read\n`);
    const usage = await cli(['dsn', 'parse'], {});
    expect(usage.status).not.toBe(0);
    expect(usage.stderr).toContain('usage: postline dsn parse FILE');
  });

  it(`--verify checks the trace with the installation's keys (${TEST_STORE_KIND})`, async () => {
    const db = await createTestDb();
    try {
      const env = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined, POSTLINE_HOSTNAME: 'postline.test' };
      const store = await db.open();
      const id = '01M7W2Y7M07PX5VPA00K793S0K';
      // The fixture as Postline would get it back for this installation: the tagged id of its recipient.
      const genuine = await reportAboutRecipient(store, 'postfix-5.1.1-user-unknown.eml', { id, address: 'jordan.reyes@example.org' });
      await store.close();
      const file = join(db.dataDir, 'genuine.eml');
      writeFileSync(file, genuine);
      const forged = join(db.dataDir, 'forged.eml');
      // The same report with another tag: what a recipient guessing a neighbour's tag would send.
      writeFileSync(forged, genuine.replace(/(01m7w2y7m07px5vpa00k793s0k-)[0-9a-z]{13}/g, '$10123456789abc'));
      const untagged = join(import.meta.dirname, '../fixtures/reports/postfix-5.1.1-user-unknown.eml');

      const ok = await cli(['dsn', 'parse', file, '--verify', '--json'], env);
      expect(ok.stderr).toBe('');
      expect(JSON.parse(ok.stdout)).toMatchObject({ recipientId: id, trace: { verified: true, via: 'message-id', tagged: true, reason: null } });
      const viaEnvelope = await cli(
        ['dsn', 'parse', untagged, '--verify', '--json', '--rcpt-to', `b+${genuine.match(/01m7w2y7m07px5vpa00k793s0k-[0-9a-z]{13}/)![0]}@bounces.example`],
        env,
      );
      expect(JSON.parse(viaEnvelope.stdout).trace).toEqual({ verified: true, via: 'rcpt-to', tagged: true, reason: null });
      expect(JSON.parse((await cli(['dsn', 'parse', forged, '--verify', '--json'], env)).stdout).trace).toEqual({
        verified: false,
        via: 'message-id',
        tagged: true,
        reason: 'bad-tag',
      });
      expect(JSON.parse((await cli(['dsn', 'parse', untagged, '--verify', '--json'], env)).stdout).trace).toEqual({
        verified: false,
        via: 'message-id',
        tagged: false,
        reason: 'untagged',
      });
      const human = await cli(['dsn', 'parse', forged, '--verify'], env);
      expect(human.stdout.split('\n')[1]).toBe('trace: NOT verified: bad-tag (message-id)');
      expect((await cli(['dsn', 'parse', file, '--verify'], env)).stdout.split('\n')[1]).toBe('trace: verified (message-id)');
    } finally {
      await db.drop();
    }
  });
});
