import { describe, expect, it } from 'vitest';
import { checkTemplateContent, MAX_TEMPLATE_CONTENT_BYTES } from '../../src/templates/content.js';
import { requestedTemplate, withTemplateContent } from '../../src/message/api-template.js';
import { normalizeMessage } from '../../src/message/normalize.js';

describe("a stored template's content (templates/content.ts)", () => {
  it('trims the name, reads empty strings as absent and keeps the rest as given', () => {
    expect(checkTemplateContent({ name: '  Welcome ', subject: '', htmlBody: '<p>%%A%%</p>', textBody: '', ampBody: null })).toEqual({
      ok: true,
      content: { name: 'Welcome', subject: null, htmlBody: '<p>%%A%%</p>', textBody: null, ampBody: null },
    });
  });
  it('refuses, naming the field: no name, no HTML or text body (AMP alone is not one), a two-line subject, a non-string, too many bytes', () => {
    const field = (input: Parameters<typeof checkTemplateContent>[0]) => {
      const r = checkTemplateContent(input);
      return r.ok ? null : r.field;
    };
    expect(field({ textBody: 'x' })).toBe('name');
    expect(field({ name: 'a', ampBody: '<html amp4email></html>' })).toBe('htmlBody');
    expect(field({ name: 'a', textBody: 'x', subject: 'a\nb' })).toBe('subject');
    expect(field({ name: 'a', textBody: 7 })).toBe('textBody');
    expect(field({ name: 'a', textBody: 'é'.repeat(MAX_TEMPLATE_CONTENT_BYTES / 2) })).toBe('htmlBody');
    expect(field({ name: 'a', textBody: 'x'.repeat(MAX_TEMPLATE_CONTENT_BYTES - 1) })).toBeNull();
  });
});

describe('ApiTemplate on a message (api/compat/socketlabs/api-template.ts)', () => {
  const raw = (over: Record<string, unknown>) =>
    normalizeMessage(
      {
        From: { EmailAddress: 'a@example.com' },
        To: [{ EmailAddress: 'b@example.com' }],
        Subject: 'Mine',
        TextBody: 'mine',
        HtmlBody: '<p>mine</p>',
        ...over,
      },
      0,
    );
  const template = { name: 'T', subject: 'Theirs %%X%%', htmlBody: '<p>theirs</p>', textBody: null, ampBody: '<html amp4email>x</html>' };

  it('0, 000 and absent name no template; anything else is an id', () => {
    expect([raw({}), raw({ ApiTemplate: 0 }), raw({ ApiTemplate: '000' })].map(requestedTemplate)).toEqual([null, null, null]);
    expect(requestedTemplate(raw({ ApiTemplate: ' 12 ' }))).toBe('12');
    expect(requestedTemplate(raw({ ApiTemplate: 12 }))).toBe('12');
  });
  it("the template's bodies replace the message's; the message's subject wins unless it is blank", () => {
    expect(withTemplateContent(raw({}), template)).toMatchObject({
      subject: 'Mine',
      htmlBody: '<p>theirs</p>',
      textBody: null,
      ampBody: '<html amp4email>x</html>',
    });
    expect(withTemplateContent(raw({ Subject: '  ' }), template).subject).toBe('Theirs %%X%%');
    expect(withTemplateContent(raw({ Subject: null }), template).subject).toBe('Theirs %%X%%');
  });
});
