// The example front end (examples/form-copilot), end to end: the service serves its build at `/`
// without shadowing any API route, and in headless Chromium, against the real service and the fake
// model, a person signs up, has the AI fill in the form (highlighted as the change streams in),
// edits it, meets a concurrent edit from a second browser and resolves it, reviews proposals, goes
// back in history, regenerates and edits answers, and reads refusals in words. Screenshots of the
// main screens go to test/artifacts/form-copilot/ (ARTIFACTS_DIR); `npm run screenshot` rewrites the
// README's docs/form-copilot.png. The app is built first when its build is missing or older than
// its source.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStep } from '../fake-openai/server.js';
import { describeInBrowser, launchBrowser } from '../support/browser.js';
import { harness, startTestApp, uniqueEmail } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APP_DIR = join(ROOT, 'examples/form-copilot');
const ARTIFACTS = process.env['ARTIFACTS_DIR'] ?? join(ROOT, 'test/artifacts/form-copilot');
const README_SCREENSHOT = join(ROOT, 'docs/form-copilot.png');
const WAIT = { timeout: 30_000 };
const PASSWORD = 'correct horse battery';

/** The newest modification time under a path (a file, or a folder's files). */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Builds the app when its build is missing or older than its source (a fresh clone builds at install). */
function ensureBuilt(): void {
  const built = join(APP_DIR, 'dist/index.html');
  const source = Math.max(newest(join(APP_DIR, 'src')), newest(join(APP_DIR, 'index.html')), newest(join(APP_DIR, 'vite.config.ts')));
  if (existsSync(built) && statSync(built).mtimeMs >= source) return;
  execFileSync('npm', ['run', 'build:app'], { cwd: ROOT, stdio: 'pipe' });
}

const tool = (patch: object): FakeStep => ({ type: 'tool_calls', calls: [{ name: 'update_state', arguments: { patch } }] });
const text = (content: string): FakeStep => ({ type: 'text', content });

ensureBuilt();
const { app, fake, startApp } = await harness();

describe('GET / serves the example app', () => {
  it('serves the page and its assets with strict headers, and leaves the API routes as they were', async () => {
    const page = await app.http('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.text).toContain('<div id="root"></div>');
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await app.http('GET', script!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript|^application\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');

    expect((await app.http('GET', '/assets/missing.js')).status).toBe(404);
    expect((await app.http('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await app.http('GET', '/api/v1/openapi.json')).body.openapi).toMatch(/^3\.1/);
    expect((await app.http('GET', '/docs')).text).toContain('/docs/scalar.js');
    const unauthenticated = await app.http('GET', '/api/v1/ai/threads');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body).toEqual({ message: 'Unauthenticated.' });
    expect((await app.http('GET', '/trpc/me.get?input=%7B%7D')).status).toBe(401);
    const unknown = await app.http('GET', '/not-a-route');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ message: 'Route not found.' });
    // The API's own responses do not get the page's headers.
    expect(unauthenticated.headers.get('content-security-policy')).toBeNull();
  });

  it('without a build, `/` says how to make one (503), and the API still answers', async () => {
    const bare = await startTestApp({ env: { WEB_APP_DIR: join(ROOT, 'no-such-build') } });
    try {
      const page = await bare.http('GET', '/');
      expect(page.status).toBe(503);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.text).toContain('npm run build:app');
      expect((await bare.http('GET', '/healthz')).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});

describeInBrowser('the form copilot in a browser', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let threadId: number;
  const email = uniqueEmail('copilot');
  const problems: string[] = [];

  /** A context that may talk to the service only, and whose page errors (CSP violations included) are kept. */
  async function newContext(viewport = { width: 1280, height: 860 }): Promise<BrowserContext> {
    const created = await browser.newContext({ viewport });
    await created.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('http://127.0.0.1:')) return route.continue();
      problems.push(`request elsewhere: ${url}`);
      return route.abort();
    });
    created.on('page', (opened) => watch(opened));
    return created;
  }
  function watch(watched: Page): void {
    watched.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    watched.on('console', (message) => {
      // A refused request is logged by the browser as a failed load; the app says it in words.
      if (message.type() === 'error' && !/status of (4\d\d|5\d\d)/.test(message.text())) problems.push(`console: ${message.text()}`);
    });
  }
  const shot = (name: string, target: Page = page) => target.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const field = (target: Page, pointer: string) => target.locator(`[name="${pointer}"]`);
  const waitForValue = (target: Page, pointer: string, value: string) =>
    target.waitForFunction(
      ([name, expected]) => (document.querySelector(`[name="${name}"]`) as HTMLInputElement | null)?.value === expected,
      [pointer, value] as const,
      WAIT,
    );
  const version = (target: Page, n: number) => target.getByText(`Version ${n} · saved`).waitFor(WAIT);
  const send = async (target: Page, content: string) => {
    await target.getByLabel('Message to the copilot').fill(content);
    await target.getByRole('button', { name: 'Send', exact: true }).click();
  };
  const stateOf = async () => {
    const res = await app.api('GET', `/ai/threads/${threadId}/state`, { headers: { cookie: await cookieOf(context) } });
    return res.body as { state: { form: Record<string, unknown> }; version: number };
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchBrowser();
    context = await newContext();
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs up and creates a thread', async () => {
    await page.goto(`${app.url}/`);
    await page.getByRole('heading', { name: 'Create an account' }).waitFor(WAIT);
    await shot('1-sign-up');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByLabel('Title').fill('Order form');
    await page.getByRole('button', { name: 'Create thread' }).click();
    await page.getByRole('heading', { name: 'Order form', level: 1 }).waitFor(WAIT);
    threadId = Number(/#\/threads\/(\d+)$/.exec(page.url())?.[1]);
    expect(threadId).toBeGreaterThan(0);
    await version(page, 1);
  });

  it('"set form.color to blue": the field changes and is highlighted as the change streams in', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.script(tool({ form: { color: 'blue' } }), { type: 'gate', until: held, then: text('Done: the color is now blue.') });
    await send(page, 'set form.color to blue');
    // The AI's change has arrived (state.delta) while its answer is still being written.
    await page.locator('[data-pointer="/form/color"][data-highlight="ai"]').waitFor(WAIT);
    await waitForValue(page, '/form/color', 'blue');
    await page.getByText('changed by the AI').waitFor(WAIT);
    await page.getByText('Thinking…').waitFor(WAIT);
    release();
    await page.getByText('Done: the color is now blue.').waitFor(WAIT);
    await version(page, 2);
    // The highlight stays until the person edits the field or sends the next message.
    await page.locator('[data-pointer="/form/color"][data-highlight="ai"]').waitFor(WAIT);
    await shot('2-ai-changed-the-form');
    expect((await stateOf()).state.form).toEqual({ color: 'blue' });
  });

  it('typing into a field saves it with the version, and the version moves', async () => {
    await field(page, '/form/name').fill('Ada Lovelace');
    await page.keyboard.press('Tab');
    await version(page, 3);
    expect(await stateOf()).toEqual({ state: { form: { color: 'blue', name: 'Ada Lovelace' } }, version: 3 });
  });

  it('a second browser edits the same thread: the first gets the conflict screen and keeps both edits', async () => {
    const other = await newContext();
    const second = await other.newPage();
    try {
      await second.goto(`${app.url}/#/threads/${threadId}`);
      await second.getByRole('button', { name: 'Sign in' }).click();
      await second.getByLabel('Email').fill(email);
      await second.getByLabel('Password').fill(PASSWORD);
      await second.getByRole('button', { name: 'Sign in' }).click();
      await version(second, 3);
      await field(second, '/form/company').fill('Analytical Engines Ltd');
      await second.keyboard.press('Tab');
      await version(second, 4);
    } finally {
      await other.close();
    }

    // The first page still shows version 3: its save is refused (412) and both versions are shown.
    await field(page, '/form/email').fill('ada@example.com');
    await page.keyboard.press('Tab');
    const dialog = page.getByRole('dialog', { name: 'This form was changed somewhere else' });
    await dialog.waitFor(WAIT);
    await dialog.locator('tr[data-pointer="/form/company"]').getByText('Analytical Engines Ltd').waitFor(WAIT);
    await dialog.locator('tr[data-pointer="/form/email"]').getByText('ada@example.com').waitFor(WAIT);
    // Each side keeps what it changed: their company, our email.
    expect(await dialog.getByRole('radio', { name: /Keep theirs for Company/ }).isChecked()).toBe(true);
    expect(await dialog.getByRole('radio', { name: /Keep yours for Email/ }).isChecked()).toBe(true);
    await shot('3-conflict');
    await dialog.getByRole('button', { name: 'Save this version' }).click();
    await version(page, 5);
    await waitForValue(page, '/form/company', 'Analytical Engines Ltd');
    await waitForValue(page, '/form/email', 'ada@example.com');
    expect((await stateOf()).state.form).toEqual({
      color: 'blue',
      name: 'Ada Lovelace',
      company: 'Analytical Engines Ltd',
      email: 'ada@example.com',
    });
  });

  it('review mode: the proposal is a per-field diff; accept one field, reject another; then reject all', async () => {
    await page.getByLabel('Review AI changes').check();
    fake.script(tool({ form: { size: 'L', address: { city: 'Paris' } } }), text('I propose a size and a city.'));
    await send(page, 'size L, delivered in Paris');
    const review = page.getByRole('region', { name: 'The AI proposes changes' });
    await review.waitFor(WAIT);
    await page.locator('[data-pointer="/form/size"][data-highlight="proposed"]').waitFor(WAIT);
    await review.getByRole('rowheader', { name: 'Size' }).waitFor(WAIT);
    await review.getByRole('rowheader', { name: 'Delivery address' }).waitFor(WAIT);
    await shot('4-review');
    await review.getByRole('button', { name: 'Accept Size' }).click();
    await review.getByRole('button', { name: 'Reject Delivery address' }).click();
    await review.getByRole('button', { name: 'Apply my choices' }).click();
    await version(page, 6);
    await waitForValue(page, '/form/size', 'L');
    await waitForValue(page, '/form/address/city', '');
    await review.waitFor({ state: 'detached', ...WAIT });

    fake.script(tool({ form: { color: 'red' } }), text('Red would be nicer.'));
    await send(page, 'make it red');
    await review.waitFor(WAIT);
    await review.getByRole('button', { name: 'Reject all' }).click();
    await review.waitFor({ state: 'detached', ...WAIT });
    await page.getByText('Proposal rejected.').waitFor(WAIT);
    await waitForValue(page, '/form/color', 'blue');
    const { state, version: current } = await stateOf();
    expect(current).toBe(6);
    expect(state.form).toMatchObject({ color: 'blue', size: 'L' });
    expect(state.form['address']).toBeUndefined();
    await page.getByLabel('Review AI changes').uncheck();
  });

  it('history lists who changed what, and restores an older version', async () => {
    const history = page.getByRole('region', { name: 'History' });
    await history.locator('li[data-version="6"][data-source="proposal"]').waitFor(WAIT);
    await history.locator('li[data-version="2"][data-source="ai"]').waitFor(WAIT);
    await history.locator('li[data-version="3"][data-source="state"]').waitFor(WAIT);
    await history.getByRole('button', { name: 'Restore version 2' }).click();
    await version(page, 7);
    await history.locator('li[data-version="7"][data-source="revert"]').waitFor(WAIT);
    await waitForValue(page, '/form/name', '');
    await waitForValue(page, '/form/color', 'blue');
    await shot('5-history');
    expect(await stateOf()).toEqual({ state: { form: { color: 'blue' } }, version: 7 });
  });

  it('regenerate, then switch between the answers with the picker; edit a message', async () => {
    const last = page.locator('li.message.assistant').last();
    await last.getByText('Red would be nicer.').waitFor(WAIT);
    fake.script(text('A second answer.'));
    await last.getByRole('button', { name: 'Regenerate' }).click();
    const answer = page.locator('li.message.assistant').last();
    await answer.getByText('A second answer.').waitFor(WAIT);
    await answer.getByRole('group', { name: 'answer 2/2' }).waitFor(WAIT);
    await answer.getByRole('button', { name: 'Previous answer' }).click();
    await page.locator('li.message.assistant').last().getByText('Red would be nicer.').waitFor(WAIT);
    await page.getByRole('group', { name: 'answer 1/2' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Next answer' }).click();
    await page.locator('li.message.assistant').last().getByText('A second answer.').waitFor(WAIT);
    await shot('6-picker');

    fake.script(text('Blue it stays.'));
    const question = page.locator('li.message.user').last();
    await question.getByRole('button', { name: 'Edit this message' }).click();
    await question.getByLabel('Edit your message').fill('keep it blue');
    await question.getByRole('button', { name: 'Send edit' }).click();
    await page.locator('li.message.assistant').last().getByText('Blue it stays.').waitFor(WAIT);
    await page.locator('li.message.user').last().getByRole('group', { name: 'version of this message 2/2' }).waitFor(WAIT);
  });

  it('refusals and failures are said in words: a 5001-character message (422), a failing AI (502)', async () => {
    const long = 'x'.repeat(5001);
    await send(page, long);
    const alert = page.getByRole('alert');
    await alert.getByText('Your message is too long: 5,001 characters, and the limit is 5,000.').waitFor(WAIT);
    // The text is kept, to shorten it.
    expect(await page.getByLabel('Message to the copilot').inputValue()).toBe(long);
    await shot('7-too-long');
    await alert.getByRole('button', { name: 'Dismiss' }).click();

    fake.script({ type: 'error', status: 500 });
    await send(page, 'anything');
    await page.getByRole('alert').getByText('The AI service gave no usable answer.').waitFor(WAIT);
    await page.getByText('Not answered: the AI failed.').waitFor(WAIT);
    await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
  });

  /** A new browser, signed up on `target`, on a new thread. */
  async function onNewThread(target: { url: string }, who: string): Promise<{ browsing: BrowserContext; shown: Page; who: string }> {
    const browsing = await newContext();
    const shown = await browsing.newPage();
    await shown.goto(`${target.url}/`);
    await shown.getByLabel('Email').fill(who);
    await shown.getByLabel('Password').fill(PASSWORD);
    await shown.getByRole('button', { name: 'Create account' }).click();
    await shown.getByRole('button', { name: 'Create thread' }).click();
    await version(shown, 1);
    return { browsing, shown, who };
  }

  it('a session that ended (401) brings back the sign-in, said in words, then the same thread with the edit kept', async () => {
    const { browsing, shown, who } = await onNewThread(app, uniqueEmail('expired'));
    try {
      const url = shown.url();
      // The thread's first reads (the list beside it too) are done before the session goes.
      await shown.waitForLoadState('networkidle');
      await browsing.clearCookies();
      await field(shown, '/form/name').fill('Ada');
      await shown.keyboard.press('Tab');
      await shown.getByRole('alert').getByText('You were signed out (your session ended).').waitFor(WAIT);
      await shown.getByLabel('Email').fill(who);
      await shown.getByLabel('Password').fill(PASSWORD);
      await shown.getByRole('button', { name: 'Sign in' }).click();
      // Back on the same thread, and the edit made while signed out is saved, not lost.
      await version(shown, 2);
      await waitForValue(shown, '/form/name', 'Ada');
      expect(shown.url()).toBe(url);
    } finally {
      await browsing.close();
    }
  });

  it('too many messages (429) says how long to wait', async () => {
    const limited = await startApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
    const { browsing, shown } = await onNewThread(limited, uniqueEmail('limited'));
    try {
      fake.script(text('First answer.'));
      await send(shown, 'hello');
      await shown.getByText('First answer.').waitFor(WAIT);
      await send(shown, 'hello again');
      await shown.getByRole('alert').getByText(/^Too many requests in a short time\. Wait \d+ seconds? and try again\.$/).waitFor(WAIT);
      await shot('9-rate-limited', shown);
    } finally {
      await browsing.close();
    }
  });

  it('fits a phone: one column, no sideways scrolling', async () => {
    const phone = await newContext({ width: 390, height: 844 });
    try {
      await phone.addCookies(await context.cookies());
      const small = await phone.newPage();
      await small.goto(`${app.url}/#/threads/${threadId}`);
      await version(small, 7);
      await small.getByRole('button', { name: '‹ Threads' }).waitFor(WAIT);
      const widths = await small.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
      expect(widths.page).toBeLessThanOrEqual(widths.screen);
      await shot('8-phone', small);
    } finally {
      await phone.close();
    }
    expect(problems).toEqual([]);
  });

  it('works with the offline model (no AI key): "set form.color to blue"', async () => {
    const offline = await startApp({ model: 'offline' });
    const fresh = await newContext();
    try {
      const shown = await fresh.newPage();
      await shown.goto(`${offline.url}/`);
      await shown.getByLabel('Email').fill(uniqueEmail('offline'));
      await shown.getByLabel('Password').fill(PASSWORD);
      await shown.getByRole('button', { name: 'Create account' }).click();
      await shown.getByRole('button', { name: 'Create thread' }).click();
      await version(shown, 1);
      await send(shown, 'set form.color to blue');
      await shown.locator('[data-pointer="/form/color"][data-highlight="ai"]').waitFor(WAIT);
      await waitForValue(shown, '/form/color', 'blue');
      await version(shown, 2);
    } finally {
      await fresh.close();
    }
  });

  it('README screenshot', async () => {
    const fresh = await newContext({ width: 1200, height: 760 });
    try {
      const shown = await fresh.newPage();
      await shown.goto(`${app.url}/`);
      await shown.getByLabel('Email').fill('grace@example.com');
      await shown.getByLabel('Password').fill(PASSWORD);
      await shown.getByRole('button', { name: 'Create account' }).click();
      await shown.getByLabel('Title').fill('Conference order');
      await shown.getByRole('button', { name: 'Create thread' }).click();
      await version(shown, 1);
      fake.script(
        tool({ form: { name: 'Grace Hopper', email: 'grace@example.com', color: 'blue', size: 'M' } }),
        text('I filled in your name, email, the color blue and size M.'),
      );
      await send(shown, 'I am Grace Hopper (grace@example.com); a blue one, size M');
      await shown.getByText('I filled in your name, email').waitFor(WAIT);
      await version(shown, 2);
      const target = process.env['UPDATE_README_SCREENSHOT'] ? README_SCREENSHOT : join(ARTIFACTS, 'readme.png');
      mkdirSync(dirname(target), { recursive: true });
      await shown.screenshot({ path: target });
      expect(statSync(target).size).toBeLessThan(200 * 1024);
    } finally {
      await fresh.close();
    }
  });
});

async function cookieOf(context: BrowserContext): Promise<string> {
  return (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}
