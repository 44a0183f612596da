import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { CONFIG_SCHEMA } from '../../src/config/schema.js';

describe('configuration', () => {
  it('has defaults for the embedded start: SQLite under ./data, HTTP on 8080', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ dataDir: './data', databaseUrl: null, httpPort: 8080, logLevel: 'info' });
    expect(Object.isFrozen(c)).toBe(true);
  });
  it('reads every key from its environment variable', () => {
    const c = loadConfig({
      POSTLINE_HTTP_PORT: '9090',
      POSTLINE_DATABASE_URL: 'postgres://u@h/db',
      POSTLINE_PUBLIC_URL: 'https://mail.example.com/',
      POSTLINE_HOSTNAME: 'mx.example.com',
      POSTLINE_LOG_LEVEL: 'debug',
      POSTLINE_DATA_DIR: '/var/lib/postline',
      POSTLINE_TRUST_PROXY: 'yes',
    });
    expect(c).toMatchObject({
      httpPort: 9090,
      databaseUrl: 'postgres://u@h/db',
      publicUrl: 'https://mail.example.com',
      hostname: 'mx.example.com',
      logLevel: 'debug',
      dataDir: '/var/lib/postline',
      trustProxy: true,
    });
  });
  it.each([
    ['POSTLINE_HTTP_PORT', '65536'],
    ['POSTLINE_HTTP_PORT', '80.5'],
    ['POSTLINE_HTTP_PORT', 'http'],
    ['POSTLINE_LOG_LEVEL', 'verbose'],
    ['POSTLINE_PUBLIC_URL', 'mail.example.com'],
    ['POSTLINE_DATABASE_URL', 'sqlite:x.db'],
    ['POSTLINE_DATABASE_POOL_SIZE', '0'],
    ['POSTLINE_TRUST_PROXY', 'maybe'],
  ])('refuses %s=%s, naming both', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(`${key}=${JSON.stringify(value)}`);
  });
  it('library patches are on by default, off on request, and any other value stops start-up naming the key', () => {
    expect(loadConfig({}).libraryPatches).toBe('on');
    expect(loadConfig({ POSTLINE_LIBRARY_PATCHES: 'off' }).libraryPatches).toBe('off');
    expect(() => loadConfig({ POSTLINE_LIBRARY_PATCHES: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ POSTLINE_LIBRARY_PATCHES: 'maybe' })).toThrow(/POSTLINE_LIBRARY_PATCHES="maybe": expected one of on, off/);
  });
  it('declares every key once, with a doc line and an env name', () => {
    const envs = CONFIG_SCHEMA.map((k) => k.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const k of CONFIG_SCHEMA) {
      expect(k.env).toMatch(/^POSTLINE_[A-Z_]+$/);
      expect(k.doc.length).toBeGreaterThan(10);
    }
  });
});
