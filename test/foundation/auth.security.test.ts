// Credentials that must not work (absent, garbage, malformed, expired, signed out, forged) answer
// exactly 401 `{"message":"Unauthenticated."}` on both faces and store nothing; sessions are stored
// as hashes; cookie-authenticated mutations need a same-origin Origin (CSRF); the cookie is Secure
// in production.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import {
  FORBIDDEN,
  UNAUTHENTICATED,
  cookieHeaders,
  expectNothingStored,
  expectRestError,
  expectTrpcError,
  query,
  sessionRow,
  setSessionExpiry,
  sha256Hex,
  tokenParts,
  trpc,
} from '../support/helpers.js';

let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp();
  user = await app.signUp();
});
afterAll(async () => {
  await app?.close();
});

/** Checks that these headers get 401 on GET /api/v1/me and on me.get over tRPC, storing nothing. */
async function expectUnauthenticated(headers: Record<string, string>) {
  const rest = await expectNothingStored(app, () => app.api('GET', '/me', { headers }));
  expectRestError(rest, 401, UNAUTHENTICATED);
  expect(rest.text).toBe('{"message":"Unauthenticated."}');
  const rpc = await expectNothingStored(app, () => trpc(app, 'query', 'me.get', undefined, { headers }));
  expectTrpcError(rpc, 401, UNAUTHENTICATED.message);
}

describe('401 Unauthenticated', () => {
  it('no credentials at all', async () => {
    await expectUnauthenticated({});
  });

  it.each([
    ['a garbage token', 'Bearer nonsense'],
    ['an empty bearer', 'Bearer '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a scheme without a token', 'Bearer'],
    ['two tokens', 'Bearer abc def'],
    ['a token of the right shape that was never issued', `Bearer sess_${'a'.repeat(24)}.${'b'.repeat(24)}`],
  ])('%s', async (_label, authorization) => {
    await expectUnauthenticated({ authorization });
  });

  it('a real session id with a forged secret', async () => {
    const { id } = tokenParts(user.token);
    await expectUnauthenticated({ authorization: `Bearer sess_${id}.${'a'.repeat(24)}` });
  });

  it('a session token presented as an API token', async () => {
    const { id, secret } = tokenParts(user.token);
    await expectUnauthenticated({ authorization: `Bearer ait_${id}.${secret}` });
  });

  it('a garbage cookie', async () => {
    await expectUnauthenticated(cookieHeaders('sess_nope.nope'));
    await expectUnauthenticated({ cookie: 'ai_threads_session=%E0%A4%A' });
  });

  it('a malformed Authorization header does not fall back to a valid cookie', async () => {
    await expectUnauthenticated({ authorization: 'Basic abc', ...cookieHeaders(user.token) });
  });

  it('an expired session', async () => {
    const other = await app.signUp();
    await setSessionExpiry(app, other.token, new Date(Date.now() - 1000));
    const rest = await app.api('GET', '/me', { token: other.token });
    expectRestError(rest, 401, UNAUTHENTICATED);
    const rpc = await trpc(app, 'query', 'me.get', undefined, { token: other.token });
    expectTrpcError(rpc, 401, UNAUTHENTICATED.message);
  });

  it('a signed-out session', async () => {
    const other = await app.signUp();
    expect((await app.api('POST', '/auth/sign-out', { token: other.token })).status).toBe(204);
    await expectUnauthenticated({ authorization: `Bearer ${other.token}` });
    await expectUnauthenticated(cookieHeaders(other.token));
  });

  it('on a mutation: nothing is created', async () => {
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/api-tokens', { token: 'garbage', body: { name: 'x', permissions: ['ai_threads.view'] } }),
    );
    expectRestError(res, 401, UNAUTHENTICATED);
  });
});

describe('stored sessions', () => {
  it('keep only the SHA-256 of the secret half: the token appears nowhere in the row', async () => {
    const { id, secret } = tokenParts(user.token);
    const row = (await sessionRow(app, user.token))!;
    expect(row.id).toBe(id);
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.secret_hash).toBe(sha256Hex(secret));
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(user.token);
    expect(stored).not.toContain(secret);
  });

  it('each sign-in makes a new, unrelated token', async () => {
    const again = await app.api('POST', '/auth/sign-in', { body: { email: user.email, password: 'correct horse battery' } });
    const [a, b] = [tokenParts(user.token), tokenParts(again.body.token)];
    expect(b.id).not.toBe(a.id);
    expect(b.secret).not.toBe(a.secret);
  });

  it('no password is stored in the clear', async () => {
    const [row] = await query<{ password_hash: string }>(app, sql`select password_hash from users where id = ${user.id}`);
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});

describe('CSRF: cookie-authenticated mutations need a same-origin Origin', () => {
  it('sign-out by cookie without Origin: 403, and the session lives on', async () => {
    const victim = await app.signUp();
    const res = await app.api('POST', '/auth/sign-out', { headers: cookieHeaders(victim.token) });
    expectRestError(res, 403, FORBIDDEN);
    expect((await app.api('GET', '/me', { token: victim.token })).status).toBe(200);
  });

  it.each([
    ['another site', 'https://evil.example'],
    ['another port of this host', 'http://127.0.0.1:1'],
    ['an opaque origin', 'null'],
  ])('sign-out by cookie from %s: 403', async (_label, origin) => {
    const victim = await app.signUp();
    const res = await app.api('POST', '/auth/sign-out', { headers: cookieHeaders(victim.token, origin) });
    expectRestError(res, 403, FORBIDDEN);
    expect(await sessionRow(app, victim.token)).toBeDefined();
  });

  it('the tRPC face applies the same check', async () => {
    const victim = await app.signUp();
    const res = await trpc(app, 'mutation', 'auth.signOut', {}, { headers: cookieHeaders(victim.token, 'https://evil.example') });
    expectTrpcError(res, 403, FORBIDDEN.message);
    expect(await sessionRow(app, victim.token)).toBeDefined();
  });

  it('reads by cookie need no Origin (SameSite=Lax covers them)', async () => {
    expect((await app.api('GET', '/me', { headers: cookieHeaders(user.token) })).status).toBe(200);
  });
});

describe('the session cookie in production', () => {
  let production: TestApp;
  beforeAll(async () => {
    production = await startTestApp({ env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await production?.close();
  });

  it('is Secure, besides HttpOnly, SameSite=Lax and Path=/', async () => {
    const user = await production.signUp();
    const signIn = await production.api('POST', '/auth/sign-in', { body: { email: user.email, password: 'correct horse battery' } });
    const attributes = signIn.headers.get('set-cookie')!.split('; ');
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/', 'Secure']));

    const signOut = await production.api('POST', '/auth/sign-out', { token: signIn.body.token });
    expect(signOut.headers.get('set-cookie')!.split('; ')).toContain('Secure');
  });
});
