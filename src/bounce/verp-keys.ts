/**
 * The installation's VERP keys (core/verp.ts), kept in the store's settings so every process
 * sharing the store tags and verifies alike. Created on first use: two processes starting together
 * both offer a key, settings.setIfAbsent keeps the first written, and both then read that one.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import { VerpKeyring } from '../core/verp.js';

/** The settings row: a JSON list of base64url keys, newest first (the first signs; all verify). */
export const VERP_KEYS_SETTING = 'verp.keys';
/** Keys a rotation keeps: the new one and the one mail still in flight was tagged with. */
export const VERP_KEYS_KEPT = 2;

export async function loadVerpKeyring(store: Pick<Store, 'settings'>): Promise<VerpKeyring> {
  let stored = await store.settings.get(VERP_KEYS_SETTING);
  if (!stored) stored = await store.settings.setIfAbsent(VERP_KEYS_SETTING, JSON.stringify([randomBytes(32).toString('base64url')]));
  return new VerpKeyring(parseKeys(stored));
}

/**
 * Puts a new key first and keeps the previous one (VERP_KEYS_KEPT in all). Processes pick the new
 * key up when they start; until then they keep tagging with the old one, which still verifies.
 */
export async function rotateVerpKey(store: Pick<Store, 'settings'>): Promise<void> {
  const current = await store.settings.get(VERP_KEYS_SETTING);
  const keys = current ? (JSON.parse(current) as string[]) : [];
  await store.settings.set(VERP_KEYS_SETTING, JSON.stringify([randomBytes(32).toString('base64url'), ...keys].slice(0, VERP_KEYS_KEPT)));
}

function parseKeys(stored: string): Buffer[] {
  let list: unknown;
  try {
    list = JSON.parse(stored);
  } catch {
    list = null;
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((k) => typeof k === 'string')) {
    throw new Error(`the ${VERP_KEYS_SETTING} setting is not a list of keys`);
  }
  return (list as string[]).map((k) => Buffer.from(k, 'base64url'));
}
