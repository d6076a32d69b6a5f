// API token refusals: validation (422 with field errors), permissions outside the caller's (422),
// someone else's token (404, never 403), and nothing stored by any of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import {
  VIEWER_PERMISSIONS,
  createApiToken,
  expectNothingStored,
  expectRestError,
  expectTrpcError,
  setRole,
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

const create = (token: string, body: unknown) =>
  expectNothingStored(app, () => app.api('POST', '/api-tokens', { token, body }));

describe('POST /api-tokens validation', () => {
  it('an unknown permission: 422 on that item', async () => {
    const res = await create(user.token, { name: 'x', permissions: ['ai_threads.view', 'threads.everything'] });
    const message = 'The permissions.1 field must be a known permission (threads.everything is not).';
    expectRestError(res, 422, { message, errors: { 'permissions.1': [message] } });
  });

  it('missing name and permissions: 422 naming both', async () => {
    const res = await create(user.token, {});
    expectRestError(res, 422, {
      message: 'The name field is required. (and 1 more error)',
      errors: { name: ['The name field is required.'], permissions: ['The permissions field is required.'] },
    });
  });

  it('a blank name and no permissions', async () => {
    const res = await create(user.token, { name: '   ', permissions: [] });
    expectRestError(res, 422, {
      message: 'The name field is required. (and 1 more error)',
      errors: { name: ['The name field is required.'], permissions: ['The permissions field must have at least 1 item.'] },
    });
  });

  it('an expiry in the past, or not a date', async () => {
    const past = await create(user.token, { name: 'x', permissions: ['ai_threads.view'], expires_at: '2000-01-01T00:00:00Z' });
    expectRestError(past, 422, {
      message: 'The expires at field must be a date in the future.',
      errors: { expires_at: ['The expires at field must be a date in the future.'] },
    });
    const garbage = await create(user.token, { name: 'x', permissions: ['ai_threads.view'], expires_at: 'tomorrow' });
    expect(garbage.status).toBe(422);
    expect(Object.keys(garbage.body.errors)).toEqual(['expires_at']);
  });

  it('the tRPC face answers the same', async () => {
    const body = { name: 'x', permissions: ['nope'] };
    const rest = await create(user.token, body);
    const rpc = await expectNothingStored(app, () => trpc(app, 'mutation', 'apiTokens.create', body, { token: user.token }));
    expectTrpcError(rpc, 422, rest.body.message, rest.body.errors);
  });
});

describe('permissions outside the caller\'s', () => {
  it('a token cannot make a token with a permission it lacks: 422', async () => {
    const viewOnly = await createApiToken(app, user.token, { permissions: ['ai_threads.view', 'api_tokens.manage'] });
    const res = await create(viewOnly.token, { name: 'escalate', permissions: ['ai_threads.view', 'ai_threads.create'] });
    const message = 'The permissions.1 field must be a permission you hold (ai_threads.create is not).';
    expectRestError(res, 422, { message, errors: { 'permissions.1': [message] } });
  });

  it('a viewer has fewer permissions, and cannot give a token more', async () => {
    const viewer = await app.signUp();
    await setRole(app, viewer.id, 'viewer');

    const me = await app.api('GET', '/me', { token: viewer.token });
    expect(me.body.user.role).toBe('viewer');
    expect([...me.body.permissions].sort()).toEqual(VIEWER_PERMISSIONS);

    const res = await create(viewer.token, { name: 'more', permissions: ['ai_threads.create'] });
    const message = 'The permissions.0 field must be a permission you hold (ai_threads.create is not).';
    expectRestError(res, 422, { message, errors: { 'permissions.0': [message] } });

    const ok = await createApiToken(app, viewer.token, { permissions: ['ai_threads.view'] });
    expect(ok.api_token.permissions).toEqual(['ai_threads.view']);
  });
});

describe('someone else\'s token: 404, as if it did not exist', () => {
  it('get and revoke', async () => {
    const owner = await app.signUp();
    const theirs = await createApiToken(app, owner.token, { permissions: ['ai_threads.view'] });
    const path = `/api-tokens/${theirs.api_token.id}`;

    expectRestError(await app.api('GET', path, { token: user.token }), 404, { message: 'API token not found.' });
    const revoke = await expectNothingStored(app, () => app.api('DELETE', path, { token: user.token }));
    expectRestError(revoke, 404, { message: 'API token not found.' });

    expect((await app.api('GET', '/me', { token: theirs.token })).status).toBe(200);
    const rpc = await trpc(app, 'query', 'apiTokens.get', { id: theirs.api_token.id }, { token: user.token });
    expectTrpcError(rpc, 404, 'API token not found.');
  });

  it('an id that does not exist', async () => {
    expectRestError(await app.api('GET', '/api-tokens/999999', { token: user.token }), 404, { message: 'API token not found.' });
    expectRestError(await app.api('DELETE', '/api-tokens/999999', { token: user.token }), 404, {
      message: 'API token not found.',
    });
  });

  it('a token already revoked', async () => {
    const created = await createApiToken(app, user.token, { permissions: ['ai_threads.view'] });
    const path = `/api-tokens/${created.api_token.id}`;
    expect((await app.api('DELETE', path, { token: user.token })).status).toBe(204);
    expectRestError(await app.api('DELETE', path, { token: user.token }), 404, { message: 'API token not found.' });
  });
});

describe('path and query parameters are validated too', () => {
  it.each([
    ['abc', 'The id field must be an integer.'],
    ['0', 'The id field must be at least 1.'],
    ['1.5', 'The id field must be an integer.'],
  ])('id %s: 422', async (id, message) => {
    expectRestError(await app.api('GET', `/api-tokens/${id}`, { token: user.token }), 422, {
      message,
      errors: { id: [message] },
    });
  });

  it.each([
    ['limit=0', 'limit', 'The limit field must be at least 1.'],
    ['limit=101', 'limit', 'The limit field must not be greater than 100.'],
    ['after=x', 'after', 'The after field must be an integer.'],
  ])('%s: 422', async (q, field, message) => {
    expectRestError(await app.api('GET', `/api-tokens?${q}`, { token: user.token }), 422, {
      message,
      errors: { [field]: [message] },
    });
  });
});
