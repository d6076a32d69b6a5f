// Idempotency-Key on the seed endpoint: a replay gives the first answer again (same status and
// body, `Idempotent-Replayed: true`) without calling the model or storing anything; another body
// is a 422; a key still running is a 409; keys are per user; refused requests (401, 403, 404,
// 409, 422, 429) do not bind a key; a retry after a 502 answers the same user message.
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type ApiResponse, type TestApp } from '../support/harness.js';
import { sql } from 'drizzle-orm';
import { createApiToken, trpc, VIEWER_PERMISSIONS } from '../support/helpers.js';
import { openStream, SseReader } from '../support/sse.js';
import {
  expect422,
  expectErrorBody,
  expectStoresNothing,
  gate,
  inFlight,
  listAll,
  MISSING_ID,
  newThread,
  postMessage,
  sentMessages,
  setLease,
  storedCounts,
} from '../support/threads.js';

let keySeq = 0;
const newKey = () => `key-${Date.now()}-${++keySeq}`;
const keyed = (key: string) => ({ 'idempotency-key': key });

const { app, fake, user, startApp } = await harness();

const MISMATCH = { idempotency_key: ['The Idempotency-Key was already used with a different request body.'] };

/** A replay: the first answer exactly, marked, with no model call and no new row. */
async function expectReplay(first: ApiResponse, again: () => Promise<ApiResponse>) {
  const calls = fake.requests.length;
  const res = await expectStoresNothing(app, again);
  expect(res.status).toBe(first.status);
  expect(res.body).toStrictEqual(first.body);
  expect(res.headers.get('idempotent-replayed')).toBe('true');
  expect(fake.requests.length).toBe(calls);
  return res;
}

describe('replay', () => {
  it('answers the same key and body with the first answer, without a new AI call or rows', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Hello!', state: { form: { field: 'value' } } };
    fake.script(
      { type: 'tool_calls', calls: [{ arguments: { patch: { form: { color: 'red' } } } }] },
      { type: 'text', content: 'Only once.' },
    );
    const first = await postMessage(app, user.token, thread.id, body, keyed(key));
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(first.body.responseMessage.updated_state).toStrictEqual({ form: { field: 'value', color: 'red' } });

    await expectReplay(first, () => postMessage(app, user.token, thread.id, body, keyed(key)));
    // The same body with its keys in another order is the same request.
    const reordered = { state: { form: { field: 'value' } }, content: 'Hello!' };
    await expectReplay(first, () => postMessage(app, user.token, thread.id, reordered, keyed(key)));
    // Still the first answer after the thread moved on.
    fake.script({ type: 'text', content: 'Later.' });
    expect((await postMessage(app, user.token, thread.id, { content: 'Later' })).status).toBe(201);
    await expectReplay(first, () => postMessage(app, user.token, thread.id, body, keyed(key)));
    expect(await listAll(app, user, thread.id)).toHaveLength(4);
  });

  it('replays on the tRPC face too', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const input = { threadId: thread.id, content: 'Over tRPC' };
    const first = await trpc(app, 'mutation', 'messages.create', input, { token: user.token, headers: keyed(key) });
    expect(first.status).toBe(201);
    const calls = fake.requests.length;
    const again = await expectStoresNothing(app, () =>
      trpc(app, 'mutation', 'messages.create', input, { token: user.token, headers: keyed(key) }),
    );
    expect(again.status).toBe(201);
    expect(again.body).toStrictEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(fake.requests.length).toBe(calls);
  });
});

describe('one request across /messages and /messages/stream', () => {
  /** The events of a keyed stream that must replay `first`: no model call, nothing stored. */
  async function expectStreamReplay(threadId: number, key: string, body: Record<string, unknown>, first: unknown) {
    const calls = fake.requests.length;
    const events = await expectStoresNothing(app, async () =>
      (await openStream(app, threadId, { token: user.token, body, headers: keyed(key) })).all(),
    );
    expect(events.map((event) => event.event)).toEqual(['message.created', 'response.completed']);
    // A data line names its event in `type`; the rest is the pair the first answer gave.
    expect(events[1]!.data).toStrictEqual({ type: 'response.completed', ...(first as object) });
    expect(fake.requests.length).toBe(calls);
  }

  it('replays a /messages answer on /messages/stream with the same key and a body without state', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'No state here' };
    fake.script({ type: 'text', content: 'Once.' });
    const first = await postMessage(app, user.token, thread.id, body, keyed(key));
    expect(first.status).toBe(201);
    await expectStreamReplay(thread.id, key, body, first.body);
  });

  it('replays a /messages/stream answer on /messages with the same key and a body without state', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Streamed first' };
    fake.script({ type: 'text', content: 'Once.' });
    const events = await (await openStream(app, thread.id, { token: user.token, body, headers: keyed(key) })).all();
    const completed = events.at(-1)!;
    expect(completed.event).toBe('response.completed');
    const { type, ...pair } = completed.data;
    expect(type).toBe('response.completed');
    await expectReplay({ status: 201, body: pair } as ApiResponse, () =>
      postMessage(app, user.token, thread.id, body, keyed(key)),
    );
  });

  it('replays messages.create on the messages.stream subscription (tRPC)', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const input = { threadId: thread.id, content: 'Over tRPC, no state' };
    fake.script({ type: 'text', content: 'Once.' });
    const first = await trpc(app, 'mutation', 'messages.create', input, { token: user.token, headers: keyed(key) });
    expect(first.status).toBe(201);

    const calls = fake.requests.length;
    const controller = new AbortController();
    const res = await fetch(`${app.url}/trpc/messages.stream?input=${encodeURIComponent(JSON.stringify(input))}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${user.token}`, ...keyed(key) },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = new SseReader(res, controller);
    const completed = await reader.until((frame) => frame.data?.event === 'response.completed' || frame.event === 'serialized-error');
    reader.abort();
    expect(completed.data).toStrictEqual({ event: 'response.completed', data: first.body.result.data });
    expect(fake.requests.length).toBe(calls);
  });
});

describe('mismatch', () => {
  it('refuses the same key with another body (422 on idempotency_key), storing nothing', async () => {
    const thread = await newThread(app, user);
    const other = await newThread(app, user);
    const key = newKey();
    const first = await postMessage(app, user.token, thread.id, { content: 'Hello!', state: { a: 1 } }, keyed(key));
    expect(first.status).toBe(201);
    const variants: Array<[number, unknown]> = [
      [thread.id, { content: 'Hello?', state: { a: 1 } }],
      [thread.id, { content: 'Hello!', state: { a: 2 } }],
      [thread.id, { content: 'Hello!' }],
      [other.id, { content: 'Hello!', state: { a: 1 } }],
    ];
    for (const [threadId, body] of variants) {
      const calls = fake.requests.length;
      const res = await expectStoresNothing(app, () => postMessage(app, user.token, threadId, body, keyed(key)));
      expect422(res, MISMATCH);
      expect(fake.requests.length).toBe(calls);
    }
    await expectReplay(first, () => postMessage(app, user.token, thread.id, { content: 'Hello!', state: { a: 1 } }, keyed(key)));
  });
});

describe('in flight', () => {
  it('answers 409 + Retry-After for a key whose first request is still running, then replays it', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Slow one' };
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'Finally.' } });
    const a = await inFlight(fake, () => postMessage(app, user.token, thread.id, body, keyed(key)));

    const calls = fake.requests.length;
    const again = await expectStoresNothing(app, () => postMessage(app, user.token, thread.id, body, keyed(key)));
    expectErrorBody(again, 409, 'A request with this Idempotency-Key is still in progress; retry when it is done.');
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another body under the running key is still a mismatch.
    expect422(await postMessage(app, user.token, thread.id, { content: 'Different' }, keyed(key)), MISMATCH);
    expect(fake.requests.length).toBe(calls);

    held.open();
    const first = await a.done;
    expect(first.status).toBe(201);
    await expectReplay(first, () => postMessage(app, user.token, thread.id, body, keyed(key)));
  });

  it('says in Retry-After how long the key may stay locked, not one second', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Locked for a while' };
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'Done.' } });
    const a = await inFlight(fake, () => postMessage(app, user.token, thread.id, body, keyed(key)));

    // A fresh key is locked for the whole lease (answer deadline + grace).
    const leaseSeconds = (app.config.AI_ANSWER_TIMEOUT_MS + app.config.THREAD_LEASE_GRACE_MS) / 1000;
    const fresh = await postMessage(app, user.token, thread.id, body, keyed(key));
    expect(fresh.status).toBe(409);
    expect(Number(fresh.headers.get('retry-after'))).toBeGreaterThan(leaseSeconds - 10);
    expect(Number(fresh.headers.get('retry-after'))).toBeLessThanOrEqual(leaseSeconds);

    // Later in its life (here: 42 s left), the time left.
    await app.database.db.execute(sql`update idempotency_keys set locked_until = now() + interval '42 seconds' where key = ${key}`);
    const later = await postMessage(app, user.token, thread.id, body, keyed(key));
    expect(later.status).toBe(409);
    expect(Number(later.headers.get('retry-after'))).toBeGreaterThanOrEqual(40);
    expect(Number(later.headers.get('retry-after'))).toBeLessThanOrEqual(42);

    held.open();
    expect((await a.done).status).toBe(201);
  });
});

describe('scope', () => {
  it('keeps keys per user: another user may use the same key', async () => {
    const key = newKey();
    const other = await app.signUp();
    const mine = await newThread(app, user);
    const theirs = await newThread(app, other);
    fake.script({ type: 'text', content: 'For me.' }, { type: 'text', content: 'For them.' });
    const a = await postMessage(app, user.token, mine.id, { content: 'Same words' }, keyed(key));
    const b = await postMessage(app, other.token, theirs.id, { content: 'Same words' }, keyed(key));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.responseMessage.content).toBe('For them.');
    expect(b.body.createdMessage.thread_id).toBe(theirs.id);
  });
});

describe('refused requests do not bind the key', () => {
  /** The refused request stored no key; the same key then works for a real request. */
  async function thenWorks(key: string, threadId: number, token = user.token) {
    fake.script({ type: 'text', content: 'Answered.' });
    const res = await postMessage(app, token, threadId, { content: 'Valid' }, keyed(key));
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(res.body.responseMessage.content).toBe('Answered.');
  }

  it('422', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const res = await expectStoresNothing(app, () => postMessage(app, user.token, thread.id, { content: '' }, keyed(key)));
    expect(res.status).toBe(422);
    await thenWorks(key, thread.id);
  });

  it('401 and 403', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    expect((await expectStoresNothing(app, () => postMessage(app, undefined, thread.id, { content: 'Valid' }, keyed(key)))).status).toBe(401);
    const { token: viewer } = await createApiToken(app, user.token, { permissions: VIEWER_PERMISSIONS });
    expect((await expectStoresNothing(app, () => postMessage(app, viewer, thread.id, { content: 'Valid' }, keyed(key)))).status).toBe(403);
    await thenWorks(key, thread.id);
  });

  it('404', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    expect((await expectStoresNothing(app, () => postMessage(app, user.token, MISSING_ID, { content: 'Valid' }, keyed(key)))).status).toBe(404);
    await thenWorks(key, thread.id);
  });

  it('409 busy', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    await setLease(app, thread.id, 600, null);
    const busy = await expectStoresNothing(app, () => postMessage(app, user.token, thread.id, { content: 'Valid' }, keyed(key)));
    expect(busy.status).toBe(409);
    await setLease(app, thread.id, -1, null);
    await thenWorks(key, thread.id);
  });
});

describe('retry after a failed answer', () => {
  it('answers the same user message again: no second user message, and it becomes completed', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Please answer', state: { step: 1 } };
    fake.script({ type: 'error', status: 500 });
    const failed = await postMessage(app, user.token, thread.id, body, keyed(key));
    expectErrorBody(failed, 502);
    const [userMessage] = await listAll(app, user, thread.id);
    expect(userMessage).toMatchObject({ role: 'user', status: 'failed', content: 'Please answer' });

    // Another body under the failed key is still a mismatch.
    expect422(await postMessage(app, user.token, thread.id, { content: 'Something else' }, keyed(key)), MISMATCH);

    const before = await storedCounts(app);
    fake.script({ type: 'text', content: 'Answered on retry.' });
    const retried = await postMessage(app, user.token, thread.id, body, keyed(key));
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(retried.body.createdMessage).toMatchObject({
      id: userMessage!.id,
      status: 'completed',
      error: null,
      content: 'Please answer',
      state: { step: 1 },
    });
    expect(retried.body.responseMessage).toMatchObject({ content: 'Answered on retry.', updated_state: { step: 1 } });
    // One new row, the answer; the model saw the user message once.
    expect(await storedCounts(app)).toEqual({ ...before, messages: before['messages']! + 1 });
    expect(sentMessages(fake.requests.at(-1)).slice(1)).toStrictEqual([{ role: 'user', content: 'Please answer' }]);

    const all = await listAll(app, user, thread.id);
    expect(all.map((m) => [m.id, m.role, m.status])).toEqual([
      [userMessage!.id, 'user', 'completed'],
      [retried.body.responseMessage.id, 'assistant', 'completed'],
    ]);
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token })).body.message_count).toBe(2);

    await expectReplay(retried, () => postMessage(app, user.token, thread.id, body, keyed(key)));
  });

  it('a retry without the key stores a new message instead', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'error', status: 500 });
    expect((await postMessage(app, user.token, thread.id, { content: 'Once' }, keyed(newKey()))).status).toBe(502);
    fake.script({ type: 'text', content: 'ok' });
    expect((await postMessage(app, user.token, thread.id, { content: 'Once' })).status).toBe(201);
    expect((await listAll(app, user, thread.id)).map((m) => [m.role, m.status])).toEqual([
      ['user', 'failed'],
      ['user', 'completed'],
      ['assistant', 'completed'],
    ]);
  });
});

describe('429 does not bind the key (RATE_LIMIT_MESSAGES_PER_MINUTE=1)', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
  });

  it('refuses with 429, stores no key, and the key works once the window frees', async () => {
    const owner = await limited.signUp();
    const thread = await newThread(limited, owner);
    expect((await postMessage(limited, owner.token, thread.id, { content: 'one' })).status).toBe(201);
    const key = newKey();
    const refused = await expectStoresNothing(limited, () =>
      postMessage(limited, owner.token, thread.id, { content: 'two' }, keyed(key)),
    );
    expect(refused.status).toBe(429);

    // A new window, without waiting a minute.
    await limited.services.limiter.reset('messages', `user:${owner.id}`, 1);
    fake.script({ type: 'text', content: 'Two.' });
    const res = await postMessage(limited, owner.token, thread.id, { content: 'two' }, keyed(key));
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(res.body.responseMessage.content).toBe('Two.');
  });
});
