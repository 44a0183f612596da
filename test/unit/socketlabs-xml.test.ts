import { describe, expect, it } from 'vitest';
import { parsePostBodyXml } from '../../src/api/compat/socketlabs/xml.js';

const wrap = (inner: string) => `<?xml version="1.0" encoding="utf-8"?>
<PostBody xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">${inner}</PostBody>`;

const message = (inner: string) => wrap(`<ServerId>1</ServerId><Messages><EmailMessage>${inner}</EmailMessage></Messages>`);
const firstMessage = (inner: string): Record<string, unknown> => {
  const r = parsePostBodyXml(message(inner));
  if (!r.ok) throw new Error(r.reason);
  return (r.value.Messages as Record<string, unknown>[])[0] as Record<string, unknown>;
};

describe('XML PostBody: shape', () => {
  it('turns the §1.8 sample into the JSON shape', () => {
    const r = parsePostBodyXml(
      wrap(`
  <ServerId>12345</ServerId><ApiKey>KEY</ApiKey>
  <Messages><EmailMessage>
    <Subject>…</Subject><TextBody>…</TextBody><HtmlBody>&lt;h1&gt;…</HtmlBody>
    <To><Address><EmailAddress>to@example.com</EmailAddress><FriendlyName>Test</FriendlyName></Address></To>
    <From><EmailAddress>from@example.com</EmailAddress><FriendlyName>From</FriendlyName></From>
  </EmailMessage></Messages>
`),
    );
    expect(r).toEqual({
      ok: true,
      value: {
        ServerId: '12345',
        ApiKey: 'KEY',
        Messages: [
          {
            Subject: '…',
            TextBody: '…',
            HtmlBody: '<h1>…',
            To: [{ EmailAddress: 'to@example.com', FriendlyName: 'Test' }],
            From: { EmailAddress: 'from@example.com', FriendlyName: 'From' },
          },
        ],
      },
    });
  });

  it('turns a full XmlSerializer message into exactly the expected nested object', () => {
    const r = parsePostBodyXml(
      wrap(`
  <ServerId>12345</ServerId><ApiKey>KEY</ApiKey>
  <Messages><EmailMessage>
    <Subject>Hi &lt;you&gt; &#233;</Subject><TextBody>Line1
Line2  </TextBody><HtmlBody>&lt;h1&gt;x&lt;/h1&gt;</HtmlBody>
    <MailingId>%%MailingId%%</MailingId><MessageId>007</MessageId><CharSet>utf-8</CharSet>
    <To><Address><EmailAddress>%%DeliveryAddress%%</EmailAddress><FriendlyName>%%RecipientName%%</FriendlyName></Address></To>
    <Cc><Address><EmailAddress>c@example.com</EmailAddress><FriendlyName>C</FriendlyName></Address></Cc>
    <Bcc><Address><EmailAddress>b1@example.com</EmailAddress></Address><Address><EmailAddress>b2@example.com</EmailAddress></Address></Bcc>
    <From><EmailAddress>from@example.com</EmailAddress><FriendlyName>From</FriendlyName></From>
    <ReplyTo><EmailAddress>reply@example.com</EmailAddress></ReplyTo>
    <CustomHeaders><CustomHeader><Name>X-A</Name><Value>1</Value></CustomHeader><CustomHeader><Name>X-B</Name><Value /></CustomHeader></CustomHeaders>
    <Attachments><Attachment><Name>a.txt</Name><Content>QQ==</Content><ContentType>text/plain</ContentType><ContentId />
      <CustomHeaders><CustomHeader><Name>X-Att</Name><Value>y</Value></CustomHeader></CustomHeaders></Attachment></Attachments>
    <Metadata><Metadata><Key>k</Key><Value>v</Value></Metadata><KeyValuePair><Key>k2</Key><Value>v2</Value></KeyValuePair></Metadata>
    <Tags><string>t1</string><string>t2</string></Tags>
    <MergeData>
      <PerMessage>
        <ArrayOfMergeRow><MergeRow><Field>DeliveryAddress</Field><Value>r1@example.com</Value></MergeRow><MergeRow><Field>RecipientName</Field><Value>R One</Value></MergeRow></ArrayOfMergeRow>
        <ArrayOfMergeRow><MergeRow><Field>DeliveryAddress</Field><Value>r2@example.com</Value></MergeRow><MergeRow><Field>N</Field><Value>2</Value></MergeRow></ArrayOfMergeRow>
      </PerMessage>
      <Global><MergeRow><Field>MailingId</Field><Value>HR 018</Value></MergeRow></Global>
    </MergeData>
  </EmailMessage></Messages>`),
    );
    expect(r).toEqual({
      ok: true,
      value: {
        ServerId: '12345',
        ApiKey: 'KEY',
        Messages: [
          {
            Subject: 'Hi <you> é',
            TextBody: 'Line1\nLine2  ',
            HtmlBody: '<h1>x</h1>',
            MailingId: '%%MailingId%%',
            MessageId: '007',
            CharSet: 'utf-8',
            To: [{ EmailAddress: '%%DeliveryAddress%%', FriendlyName: '%%RecipientName%%' }],
            Cc: [{ EmailAddress: 'c@example.com', FriendlyName: 'C' }],
            Bcc: [{ EmailAddress: 'b1@example.com' }, { EmailAddress: 'b2@example.com' }],
            From: { EmailAddress: 'from@example.com', FriendlyName: 'From' },
            ReplyTo: { EmailAddress: 'reply@example.com' },
            CustomHeaders: [
              { Name: 'X-A', Value: '1' },
              { Name: 'X-B', Value: '' },
            ],
            Attachments: [{ Name: 'a.txt', Content: 'QQ==', ContentType: 'text/plain', ContentId: '', CustomHeaders: [{ Name: 'X-Att', Value: 'y' }] }],
            Metadata: [
              { Key: 'k', Value: 'v' },
              { Key: 'k2', Value: 'v2' },
            ],
            Tags: ['t1', 't2'],
            MergeData: {
              PerMessage: [
                [
                  { Field: 'DeliveryAddress', Value: 'r1@example.com' },
                  { Field: 'RecipientName', Value: 'R One' },
                ],
                [
                  { Field: 'DeliveryAddress', Value: 'r2@example.com' },
                  { Field: 'N', Value: '2' },
                ],
              ],
              Global: [{ Field: 'MailingId', Value: 'HR 018' }],
            },
          },
        ],
      },
    });
  });

  it('makes single-child and empty lists arrays, matching list names case-insensitively', () => {
    const m = firstMessage(`<To><Address><EmailAddress>a@x.com</EmailAddress></Address></To><CC><Address><EmailAddress>c@x.com</EmailAddress></Address></CC>
      <BCC /><Tags><string>only</string></Tags><customHeaders></customHeaders><Attachments>
      </Attachments><MergeData><PerMessage><ArrayOfMergeRow><MergeRow><Field>F</Field><Value>V</Value></MergeRow></ArrayOfMergeRow></PerMessage><Global /></MergeData>`);
    expect(m).toEqual({
      To: [{ EmailAddress: 'a@x.com' }],
      CC: [{ EmailAddress: 'c@x.com' }],
      BCC: [],
      Tags: ['only'],
      customHeaders: [],
      Attachments: [],
      MergeData: { PerMessage: [[{ Field: 'F', Value: 'V' }]], Global: [] },
    });
  });

  it('makes empty leaves "" and empty From/ReplyTo/MergeData {}, keeping leaf text exactly', () => {
    expect(firstMessage('<Subject /><TextBody></TextBody><HtmlBody>  </HtmlBody><ReplyTo /><MergeData></MergeData>')).toEqual({
      Subject: '',
      TextBody: '',
      HtmlBody: '  ',
      ReplyTo: {},
      MergeData: {},
    });
  });

  it('turns xsi:nil="true" into null, for leaves, objects and lists', () => {
    expect(
      firstMessage(
        '<Subject xsi:nil="true" /><ReplyTo xsi:nil="true" /><Cc xsi:nil="true"/><ApiTemplate p:nil="1" xmlns:p="http://www.w3.org/2001/XMLSchema-instance" /><MessageId xsi:nil="false">m</MessageId>',
      ),
    ).toEqual({ Subject: null, ReplyTo: null, Cc: null, ApiTemplate: null, MessageId: 'm' });
  });

  it('keeps every leaf a string and ignores attributes, comments and a BOM', () => {
    const r = parsePostBodyXml(`\uFEFF<!-- c --><PostBody a="1"><ServerId type="int">007</ServerId><!-- x --><ApiTemplate>1e3</ApiTemplate></PostBody>`);
    expect(r).toEqual({ ok: true, value: { ServerId: '007', ApiTemplate: '1e3' } });
  });
});

describe('XML PostBody: text and entities', () => {
  it('decodes predefined entities and character references exactly once', () => {
    expect(
      firstMessage(
        '<HtmlBody>&lt;h1&gt;&amp;&quot;&apos;</HtmlBody><Subject>&#233;&#xE9;&#x41;&#10;&#x1F600;</Subject><TextBody>&amp;lt; &amp;#65;</TextBody>',
      ),
    ).toEqual({ HtmlBody: '<h1>&"\'', Subject: 'ééA\n😀', TextBody: '&lt; &#65;' });
  });
  it('keeps CDATA literally and normalizes XML line ends (CRLF → LF; &#13; stays CR)', () => {
    expect(firstMessage('<HtmlBody><![CDATA[<b>&amp;</b>]]></HtmlBody><TextBody>a\r\nb&#13;&#10;c</TextBody>')).toEqual({
      HtmlBody: '<b>&amp;</b>',
      TextBody: 'a\nb\r\nc',
    });
  });
  it('refuses entities that cannot exist without a DTD and illegal character references', () => {
    for (const body of ['&nbsp;', '&#0;', '&#xD800;', '&#x110000;', '&#xZZ;']) {
      const r = parsePostBodyXml(wrap(`<ServerId>${body}</ServerId>`));
      expect(r.ok, body).toBe(false);
    }
  });
});

describe('XML PostBody: refusals', () => {
  it('refuses a DOCTYPE with a billion-laughs payload before parsing, without expanding it', () => {
    const lol = (n: number) => `<!ENTITY lol${n} "${`&lol${n - 1};`.repeat(10)}">`;
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${[1, 2, 3, 4, 5, 6, 7, 8, 9].map(lol).join('')}]>
<PostBody><ServerId>&lol9;</ServerId></PostBody>`;
    const started = Date.now();
    expect(parsePostBodyXml(bomb)).toEqual({ ok: false, reason: expect.stringContaining('DOCTYPE') });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(parsePostBodyXml('<!doctype PostBody SYSTEM "file:///etc/passwd"><PostBody/>').ok).toBe(false);
  });
  it('refuses <!ENTITY anywhere, in any case', () => {
    expect(parsePostBodyXml(wrap('<!ENTITY x "y"><ServerId>1</ServerId>')).ok).toBe(false);
    expect(parsePostBodyXml(wrap('<ServerId><![CDATA[<!entity x "y">]]></ServerId>')).ok).toBe(false);
  });
  it("refuses malformed XML with the parser's reason", () => {
    const bad = parsePostBodyXml('<PostBody><ServerId>1</ServerI></PostBody>');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/ServerI/);
    for (const x of ['', '   ', 'not xml', '<PostBody>', '<PostBody><A>a & b</A></PostBody>', '<PostBody/><PostBody/>', '<PostBody/>junk']) {
      expect(parsePostBodyXml(x).ok, x).toBe(false);
    }
  });
  it('refuses a wrong root element', () => {
    expect(parsePostBodyXml('<Other><ServerId>1</ServerId></Other>')).toEqual({ ok: false, reason: expect.stringContaining('PostBody') });
  });
  it('refuses shapes the JSON variant could not express', () => {
    expect(parsePostBodyXml(message('<Subject>a<b>x</b></Subject>')).ok).toBe(false); // mixed content
    expect(parsePostBodyXml(message('<To>a@example.com</To>')).ok).toBe(false); // text in a list
    expect(parsePostBodyXml(message('<Subject>a</Subject><Subject>b</Subject>')).ok).toBe(false); // duplicate
    expect(parsePostBodyXml('<PostBody>text</PostBody>').ok).toBe(false);
  });
  it('never lets an element name reach the prototype', () => {
    const r = parsePostBodyXml(wrap('<__proto__><polluted>yes</polluted></__proto__>'));
    if (r.ok) expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
