// API token security: the secret is shown once and stored as a hash; revoked and expired tokens
// answer exactly 401; a token never holds more than its owner holds now, and a call it lacks the
// permission for is 403 (checked on POST /ai/threads, the first permission-guarded operation);
// only a token given api_tokens.manage manages tokens, and never makes one that outlives it;
// cookie-authenticated token management needs a same-origin Origin (CSRF), Bearer calls need none.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import {
  FORBIDDEN,
  UNAUTHENTICATED,
  cookieHeaders,
  createApiToken,
  expectNothingStored,
  expectRestError,
  expectTrpcError,
  query,
  setRole,
  sha256Hex,
  tokenParts,
  trpc,
} from '../support/helpers.js';

const TOKEN_BODY = { name: 'csrf probe', permissions: ['ai_threads.view'] };

let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp();
  user = await app.signUp();
});
afterAll(async () => {
  await app?.close();
});

describe('the secret', () => {
  it('is stored only as the SHA-256 of its secret half; the token appears nowhere in the row', async () => {
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const { id, secret } = tokenParts(created.token);
    const [row] = await query<{ lookup_id: string; secret_hash: string }>(
      app,
      sql`select * from api_tokens where id = ${created.api_token.id}`,
    );
    expect(row!.lookup_id).toBe(id);
    expect(row!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.secret_hash).toBe(sha256Hex(secret));
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(created.token);
    expect(stored).not.toContain(secret);
  });

  it('is never shown again: not by list, not by get', async () => {
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const { secret } = tokenParts(created.token);
    for (const path of ['/api-tokens', `/api-tokens/${created.api_token.id}`]) {
      const res = await app.api('GET', path, { token: user.token });
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(secret);
    }
  });

  it('must match: a real token id with a forged secret is 401', async () => {
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const forged = `ait_${tokenParts(created.token).id}.${'a'.repeat(24)}`;
    expectRestError(await app.api('GET', '/me', { token: forged }), 401, UNAUTHENTICATED);
  });
});

describe('tokens that no longer work: exactly 401 {"message":"Unauthenticated."}', () => {
  it('a revoked token, on both faces', async () => {
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    expect((await app.api('DELETE', `/api-tokens/${created.api_token.id}`, { token: user.token })).status).toBe(204);

    const rest = await expectNothingStored(app, () => app.api('GET', '/me', { token: created.token }));
    expectRestError(rest, 401, UNAUTHENTICATED);
    expect(rest.text).toBe('{"message":"Unauthenticated."}');
    expectTrpcError(await trpc(app, 'query', 'me.get', undefined, { token: created.token }), 401, UNAUTHENTICATED.message);
  });

  it('an expired token, on both faces', async () => {
    const created = await createApiToken(app, user.token, {
      permissions: ['ai_threads.view'],
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect((await app.api('GET', '/me', { token: created.token })).status).toBe(200);
    await app.database.db.execute(
      sql`update api_tokens set expires_at = now() - interval '1 second' where id = ${created.api_token.id}`,
    );

    expectRestError(await app.api('GET', '/me', { token: created.token }), 401, UNAUTHENTICATED);
    expectTrpcError(await trpc(app, 'query', 'me.get', undefined, { token: created.token }), 401, UNAUTHENTICATED.message);
  });

  it('a revoked token cannot make tokens', async () => {
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    await app.api('DELETE', `/api-tokens/${created.api_token.id}`, { token: user.token });
    const res = await expectNothingStored(app, () => app.api('POST', '/api-tokens', { token: created.token, body: TOKEN_BODY }));
    expectRestError(res, 401, UNAUTHENTICATED);
  });
});

describe('a token never holds more than its owner holds now', () => {
  it('/me shows exactly the permissions the token was given', async () => {
    const owner = await app.signUp();
    const restricted = await createApiToken(app, owner.token, { permissions: ['ai_threads.view'] });
    const me = await app.api('GET', '/me', { token: restricted.token });
    expect(me.body.permissions).toEqual(['ai_threads.view']);
  });

  it('when the owner becomes a viewer, the token loses what the owner lost', async () => {
    const owner = await app.signUp();
    const broad = await createApiToken(app, owner.token, {
      permissions: ['ai_threads.view', 'ai_threads.create', 'ai_thread_messages.view', 'api_tokens.manage'],
    });
    await setRole(app, owner.id, 'viewer');

    const me = await app.api('GET', '/me', { token: broad.token });
    expect([...me.body.permissions].sort()).toEqual(['ai_thread_messages.view', 'ai_threads.view', 'api_tokens.manage']);
    const res = await create422(broad.token, ['ai_threads.create']);
    expect(res.body.errors).toStrictEqual({
      'permissions.0': ['The permissions.0 field must be a permission you hold (ai_threads.create is not).'],
    });
  });

  async function create422(token: string, permissions: string[]) {
    const res = await expectNothingStored(app, () => app.api('POST', '/api-tokens', { token, body: { name: 'x', permissions } }));
    expect(res.status).toBe(422);
    return res;
  }
});

describe('403: a caller or token without the permission', () => {
  const THREAD = { title: 'not allowed' };

  it('a token without ai_threads.create cannot create a thread, on either face; it can still read', async () => {
    const viewOnly = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const rest = await expectNothingStored(app, () => app.api('POST', '/ai/threads', { token: viewOnly.token, body: THREAD }));
    expectRestError(rest, 403, FORBIDDEN);
    expect(rest.text).toBe('{"message":"This action is unauthorized."}');

    const rpc = await expectNothingStored(app, () =>
      trpc(app, 'mutation', 'threads.create', THREAD, { token: viewOnly.token }),
    );
    expectTrpcError(rpc, 403, FORBIDDEN.message);

    expect((await app.api('GET', '/ai/threads', { token: viewOnly.token })).status).toBe(200);
  });

  it('a refused call does not even record the token as used', async () => {
    const viewOnly = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    expect((await app.api('POST', '/ai/threads', { token: viewOnly.token, body: THREAD })).status).toBe(403);
    expect((await app.api('POST', '/ai/threads', { token: viewOnly.token, body: { title: 42 } })).status).toBe(403);
    // Answered after the refusals, on the same connection order: the record would have been made by now.
    const got = await app.api('GET', `/api-tokens/${viewOnly.api_token.id}`, { token: user.token });
    expect(got.body.last_used_at).toBeNull();
  });

  it('403 comes before 422: an invalid body from a token without the permission is still 403', async () => {
    const viewOnly = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/ai/threads', { token: viewOnly.token, body: { title: 42, metadata: 'x' } }),
    );
    expectRestError(res, 403, FORBIDDEN);
  });

  it('a viewer cannot create threads, by session or by any token', async () => {
    const viewer = await app.signUp();
    const token = await createApiToken(app, viewer.token, { permissions: ['ai_threads.view', 'ai_threads.create'] });
    await setRole(app, viewer.id, 'viewer');
    for (const bearer of [viewer.token, token.token]) {
      const res = await expectNothingStored(app, () => app.api('POST', '/ai/threads', { token: bearer, body: THREAD }));
      expectRestError(res, 403, FORBIDDEN);
    }
    expect((await app.api('GET', '/ai/threads', { token: viewer.token })).status).toBe(200);
  });

  it('a token with the permission can', async () => {
    const creator = await createApiToken(app, user.token, { permissions: ['ai_threads.create'] });
    expect((await app.api('POST', '/ai/threads', { token: creator.token, body: THREAD })).status).toBe(201);
  });
});

describe('api_tokens.manage: only a token made for it manages tokens', () => {
  it('a token without it cannot create, list, get or revoke other tokens, on either face: 403, nothing changes', async () => {
    const owner = await app.signUp();
    const other = await createApiToken(app, owner.token, { permissions: ['ai_threads.view'] });
    const viewOnly = await createApiToken(app, owner.token, { permissions: ['ai_threads.view'] });
    const bearer = { token: viewOnly.token };
    const otherPath = `/api-tokens/${other.api_token.id}`;

    const rest = [
      () => app.api('POST', '/api-tokens', { ...bearer, body: TOKEN_BODY }),
      () => app.api('GET', '/api-tokens', bearer),
      () => app.api('GET', otherPath, bearer),
      () => app.api('DELETE', otherPath, bearer),
      () => app.api('DELETE', '/api-tokens/999999', bearer),
    ];
    for (const call of rest) expectRestError(await expectNothingStored(app, call), 403, FORBIDDEN);

    const rpc = [
      () => trpc(app, 'mutation', 'apiTokens.create', TOKEN_BODY, bearer),
      () => trpc(app, 'query', 'apiTokens.list', {}, bearer),
      () => trpc(app, 'query', 'apiTokens.get', { id: other.api_token.id }, bearer),
      () => trpc(app, 'mutation', 'apiTokens.revoke', { id: other.api_token.id }, bearer),
    ];
    for (const call of rpc) expectTrpcError(await expectNothingStored(app, call), 403, FORBIDDEN.message);

    // Nothing was revoked: both tokens still work, and the owner still sees both.
    expect((await app.api('GET', '/me', { token: other.token })).status).toBe(200);
    expect((await app.api('GET', '/me', bearer)).status).toBe(200);
    const listed = await app.api('GET', '/api-tokens', { token: owner.token });
    expect(listed.body.data.map((t: { id: number }) => t.id).sort()).toEqual([other.api_token.id, viewOnly.api_token.id].sort());
  });

  it('a token given it manages its owner\'s tokens, and still gives no more than it holds', async () => {
    const owner = await app.signUp();
    const manager = await createApiToken(app, owner.token, { permissions: ['ai_threads.view', 'api_tokens.manage'] });
    expect((await app.api('GET', '/me', { token: manager.token })).body.permissions).toEqual(['ai_threads.view', 'api_tokens.manage']);

    const child = await createApiToken(app, manager.token, { permissions: ['ai_threads.view'] });
    expect((await app.api('GET', '/api-tokens', { token: manager.token })).status).toBe(200);
    expect((await trpc(app, 'query', 'apiTokens.get', { id: child.api_token.id }, { token: manager.token })).status).toBe(200);
    expect((await app.api('DELETE', `/api-tokens/${child.api_token.id}`, { token: manager.token })).status).toBe(204);
    expectRestError(await app.api('GET', '/me', { token: child.token }), 401, UNAUTHENTICATED);

    const more = await expectNothingStored(app, () =>
      app.api('POST', '/api-tokens', { token: manager.token, body: { name: 'x', permissions: ['ai_threads.create'] } }),
    );
    expect(more.status).toBe(422);
  });

  it('every session holds it, a viewer\'s too, by bearer or cookie', async () => {
    const viewer = await app.signUp();
    await setRole(app, viewer.id, 'viewer');
    const me = await app.api('GET', '/me', { token: viewer.token });
    expect(me.body.permissions).toContain('api_tokens.manage');

    const created = await app.api('POST', '/api-tokens', {
      headers: cookieHeaders(viewer.token, app.url),
      body: { name: 'viewer manager', permissions: ['ai_threads.view', 'api_tokens.manage'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.api_token.permissions).toEqual(['ai_threads.view', 'api_tokens.manage']);
    expect((await trpc(app, 'query', 'apiTokens.list', {}, { token: viewer.token })).status).toBe(200);
    expect((await app.api('DELETE', `/api-tokens/${created.body.api_token.id}`, { headers: cookieHeaders(viewer.token, app.url) })).status).toBe(204);
  });
});

describe('a token cannot outlive the token that made it', () => {
  const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

  async function expiringManager() {
    const owner = await app.signUp();
    const parent = await createApiToken(app, owner.token, {
      permissions: ['ai_threads.view', 'api_tokens.manage'],
      expires_at: inAnHour(),
    });
    return { owner, parent, until: String(parent.api_token['expires_at']) };
  }

  it('a token that expires cannot make one that never does, on either face: 422 on expires_at, nothing stored', async () => {
    const { parent, until } = await expiringManager();
    const body = { name: 'heir', permissions: ['ai_threads.view'] };
    const message = `The expires at field is required when a token that expires creates a token (at the latest ${until}).`;

    const rest = await expectNothingStored(app, () => app.api('POST', '/api-tokens', { token: parent.token, body }));
    expectRestError(rest, 422, { message, errors: { expires_at: [message] } });
    const rpc = await expectNothingStored(app, () => trpc(app, 'mutation', 'apiTokens.create', body, { token: parent.token }));
    expectTrpcError(rpc, 422, message, { expires_at: [message] });
  });

  it('nor one that expires after it, on either face; one expiring with it or before is made', async () => {
    const { parent, until } = await expiringManager();
    const later = { name: 'heir', permissions: ['ai_threads.view'], expires_at: new Date(Date.parse(until) + 1000).toISOString() };
    const message = `The expires at field must be a date no later than ${until}, when the token making it expires.`;

    const rest = await expectNothingStored(app, () => app.api('POST', '/api-tokens', { token: parent.token, body: later }));
    expectRestError(rest, 422, { message, errors: { expires_at: [message] } });
    const rpc = await expectNothingStored(app, () => trpc(app, 'mutation', 'apiTokens.create', later, { token: parent.token }));
    expectTrpcError(rpc, 422, message, { expires_at: [message] });

    const same = await createApiToken(app, parent.token, { permissions: ['ai_threads.view'], expires_at: until });
    expect(same.api_token['expires_at']).toBe(until);
    const sooner = new Date(Date.parse(until) - 60_000).toISOString();
    const before = await trpc(app, 'mutation', 'apiTokens.create', { name: 'sooner', permissions: ['ai_threads.view'], expires_at: sooner }, { token: parent.token });
    expect(before.status).toBe(201);
    expect(before.body.result.data.api_token.expires_at).toBe(sooner);
  });

  it('a token that never expires, and a session, may make tokens that never expire', async () => {
    const owner = await app.signUp();
    const forever = await createApiToken(app, owner.token, { permissions: ['ai_threads.view', 'api_tokens.manage'] });
    expect(forever.api_token['expires_at']).toBeNull();
    const child = await createApiToken(app, forever.token, { permissions: ['ai_threads.view'] });
    expect(child.api_token['expires_at']).toBeNull();
  });
});

describe('CSRF on token management by cookie', () => {
  it.each([
    ['no Origin', undefined],
    ['another site', 'https://evil.example'],
    ['another port of this host', 'http://127.0.0.1:1'],
  ])('POST /api-tokens with %s: 403, nothing stored', async (_label, origin) => {
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/api-tokens', { headers: cookieHeaders(user.token, origin), body: TOKEN_BODY }),
    );
    expectRestError(res, 403, FORBIDDEN);
    expect(res.text).toBe('{"message":"This action is unauthorized."}');
  });

  it('the tRPC face applies the same check', async () => {
    const res = await expectNothingStored(app, () =>
      trpc(app, 'mutation', 'apiTokens.create', TOKEN_BODY, { headers: cookieHeaders(user.token) }),
    );
    expectTrpcError(res, 403, FORBIDDEN.message);
  });

  it('DELETE /api-tokens/{id} without Origin: 403, and the token still works', async () => {
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const res = await app.api('DELETE', `/api-tokens/${created.api_token.id}`, { headers: cookieHeaders(user.token) });
    expectRestError(res, 403, FORBIDDEN);
    expect((await app.api('GET', '/me', { token: created.token })).status).toBe(200);
  });

  it('with the matching Origin: 201', async () => {
    const res = await app.api('POST', '/api-tokens', { headers: cookieHeaders(user.token, app.url), body: TOKEN_BODY });
    expect(res.status).toBe(201);
  });

  it('Bearer calls need no Origin (a cross-site page cannot set the header)', async () => {
    const res = await app.api('POST', '/api-tokens', { token: user.token, body: TOKEN_BODY });
    expect(res.status).toBe(201);
    const apiToken = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    expect((await app.api('DELETE', `/api-tokens/${apiToken.api_token.id}`, { token: apiToken.token })).status).toBe(204);
  });

  it('reads by cookie need no Origin', async () => {
    expect((await app.api('GET', '/api-tokens', { headers: cookieHeaders(user.token) })).status).toBe(200);
  });
});

describe('ALLOWED_ORIGINS', () => {
  let trusting: TestApp;
  beforeAll(async () => {
    trusting = await startTestApp({ env: { ALLOWED_ORIGINS: 'https://app.example, https://admin.example' } });
  });
  afterAll(async () => {
    await trusting?.close();
  });

  it('lets a listed front end make cookie-authenticated changes, and no other', async () => {
    const owner = await trusting.signUp();
    const allowed = await trusting.api('POST', '/api-tokens', {
      headers: cookieHeaders(owner.token, 'https://admin.example'),
      body: TOKEN_BODY,
    });
    expect(allowed.status).toBe(201);
    const refused = await trusting.api('POST', '/api-tokens', {
      headers: cookieHeaders(owner.token, 'https://app.example.evil.test'),
      body: TOKEN_BODY,
    });
    expectRestError(refused, 403, FORBIDDEN);
  });
});
