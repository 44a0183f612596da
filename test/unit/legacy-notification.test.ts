import { describe, expect, it } from 'vitest';
import { requireValidationKey, validatesOnCreate, VALIDATION_KEY_PATTERN } from '../../src/webhooks/legacy-notification.js';
import { typesNotForForm, typesReceived } from '../../src/core/legacy-notification-types.js';

describe('legacy Notification API rules', () => {
  const ok = { ok: true, status: 200, durationMs: 3, responseSnippet: 'thanks: KEY-1234567 received' };

  it('a 2xx counts only with the ValidationKey somewhere in the answer', () => {
    expect(requireValidationKey(ok, 'KEY-1234567')).toBe(ok);
    const without = requireValidationKey({ ...ok, responseSnippet: 'OK' }, 'KEY-1234567');
    expect(without).toMatchObject({ ok: false, status: 200, responseSnippet: 'OK' });
    expect(without.error).toBe(
      "HTTP 200 without the endpoint's ValidationKey in the answer; a legacy (form) endpoint must put its ValidationKey in the body of every answer",
    );
    expect(requireValidationKey({ ...ok, responseSnippet: undefined }, 'KEY-1234567').ok).toBe(false);
    // A failure stays the failure it was; no key (a JSON endpoint) checks nothing.
    const failed = { ok: false, status: 500, durationMs: 1, error: 'HTTP 500' };
    expect(requireValidationKey(failed, 'KEY-1234567')).toBe(failed);
    expect(requireValidationKey({ ...ok, responseSnippet: 'OK' }, null).ok).toBe(true);
  });

  it('which types an endpoint receives: a form endpoint never Queued or Deferred', () => {
    expect(typesReceived({ format: 'json', eventTypes: [] })).toBeNull();
    expect(typesReceived({ format: 'json', eventTypes: ['Queued'] })).toEqual(['Queued']);
    expect(typesReceived({ format: 'form', eventTypes: [] })).toEqual(['Delivered', 'Failed', 'Tracking', 'Complaint']);
    expect(typesReceived({ format: 'form', eventTypes: ['Queued', 'Failed'] })).toEqual(['Failed']);
    expect(typesNotForForm(['Queued', 'Delivered', 'Deferred'])).toEqual(['Queued', 'Deferred']);
  });

  it('a form endpoint without a given key is not validated on create unless asked; anything else is', () => {
    expect(validatesOnCreate('form', undefined, undefined)).toBe(false);
    expect(validatesOnCreate('form', undefined, 'given-key-1')).toBe(true);
    expect(validatesOnCreate('form', true, undefined)).toBe(true);
    expect(validatesOnCreate('json', undefined, undefined)).toBe(true);
    expect(validatesOnCreate('json', false, undefined)).toBe(false);
  });

  it('a ValidationKey an owner gives: 8 to 128 printable characters, no spaces', () => {
    const re = new RegExp(VALIDATION_KEY_PATTERN);
    expect(['abcdefgh', 'A1!~-_.:', 'x'.repeat(128)].every((k) => re.test(k))).toBe(true);
    expect(['short', 'has space', 'x'.repeat(129), 'tab\there', 'é'.repeat(8)].some((k) => re.test(k))).toBe(false);
  });
});
