import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { SUPPRESSION_REASONS, suppressionKey, type SuppressionReason } from '../../../core/suppression.js';
import { MAX_BULK_ADD, MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { isValidEmailAddress, MAX_ADDRESS_LENGTH } from '../../../core/address.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';

/** Why an address of a bulk-add is refused, in words a person uploading a file can act on; null when it is valid. */
export function whyRefused(address: string): string | null {
  if (address.trim() === '') return 'empty';
  if (address.length > MAX_ADDRESS_LENGTH) return `longer than ${MAX_ADDRESS_LENGTH} characters`;
  if (!address.includes('@')) return 'not an email address (no @)';
  if (address !== address.trim()) return 'has spaces around it';
  return isValidEmailAddress(address) ? null : 'not a valid email address';
}

/** A refused item as echoed back: clipped, so a huge line is not sent back whole. */
const echo = (address: string) => (address.length > MAX_ADDRESS_LENGTH ? `${address.slice(0, MAX_ADDRESS_LENGTH)}…` : address);

interface Refusal {
  index: number;
  emailAddress: string;
  message: string;
}

/**
 * POST /servers/:serverId/suppressions/bulk-add {emailAddresses: [...], reason?} — adds up to
 * 1,000 addresses in one transaction, for a list a person uploads. Unlike bulk-remove it is not
 * all or nothing: an uploaded file has a few bad lines, and refusing the good ones with them would
 * make the upload unusable, so each invalid item is refused on its own (with its index and why)
 * and the valid ones are added. A longer list is refused whole (too_many_items).
 */
export function registerBulkAdd(scope: FastifyInstance, store: Store, now: () => number): void {
  scope.post<{ Params: { serverId: string }; Body: { emailAddresses: string[]; reason: SuppressionReason } }>(
    '/suppressions/bulk-add',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: `Add up to ${MAX_BULK_ADD} addresses to the suppression list (invalid ones refused one by one)`,
        tags: ['suppressions'],
        params: serverIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['emailAddresses'],
          properties: {
            // Items are plain strings: each is checked here, so one bad line refuses only itself.
            emailAddresses: { type: 'array', minItems: 1, maxItems: MAX_BULK_ADD, items: { type: 'string' } },
            reason: { type: 'string', enum: [...SUPPRESSION_REASONS], default: 'CustomerRequest' },
          },
        },
        response: withErrors({
          200: dataResponse({
            type: 'object',
            required: ['received', 'added', 'updated', 'duplicates', 'refused'],
            properties: {
              received: { type: 'integer', description: 'items in the request' },
              added: { type: 'integer', description: 'valid addresses that were not on the list and now are' },
              updated: { type: 'integer', description: 'valid addresses already on the list (their reason and lastUpdate now the new ones)' },
              duplicates: { type: 'integer', description: 'valid items that repeat an earlier item of the request (case-insensitive)' },
              refused: {
                type: 'array',
                description: 'the invalid items, in request order; nothing was written for them',
                items: {
                  type: 'object',
                  required: ['index', 'emailAddress', 'message'],
                  properties: {
                    index: { type: 'integer', description: '0-based position in emailAddresses' },
                    emailAddress: { type: 'string', description: `the item as sent (cut at ${MAX_ADDRESS_LENGTH} characters)` },
                    message: { type: 'string', description: 'why it was refused' },
                  },
                },
              },
            },
          }),
        }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const { emailAddresses, reason } = req.body;
      const refused: Refusal[] = [];
      const valid = new Map<string, string>();
      let duplicates = 0;
      emailAddresses.forEach((address, index) => {
        const why = whyRefused(address);
        if (why !== null) refused.push({ index, emailAddress: echo(address), message: why });
        else if (valid.has(suppressionKey(address))) duplicates++;
        else valid.set(suppressionKey(address), address);
      });
      // Counted just before writing: an address another request adds in between counts as added.
      const listed = await store.suppressions.listedAmong(serverId, valid.keys());
      await store.suppressions.add(
        serverId,
        [...valid.values()].map((address) => ({ address, reason, detail: null })),
        now(),
      );
      return { data: { received: emailAddresses.length, added: valid.size - listed.size, updated: listed.size, duplicates, refused } };
    },
  );
}
