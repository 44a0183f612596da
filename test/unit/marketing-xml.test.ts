import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { marketingXml, requireXmlNames } from '../../src/api/compat/marketing/xml.js';

const HEAD = '<?xml version="1.0" encoding="utf-8"?>';
const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

describe('Marketing API answers as XML', () => {
  it('writes objects with the JSON names, null as xsi:nil, and an empty map or array as an empty element', () => {
    expect(marketingXml({ sendId: 3, state: 'done', finishedOn: null, ok: true }, { root: 'send' })).toBe(
      `${HEAD}<send ${XSI}><sendId>3</sendId><state>done</state><finishedOn xsi:nil="true"/><ok>true</ok></send>`,
    );
    expect(marketingXml({ contactId: 1, customFields: {} }, { root: 'contact' })).toBe(
      `${HEAD}<contact ${XSI}><contactId>1</contactId><customFields/></contact>`,
    );
    expect(marketingXml({ total: 0, contacts: [] }, { root: 'contactSearch' })).toBe(
      `${HEAD}<contactSearch ${XSI}><total>0</total><contacts/></contactSearch>`,
    );
    expect(marketingXml([], { root: 'lists', item: 'list' })).toBe(`${HEAD}<lists ${XSI}/>`);
  });

  it('writes custom field values, whose names need not be XML names, as name/value entries, escaped', () => {
    expect(marketingXml({ customFields: { '1st-choice': 'a&b', Team: '<Reds>' } }, { root: 'contact' })).toBe(
      `${HEAD}<contact ${XSI}><customFields>` +
        '<field><name>1st-choice</name><value>a&amp;b</value></field><field><name>Team</name><value>&lt;Reds&gt;</value></field></customFields></contact>',
    );
  });

  it('refuses to guess names: an array without an item name is a fault, not a made-up element', () => {
    expect(() => marketingXml({ things: [1] }, { root: 'x' })).toThrow('no item name for the array "things"');
    expect(() => marketingXml([{ a: 1 }], { root: 'xs' })).toThrow('needs an item name');
  });

  it('refuses at start-up a route that answers a body but names no XML root', async () => {
    const app = Fastify();
    app.addHook('onRoute', requireXmlNames);
    app.delete('/gone', { schema: { response: { 204: { type: 'null' }, 404: { type: 'object' } } } }, async () => null);
    app.get('/named', { config: { marketingXml: { root: 'thing' } }, schema: { response: { 200: { type: 'object' } } } }, async () => ({}));
    expect(() => app.get('/unnamed', { schema: { response: { 200: { type: 'object' } } } }, async () => ({}))).toThrow(
      'Marketing API route GET /unnamed has no config.marketingXml',
    );
    await app.close();
  });
});
