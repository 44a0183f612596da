import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadVerpKeyring } from '../../src/bounce/verp-keys.js';
import { tracedLocalPart } from '../../src/core/verp.js';
import type { Store } from '../../src/store/store.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/reports');
/** Every report fixture names one Postline recipient id, lower-cased (test/fixtures/reports/README.md). */
const FIXTURE_ID = /01m7[0-9a-z]{22}/gi;
/** The fields of a report that name the recipient it is about (DSN, ARF). */
const NAMED_RECIPIENT = /^(Final-Recipient|Original-Recipient|Original-Rcpt-To):(\s*(?:rfc822;\s*)?).*$/gim;

/** <id>-<tag>, as delivery writes it after "b+" in the Return-Path and in the Message-ID, with the store's keys. */
export async function tracedIdOf(store: Store, recipientId: string): Promise<string> {
  return tracedLocalPart(recipientId, (await loadVerpKeyring(store)).tag(recipientId));
}

/**
 * A real report from the fixtures about recipient `r` instead of the one it was written for: its
 * id with the tag Postline wrote beside it, its address in the fields naming the recipient.
 */
export async function reportAboutRecipient(store: Store, file: string, r: { id: string; address: string }): Promise<string> {
  const traced = await tracedIdOf(store, r.id);
  return readFileSync(join(FIXTURES, file), 'utf8').replace(FIXTURE_ID, traced).replace(NAMED_RECIPIENT, `$1:$2${r.address}`);
}
