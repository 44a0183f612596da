import { describe, expect, it } from 'vitest';
import { hashPassword, MIN_PASSWORD_LENGTH, passwordProblem, verifyPassword } from '../../src/accept/passwords.js';
import { cookieValue } from '../../src/accept/sessions.js';

describe('panel passwords (scrypt)', () => {
  it('stores scrypt$N$r$p$salt$hash with a fresh 16-byte salt each time, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(a)!;
    expect(m).not.toBeNull();
    expect(Buffer.from(m[4]!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(m[5]!, 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('refuses malformed or tampered hashes without throwing', async () => {
    const h = await hashPassword('correct horse battery');
    for (const bad of ['', 'plain', h.replace(/^scrypt/, 'bcrypt'), h.split('$').slice(0, 5).join('$'), h.replace(/\$\d+\$/, '$0$'), `${h.slice(0, -4)}AAAA`]) {
      expect(await verifyPassword('correct horse battery', bad), bad).toBe(false);
    }
  });

  it(`needs at least ${MIN_PASSWORD_LENGTH} characters, counted as people count them`, () => {
    expect(passwordProblem('x'.repeat(MIN_PASSWORD_LENGTH - 1))).toMatch(/at least 12 characters/);
    expect(passwordProblem('x'.repeat(MIN_PASSWORD_LENGTH))).toBeNull();
    expect(passwordProblem('🔑'.repeat(11))).toMatch(/at least 12/); // 22 UTF-16 units, 11 characters
    expect(passwordProblem('x'.repeat(2000))).toMatch(/at most/);
  });

  it('reads one cookie out of a Cookie header', () => {
    expect(cookieValue('a=1; postline_session=tok; b=2', 'postline_session')).toBe('tok');
    expect(cookieValue('postline_session_x=1', 'postline_session')).toBeNull();
    expect(cookieValue(undefined, 'postline_session')).toBeNull();
    expect(cookieValue('postline_session=', 'postline_session')).toBeNull();
  });
});
