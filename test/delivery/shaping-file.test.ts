import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startApp } from '../../src/app.js';
import { createLogger } from '../../src/core/log.js';
import { ShapingFileError } from '../../src/delivery/shaping/shaping-file.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { v2 } from '../helpers/api-v2.js';
import { createTestDb, TEST_STORE_KIND } from '../helpers/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'postline-shaping-reload-'));

interface ShapingWire {
  enabled: boolean;
  file: string | null;
  loadedAt: string | null;
  reloadError: { at: string; message: string } | null;
  default: { connections: number; perSecond: number | null } | null;
  providers: { name: string; mx: string[]; limits: { connections: number; perSecond: number | null } }[];
  domains: { domain: string; limits: Record<string, number> }[];
}
const shaping = async (t: TestApp) => {
  const r = await v2<{ data: ShapingWire }>(t, 'GET', '/delivery/shaping', { key: t.credentials.accountKey });
  expect(r.status, r.text).toBe(200);
  return r.body.data;
};
async function until<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe(`the operator's shaping file at start (${TEST_STORE_KIND})`, () => {
  it('refuses to start the delivery role on a broken or missing file, naming the file and the problem', async () => {
    const db = await createTestDb();
    const store = await db.open();
    try {
      const start = (shapingFile: string) =>
        startApp(
          {
            config: loadConfig(
              {},
              { dataDir: db.dataDir, databaseUrl: db.databaseUrl, httpHost: '127.0.0.1', httpPort: 0, hostname: 'postline.test', shapingFile },
            ),
            log: createLogger('silent'),
            store,
            now: Date.now,
          },
          ['delivery'],
        );
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"providers": [{"name": "google", "perSecond": 0}]}');
      await expect(start(broken)).rejects.toThrow(ShapingFileError);
      await expect(start(broken)).rejects.toThrow(
        `POSTLINE_SHAPING_FILE: ${broken}: providers[0] ("google").perSecond must be a number more than 0 and at most 1000000 or null`,
      );
      writeFileSync(broken, '{"providers": [');
      await expect(start(broken)).rejects.toThrow(new RegExp(`^POSTLINE_SHAPING_FILE: ${broken.replace(/[.]/g, '\\.')}: not JSON`));
      await expect(start(join(dir, 'absent.json'))).rejects.toThrow(/^POSTLINE_SHAPING_FILE: .*absent\.json: cannot read: ENOENT/);
      // The roles that do not deliver do not read it.
      const api = await startApp(
        {
          config: loadConfig(
            {},
            { dataDir: db.dataDir, databaseUrl: db.databaseUrl, httpHost: '127.0.0.1', httpPort: 0, hostname: 'postline.test', shapingFile: broken },
          ),
          log: createLogger('silent'),
          store,
          now: Date.now,
        },
        ['api'],
      );
      await api.stop();
    } finally {
      await store.close();
      await db.drop();
    }
  });

  it('says shaping is off where it does not apply: POSTLINE_SHAPING=off, a relay host, no delivery role', async () => {
    const cases = [
      { roles: ['api', 'delivery'] as const, config: { shaping: 'off' as const } },
      { roles: ['api', 'delivery'] as const, config: { relayHost: '127.0.0.1:2525' } },
      { roles: ['api'] as const, config: {} },
    ];
    for (const { roles, config } of cases) {
      const t = await startTestApp({ roles: [...roles], config });
      try {
        expect(await shaping(t)).toEqual({
          enabled: false,
          file: null,
          loadedAt: null,
          reloadError: null,
          default: null,
          providers: [],
          destinations: [],
          domains: [],
          slowDown: null,
          patterns: [],
        });
        expect(t.app.shaping).toBeNull();
      } finally {
        await t.close();
      }
    }
  });
});

describe(`the operator's shaping file is re-read when it changes (${TEST_STORE_KIND})`, () => {
  const file = join(dir, 'operator.json');
  let t: TestApp;

  beforeAll(async () => {
    writeFileSync(file, JSON.stringify({ providers: [{ name: 'ours', mx: ['mx.ours.example'], connections: 1, perSecond: 2 }] }));
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { shapingFile: file, perDestinationConcurrency: 4, perDestinationRate: 9 },
      delivery: { shapingPollMs: 20 },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('starts with the operator file merged over the shipped one, the default block from POSTLINE_PER_DESTINATION_*', async () => {
    const s = await shaping(t);
    expect(s).toMatchObject({ enabled: true, file, reloadError: null, default: { connections: 4, perSecond: 9 } });
    expect(s.providers[0]).toMatchObject({ name: 'ours', mx: ['mx.ours.example'], limits: { connections: 1, perSecond: 2 } });
    expect(s.providers.map((p) => p.name)).toContain('google');
  });

  it('applies a changed file without a restart', async () => {
    writeFileSync(
      file,
      JSON.stringify({ providers: [{ name: 'ours', mx: ['mx.ours.example'], connections: 3 }], domains: { 'slow.example': { perHour: 10 } } }),
    );
    const s = await until(
      'the reload',
      () => shaping(t),
      (v) => v.providers[0]!.limits.connections === 3,
    );
    expect(s.domains).toEqual([{ domain: 'slow.example', limits: { perHour: 10 }, sending: 0, sentLastHour: 0 }]);
    expect(s.reloadError).toBeNull();
  });

  it('keeps the last good version when an edit is broken, says why, and takes the next good one', async () => {
    writeFileSync(file, '{"providers": [{"name": "ours", "mx": ["mx.ours.example"], "connections": 0}]}');
    let s = await until(
      'the failed reload',
      () => shaping(t),
      (v) => v.reloadError !== null,
    );
    expect(s.reloadError!.message).toBe(`POSTLINE_SHAPING_FILE: ${file}: providers[0] ("ours").connections must be a whole number from 1 to 1000`);
    expect(s.providers[0]!.limits.connections).toBe(3);
    expect(s.domains).toHaveLength(1);

    // Gone for a moment (an editor's rename), then back by rename with a good version.
    rmSync(file);
    s = await until(
      'the missing file',
      () => shaping(t),
      (v) => v.reloadError?.message.includes('cannot read') === true,
    );
    expect(s.reloadError!.message).toBe(`cannot read ${file}: ENOENT`);
    expect(s.providers[0]!.limits.connections).toBe(3);
    const next = join(dir, 'operator.json.tmp');
    writeFileSync(next, JSON.stringify({ providers: [{ name: 'ours', mx: ['mx.ours.example'], connections: 5 }] }));
    renameSync(next, file);
    s = await until(
      'the good version',
      () => shaping(t),
      (v) => v.providers[0]!.limits.connections === 5,
    );
    expect(s.reloadError).toBeNull();
    expect(s.domains).toEqual([]);
  });
});
