// Personal API tokens as their owner uses them: create (the secret shown once), authenticate with
// it, list with cursor pages, get, revoke; on REST and on the tRPC face.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import { cookieHeaders, createApiToken, tokenParts, trpc } from '../support/helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('POST /api-tokens', () => {
  it('answers 201 with the token resource and the secret', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/api-tokens', {
      token: user.token,
      body: { name: 'CI deploy', permissions: ['ai_threads.view', 'ai_threads.create'] },
    });

    expect(res.status).toBe(201);
    expect(res.body).toStrictEqual({
      api_token: {
        id: expect.any(Number),
        name: 'CI deploy',
        permissions: ['ai_threads.view', 'ai_threads.create'],
        token_prefix: expect.any(String),
        created_at: expect.any(String),
        expires_at: null,
        last_used_at: null,
      },
      token: expect.stringMatching(/^ait_[a-z2-7]{24}\.[a-z2-7]{24}$/),
    });
    expect(res.body.token.startsWith(res.body.api_token.token_prefix)).toBe(true);
    expect(res.body.api_token.token_prefix.length).toBeLessThan(res.body.token.length / 2);
  });

  it('keeps an expiry in the future and trims the name', async () => {
    const user = await app.signUp();
    const expiresAt = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();
    const res = await app.api('POST', '/api-tokens', {
      token: user.token,
      body: { name: '  nightly  ', permissions: ['ai_threads.view'], expires_at: expiresAt },
    });
    expect(res.status).toBe(201);
    expect(res.body.api_token).toMatchObject({ name: 'nightly', expires_at: expiresAt });
  });

  it('stores a permission asked twice once', async () => {
    const user = await app.signUp();
    const { api_token } = await createApiToken(app, user.token, { permissions: ['ai_threads.view', 'ai_threads.view'] });
    expect(api_token.permissions).toEqual(['ai_threads.view']);
  });

  it('by cookie, from the same origin', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/api-tokens', {
      headers: cookieHeaders(user.token, app.url),
      body: { name: 'from the browser', permissions: ['ai_threads.view'] },
    });
    expect(res.status).toBe(201);
  });

  it('by an API token, for a narrower token', async () => {
    const user = await app.signUp();
    const parent = await createApiToken(app, user.token, { permissions: ['ai_threads.view', 'ai_threads.create', 'api_tokens.manage'] });
    const child = await app.api('POST', '/api-tokens', {
      token: parent.token,
      body: { name: 'child', permissions: ['ai_threads.view'] },
    });
    expect(child.status).toBe(201);
    expect(child.body.api_token.permissions).toEqual(['ai_threads.view']);
  });
});

describe('authenticating with an API token', () => {
  it('gives /me the token as the means, and exactly the permissions asked for', async () => {
    const user = await app.signUp();
    const created = await createApiToken(app, user.token, { permissions: ['ai_thread_messages.view', 'ai_threads.view'] });
    const me = await app.api('GET', '/me', { token: created.token });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(user.id);
    expect(me.body.auth).toStrictEqual({ type: 'api_token', api_token_id: created.api_token.id });
    expect([...me.body.permissions].sort()).toEqual(['ai_thread_messages.view', 'ai_threads.view']);
  });

  it('records when the token was last used', async () => {
    const user = await app.signUp();
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const before = Date.now();
    expect((await app.api('GET', '/me', { token: created.token })).status).toBe(200);
    // The use is recorded once the response has gone (refused requests record nothing): poll for it.
    let got = await app.api('GET', `/api-tokens/${created.api_token.id}`, { token: user.token });
    for (let i = 0; i < 50 && got.body.last_used_at === null; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      got = await app.api('GET', `/api-tokens/${created.api_token.id}`, { token: user.token });
    }
    expect(Date.parse(got.body.last_used_at)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });
});

describe('GET /api-tokens', () => {
  let user: TestUser;
  let ids: number[];
  beforeAll(async () => {
    user = await app.signUp();
    ids = [];
    for (const name of ['one', 'two', 'three', 'four', 'five']) {
      ids.push((await createApiToken(app, user.token, { name, permissions: ['ai_threads.view'] })).api_token.id);
    }
  });

  it('lists the caller\'s tokens newest first, without secrets', async () => {
    const res = await app.api('GET', '/api-tokens', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.data.map((t: { id: number }) => t.id)).toEqual([...ids].reverse());
    expect(res.body.has_more).toBe(false);
    expect(res.body.next_cursor).toBeNull();
    for (const token of res.body.data) {
      expect(Object.keys(token).sort()).toEqual(
        ['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'permissions', 'token_prefix'],
      );
    }
  });

  it('pages with limit and after', async () => {
    const first = await app.api('GET', '/api-tokens?limit=2', { token: user.token });
    expect(first.body.data.map((t: { id: number }) => t.id)).toEqual([ids[4], ids[3]]);
    expect(first.body).toMatchObject({ has_more: true, next_cursor: ids[3] });

    const second = await app.api('GET', `/api-tokens?limit=2&after=${first.body.next_cursor}`, { token: user.token });
    expect(second.body.data.map((t: { id: number }) => t.id)).toEqual([ids[2], ids[1]]);
    expect(second.body).toMatchObject({ has_more: true, next_cursor: ids[1] });

    const last = await app.api('GET', `/api-tokens?limit=2&after=${second.body.next_cursor}`, { token: user.token });
    expect(last.body.data.map((t: { id: number }) => t.id)).toEqual([ids[0]]);
    expect(last.body).toMatchObject({ has_more: false, next_cursor: null });
  });

  it('shows only the caller\'s own tokens', async () => {
    const other = await app.signUp();
    await createApiToken(app, other.token, { permissions: ['ai_threads.view'] });
    const res = await app.api('GET', '/api-tokens', { token: user.token });
    expect(res.body.data.map((t: { id: number }) => t.id).sort()).toEqual([...ids].sort());
  });
});

describe('GET /api-tokens/{id}', () => {
  it('answers the token as created, without its secret', async () => {
    const user = await app.signUp();
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const res = await app.api('GET', `/api-tokens/${created.api_token.id}`, { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual(created.api_token);
    expect(res.text).not.toContain(tokenParts(created.token).secret);
  });
});

describe('DELETE /api-tokens/{id}', () => {
  it('answers 204; the token stops working and leaves the list', async () => {
    const user = await app.signUp();
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const kept = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });

    const res = await app.api('DELETE', `/api-tokens/${created.api_token.id}`, { token: user.token });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');

    expect((await app.api('GET', '/me', { token: created.token })).status).toBe(401);
    expect((await app.api('GET', `/api-tokens/${created.api_token.id}`, { token: user.token })).status).toBe(404);
    const list = await app.api('GET', '/api-tokens', { token: user.token });
    expect(list.body.data.map((t: { id: number }) => t.id)).toEqual([kept.api_token.id]);
    expect((await app.api('GET', '/me', { token: kept.token })).status).toBe(200);
  });

  it('a token can revoke itself', async () => {
    const user = await app.signUp();
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    expect((await app.api('DELETE', `/api-tokens/${created.api_token.id}`, { token: created.token })).status).toBe(204);
    expect((await app.api('GET', '/me', { token: created.token })).status).toBe(401);
  });
});

describe('the tRPC face', () => {
  it('creates, lists, gets and revokes as REST does', async () => {
    const user = await app.signUp();
    const options = { token: user.token };
    const created = await trpc(app, 'mutation', 'apiTokens.create', { name: 'rpc', permissions: ['ai_threads.view'] }, options);
    expect(created.status).toBe(201);
    const { api_token, token } = created.body.result.data;
    expect(token).toMatch(/^ait_/);

    const list = await trpc(app, 'query', 'apiTokens.list', { limit: 10 }, options);
    expect(list.body.result.data).toStrictEqual({ data: [api_token], has_more: false, next_cursor: null });

    const got = await trpc(app, 'query', 'apiTokens.get', { id: api_token.id }, options);
    expect(got.body.result.data).toStrictEqual(api_token);

    // tRPC answers 200 where REST answers 204: its client expects a body.
    const revoked = await trpc(app, 'mutation', 'apiTokens.revoke', { id: api_token.id }, options);
    expect(revoked.status).toBe(200);
    expect((await app.api('GET', '/me', { token })).status).toBe(401);
  });
});
