// The API reference at /docs: Scalar, rendered in headless Chromium from the live OpenAPI document,
// offline (its script comes from the service, and any request elsewhere is refused and counted),
// showing the seed's operation with its example body. The browser part runs where Chromium exists
// (test/support/browser.ts); the rest everywhere.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInBrowser, launchBrowser } from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/harness.js';

const WAIT = { timeout: 60_000 };

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('GET /docs', () => {
  it('serves a page that loads its script from the service, not a CDN', async () => {
    const page = await app.http('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<script src="/docs/scalar.js">');
    expect(page.text).toContain('/api/v1/openapi.json');
    expect(page.text).not.toMatch(/<script[^>]+src="(https?:)?\/\//);

    const script = await app.http('GET', '/docs/scalar.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.text).toContain('createApiReference');
  });

  it('documents the seed request body example in the OpenAPI document', async () => {
    const doc = await app.http('GET', '/api/v1/openapi.json');
    const body = doc.body.paths['/ai/threads/{thread-id}/messages'].post.requestBody.content['application/json'];
    expect(body.example).toEqual({ content: 'Hello!', state: { form: { field: 'value' } } });
  });
});

describeInBrowser('GET /docs in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the seed operation with its example in a browser, offline', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const elsewhere: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(`${app.url}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(`${app.url}/docs`);
      // The sidebar lists the tags; open Messages, then the seed's operation.
      await page.getByText('Messages', { exact: true }).first().click(WAIT);
      await page.getByText('Create a message', { exact: true }).first().click(WAIT);
      await page.getByRole('heading', { name: 'Create a message' }).first().waitFor(WAIT);
      await page.getByText('/ai/threads/{thread-id}/messages').first().waitFor(WAIT);
      // The request example (the code sample) carries the body's example.
      await page.locator('pre, code').filter({ hasText: '"Hello!"' }).first().waitFor(WAIT);
      await page.locator('pre, code').filter({ hasText: '"field": "value"' }).first().waitFor(WAIT);
      if (process.env['DOCS_SCREENSHOT']) await page.screenshot({ path: process.env['DOCS_SCREENSHOT'] });
      expect(elsewhere).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
