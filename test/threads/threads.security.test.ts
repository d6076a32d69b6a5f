// Who may touch a thread: 401 without valid credentials, 403 for a token without the permission
// (before 422 and 404), and another user's thread answered exactly like a missing one (404, never
// 403 or 200). A refused request stores and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import { cookieHeaders, createApiToken, FORBIDDEN, UNAUTHENTICATED, VIEWER_PERMISSIONS } from '../support/helpers.js';
import { expectStoresNothing, MISSING_ID, newThread } from '../support/threads.js';

let app: TestApp;
let owner: TestUser;
let stranger: TestUser;
let thread: { id: number } & Record<string, unknown>;
beforeAll(async () => {
  app = await startTestApp();
  owner = await app.signUp();
  stranger = await app.signUp();
  thread = await newThread(app, owner, { title: 'Private', instructions: 'Secret rules', metadata: { k: 'v' }, state: { s: 1 } });
});
afterAll(async () => {
  await app?.close();
});

type Call = [method: string, path: (id: number | string) => string, body?: unknown];
const OPERATIONS: Record<string, Call> = {
  create: ['POST', () => '/ai/threads', { title: 'x' }],
  list: ['GET', () => '/ai/threads'],
  get: ['GET', (id) => `/ai/threads/${id}`],
  update: ['PATCH', (id) => `/ai/threads/${id}`, { title: 'Hijacked' }],
  delete: ['DELETE', (id) => `/ai/threads/${id}`],
};

async function expectThreadUnchanged() {
  const res = await app.api('GET', `/ai/threads/${thread.id}`, { token: owner.token });
  expect(res.body).toStrictEqual(thread);
}

describe('401', () => {
  it.each(Object.keys(OPERATIONS))('%s without credentials, or with unknown ones', async (name) => {
    const [method, path, body] = OPERATIONS[name]!;
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer sess_nope.nope' },
      { authorization: 'Basic dXNlcjpwYXNz' },
    ];
    for (const headers of attempts) {
      const res = await expectStoresNothing(app, () => app.api(method, path(thread.id), { body, headers }));
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 401, body: UNAUTHENTICATED });
    }
    await expectThreadUnchanged();
  });

  it('comes before 422 and 404', async () => {
    const invalid = await app.api('PATCH', `/ai/threads/abc`, { body: { title: '' } });
    expect({ status: invalid.status, body: invalid.body }).toStrictEqual({ status: 401, body: UNAUTHENTICATED });
    const missing = await app.api('GET', `/ai/threads/${MISSING_ID}`);
    expect(missing.status).toBe(401);
  });
});

describe('403', () => {
  it('refuses a read-only token every change, and lets it read', async () => {
    const { token } = await createApiToken(app, owner.token, { permissions: VIEWER_PERMISSIONS });
    for (const name of ['create', 'update', 'delete']) {
      const [method, path, body] = OPERATIONS[name]!;
      const res = await expectStoresNothing(app, () => app.api(method, path(thread.id), { token, body }));
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 403, body: FORBIDDEN });
    }
    await expectThreadUnchanged();
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token })).body).toStrictEqual(thread);
    expect((await app.api('GET', '/ai/threads', { token })).body.data.map((t: { id: number }) => t.id)).toContain(thread.id);
  });

  it('refuses a token that may create but not view', async () => {
    const { token } = await createApiToken(app, owner.token, { permissions: ['ai_threads.create'] });
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token })).status).toBe(403);
    expect((await app.api('GET', '/ai/threads', { token })).status).toBe(403);
    expect((await app.api('POST', '/ai/threads', { token, body: {} })).status).toBe(201);
  });

  it('comes before 422 and 404', async () => {
    const { token } = await createApiToken(app, owner.token, { permissions: VIEWER_PERMISSIONS });
    const cases: Array<[string, string, unknown]> = [
      ['POST', '/ai/threads', { title: '', state: [] }],
      ['PATCH', `/ai/threads/${MISSING_ID}`, { title: 'x' }],
      ['PATCH', '/ai/threads/abc', { title: '' }],
      ['DELETE', `/ai/threads/${MISSING_ID}`, undefined],
      ['DELETE', '/ai/threads/0', undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await expectStoresNothing(app, () => app.api(method, path, { token, body }));
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 403, body: FORBIDDEN });
    }
  });

  it('refuses a cookie-authenticated change from another origin', async () => {
    const res = await expectStoresNothing(app, () =>
      app.api('PATCH', `/ai/threads/${thread.id}`, {
        body: { title: 'Cross-site' },
        headers: cookieHeaders(owner.token, 'https://evil.example'),
      }),
    );
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 403, body: FORBIDDEN });
    await expectThreadUnchanged();
  });
});

describe("another user's thread", () => {
  it.each(['get', 'update', 'delete'])('%s: 404 exactly like a missing thread', async (name) => {
    const [method, path, body] = OPERATIONS[name]!;
    const theirs = await expectStoresNothing(app, () => app.api(method, path(thread.id), { token: stranger.token, body }));
    const missing = await expectStoresNothing(app, () => app.api(method, path(MISSING_ID), { token: stranger.token, body }));
    expect(theirs.status).toBe(404);
    expect({ status: theirs.status, body: theirs.body }).toStrictEqual({ status: missing.status, body: missing.body });
    expect(theirs.body).toStrictEqual({ message: 'Thread not found.' });
    await expectThreadUnchanged();
  });

  it('is never listed, whatever the filter or cursor', async () => {
    const mine = await newThread(app, stranger, { metadata: { k: 'v' } });
    const cases = ['', '?metadata_key=k', '?metadata_key=k&metadata_value=v', `?after=${thread.id + 1}`, `?before=${Math.max(1, thread.id - 1)}`];
    for (const search of cases) {
      const res = await app.api('GET', `/ai/threads${search}`, { token: stranger.token });
      expect(res.status).toBe(200);
      expect(res.body.data.every((t: { id: number }) => t.id !== thread.id)).toBe(true);
    }
    const all = await app.api('GET', '/ai/threads?metadata_key=k', { token: stranger.token });
    expect(all.body.data.map((t: { id: number }) => t.id)).toEqual([mine.id]);
  });
});
