// Who may read and post messages: 401, 403 for a token without `ai_thread_messages.create`, another
// user's thread answered exactly like a missing one, and the per-user message rate limit (429 with
// its headers). The order of checks is the spec's: 401, 429, 403, 422, 404. A refused request
// stores nothing and never reaches the model.
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type ApiResponse, type TestApp, type TestUser } from '../support/harness.js';
import { createApiToken, FORBIDDEN, TOO_MANY, UNAUTHENTICATED, VIEWER_PERMISSIONS } from '../support/helpers.js';
import { expectStoresNothing, listAll, MISSING_ID, newThread, postMessage, sendMessage } from '../support/threads.js';

const { fake, startApp } = await harness({ app: false });

/** Refused: nothing stored and no model call. */
async function refused(target: TestApp, request: () => Promise<ApiResponse>): Promise<ApiResponse> {
  const calls = fake.requests.length;
  const res = await expectStoresNothing(target, request);
  expect(fake.requests.length).toBe(calls);
  return res;
}

const statusAndBody = (res: ApiResponse) => ({ status: res.status, body: res.body });

describe('credentials, permissions and ownership', () => {
  let app: TestApp;
  let owner: TestUser;
  let stranger: TestUser;
  let thread: { id: number } & Record<string, unknown>;
  let firstMessageId: number;
  beforeAll(async () => {
    app = await startApp();
    owner = await app.signUp();
    stranger = await app.signUp();
    thread = await newThread(app, owner, { state: { secret: 'owner only' } });
    firstMessageId = (await sendMessage(app, owner, thread.id, { content: 'Private words' })).createdMessage.id;
  });

  it('401 without credentials or with unknown ones, before 422 and 404', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer ait_nope.nope' }, { authorization: 'Bearer' }];
    for (const headers of attempts) {
      for (const [threadId, body] of [
        [thread.id, { content: 'hi' }],
        [thread.id, { content: '' }],
        [MISSING_ID, { content: 'hi' }],
        ['abc', {}],
      ] as const) {
        const res = await refused(app, () => app.api('POST', `/ai/threads/${threadId}/messages`, { body, headers }));
        expect(statusAndBody(res)).toStrictEqual({ status: 401, body: UNAUTHENTICATED });
      }
      expect(statusAndBody(await app.api('GET', `/ai/threads/${thread.id}/messages`, { headers }))).toStrictEqual({
        status: 401,
        body: UNAUTHENTICATED,
      });
      expect((await app.api('GET', `/ai/threads/${thread.id}/messages/${firstMessageId}`, { headers })).status).toBe(401);
    }
  });

  it('403 for a token without ai_thread_messages.create, which may still read', async () => {
    const { token } = await createApiToken(app, owner.token, { permissions: VIEWER_PERMISSIONS });
    const res = await refused(app, () => postMessage(app, token, thread.id, { content: 'Hello!', state: { a: 1 } }));
    expect(statusAndBody(res)).toStrictEqual({ status: 403, body: FORBIDDEN });

    const listed = await app.api('GET', `/ai/threads/${thread.id}/messages`, { token });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((m: { id: number }) => m.id)).toContain(firstMessageId);
    expect((await app.api('GET', `/ai/threads/${thread.id}/messages/${firstMessageId}`, { token })).status).toBe(200);
  });

  it('403 for a token that may create messages but not read them', async () => {
    const { token } = await createApiToken(app, owner.token, { permissions: ['ai_thread_messages.create'] });
    expect(statusAndBody(await app.api('GET', `/ai/threads/${thread.id}/messages`, { token }))).toStrictEqual({
      status: 403,
      body: FORBIDDEN,
    });
    expect((await app.api('GET', `/ai/threads/${thread.id}/messages/${firstMessageId}`, { token })).status).toBe(403);
    expect((await postMessage(app, token, thread.id, { content: 'allowed' })).status).toBe(201);
  });

  it('403 comes before 422 and 404', async () => {
    const { token } = await createApiToken(app, owner.token, { permissions: VIEWER_PERMISSIONS });
    const cases: Array<[number | string, unknown, Record<string, string>]> = [
      [thread.id, { content: '' }, {}],
      [thread.id, { content: 'x'.repeat(5001), state: [] }, {}],
      ['abc', { content: 'hi' }, {}],
      [MISSING_ID, { content: 'hi' }, {}],
      [MISSING_ID, { content: '' }, {}],
      [thread.id, { content: 'hi' }, { 'idempotency-key': 'bad key' }],
    ];
    for (const [threadId, body, headers] of cases) {
      const res = await refused(app, () => postMessage(app, token, threadId, body, headers));
      expect(statusAndBody(res)).toStrictEqual({ status: 403, body: FORBIDDEN });
    }
  });

  it("answers 404 for another user's thread exactly as for a missing one: create, list, get", async () => {
    const pairs: Array<[() => Promise<ApiResponse>, () => Promise<ApiResponse>]> = [
      [
        () => postMessage(app, stranger.token, thread.id, { content: 'Let me in', state: { secret: 'overwritten' } }),
        () => postMessage(app, stranger.token, MISSING_ID, { content: 'Let me in', state: { secret: 'overwritten' } }),
      ],
      [
        () => app.api('GET', `/ai/threads/${thread.id}/messages`, { token: stranger.token }),
        () => app.api('GET', `/ai/threads/${MISSING_ID}/messages`, { token: stranger.token }),
      ],
      [
        () => app.api('GET', `/ai/threads/${thread.id}/messages/${firstMessageId}`, { token: stranger.token }),
        () => app.api('GET', `/ai/threads/${MISSING_ID}/messages/${firstMessageId}`, { token: stranger.token }),
      ],
    ];
    for (const [theirs, missing] of pairs) {
      const a = await refused(app, theirs);
      const b = await refused(app, missing);
      expect(statusAndBody(a)).toStrictEqual({ status: 404, body: { message: 'Thread not found.' } });
      expect(statusAndBody(a)).toStrictEqual(statusAndBody(b));
    }
    const owned = await app.api('GET', `/ai/threads/${thread.id}`, { token: owner.token });
    expect(owned.body.state).toStrictEqual({ secret: 'owner only' });
  });

  it("does not show another user's message through one's own thread", async () => {
    const mine = await newThread(app, stranger);
    const res = await app.api('GET', `/ai/threads/${mine.id}/messages/${firstMessageId}`, { token: stranger.token });
    expect(statusAndBody(res)).toStrictEqual({ status: 404, body: { message: 'Message not found.' } });
    expect(await listAll(app, stranger, mine.id)).toEqual([]);
  });

  it("an API token reaches only its owner's threads", async () => {
    const { token } = await createApiToken(app, stranger.token, { permissions: ['ai_thread_messages.create', 'ai_thread_messages.view'] });
    const res = await refused(app, () => postMessage(app, token, thread.id, { content: 'hi' }));
    expect(statusAndBody(res)).toStrictEqual({ status: 404, body: { message: 'Thread not found.' } });
  });
});

describe('429: the message rate limit (RATE_LIMIT_MESSAGES_PER_MINUTE=2)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '2' } });
  });

  it('refuses the third message of a minute with Retry-After and X-RateLimit-*, storing nothing', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const first = await postMessage(app, user.token, thread.id, { content: 'one' });
    expect(first.status).toBe(201);
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    const second = await postMessage(app, user.token, thread.id, { content: 'two' });
    expect(second.status).toBe(201);
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0');

    const third = await refused(app, () => postMessage(app, user.token, thread.id, { content: 'three' }));
    expect(statusAndBody(third)).toStrictEqual({ status: 429, body: TOO_MANY });
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(third.headers.get('x-ratelimit-limit')).toBe('2');
    expect(third.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await listAll(app, user, thread.id)).map((m) => m.content)).not.toContain('three');

    // Other calls have their own budget; other users theirs.
    const listed = await app.api('GET', `/ai/threads/${thread.id}/messages`, { token: user.token });
    expect(listed.status).toBe(200);
    const other = await app.signUp();
    expect((await postMessage(app, other.token, (await newThread(app, other)).id, { content: 'mine' })).status).toBe(201);
  });

  it('429 comes after 401 and before 403, 422 and 404', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const { token: viewer } = await createApiToken(app, user.token, { permissions: VIEWER_PERMISSIONS });
    await sendMessage(app, user, thread.id, { content: 'one' });
    await sendMessage(app, user, thread.id, { content: 'two' });

    const cases: Array<[string | undefined, number | string, unknown]> = [
      [viewer, thread.id, { content: 'hi' }],
      [user.token, thread.id, { content: '' }],
      [user.token, 'abc', { content: 'hi' }],
      [user.token, MISSING_ID, { content: 'hi' }],
    ];
    for (const [token, threadId, body] of cases) {
      const res = await refused(app, () => postMessage(app, token, threadId, body));
      expect(statusAndBody(res)).toStrictEqual({ status: 429, body: TOO_MANY });
      expect(res.headers.get('retry-after')).toBeTruthy();
    }
    const anonymous = await refused(app, () => postMessage(app, undefined, thread.id, { content: 'hi' }));
    expect(statusAndBody(anonymous)).toStrictEqual({ status: 401, body: UNAUTHENTICATED });
  });
});
