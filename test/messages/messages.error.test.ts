// The seed endpoint refused or failed: every 422 (content, state, path parameters, the
// Idempotency-Key header, several at once), 400 and 413 bodies, 404s, and the AI provider failing
// (502) or timing out (504) with the user's message kept as `failed`. A refused request stores
// nothing and never calls the model; a failed answer leaves the thread free. Both faces.
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeStep } from '../fake-openai/server.js';
import { harness, type ApiResponse, type TestApp, type TestUser } from '../support/harness.js';
import { trpc, typedClient } from '../support/helpers.js';
import {
  expect422,
  expectErrorBody,
  expectStoresNothing,
  leaseOf,
  listAll,
  MISSING_ID,
  nested,
  newThread,
  postMessage,
  rawNested,
  sendMessage,
  sentMessages,
  trpcFailure,
} from '../support/threads.js';

let thread: { id: number } & Record<string, unknown>;
const { app, fake, user, startApp } = await harness();
beforeAll(async () => {
  thread = await newThread(app, user, { state: { kept: true } });
});

/** A request that must be refused: nothing stored, the model never called, the thread unchanged. */
async function refused(request: () => Promise<ApiResponse>): Promise<ApiResponse> {
  const calls = fake.requests.length;
  const before = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
  const res = await expectStoresNothing(app, request);
  expect(fake.requests.length).toBe(calls);
  const after = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
  expect(after.body).toStrictEqual(before.body);
  return res;
}

const send = (body: unknown, headers?: Record<string, string>, threadId: number | string = thread.id) =>
  refused(() => postMessage(app, user.token, threadId, body, headers));

describe('422: content', () => {
  it.each([
    ['missing', {}, 'The content field is required.'],
    ['null', { content: null }, 'The content field is required.'],
    ['empty', { content: '' }, 'The content field is required.'],
    ['whitespace only', { content: ' \n\t\u00a0\u2003 ' }, 'The content field must not be only whitespace.'],
    ['a number', { content: 42 }, 'The content field must be a string.'],
    ['an object', { content: { text: 'hi' } }, 'The content field must be a string.'],
    ['an array', { content: ['hi'] }, 'The content field must be a string.'],
    ['5001 astral characters', { content: '😀'.repeat(5001) }, 'The content field must not be greater than 5000 characters.'],
    ['5001 ASCII characters', { content: 'a'.repeat(5001) }, 'The content field must not be greater than 5000 characters.'],
    ['with a NUL character', { content: 'before\u0000after' }, 'The content field must not contain NUL characters.'],
  ])('%s', async (_label, body, message) => {
    expect422(await send(body), { content: [message] });
  });

  it('refuses a lone surrogate (raw JSON "\\ud800")', async () => {
    expect422(await send('{"content": "broken \\ud800 text"}'), { content: ['The content field must be valid Unicode text.'] });
    expect422(await send('{"content": "\\udc00"}'), { content: ['The content field must be valid Unicode text.'] });
  });

  it('refuses a number that overflows to Infinity (raw 1e400)', async () => {
    expect422(await send('{"content": 1e400}'), { content: ['The content field must be a string.'] });
  });
});

describe('422: state', () => {
  it.each([
    ['an array', { content: 'hi', state: [1, 2] }, 'The state field must be a JSON object.'],
    ['a string', { content: 'hi', state: '{"a":1}' }, 'The state field must be a JSON object.'],
    ['a number', { content: 'hi', state: 3 }, 'The state field must be a JSON object.'],
    ['a boolean', { content: 'hi', state: true }, 'The state field must be a JSON object.'],
    ['33 levels deep', { content: 'hi', state: nested(33) }, 'The state field must not be nested deeper than 32 levels.'],
    ['33 levels deep through arrays', { content: 'hi', state: { a: [[[nested(30)]]] } }, 'The state field must not be nested deeper than 32 levels.'],
  ])('%s', async (_label, body, message) => {
    expect422(await send(body), { state: [message] });
  });

  it('refuses a state over 64 KiB', async () => {
    const res = await send({ content: 'hi', state: { big: 'x'.repeat(65_536) } });
    expect(res.status).toBe(422);
    expect(res.body.errors).toStrictEqual({ state: [expect.stringMatching(/^The state field must not be larger than 65536 bytes as JSON/)] });
    expect(res.body.message).toBe(res.body.errors.state[0]);
  });

  it('refuses a state 10,000 levels deep with a clean 422, on both faces', async () => {
    const message = 'The state field must not be nested deeper than 32 levels.';
    expect422(await send(`{"content": "hi", "state": ${rawNested(10_000)}}`), { state: [message] });
    expect422(await send(`{"content": "hi", "state": ${rawNested(10_000)}}`, { 'idempotency-key': 'deep-state' }), {
      state: [message],
    });
    const viaTrpc = await refused(() =>
      app.http('POST', '/trpc/messages.create', {
        token: user.token,
        raw: `{"threadId": ${thread.id}, "content": "hi", "state": ${rawNested(10_000)}}`,
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(viaTrpc.status).toBe(422);
    expect(viaTrpc.body.error.data.errors).toStrictEqual({ state: [message] });
    // The server is still answering.
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token })).status).toBe(200);
  });

  it('refuses numbers that overflow to Infinity (raw 1e400), lone surrogates and NUL inside a state', async () => {
    const cases: Array<[string, string]> = [
      ['{"content": "hi", "state": {"n": 1e400}}', 'The state field must only hold finite numbers.'],
      ['{"content": "hi", "state": {"list": [1, -1e400]}}', 'The state field must only hold finite numbers.'],
      ['{"content": "hi", "state": {"s": "\\ud800"}}', 'The state field must only hold valid Unicode strings without NUL characters.'],
      ['{"content": "hi", "state": {"s": "a\\u0000b"}}', 'The state field must only hold valid Unicode strings without NUL characters.'],
      ['{"content": "hi", "state": {"a\\u0000": 1}}', 'The state field must only have valid Unicode keys without NUL characters.'],
    ];
    for (const [raw, message] of cases) expect422(await send(raw), { state: [message] });
  });

  it('accepts a state exactly 32 levels deep', async () => {
    const pair = await sendMessage(app, user, (await newThread(app, user)).id, { content: 'deep', state: nested(32) });
    expect(pair.responseMessage.updated_state).toStrictEqual(nested(32));
  });
});

describe('422: thread-id, message-id and the query', () => {
  const bad: Array<[string, string]> = [
    ['abc', 'must be an integer'],
    ['0', 'must be at least 1'],
    ['-1', 'must be at least 1'],
    ['1.5', 'must be an integer'],
    ['99999999999999999999', 'is too large'],
  ];

  it.each(bad)('thread-id %s → 422 on thread-id, for create, list and get', async (id, fragment) => {
    const errors = { 'thread-id': [`The thread id field ${fragment}.`] };
    expect422(await send({ content: 'hi' }, {}, id), errors);
    expect422(await app.api('GET', `/ai/threads/${id}/messages`, { token: user.token }), errors);
    expect422(await app.api('GET', `/ai/threads/${id}/messages/1`, { token: user.token }), errors);
  });

  it.each(bad)('message-id %s → 422 on message-id', async (id, fragment) => {
    const res = await app.api('GET', `/ai/threads/${thread.id}/messages/${id}`, { token: user.token });
    expect422(res, { 'message-id': [`The message id field ${fragment}.`] });
  });

  it.each([
    ['limit=0', { limit: ['The limit field must be at least 1.'] }],
    ['limit=101', { limit: ['The limit field must not be greater than 100.'] }],
    ['limit=1.5', { limit: ['The limit field must be an integer.'] }],
    ['after=abc', { after: ['The after field must be an integer.'] }],
    ['after=1&before=5', { before: ['The before field must not be combined with after.'] }],
  ])('list ?%s → 422', async (search, errors) => {
    expect422(await app.api('GET', `/ai/threads/${thread.id}/messages?${search}`, { token: user.token }), errors);
  });
});

describe('422: the Idempotency-Key header', () => {
  it.each([
    ['too long', 'k'.repeat(256)],
    ['with a space', 'two words'],
    ['non-ASCII', 'clé'],
    ['empty', ''],
  ])('%s', async (_label, key) => {
    const res = await send({ content: 'hi' }, { 'idempotency-key': key });
    expect422(res, { idempotency_key: ['The Idempotency-Key header must be 1 to 255 visible ASCII characters.'] });
  });

  it('accepts 255 visible ASCII characters', async () => {
    const target = await newThread(app, user);
    const res = await postMessage(app, user.token, target.id, { content: 'hi' }, { 'idempotency-key': `${'k'.repeat(254)}~` });
    expect(res.status).toBe(201);
  });
});

describe('422: several errors', () => {
  it('names the first and counts the rest: "(and N more errors)"', async () => {
    const res = await send({ content: '', state: [] }, {}, 'abc');
    expect(res.status).toBe(422);
    expect(res.body.errors).toStrictEqual({
      'thread-id': ['The thread id field must be an integer.'],
      content: ['The content field is required.'],
      state: ['The state field must be a JSON object.'],
    });
    expect(res.body.message).toBe('The thread id field must be an integer. (and 2 more errors)');

    const two = await send({ content: 7, state: 'x' });
    expect(two.body.message).toBe('The content field must be a string. (and 1 more error)');
    expect(Object.keys(two.body.errors)).toEqual(['content', 'state']);
  });
});

describe('400 and 413', () => {
  it('answers 400 for a body that is not JSON', async () => {
    expectErrorBody(await send('{"content": "hi"'), 400, 'The request body is not valid JSON.');
  });

  it('answers 413 for a body over the size limit', async () => {
    expectErrorBody(await send({ content: 'hi', state: { big: 'x'.repeat(300 * 1024) } }), 413);
  });
});

describe('404', () => {
  it('answers 404 for a missing thread on create, list and get', async () => {
    expectErrorBody(await send({ content: 'hi' }, {}, MISSING_ID), 404, 'Thread not found.');
    expectErrorBody(await app.api('GET', `/ai/threads/${MISSING_ID}/messages`, { token: user.token }), 404, 'Thread not found.');
    expectErrorBody(await app.api('GET', `/ai/threads/${MISSING_ID}/messages/1`, { token: user.token }), 404, 'Thread not found.');
  });

  it('answers 404 for a message that is not in the thread', async () => {
    const other = await newThread(app, user);
    const pair = await sendMessage(app, user, other.id, { content: 'elsewhere' });
    expectErrorBody(
      await app.api('GET', `/ai/threads/${thread.id}/messages/${pair.createdMessage.id}`, { token: user.token }),
      404,
      'Message not found.',
    );
    expectErrorBody(await app.api('GET', `/ai/threads/${other.id}/messages/${MISSING_ID}`, { token: user.token }), 404, 'Message not found.');
  });

  it('checks the body before the thread (422 before 404)', async () => {
    expect422(await send({ content: '' }, {}, MISSING_ID), { content: ['The content field is required.'] });
    expect422(await send({ content: 'hi' }, { 'idempotency-key': 'bad key' }, MISSING_ID), {
      idempotency_key: ['The Idempotency-Key header must be 1 to 255 visible ASCII characters.'],
    });
  });
});

describe('the tRPC face', () => {
  it('carries a 422 with httpStatus and the field errors', async () => {
    const client = typedClient(app, user.token);
    const calls = fake.requests.length;
    const { message, data } = await trpcFailure(client.messages.create.mutate({ threadId: thread.id, content: '   ' }));
    expect(message).toBe('The content field must not be only whitespace.');
    expect(data).toMatchObject({
      code: 'UNPROCESSABLE_CONTENT',
      httpStatus: 422,
      errors: { content: ['The content field must not be only whitespace.'] },
    });
    expect(fake.requests.length).toBe(calls);

    const raw = await refused(() =>
      trpc(app, 'mutation', 'messages.create', { threadId: 'abc', content: 'x'.repeat(5001) }, { token: user.token }),
    );
    expect(raw.status).toBe(422);
    expect(raw.body.error.data.errors).toStrictEqual({
      'thread-id': ['The thread id field must be an integer.'],
      content: ['The content field must not be greater than 5000 characters.'],
    });
    expect(raw.body.error.message).toBe('The thread id field must be an integer. (and 1 more error)');
  });

  it('carries a 404', async () => {
    const client = typedClient(app, user.token);
    const created = await trpcFailure(client.messages.create.mutate({ threadId: MISSING_ID, content: 'hi' }));
    expect(created.message).toBe('Thread not found.');
    expect(created.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
    const listed = await trpcFailure(client.messages.list.query({ threadId: MISSING_ID }));
    expect(listed.data.httpStatus).toBe(404);
    const got = await trpcFailure(client.threads.get.query({ threadId: MISSING_ID }));
    expect(got).toMatchObject({ message: 'Thread not found.', data: { httpStatus: 404 } });
  });
});

/** The answer failed: the seed's error style, the user message kept `failed`, the thread free again. */
async function expectFailedAnswer(target: TestApp, owner: TestUser, threadId: number, res: ApiResponse, status: number, message: string) {
  expectErrorBody(res, status, message);
  const messages = await listAll(target, owner, threadId);
  expect(messages).toHaveLength(1);
  expect(messages[0]).toMatchObject({ role: 'user', status: 'failed', error: expect.stringMatching(/\S/) });
  expect(await leaseOf(target, threadId)).toMatchObject({ busy_until: null, busy_message_id: null });
  const threadRes = await target.api('GET', `/ai/threads/${threadId}`, { token: owner.token });
  expect(threadRes.body.state).toStrictEqual({ before: 'failure' });
  return messages[0]!;
}

describe('the AI provider fails', () => {
  it.each<[string, FakeStep, string]>([
    ['an HTTP 500', { type: 'error', status: 500 }, 'The AI provider failed to answer (an error).'],
    ['an HTTP 429', { type: 'error', status: 429 }, 'The AI provider failed to answer (an error).'],
    ['an HTTP 400', { type: 'error', status: 400 }, 'The AI provider failed to answer (an error).'],
    ['a body that is not JSON', { type: 'malformed', variant: 'invalid_json' }, 'The AI provider failed to answer (an answer that could not be read).'],
    ['JSON without choices', { type: 'malformed', variant: 'no_choices' }, 'The AI provider failed to answer (an answer that could not be read).'],
    ['an empty answer', { type: 'text', content: '' }, 'The AI provider failed to answer (an answer that could not be read).'],
  ])('502 on %s; the user message stays failed, and the thread answers again', async (_label, step, message) => {
    const target = await newThread(app, user, { state: { before: 'failure' } });
    fake.script(step);
    const countBefore = await app.count('messages');
    const res = await postMessage(app, user.token, target.id, { content: 'This will fail', state: { before: 'failure' } });
    const failed = await expectFailedAnswer(app, user, target.id, res, 502, message);
    expect(failed).toMatchObject({ content: 'This will fail', state: { before: 'failure' } });
    expect(await app.count('messages')).toBe(countBefore + 1);

    // The next message is answered; the failed one is not part of its history.
    fake.script({ type: 'text', content: 'Back again.' });
    const next = await sendMessage(app, user, target.id, { content: 'Try again' });
    expect(next.responseMessage.content).toBe('Back again.');
    expect(sentMessages(fake.requests.at(-1)).slice(1)).toStrictEqual([{ role: 'user', content: 'Try again' }]);
    const all = await listAll(app, user, target.id);
    expect(all.map((m) => [m.role, m.status])).toEqual([
      ['user', 'failed'],
      ['user', 'completed'],
      ['assistant', 'completed'],
    ]);
  });

  it('502 through tRPC too', async () => {
    const target = await newThread(app, user, { state: { before: 'failure' } });
    fake.script({ type: 'error', status: 503 });
    const { data } = await trpcFailure(typedClient(app, user.token).messages.create.mutate({ threadId: target.id, content: 'via trpc' }));
    expect(data.httpStatus).toBe(502);
    const messages = await listAll(app, user, target.id);
    expect(messages.map((m) => [m.role, m.status])).toEqual([['user', 'failed']]);
  });
});

// Two deadlines end a silent model with a 504 (never a cancel): each model call's own
// (AI_TIMEOUT_MS), and the whole answer's (AI_ANSWER_TIMEOUT_MS) while each call is within its own.
describe.each([
  { deadline: "the model call's (AI_TIMEOUT_MS)", env: { AI_TIMEOUT_MS: '300' } },
  { deadline: "the whole answer's (AI_ANSWER_TIMEOUT_MS)", env: { AI_ANSWER_TIMEOUT_MS: '300', AI_TIMEOUT_MS: '60000' } },
])('the AI provider times out: $deadline deadline passes', ({ env }) => {
  let slow: TestApp;
  let owner: TestUser;
  beforeAll(async () => {
    slow = await startApp({ env });
    owner = await slow.signUp();
  });

  it('504 when the model never answers; the user message stays failed, the lease is freed, and the thread answers again', async () => {
    const target = await newThread(slow, owner, { state: { before: 'failure' } });
    fake.script({ type: 'hang' });
    const res = await postMessage(slow, owner.token, target.id, { content: 'Are you there?' });
    const failed = await expectFailedAnswer(slow, owner, target.id, res, 504, 'The AI provider did not answer in time.');
    expect(failed.error).toMatch(/time/i);

    fake.script({ type: 'text', content: 'Here now.' });
    const next = await sendMessage(slow, owner, target.id, { content: 'Again?' });
    expect(next.responseMessage.content).toBe('Here now.');
  });
});
