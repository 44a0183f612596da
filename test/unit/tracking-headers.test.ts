import { describe, expect, it } from 'vitest';
import { addListUnsubscribe, listUnsubscribeHeaders } from '../../src/tracking/headers.js';

const URL_ = 'https://track.example.com/t/u/AbC_-123';

describe('List-Unsubscribe headers', () => {
  it('gives the HTTPS URI, the mailto and the RFC 8058 one-click header', () => {
    expect(listUnsubscribeHeaders({ url: URL_, mailto: 'unsubscribe@example.com' })).toEqual([
      { name: 'List-Unsubscribe', value: `<${URL_}>, <mailto:unsubscribe@example.com>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
    expect(listUnsubscribeHeaders({ url: URL_, mailto: 'mailto:u@example.com?subject=unsubscribe' })[0]!.value).toBe(
      `<${URL_}>, <mailto:u@example.com?subject=unsubscribe>`,
    );
    expect(listUnsubscribeHeaders({ url: URL_ })).toEqual([
      { name: 'List-Unsubscribe', value: `<${URL_}>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
  });

  it('offers one-click only over HTTPS', () => {
    expect(listUnsubscribeHeaders({ url: 'http://localhost:8080/t/u/x' })).toEqual([{ name: 'List-Unsubscribe', value: '<http://localhost:8080/t/u/x>' }]);
  });

  it('refuses values that could end the URI or add a header line', () => {
    for (const url of [
      'https://x.example/a>, <https://evil.example/',
      'https://x.example/a\r\nBcc: x@evil.example',
      'https://x.example/a b',
      'javascript:alert(1)',
    ]) {
      expect(() => listUnsubscribeHeaders({ url }), url).toThrow();
    }
    for (const mailto of ['a@b.example>, <https://evil.example/', 'a@b.example\nX: y', 'no-at-sign']) {
      expect(() => listUnsubscribeHeaders({ url: URL_, mailto }), mailto).toThrow();
    }
  });

  it('keeps a sender’s own List-Unsubscribe, and replaces a stray List-Unsubscribe-Post', () => {
    const own = [
      { name: 'list-unsubscribe', value: '<https://sender.example/u>' },
      { name: 'X-Other', value: '1' },
    ];
    expect(addListUnsubscribe(own, { url: URL_ })).toEqual(own);
    expect(
      addListUnsubscribe(
        [
          { name: 'X-Other', value: '1' },
          { name: 'List-Unsubscribe-Post', value: 'junk' },
        ],
        { url: URL_ },
      ),
    ).toEqual([
      { name: 'X-Other', value: '1' },
      { name: 'List-Unsubscribe', value: `<${URL_}>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
  });
});
