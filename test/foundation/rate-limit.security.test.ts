// Rate limits on an app allowing 3 requests a minute and 2 failed sign-ins per email: the
// X-RateLimit headers, 429 with Retry-After, per user (others unaffected) and per IP when
// unauthenticated, the sign-in throttle per email, and nothing stored by a refused request.
// TRUST_PROXY lets each test speak from its own client IP (X-Forwarded-For).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueEmail, type ApiResponse, type TestApp } from '../support/harness.js';
import {
  TOO_MANY,
  createApiToken,
  expectNothingStored,
  expectRestError,
  expectTrpcError,
  trpc,
} from '../support/helpers.js';

const LIMIT = 3;
const PASSWORD = 'correct horse battery';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    env: { RATE_LIMIT_REQUESTS_PER_MINUTE: String(LIMIT), SIGN_IN_ATTEMPTS_PER_MINUTE_PER_EMAIL: '2', TRUST_PROXY: '1' },
  });
});
afterAll(async () => {
  await app?.close();
});

let ipSeq = 0;
/** A client IP no other test uses. */
const newIp = () => `198.51.100.${++ipSeq}`;
const from = (ip: string) => ({ 'x-forwarded-for': ip });

async function signUpFrom(ip: string) {
  const email = uniqueEmail('rl');
  const res = await app.api('POST', '/auth/sign-up', { body: { email, password: PASSWORD }, headers: from(ip) });
  expect(res.status).toBe(201);
  return { id: res.body.user.id as number, email, token: res.body.token as string };
}

function expectBudget(res: ApiResponse, remaining: number) {
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
  expect(res.headers.get('x-ratelimit-remaining')).toBe(String(remaining));
}

function expectTooManyAttempts(res: ApiResponse, limit = LIMIT) {
  expectRestError(res, 429, TOO_MANY);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
}

describe('per user', () => {
  it('every limited answer, success or error, carries the budget; then 429 with Retry-After', async () => {
    const user = await signUpFrom(newIp());
    const options = { token: user.token };

    const me = await app.api('GET', '/me', options);
    expect(me.status).toBe(200);
    expectBudget(me, 2);

    const invalid = await app.api('POST', '/api-tokens', { ...options, body: {} });
    expect(invalid.status).toBe(422);
    expectBudget(invalid, 1);

    const missing = await app.api('GET', '/api-tokens/999999', options);
    expect(missing.status).toBe(404);
    expectBudget(missing, 0);

    expectTooManyAttempts(await app.api('GET', '/me', options));
  });

  it('the tRPC face shares the budget and answers the same 429', async () => {
    const user = await signUpFrom(newIp());
    for (let i = 0; i < LIMIT; i++) expect((await app.api('GET', '/me', { token: user.token })).status).toBe(200);

    const res = await trpc(app, 'query', 'me.get', undefined, { token: user.token });
    expectTrpcError(res, 429, TOO_MANY.message);
    expect(res.body.error.data.retryAfter).toBe(Number(res.headers.get('retry-after')));
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('another user, even from the same IP, is unaffected', async () => {
    const ip = newIp();
    const [busy, calm] = [await signUpFrom(ip), await signUpFrom(ip)];
    for (let i = 0; i < LIMIT; i++) await app.api('GET', '/me', { token: busy.token, headers: from(ip) });
    expectTooManyAttempts(await app.api('GET', '/me', { token: busy.token, headers: from(ip) }));

    const res = await app.api('GET', '/me', { token: calm.token, headers: from(ip) });
    expect(res.status).toBe(200);
    expectBudget(res, 2);
  });

  it('429 comes before 403: an exhausted token lacking the permission hears 429', async () => {
    const user = await signUpFrom(newIp());
    const viewOnly = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    for (let i = 0; i < LIMIT; i++) await app.api('GET', '/me', { token: viewOnly.token });
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/ai/threads', { token: viewOnly.token, body: { title: 'x' } }),
    );
    expectTooManyAttempts(res);
  });

  it('a refused request stores nothing', async () => {
    const user = await signUpFrom(newIp());
    await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    for (let i = 1; i < LIMIT; i++) await app.api('GET', '/me', { token: user.token });

    const res = await expectNothingStored(app, () =>
      app.api('POST', '/api-tokens', { token: user.token, body: { name: 'x', permissions: ['ai_threads.view'] } }),
    );
    expectTooManyAttempts(res);
  });
});

describe('per IP when unauthenticated', () => {
  it('counts calls without credentials by client IP; other IPs and signed-in users are unaffected', async () => {
    const ip = newIp();
    const user = await signUpFrom(newIp());

    for (let remaining = LIMIT - 1; remaining >= 0; remaining--) {
      const res = await app.api('POST', '/auth/sign-out', { headers: from(ip) });
      expect(res.status).toBe(204);
      expectBudget(res, remaining);
    }
    const refused = await expectNothingStored(app, () =>
      app.api('POST', '/auth/sign-up', { body: { email: uniqueEmail('rl'), password: PASSWORD }, headers: from(ip) }),
    );
    expectTooManyAttempts(refused);

    expect((await app.api('POST', '/auth/sign-out', { headers: from(newIp()) })).status).toBe(204);
    expect((await app.api('GET', '/me', { token: user.token, headers: from(ip) })).status).toBe(200);
  });
});

describe('sign-in throttle per email', () => {
  const signIn = (email: string, password: string) =>
    app.api('POST', '/auth/sign-in', { body: { email, password }, headers: from(newIp()) });

  it('after 2 failures, the next attempt is 429 even with the right password, from any IP', async () => {
    const user = await signUpFrom(newIp());
    expect((await signIn(user.email, 'wrong password')).status).toBe(422);
    expect((await signIn(user.email.toUpperCase(), 'wrong password')).status).toBe(422);

    const res = await expectNothingStored(app, () => signIn(user.email, PASSWORD));
    expectTooManyAttempts(res, 2);
    expect(res.headers.get('set-cookie')).toBeNull();

    const rpc = await trpc(app, 'mutation', 'auth.signIn', { email: user.email, password: PASSWORD }, { headers: from(newIp()) });
    expectTrpcError(rpc, 429, TOO_MANY.message);
  });

  it('another email is unaffected', async () => {
    const [victim, bystander] = [await signUpFrom(newIp()), await signUpFrom(newIp())];
    await signIn(victim.email, 'wrong password');
    await signIn(victim.email, 'wrong password');
    expect((await signIn(victim.email, PASSWORD)).status).toBe(429);
    expect((await signIn(bystander.email, PASSWORD)).status).toBe(200);
  });

  it('a successful sign-in clears earlier failures', async () => {
    const user = await signUpFrom(newIp());
    expect((await signIn(user.email, 'wrong password')).status).toBe(422);
    expect((await signIn(user.email, PASSWORD)).status).toBe(200);
    expect((await signIn(user.email, 'wrong password')).status).toBe(422);
    expect((await signIn(user.email, PASSWORD)).status).toBe(200);
  });
});
