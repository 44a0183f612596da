import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Store } from '../../src/store/store.js';
import { loadVerpKeyring, rotateVerpKey, VERP_KEYS_SETTING } from '../../src/bounce/verp-keys.js';
import { verpTag } from '../../src/core/verp.js';

const ID = '01M7W2Y7M07PX5VPA00K793S0K';

/** The installation's VERP keys in the store's settings: one key for every process, created once. */
describe(`VERP keys in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let stores: Store[];

  beforeAll(async () => {
    db = await createTestDb();
    // Four connections to one database, as four processes sharing it.
    stores = [];
    for (let i = 0; i < 4; i++) stores.push(await db.open());
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.drop();
  });

  it('processes starting together all end up with the one key that was written first', async () => {
    expect(await stores[0]!.settings.get(VERP_KEYS_SETTING)).toBeUndefined();
    const rings = await Promise.all(stores.flatMap((s) => [loadVerpKeyring(s), loadVerpKeyring(s)]));
    const tags = new Set(rings.map((r) => r.tag(ID)));
    expect(tags.size).toBe(1);
    const stored = JSON.parse((await stores[0]!.settings.get(VERP_KEYS_SETTING))!) as string[];
    expect(stored).toHaveLength(1);
    expect(Buffer.from(stored[0]!, 'base64url')).toHaveLength(32);
    expect(verpTag(Buffer.from(stored[0]!, 'base64url'), ID)).toBe([...tags][0]);
    // Loading again reads the same key.
    expect((await loadVerpKeyring(stores[3]!)).tag(ID)).toBe([...tags][0]);
  });

  it('a rotation signs with a new key and still verifies the previous one; the one before is dropped', async () => {
    const first = await loadVerpKeyring(stores[0]!);
    const firstTag = first.tag(ID);
    await rotateVerpKey(stores[1]!);
    const second = await loadVerpKeyring(stores[2]!);
    expect(second.tag(ID)).not.toBe(firstTag);
    expect(second.verify(ID, firstTag)).toBe(true);
    await rotateVerpKey(stores[1]!);
    const third = await loadVerpKeyring(stores[3]!);
    expect(third.verify(ID, second.tag(ID))).toBe(true);
    expect(third.verify(ID, firstTag)).toBe(false);
    expect(JSON.parse((await stores[0]!.settings.get(VERP_KEYS_SETTING))!)).toHaveLength(2);
  });

  it('refuses a setting that is not a list of keys, and writes nothing over it', async () => {
    for (const bad of ['not json', '[]', '{"a":1}', '[1]']) {
      await stores[0]!.settings.set(VERP_KEYS_SETTING, bad);
      await expect(loadVerpKeyring(stores[1]!)).rejects.toThrow(`the ${VERP_KEYS_SETTING} setting is not a list of keys`);
      expect(await stores[0]!.settings.get(VERP_KEYS_SETTING)).toBe(bad);
    }
  });
});
