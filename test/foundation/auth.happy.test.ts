// Sign-up, sign-in, sign-out and /me as a client uses them: by Bearer token and by cookie, on the
// REST face, the raw tRPC face and the typed tRPC client; sessions slide forward when near expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueEmail, type TestApp } from '../support/harness.js';
import {
  MEMBER_PERMISSIONS,
  cookieHeaders,
  sessionRow,
  setSessionExpiry,
  tokenParts,
  trpc,
  typedClient,
} from '../support/helpers.js';

const PASSWORD = 'correct horse battery';
const DAY_MS = 24 * 3600 * 1000;
const TTL_MS = 30 * DAY_MS;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('POST /auth/sign-up', () => {
  it('creates a member, answers 201 with the user and a session token, and sets the session cookie', async () => {
    const email = uniqueEmail('signup');
    const before = Date.now();
    const res = await app.api('POST', '/auth/sign-up', { body: { email, password: PASSWORD, name: 'Ada' } });

    expect(res.status).toBe(201);
    expect(res.body).toStrictEqual({
      user: { id: expect.any(Number), email, name: 'Ada', role: 'member', created_at: expect.any(String) },
      token: expect.stringMatching(/^sess_[a-z2-7]{24}\.[a-z2-7]{24}$/),
    });
    expect(new Date(res.body.user.created_at).toISOString()).toBe(res.body.user.created_at);

    const cookie = res.headers.get('set-cookie')!;
    const attributes = cookie.split('; ');
    expect(attributes[0]).toBe(`ai_threads_session=${res.body.token}`);
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']));
    expect(attributes).not.toContain('Secure');
    const expires = Date.parse(attributes.find((a) => a.startsWith('Expires='))!.slice('Expires='.length));
    // The cookie lives as long as the session (HTTP dates have whole seconds).
    expect(expires).toBeGreaterThanOrEqual(Math.floor((before + TTL_MS) / 1000) * 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + TTL_MS);
  });

  it('stores the email in lower case', async () => {
    const email = uniqueEmail('MixedCase');
    const res = await app.api('POST', '/auth/sign-up', { body: { email: email.toUpperCase(), password: PASSWORD } });
    expect(res.status).toBe(201);
    expect(res.body.user.email).toBe(email.toLowerCase());
    expect(res.body.user.name).toBeNull();
  });

  it('ignores fields it does not know: a client cannot choose its role', async () => {
    const res = await app.api('POST', '/auth/sign-up', {
      body: { email: uniqueEmail('admin'), password: PASSWORD, role: 'admin', role_id: 1, permissions: ['*'] },
    });
    expect(res.status).toBe(201);
    expect(res.body.user.role).toBe('member');
    const me = await app.api('GET', '/me', { token: res.body.token });
    expect(me.body.permissions).toEqual(MEMBER_PERMISSIONS);
  });

  it('accepts application/json with a charset', async () => {
    const res = await app.api('POST', '/auth/sign-up', {
      raw: JSON.stringify({ email: uniqueEmail('charset'), password: PASSWORD }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(201);
  });
});

describe('POST /auth/sign-in', () => {
  it('answers 200 with the user and a new session token, and sets the cookie', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/auth/sign-in', { body: { email: user.email, password: PASSWORD } });

    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: user.id, email: user.email, role: 'member' });
    expect(res.body.token).not.toBe(user.token);
    expect(res.headers.get('set-cookie')).toMatch(new RegExp(`^ai_threads_session=${res.body.token}; HttpOnly; SameSite=Lax; Path=/`));

    // Both sessions stay valid: signing in elsewhere does not sign out.
    for (const token of [user.token, res.body.token]) {
      expect((await app.api('GET', '/me', { token })).status).toBe(200);
    }
  });

  it('matches the email case-insensitively', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/auth/sign-in', { body: { email: user.email.toUpperCase(), password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(user.id);
  });

  it('accepts application/json with a charset', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/auth/sign-in', {
      raw: JSON.stringify({ email: user.email, password: PASSWORD }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(200);
  });
});

describe('GET /me', () => {
  it('answers the caller by Bearer token, with every member permission', async () => {
    const user = await app.signUp();
    const res = await app.api('GET', '/me', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({
      user: { id: user.id, email: user.email, name: null, role: 'member', created_at: expect.any(String) },
      permissions: MEMBER_PERMISSIONS,
      auth: { type: 'session', api_token_id: null },
    });
  });

  it('answers the caller by session cookie', async () => {
    const user = await app.signUp();
    const res = await app.api('GET', '/me', { headers: cookieHeaders(user.token) });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(user.id);
    expect(res.body.auth).toStrictEqual({ type: 'session', api_token_id: null });
  });
});

describe('POST /auth/sign-out', () => {
  it('by Bearer: 204, deletes the session and clears the cookie; the token then gives 401', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/auth/sign-out', { token: user.token });

    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('set-cookie')).toBe('ai_threads_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0');
    expect(await sessionRow(app, user.token)).toBeUndefined();
    expect((await app.api('GET', '/me', { token: user.token })).status).toBe(401);
  });

  it('by cookie, from the same origin: 204, and the cookie no longer works', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/auth/sign-out', { headers: cookieHeaders(user.token, app.url) });
    expect(res.status).toBe(204);
    expect((await app.api('GET', '/me', { headers: cookieHeaders(user.token) })).status).toBe(401);
  });

  it('ends only the calling session', async () => {
    const user = await app.signUp();
    const other = await app.api('POST', '/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect((await app.api('POST', '/auth/sign-out', { token: user.token })).status).toBe(204);
    expect((await app.api('GET', '/me', { token: other.body.token })).status).toBe(200);
  });

  it('without credentials: 204, nothing to end', async () => {
    const res = await app.api('POST', '/auth/sign-out');
    expect(res.status).toBe(204);
  });
});

describe('sliding expiry', () => {
  const expiryOf = async (token: string) => new Date((await sessionRow(app, token))!.expires_at).getTime();

  it('extends a session used within its last half to a full lifetime from now', async () => {
    const user = await app.signUp();
    await setSessionExpiry(app, user.token, new Date(Date.now() + DAY_MS));

    const before = Date.now();
    expect((await app.api('GET', '/me', { token: user.token })).status).toBe(200);
    const after = Date.now();

    const expiresAt = await expiryOf(user.token);
    expect(expiresAt).toBeGreaterThanOrEqual(before + TTL_MS);
    expect(expiresAt).toBeLessThanOrEqual(after + TTL_MS);
  });

  it('re-issues the cookie with the new expiry when the session came by cookie', async () => {
    const user = await app.signUp();
    await setSessionExpiry(app, user.token, new Date(Date.now() + DAY_MS));

    const res = await app.api('GET', '/me', { headers: cookieHeaders(user.token) });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^ai_threads_session=${user.token}; HttpOnly; SameSite=Lax; Path=/; Expires=`));
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)![1]!);
    expect(expires).toBe(Math.floor((await expiryOf(user.token)) / 1000) * 1000);
  });

  it('leaves a session in its first half alone', async () => {
    const user = await app.signUp();
    const fixed = new Date(Date.now() + 20 * DAY_MS);
    await setSessionExpiry(app, user.token, fixed);

    const res = await app.api('GET', '/me', { headers: cookieHeaders(user.token) });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await expiryOf(user.token)).toBe(fixed.getTime());
  });
});

describe('the tRPC face', () => {
  it('signs up with the raw input as the body: 201 and the same resource as REST', async () => {
    const email = uniqueEmail('trpc');
    const res = await trpc(app, 'mutation', 'auth.signUp', { email, password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.body.result.data).toStrictEqual({
      user: { id: expect.any(Number), email, name: null, role: 'member', created_at: expect.any(String) },
      token: expect.stringMatching(/^sess_/),
    });
    expect(res.headers.get('set-cookie')).toMatch(/^ai_threads_session=sess_/);
  });

  it('answers me.get as GET /api/v1/me does, with or without an input', async () => {
    const user = await app.signUp();
    const rest = await app.api('GET', '/me', { token: user.token });
    const bare = await trpc(app, 'query', 'me.get', undefined, { token: user.token });
    const withInput = await trpc(app, 'query', 'me.get', {}, { token: user.token });
    expect(bare.status).toBe(200);
    expect(bare.body.result.data).toStrictEqual(rest.body);
    expect(withInput.body.result.data).toStrictEqual(rest.body);
  });

  it('works through the typed client: sign up, then me.get and sign-out with its token', async () => {
    const email = uniqueEmail('typed');
    const session = await typedClient(app).auth.signUp.mutate({ email, password: PASSWORD });
    expect(session.user).toMatchObject({ email, role: 'member' });
    expect(tokenParts(session.token).prefix).toBe('sess_');

    const client = typedClient(app, session.token);
    const me = await client.me.get.query({});
    expect(me).toMatchObject({ user: { id: session.user.id, email }, permissions: MEMBER_PERMISSIONS });

    await client.auth.signOut.mutate({});
    expect((await app.api('GET', '/me', { token: session.token })).status).toBe(401);
  });
});
