// Ids and numbers in paths, queries and tRPC inputs are what they say, never coerced: on REST a
// path or query value is plain decimal digits ("12"), on tRPC a JSON integer (12). Anything else
// ("0x10", " 12 ", "1e1", "+1", "1.0", true, [1], "12" on tRPC) is the 422 of the error table,
// naming the field, and stores nothing — even where coercion would have reached an existing
// thread of the caller's. Runs on the offline model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import { trpc } from '../support/helpers.js';
import { openStream, refusedStream } from '../support/sse.js';
import { expect422, expectStoresNothing, newThread, postMessage } from '../support/threads.js';

let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '10000', RATE_LIMIT_REQUESTS_PER_MINUTE: '100000' } });
  user = await app.signUp();
  // Threads 1 to 16 are the caller's, so that a coerced "0x10" or " 12 " would find a thread.
  for (let id = 0; id < 16; ) id = (await newThread(app, user, { title: 'target' })).id;
});
afterAll(async () => {
  await app?.close();
});

const INTEGER = 'must be an integer';
const threadIdError = (fragment = INTEGER) => ({ 'thread-id': [`The thread id field ${fragment}.`] });

/** Thread ids as a URL path segment, each the spelling of an id that exists (16, 12, 10, 1) or none. */
const BAD_THREAD_IDS: Array<[string, string]> = [
  ['0x10', INTEGER],
  ['%20%2012%20%20', INTEGER],
  ['12%20', INTEGER],
  ['1e1', INTEGER],
  ['+1', INTEGER],
  ['-1', 'must be at least 1'],
  ['1.0', INTEGER],
  ['012', INTEGER],
  ['12abc', INTEGER],
];

describe('REST: a thread id in the path is plain decimal digits', () => {
  it.each(BAD_THREAD_IDS)('%s → 422 on thread-id for create, stream, list, get and delete; nothing stored', async (id, fragment) => {
    const errors = threadIdError(fragment);
    const token = user.token;
    expect422(await expectStoresNothing(app, () => postMessage(app, token, id, { content: 'hi' })), errors);
    const stream = await expectStoresNothing(app, () => refusedStream(app, id, { token, body: { content: 'hi' } }));
    expect422(stream as never, errors);
    expect422(await app.api('GET', `/ai/threads/${id}/messages`, { token }), errors);
    expect422(await app.api('GET', `/ai/threads/${id}`, { token }), errors);
    expect422(await expectStoresNothing(app, () => app.api('DELETE', `/ai/threads/${id}`, { token })), errors);
    expect((await app.api('GET', '/ai/threads/16', { token })).status).toBe(200);
  });

  it('a message id and an API token id too', async () => {
    const errors = { 'message-id': [`The message id field ${INTEGER}.`] };
    expect422(await app.api('GET', '/ai/threads/1/messages/0x1', { token: user.token }), errors);
    expect422(await app.api('GET', '/api-tokens/%201', { token: user.token }), { id: [`The id field ${INTEGER}.`] });
  });

  it('takes "12" for thread 12: create, stream, list and get', async () => {
    const created = await postMessage(app, user.token, '12', { content: 'hello' });
    expect(created.status, created.text).toBe(201);
    expect(created.body.createdMessage.thread_id).toBe(12);
    const stream = await openStream(app, '12', { token: user.token, body: { content: 'again' } });
    const done = await stream.until((event) => event.event === 'response.completed');
    expect(done.data.createdMessage.thread_id).toBe(12);
    const list = await app.api('GET', '/ai/threads/12/messages?limit=3', { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(3);
    expect((await app.api('GET', '/ai/threads/12', { token: user.token })).body.id).toBe(12);
  });
});

describe('REST: numbers in the query are plain decimal digits', () => {
  it.each([
    ['limit=0x20', 'limit'],
    ['limit=1e1', 'limit'],
    ['limit=%2B5', 'limit'],
    ['limit=%205', 'limit'],
    ['limit=5.0', 'limit'],
    ['limit=05', 'limit'],
    ['after=0x1', 'after'],
    ['before=1e1', 'before'],
  ])('?%s → 422 on %s, for threads and messages', async (search, field) => {
    const errors = { [field]: [`The ${field} field ${INTEGER}.`] };
    expect422(await app.api('GET', `/ai/threads?${search}`, { token: user.token }), errors);
    expect422(await app.api('GET', `/ai/threads/1/messages?${search}`, { token: user.token }), errors);
  });

  it('takes limit=5 and after=3', async () => {
    const res = await app.api('GET', '/ai/threads?limit=5&after=3', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.data.map((t: { id: number }) => t.id)).toEqual([2, 1]);
  });
});

describe('tRPC: ids and numbers are JSON integers', () => {
  // trpc-to-openapi sets coercion on number schemas at a REST request of the same procedure, and
  // the schemas are shared with the tRPC face: each case runs after one.
  beforeAll(async () => {
    expect((await postMessage(app, user.token, 1, { content: 'warm up' })).status).toBe(201);
    expect((await app.api('GET', '/ai/threads?limit=2', { token: user.token })).status).toBe(200);
    expect((await app.api('GET', '/ai/threads/1', { token: user.token })).status).toBe(200);
  });

  it.each([
    ['true', true],
    ['[1]', [1]],
    ['"1"', '1'],
    ['1.5', 1.5],
    ['null', null],
    ['{}', {}],
  ])('messages.create with threadId %s → 422 on thread-id, nothing stored', async (_label, threadId) => {
    const res = await expectStoresNothing(app, () =>
      trpc(app, 'mutation', 'messages.create', { threadId, content: 'hi' }, { token: user.token }),
    );
    const message = threadId === null ? 'The thread id field is required.' : `The thread id field ${INTEGER}.`;
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe(message);
    expect(res.body.error.data.errors).toStrictEqual({ 'thread-id': [message] });
  });

  it.each([
    ['[3]', [3]],
    ['"3"', '3'],
    ['true', true],
    ['3.5', 3.5],
  ])('threads.list with limit %s → 422 on limit', async (_label, limit) => {
    const res = await trpc(app, 'query', 'threads.list', { limit }, { token: user.token });
    expect(res.status).toBe(422);
    expect(res.body.error.data.errors).toStrictEqual({ limit: [`The limit field ${INTEGER}.`] });
  });

  it('threads.get with threadId [1] → 422', async () => {
    const res = await trpc(app, 'query', 'threads.get', { threadId: [1] }, { token: user.token });
    expect(res.status).toBe(422);
    expect(res.body.error.data.errors).toStrictEqual(threadIdError());
  });

  it('takes threadId 12 and limit 3', async () => {
    const created = await trpc(app, 'mutation', 'messages.create', { threadId: 12, content: 'hi' }, { token: user.token });
    expect(created.status).toBe(201);
    expect(created.body.result.data.createdMessage.thread_id).toBe(12);
    const list = await trpc(app, 'query', 'threads.list', { limit: 3 }, { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body.result.data.data).toHaveLength(3);
  });
});
