// The cross-site check (CSRF) is decided by the operation, not by the HTTP method that carries it:
// the tRPC subscription `messages.stream` travels as a GET yet creates a message, so a
// cookie-authenticated call of it from another site is refused (403) and stores nothing, as the
// REST POST is. Same-site browsers pass (a matching Origin, or no Origin with
// `Sec-Fetch-Site: same-origin`, as a same-origin EventSource sends), bearer callers need neither,
// and reads by cookie stay open. Answers come from the offline model: no AI server needed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import { FORBIDDEN, cookieHeaders, expectRestError } from '../support/helpers.js';
import { postStream } from '../support/sse.js';
import { expectStoresNothing, newThread } from '../support/threads.js';

const TRUSTED = 'https://app.example';

let app: TestApp;
let user: TestUser;
let threadId: number;
beforeAll(async () => {
  app = await startTestApp({ env: { ALLOWED_ORIGINS: TRUSTED } });
  user = await app.signUp();
  threadId = (await newThread(app, user)).id;
});
afterAll(async () => {
  await app?.close();
});

/** The `messages.stream` subscription as a browser link or EventSource would open it: a GET. */
async function subscribe(input: Record<string, unknown>, headers: Record<string, string>) {
  const query = new URLSearchParams({ input: JSON.stringify(input) });
  const res = await fetch(`${app.url}/trpc/messages.stream?${query}`, { headers: { accept: 'text/event-stream', ...headers } });
  const text = await res.text();
  const error = /event: serialized-error\ndata: (.*)\n/.exec(text);
  return { status: res.status, text, error: error ? JSON.parse(error[1]!) : undefined };
}

/** Sec-Fetch-Site as a browser sets it (pages cannot). */
const fetchSite = (site: 'same-origin' | 'same-site' | 'cross-site' | 'none') => ({ 'sec-fetch-site': site });

const userMessages = async () => Number(await app.count('messages'));

describe('the tRPC subscription that creates a message, by cookie', () => {
  it.each([
    ['a top-level navigation from another site', fetchSite('cross-site')],
    ['an EventSource of another site', { origin: 'https://evil.example', ...fetchSite('cross-site') }],
    ['a sibling subdomain', fetchSite('same-site')],
    ['an opaque origin', { origin: 'null' }],
    ['a browser that names no site at all', {}],
  ])('from %s: 403, and nothing stored', async (_label, headers) => {
    const refused = await expectStoresNothing(app, () =>
      subscribe({ threadId, content: 'set form.color to red' }, { ...cookieHeaders(user.token), ...headers }),
    );
    expect(refused.error).toMatchObject({ message: FORBIDDEN.message, data: { code: 'FORBIDDEN', httpStatus: 403 } });
  });

  it('a resume (lastEventId) from another site is refused the same way', async () => {
    const refused = await subscribe(
      { threadId, content: 'x', lastEventId: '1:0' },
      { ...cookieHeaders(user.token, 'https://evil.example'), ...fetchSite('cross-site') },
    );
    expect(refused.error).toMatchObject({ data: { httpStatus: 403 } });
  });

  it.each([
    ['this origin', () => ({ origin: app.url, ...fetchSite('same-origin') })],
    ['a same-origin EventSource (no Origin on a GET)', () => fetchSite('same-origin')],
    ['an ALLOWED_ORIGINS origin', () => ({ origin: TRUSTED, ...fetchSite('cross-site') })],
  ])('from %s: answered and stored', async (_label, headers) => {
    const before = await userMessages();
    const res = await subscribe({ threadId, content: 'Same site' }, { ...cookieHeaders(user.token), ...headers() });
    expect(res.error, res.text).toBeUndefined();
    expect(res.text).toContain('response.completed');
    expect(await userMessages()).toBe(before + 2);
  });
});

describe('bearer credentials are no CSRF risk', () => {
  it('a bearer subscription needs no Origin', async () => {
    const before = await userMessages();
    const res = await subscribe({ threadId, content: 'By token' }, { authorization: `Bearer ${user.token}`, ...fetchSite('cross-site') });
    expect(res.error, res.text).toBeUndefined();
    expect(await userMessages()).toBe(before + 2);
  });
});

describe('the REST stream route keeps its check', () => {
  it('POST .../messages/stream by cookie from another site: 403 JSON, nothing stored', async () => {
    const res = await expectStoresNothing(app, async () => {
      const response = await postStream(app, threadId, {
        body: { content: 'set form.color to red' },
        headers: { ...cookieHeaders(user.token, 'https://evil.example'), ...fetchSite('cross-site') },
      });
      return { status: response.status, headers: response.headers, body: await response.json(), text: '' };
    });
    expectRestError(res, 403, FORBIDDEN);
  });

  it('by cookie from this origin: streamed', async () => {
    const response = await postStream(app, threadId, { body: { content: 'Same site' }, headers: cookieHeaders(user.token, app.url) });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('response.completed');
  });

  it('by cookie with no Origin and Sec-Fetch-Site: same-origin: streamed', async () => {
    const response = await postStream(app, threadId, {
      body: { content: 'Same site' },
      headers: { ...cookieHeaders(user.token), ...fetchSite('same-origin') },
    });
    expect(response.status).toBe(200);
    await response.text();
  });
});

describe('reads by cookie stay open to any site', () => {
  it('a GET query and a GET route by cookie from another site are answered (they change nothing)', async () => {
    const headers = { ...cookieHeaders(user.token), ...fetchSite('cross-site') };
    expect((await app.http('GET', `/trpc/threads.get?input=${encodeURIComponent(JSON.stringify({ threadId }))}`, { headers })).status).toBe(200);
    expect((await app.api('GET', `/ai/threads/${threadId}`, { headers })).status).toBe(200);
  });
});
