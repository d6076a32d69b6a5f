// Who may read and change a thread's state, on both faces: 401 without credentials, 403 for a token
// without ai_threads.view (reads) or ai_threads.update (writes), another user's thread answered
// exactly like a missing one (404) by every state and proposal operation, cookie writes from
// another site refused (403), and the request rate limit (429 before 403, 422, 428, 404, 412). A
// refused request stores and changes nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type TestApp, type TestUser } from '../support/harness.js';
import { cookieHeaders, createApiToken, FORBIDDEN, TOO_MANY, trpc, UNAUTHENTICATED, VIEWER_PERMISSIONS } from '../support/helpers.js';
import { MISSING_ID, sendMessage } from '../support/threads.js';
import { createThread, expectError, expectUnchanged, FACES, stateApi, type Answer, type Face } from './support.js';

const { app, user: owner, startApp } = await harness({ model: 'offline', env: { ALLOWED_ORIGINS: 'https://app.example' } });

const NOT_FOUND = { message: 'Thread not found.' };

let stranger: TestUser;
let threadId: number;
let messageId: number;
beforeAll(async () => {
  stranger = await app.signUp();
  threadId = await createThread(app, owner, { state: { secret: 'owner only' } });
  messageId = (await sendMessage(app, owner, threadId, { content: 'Hello' })).createdMessage.id;
});

/** Every state operation of a face, as `token` calls it, on a thread (conditional writes included). */
function operations(target: TestApp, face: Face, token: string) {
  const api = stateApi(target, face, token);
  const proposal = async (id: number, action: 'accept' | 'reject', body: Record<string, unknown>): Promise<Answer> => {
    const path = `/ai/threads/${id}/messages/${messageId}/proposal/${action}`;
    if (face === 'rest') {
      const res = await target.api('POST', path, { token, body });
      return { status: res.status, body: res.body, etag: res.headers.get('etag') };
    }
    const res = await trpc(target, 'mutation', `messages.proposal.${action}`, { threadId: id, messageId, ...body }, { token });
    return { status: res.status, body: res.status < 400 ? res.body.result.data : { message: res.body.error.message }, etag: null };
  };
  return {
    reads: {
      get: (id: number) => api.get(id),
      revisions: (id: number) => api.revisions(id),
      revision: (id: number) => api.revision(id, 1),
    },
    writes: {
      patch: (id: number) => api.patch(id, { merge_patch: { secret: 'changed' }, expected_version: 1 }),
      revert: (id: number) => api.revert(id, { version: 1, expected_version: 1 }),
      accept: (id: number) => proposal(id, 'accept', { expected_version: 1 }),
      reject: (id: number) => proposal(id, 'reject', {}),
    },
  };
}

describe.each(FACES)('%s', (face) => {
  it('401 without credentials, on every operation', async () => {
    const { reads, writes } = operations(app, face, '');
    for (const [name, call] of Object.entries({ ...reads, ...writes })) {
      const res = await expectUnchanged(app, threadId, () => call(threadId));
      expect({ status: res.status, body: res.body }, name).toStrictEqual({ status: 401, body: UNAUTHENTICATED });
    }
  });

  it("another user's thread is a 404 exactly like a missing one, on every operation", async () => {
    const { reads, writes } = operations(app, face, stranger.token);
    for (const [name, call] of Object.entries({ ...reads, ...writes })) {
      const theirs = await expectUnchanged(app, threadId, () => call(threadId));
      const missing = await call(MISSING_ID);
      expect({ status: theirs.status, body: theirs.body }, name).toStrictEqual({ status: 404, body: NOT_FOUND });
      expect({ status: missing.status, body: missing.body }, name).toStrictEqual({ status: 404, body: NOT_FOUND });
    }
    // If-Match: * is no way in either.
    if (face === 'rest') {
      const res = await app.api('PATCH', `/ai/threads/${threadId}/state`, {
        token: stranger.token,
        body: { merge_patch: { x: 1 } },
        headers: { 'if-match': '*' },
      });
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 404, body: NOT_FOUND });
    }
  });

  it('a message without a proposal: 404 on accept and reject', async () => {
    const { writes } = operations(app, face, owner.token);
    for (const call of [writes.accept, writes.reject]) {
      expectError(await expectUnchanged(app, threadId, () => call(threadId)), 404, { message: 'The message has no proposal.' });
    }
  });

  it('403 for a token without ai_threads.update on every write, before 422, 428 and 404; it may still read', async () => {
    const { token } = await createApiToken(app, owner.token, { permissions: VIEWER_PERMISSIONS });
    const { reads, writes } = operations(app, face, token);
    for (const [name, call] of Object.entries(writes)) {
      const res = await expectUnchanged(app, threadId, () => call(threadId));
      expect({ status: res.status, body: res.body }, name).toStrictEqual({ status: 403, body: FORBIDDEN });
    }
    const api = stateApi(app, face, token);
    for (const res of [
      await api.patch(threadId, { json_patch: 'nope' }),
      await api.patch(threadId, { merge_patch: {} }),
      await api.patch(MISSING_ID, { merge_patch: {}, expected_version: 0 }),
      await api.revert('abc', { version: 0 }),
    ]) {
      expectError(res, 403, FORBIDDEN);
    }
    for (const [name, call] of Object.entries(reads)) expect((await call(threadId)).status, name).toBe(200);
  });

  it('403 for a token without ai_threads.view on every read', async () => {
    const { token } = await createApiToken(app, owner.token, { permissions: ['ai_threads.update'] });
    const { reads } = operations(app, face, token);
    for (const [name, call] of Object.entries(reads)) {
      const res = await call(threadId);
      expect({ status: res.status, body: res.body }, name).toStrictEqual({ status: 403, body: FORBIDDEN });
    }
    expectError(await stateApi(app, face, token).get(MISSING_ID), 403, FORBIDDEN);
  });
});

describe('cookies from another site (CSRF)', () => {
  const evil = cookieHeaders(owner.token, 'https://evil.example');
  const writes: Array<[string, string, string, unknown, Record<string, string>]> = [
    ['patch (JSON)', 'PATCH', '/state', { merge_patch: { secret: 'csrf' } }, { 'if-match': '*' }],
    ['revert', 'POST', '/state/revert', { version: 1, expected_version: 1 }, {}],
  ];

  it.each(writes)('%s: 403, nothing stored', async (_label, method, path, body, headers) => {
    const res = await expectUnchanged(app, threadId, () =>
      app.api(method, `/ai/threads/${threadId}${path}`, { body, headers: { ...evil, ...headers } }),
    );
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 403, body: FORBIDDEN });
  });

  it('a raw merge patch from another site: 403, nothing stored', async () => {
    const res = await expectUnchanged(app, threadId, () =>
      app.api('PATCH', `/ai/threads/${threadId}/state`, {
        raw: '{"secret":"csrf"}',
        headers: { ...evil, 'content-type': 'application/merge-patch+json', 'if-match': '*' },
      }),
    );
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 403, body: FORBIDDEN });
  });

  it('a proposal accept from another site: 403', async () => {
    const res = await app.api('POST', `/ai/threads/${threadId}/messages/${messageId}/proposal/accept`, {
      body: { expected_version: 1 },
      headers: evil,
    });
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 403, body: FORBIDDEN });
  });

  it('the same calls from this site and a trusted origin are taken; reads by cookie stay open', async () => {
    const id = await createThread(app, owner, { state: { n: 0 } });
    for (const [n, origin] of [[1, app.url], [2, 'https://app.example']] as const) {
      const res = await app.api('PATCH', `/ai/threads/${id}/state`, {
        body: { merge_patch: { n } },
        headers: { ...cookieHeaders(owner.token, origin), 'if-match': `"${n}"` },
      });
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { state: { n }, version: n + 1 } });
    }
    const read = await app.api('GET', `/ai/threads/${id}/state`, { headers: evil });
    expect(read.status).toBe(200);
  });
});

describe('429: the request rate limit (RATE_LIMIT_REQUESTS_PER_MINUTE=3)', () => {
  it('comes after 401 and before 403, 422, 428, 404 and 412; nothing stored', async () => {
    const limited = await startApp({ model: 'offline', env: { RATE_LIMIT_REQUESTS_PER_MINUTE: '3' } });
    const user = await limited.signUp();
    const id = await createThread(limited, user, { state: { a: 1 } });
    const { token: viewer } = await createApiToken(limited, user.token, { permissions: VIEWER_PERMISSIONS });
    const api = stateApi(limited, 'rest', user.token);
    const last = await api.patch(id, { merge_patch: { a: 2 }, expected_version: 1 });
    expect(last.status).toBe(200);
    expect(last.rest!.headers.get('x-ratelimit-remaining')).toBe('0');

    const cases: Array<[string, () => Promise<Answer>]> = [
      ['403', () => stateApi(limited, 'rest', viewer).patch(id, { merge_patch: {}, expected_version: 2 })],
      ['422', () => api.patch(id, { json_patch: 'nope', expected_version: 2 })],
      ['428', () => api.patch(id, { merge_patch: { a: 3 } })],
      ['404', () => api.patch(MISSING_ID, { merge_patch: { a: 3 }, expected_version: 2 })],
      ['412', () => api.revert(id, { version: 1, expected_version: 1 })],
      ['a read', () => api.get(id)],
    ];
    for (const [name, call] of cases) {
      const res = await expectUnchanged(limited, id, call);
      expect({ status: res.status, body: res.body }, name).toStrictEqual({ status: 429, body: TOO_MANY });
      expect(res.rest!.headers.get('retry-after'), name).toMatch(/^[1-9][0-9]*$/);
    }
    const anonymous = await stateApi(limited, 'rest', '').patch(id, { merge_patch: {}, expected_version: 2 });
    expect({ status: anonymous.status, body: anonymous.body }).toStrictEqual({ status: 401, body: UNAUTHENTICATED });
  });
});
