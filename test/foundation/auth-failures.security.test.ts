// Failed authentications are limited per client IP (AUTH_FAILURES_PER_MINUTE_PER_IP=3 here): the
// first failures are the usual 401, then requests with credentials not known to be valid are a 429
// with Retry-After, answered before any credential lookup, on both faces, sharing one count. Only
// failures count; a caller whose credentials authenticated (or were just issued) is served as
// usual, and requests without credentials are untouched. Every test starts with fresh rate limits
// (a new in-process store behind the app's limiter), so each has the whole budget of 127.0.0.1.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter, type RateLimiter } from '@ai-threads/server';
import { startTestApp, uniqueEmail, type ApiResponse, type TestApp } from '../support/harness.js';
import {
  TOO_MANY,
  UNAUTHENTICATED,
  cookieHeaders,
  expectNothingStored,
  expectRestError,
  expectTrpcError,
  trpc,
} from '../support/helpers.js';
import { refusedStream } from '../support/sse.js';

const LIMIT = 3;
const BOGUS = { authorization: `Bearer sess_${'a'.repeat(24)}.${'b'.repeat(24)}` };

let store: RateLimiter;
const limiter: RateLimiter = {
  consume: (...args) => store.consume(...args),
  peek: (...args) => store.peek(...args),
  reset: (...args) => store.reset(...args),
};

let app: TestApp;
/** Credential lookups the service has made (database reads). */
let lookups = 0;
beforeAll(async () => {
  app = await startTestApp({ env: { AUTH_FAILURES_PER_MINUTE_PER_IP: String(LIMIT) }, limiter });
  const authenticate = app.services.auth.authenticate.bind(app.services.auth);
  app.services.auth.authenticate = (token) => {
    lookups += 1;
    return authenticate(token);
  };
});
afterAll(async () => {
  await app?.close();
});
beforeEach(() => {
  store = createMemoryRateLimiter();
  lookups = 0;
});

function expectBlocked(res: ApiResponse) {
  expectRestError(res, 429, TOO_MANY);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
}

async function failTimes(count: number, headers: Record<string, string> = BOGUS) {
  for (let i = 0; i < count; i++) {
    const res = await app.api('GET', '/me', { headers });
    expect(res.text).toBe('{"message":"Unauthenticated."}');
    expect(res.status).toBe(401);
  }
}

describe('unknown credentials from one IP', () => {
  it('REST: 401 up to the limit, then 429 with Retry-After, without a lookup', async () => {
    await failTimes(LIMIT);
    expect(lookups).toBe(LIMIT);
    expectBlocked(await app.api('GET', '/me', { headers: BOGUS }));
    const refused = await expectNothingStored(app, () =>
      app.api('POST', '/ai/threads', { headers: { authorization: 'Bearer another-guess' }, body: { title: 'x' } }),
    );
    expectBlocked(refused);
    expect(lookups).toBe(LIMIT);
  });

  it('tRPC: the same count and the same 429', async () => {
    for (let i = 0; i < LIMIT; i++) expectTrpcError(await trpc(app, 'query', 'me.get', undefined, { headers: BOGUS }), 401, UNAUTHENTICATED.message);
    const res = await trpc(app, 'mutation', 'threads.create', { title: 'x' }, { headers: BOGUS });
    expectTrpcError(res, 429, TOO_MANY.message);
    expect(res.body.error.data.retryAfter).toBe(Number(res.headers.get('retry-after')));
    expect(lookups).toBe(LIMIT);
  });

  it('the faces share one count, the stream route included', async () => {
    await failTimes(LIMIT - 1);
    expectTrpcError(await trpc(app, 'query', 'me.get', undefined, { headers: BOGUS }), 401, UNAUTHENTICATED.message);
    expectTrpcError(await trpc(app, 'query', 'me.get', undefined, { headers: BOGUS }), 429, TOO_MANY.message);
    const stream = await refusedStream(app, 1, { body: { content: 'hi' }, headers: BOGUS });
    expect({ status: stream.status, body: stream.body }).toStrictEqual({ status: 429, body: TOO_MANY });
  });

  it('garbage cookies and malformed headers count as failures too', async () => {
    await failTimes(1, cookieHeaders('sess_nope.nope'));
    await failTimes(1, { authorization: 'Basic dXNlcjpwYXNz' });
    await failTimes(1, BOGUS);
    expectBlocked(await app.api('GET', '/me', { headers: cookieHeaders('sess_nope.nope') }));
  });
});

describe('what the limit leaves alone', () => {
  it('a caller whose credentials authenticated is served while its IP is blocked', async () => {
    const user = await app.signUp();
    expect((await app.api('GET', '/me', { token: user.token })).status).toBe(200);
    await failTimes(LIMIT);
    expectBlocked(await app.api('GET', '/me', { headers: BOGUS }));

    const res = await app.api('GET', '/me', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(user.id);
    expect((await trpc(app, 'query', 'me.get', undefined, { token: user.token })).status).toBe(200);
  });

  it('a caller who signs in (or up) while its IP is blocked can use the new token, on both faces', async () => {
    const user = await app.signUp();
    await failTimes(LIMIT);
    expectBlocked(await app.api('GET', '/me', { headers: BOGUS }));

    const rest = await app.api('POST', '/auth/sign-in', { body: { email: user.email, password: 'correct horse battery' } });
    expect(rest.status).toBe(200);
    expect((await app.api('GET', '/me', { token: rest.body.token })).status).toBe(200);

    const rpc = await trpc(app, 'mutation', 'auth.signUp', { email: uniqueEmail('blocked'), password: 'correct horse battery' });
    expect(rpc.status).toBe(201);
    expect((await trpc(app, 'query', 'me.get', undefined, { token: rpc.body.result.data.token })).status).toBe(200);
  });

  it('successful authentications take no points', async () => {
    const user = await app.signUp();
    for (let i = 0; i < LIMIT * 2; i++) expect((await app.api('GET', '/me', { token: user.token })).status).toBe(200);
    await failTimes(LIMIT);
    expectBlocked(await app.api('GET', '/me', { headers: BOGUS }));
  });

  it('requests without credentials keep their usual answers', async () => {
    await failTimes(LIMIT);
    expectRestError(await app.api('GET', '/me'), 401, UNAUTHENTICATED);
    expect((await app.api('POST', '/auth/sign-up', { body: { email: uniqueEmail('fresh'), password: 'correct horse battery' } })).status).toBe(201);
  });

  it('a revoked credential that was valid counts as a failure once revoked', async () => {
    const user = await app.signUp();
    expect((await app.api('GET', '/me', { token: user.token })).status).toBe(200);
    expect((await app.api('POST', '/auth/sign-out', { token: user.token })).status).toBe(204);
    await failTimes(LIMIT, { authorization: `Bearer ${user.token}` });
    expectBlocked(await app.api('GET', '/me', { token: user.token }));
  });
});
