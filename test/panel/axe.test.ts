/**
 * The accessibility check the panel's browser tests rely on (test/helpers/panel-browser.ts) does
 * find what it is meant to find: a page with an image without alt text and an unlabelled field
 * is reported, the same page fixed is not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, HAVE_BROWSER, requireBrowser, runAxe } from '../helpers/panel-browser.js';

requireBrowser('test/panel/axe.test.ts');

describe.runIf(HAVE_BROWSER)('the accessibility check of the panel tests', { timeout: 60_000 }, () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('reports serious and critical violations with the element', async () => {
    await page.setContent('<!doctype html><html lang="en"><title>t</title><main><h1>x</h1><img src="data:," id="pic"><input id="q" type="text"></main></html>');
    const found = await runAxe(page);
    expect(found).toContain('image-alt: ["#pic"]');
    expect(found.some((f) => f.startsWith('label: ["#q"]'))).toBe(true);
  });

  it('reports nothing once the page is fixed', async () => {
    await page.setContent(
      '<!doctype html><html lang="en"><title>t</title><main><h1>x</h1><img src="data:," alt="logo"><label for="q">Search</label><input id="q" type="text"></main></html>',
    );
    expect(await runAxe(page)).toEqual([]);
  });
});
