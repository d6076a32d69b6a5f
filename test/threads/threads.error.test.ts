// Threads refused: every 422 (fields, path and query parameters, state limits), 404 for a missing
// thread, 409 for deleting a thread that is answering, 400 for a body that is not JSON. A refused
// request stores nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import {
  expect422,
  expectErrorBody,
  expectStoresNothing,
  MISSING_ID,
  nested,
  newThread,
  rawNested,
  setLease,
} from '../support/threads.js';

let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp();
  user = await app.signUp();
});
afterAll(async () => {
  await app?.close();
});

const createRaw = (raw: string) =>
  app.api('POST', '/ai/threads', { token: user.token, raw, headers: { 'content-type': 'application/json' } });

describe('POST /api/v1/ai/threads: 422', () => {
  it.each([
    ['empty title', { title: '' }, { title: ['The title field is required.'] }],
    ['blank title', { title: '   ' }, { title: ['The title field must not be only whitespace.'] }],
    ['title too long', { title: 'x'.repeat(201) }, { title: ['The title field must not be greater than 200 characters.'] }],
    ['title not a string', { title: 12 }, { title: ['The title field must be a string.'] }],
    ['NUL in title', { title: 'a\u0000b' }, { title: ['The title field must not contain NUL characters.'] }],
    [
      'instructions too long',
      { instructions: 'x'.repeat(20_001) },
      { instructions: ['The instructions field must not be greater than 20000 characters.'] },
    ],
    ['metadata an array', { metadata: ['a'] }, { metadata: ['The metadata field must be an object.'] }],
    ['metadata value not a string', { metadata: { k: 1 } }, { 'metadata.k': ['The metadata k field must be a string.'] }],
    ['state an array', { state: [] }, { state: ['The state field must be a JSON object.'] }],
    ['state a string', { state: 'text' }, { state: ['The state field must be a JSON object.'] }],
    ['state a number', { state: 7 }, { state: ['The state field must be a JSON object.'] }],
    ['state 33 levels deep', { state: nested(33) }, { state: ['The state field must not be nested deeper than 32 levels.'] }],
  ])('%s → 422', async (_label, body, errors) => {
    const res = await expectStoresNothing(app, () => app.api('POST', '/ai/threads', { token: user.token, body }));
    expect422(res, errors);
  });

  it('refuses more than 16 metadata keys', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    const res = await expectStoresNothing(app, () => app.api('POST', '/ai/threads', { token: user.token, body: { metadata } }));
    expect422(res, { metadata: ['The metadata field must not have more than 16 keys.'] });
  });

  it('refuses a state over 64 KiB', async () => {
    const res = await expectStoresNothing(app, () =>
      app.api('POST', '/ai/threads', { token: user.token, body: { state: { big: 'x'.repeat(70_000) } } }),
    );
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual(['state']);
    expect(res.body.errors.state[0]).toMatch(/^The state field must not be larger than 65536 bytes as JSON/);
  });

  it('refuses a state 10,000 levels deep with a clean 422, with or without an Idempotency-Key', async () => {
    const raw = `{"state": ${rawNested(10_000)}}`;
    const errors = { state: ['The state field must not be nested deeper than 32 levels.'] };
    expect422(await expectStoresNothing(app, () => createRaw(raw)), errors);
    const keyed = await expectStoresNothing(app, () =>
      app.api('POST', '/ai/threads', {
        token: user.token,
        raw,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'deep-state' },
      }),
    );
    expect422(keyed, errors);
  });

  it('accepts a state exactly 32 levels deep', async () => {
    const thread = await newThread(app, user, { state: nested(32) });
    expect(thread.state).toStrictEqual(nested(32));
  });

  it('refuses non-finite numbers, lone surrogates and NUL inside a state', async () => {
    const cases: Array<[string, string]> = [
      ['{"state": {"n": 1e400}}', 'The state field must only hold finite numbers.'],
      ['{"state": {"s": "\\ud800"}}', 'The state field must only hold valid Unicode strings without NUL characters.'],
      ['{"state": {"s": "a\\u0000"}}', 'The state field must only hold valid Unicode strings without NUL characters.'],
      ['{"state": {"\\udc00": 1}}', 'The state field must only have valid Unicode keys without NUL characters.'],
    ];
    for (const [raw, message] of cases) {
      const res = await expectStoresNothing(app, () => createRaw(raw));
      expect422(res, { state: [message] });
    }
  });

  it('sums up several failing fields as "(and N more errors)"', async () => {
    const res = await expectStoresNothing(app, () =>
      app.api('POST', '/ai/threads', { token: user.token, body: { title: '', state: [], metadata: 'x' } }),
    );
    expect(res.status).toBe(422);
    expect(res.body.errors).toStrictEqual({
      title: ['The title field is required.'],
      metadata: ['The metadata field must be an object.'],
      state: ['The state field must be a JSON object.'],
    });
    expect(res.body.message).toBe('The title field is required. (and 2 more errors)');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await expectStoresNothing(app, () => createRaw('{"title": '));
    expectErrorBody(res, 400, 'The request body is not valid JSON.');
  });
});

describe('PATCH /api/v1/ai/threads/{thread-id}: 422', () => {
  it.each([
    ['empty title', { title: '' }, { title: ['The title field is required.'] }],
    ['blank title', { title: ' \n ' }, { title: ['The title field must not be only whitespace.'] }],
    ['instructions not a string', { instructions: 5 }, { instructions: ['The instructions field must be a string.'] }],
    ['null metadata', { metadata: null }, { metadata: ['The metadata field must be an object.'] }],
  ])('%s → 422, thread unchanged', async (_label, body, errors) => {
    const thread = await newThread(app, user, { title: 'Kept', metadata: { a: 'b' } });
    const res = await app.api('PATCH', `/ai/threads/${thread.id}`, { token: user.token, body });
    expect422(res, errors);
    const after = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(after.body).toStrictEqual(thread);
  });
});

describe('thread-id: 422', () => {
  it.each([
    ['abc', 'The thread id field must be an integer.'],
    ['0', 'The thread id field must be at least 1.'],
    ['-1', 'The thread id field must be at least 1.'],
    ['1.5', 'The thread id field must be an integer.'],
    ['99999999999999999999', 'The thread id field is too large.'],
  ])('%s → 422 on thread-id for get, update and delete', async (id, message) => {
    for (const [method, body] of [['GET'], ['PATCH', { title: 'x' }], ['DELETE']] as const) {
      const res = await expectStoresNothing(app, () => app.api(method, `/ai/threads/${id}`, { token: user.token, body }));
      expect422(res, { 'thread-id': [message] });
    }
  });
});

describe('GET /api/v1/ai/threads: 422', () => {
  it.each([
    ['limit=0', { limit: ['The limit field must be at least 1.'] }],
    ['limit=101', { limit: ['The limit field must not be greater than 100.'] }],
    ['limit=abc', { limit: ['The limit field must be an integer.'] }],
    ['after=0', { after: ['The after field must be at least 1.'] }],
    ['after=1&before=2', { before: ['The before field must not be combined with after.'] }],
    ['metadata_value=a', { metadata_key: ['The metadata key field is required when metadata value is present.'] }],
  ])('?%s → 422', async (search, errors) => {
    const res = await app.api('GET', `/ai/threads?${search}`, { token: user.token });
    expect422(res, errors);
  });
});

describe('404 and 409', () => {
  it('answers 404 for a thread that does not exist, on get, update and delete', async () => {
    for (const [method, body] of [['GET'], ['PATCH', { title: 'x' }], ['DELETE']] as const) {
      const res = await expectStoresNothing(app, () => app.api(method, `/ai/threads/${MISSING_ID}`, { token: user.token, body }));
      expectErrorBody(res, 404, 'Thread not found.');
    }
  });

  it('checks the fields before looking up the thread (422 before 404)', async () => {
    const res = await app.api('PATCH', `/ai/threads/${MISSING_ID}`, { token: user.token, body: { title: '' } });
    expect422(res, { title: ['The title field is required.'] });
  });

  it('refuses to delete a thread that is answering (409 + Retry-After), then deletes it once free', async () => {
    const thread = await newThread(app, user);
    await setLease(app, thread.id, 3600, null);
    const res = await expectStoresNothing(app, () => app.api('DELETE', `/ai/threads/${thread.id}`, { token: user.token }));
    expectErrorBody(res, 409);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token })).status).toBe(200);

    await setLease(app, thread.id, -60, null);
    const freed = await app.api('DELETE', `/ai/threads/${thread.id}`, { token: user.token });
    expect(freed.status).toBe(204);
  });
});
