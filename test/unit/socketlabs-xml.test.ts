import { describe, expect, it } from 'vitest';
import { parsePostBodyXml } from '../../src/api/compat/socketlabs/xml.js';

const wrap = (inner: string) => `<?xml version="1.0" encoding="utf-8"?>
<PostBody xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">${inner}</PostBody>`;

describe('XML PostBody', () => {
  it('turns a full XmlSerializer message into the JSON shape', () => {
    const r = parsePostBodyXml(wrap(`
  <ServerId>12345</ServerId><ApiKey>KEY</ApiKey>
  <Messages><EmailMessage>
    <Subject>Hi &lt;you&gt; &#233;</Subject><TextBody>Line1
Line2</TextBody><HtmlBody>&lt;h1&gt;x&lt;/h1&gt;</HtmlBody>
    <To><Address><EmailAddress>to@example.com</EmailAddress><FriendlyName>Test</FriendlyName></Address></To>
    <Cc />
    <Bcc><Address><EmailAddress>b1@example.com</EmailAddress></Address><Address><EmailAddress>b2@example.com</EmailAddress></Address></Bcc>
    <From><EmailAddress>from@example.com</EmailAddress><FriendlyName>From</FriendlyName></From>
    <ReplyTo xsi:nil="true" />
    <CustomHeaders><CustomHeader><Name>X-A</Name><Value>1</Value></CustomHeader></CustomHeaders>
    <Attachments><Attachment><Name>a.txt</Name><Content>QQ==</Content><ContentType>text/plain</ContentType><ContentId /></Attachment></Attachments>
    <Metadata><Metadata><Key>k</Key><Value>v</Value></Metadata></Metadata>
    <Tags><string>t1</string><string>t2</string></Tags>
    <MergeData>
      <PerMessage>
        <ArrayOfMergeRow><MergeRow><Field>DeliveryAddress</Field><Value>r1@example.com</Value></MergeRow></ArrayOfMergeRow>
        <ArrayOfMergeRow><MergeRow><Field>DeliveryAddress</Field><Value>r2@example.com</Value></MergeRow><MergeRow><Field>N</Field><Value>2</Value></MergeRow></ArrayOfMergeRow>
      </PerMessage>
      <Global><MergeRow><Field>G</Field><Value>g</Value></MergeRow></Global>
    </MergeData>
  </EmailMessage></Messages>`));
    expect(r).toEqual({ ok: true, value: {
      ServerId: '12345', ApiKey: 'KEY',
      Messages: [{
        Subject: 'Hi <you> é', TextBody: 'Line1\nLine2', HtmlBody: '<h1>x</h1>',
        To: [{ EmailAddress: 'to@example.com', FriendlyName: 'Test' }], Cc: [],
        Bcc: [{ EmailAddress: 'b1@example.com' }, { EmailAddress: 'b2@example.com' }],
        From: { EmailAddress: 'from@example.com', FriendlyName: 'From' }, ReplyTo: null,
        CustomHeaders: [{ Name: 'X-A', Value: '1' }],
        Attachments: [{ Name: 'a.txt', Content: 'QQ==', ContentType: 'text/plain', ContentId: '' }],
        Metadata: [{ Key: 'k', Value: 'v' }], Tags: ['t1', 't2'],
        MergeData: {
          PerMessage: [[{ Field: 'DeliveryAddress', Value: 'r1@example.com' }], [{ Field: 'DeliveryAddress', Value: 'r2@example.com' }, { Field: 'N', Value: '2' }]],
          Global: [{ Field: 'G', Value: 'g' }],
        },
      }],
    } });
  });

  it('refuses DTDs before parsing (no entity expansion)', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><PostBody><ServerId>&lol3;</ServerId></PostBody>`;
    expect(parsePostBodyXml(bomb)).toEqual({ ok: false, reason: expect.stringContaining('DOCTYPE') });
    expect(parsePostBodyXml(wrap('<!ENTITY x "y"><ServerId>1</ServerId>')).ok).toBe(false);
  });

  it('refuses malformed XML and a wrong root, with the reason', () => {
    const bad = parsePostBodyXml('<PostBody><ServerId>1</ServerI></PostBody>');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/ServerI/);
    expect(parsePostBodyXml('<Other><ServerId>1</ServerId></Other>')).toEqual({ ok: false, reason: expect.stringContaining('PostBody') });
    expect(parsePostBodyXml('').ok).toBe(false);
  });
});
