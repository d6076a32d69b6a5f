// Threads CRUD as a client uses it: create with defaults, get, update, delete with its messages,
// the newest-first list with cursors both ways and the metadata filter, an idempotent create, and
// the typed tRPC client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/harness.js';
import { typedClient } from '../support/helpers.js';
import { ISO_UTC, messageRows, newThread, sendMessage, THREAD_FIELDS } from '../support/threads.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1000' } });
});
afterAll(async () => {
  await app?.close();
});

describe('POST /api/v1/ai/threads', () => {
  it('creates a thread with the defaults (201)', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/ai/threads', { token: user.token, body: {} });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(THREAD_FIELDS);
    expect(res.body).toMatchObject({
      title: null,
      instructions: null,
      state: null,
      state_version: 0,
      state_review: 'auto',
      metadata: {},
      message_count: 0,
      head_message_id: null,
      last_message_at: null,
    });
    expect(res.body.id).toEqual(expect.any(Number));
    expect(res.body.created_at).toMatch(ISO_UTC);
    expect(res.body.updated_at).toMatch(ISO_UTC);
  });

  it('creates a thread without a body at all', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/ai/threads', { token: user.token });
    expect(res.status).toBe(201);
    expect(res.body.title).toBeNull();
  });

  it('stores title, instructions, metadata and an initial state', async () => {
    const user = await app.signUp();
    const body = {
      title: 'Checkout form',
      instructions: 'You help fill the checkout form.',
      metadata: { project: 'shop', 'ticket-id': '42' },
      state: { form: { field: 'value', items: [1, 2, { deep: true }] }, empty: null },
    };
    const created = await newThread(app, user, body);
    // The initial state is the thread's first revision.
    expect(created).toMatchObject({ ...body, state_version: 1, state_review: 'auto' });
    const got = await app.api('GET', `/ai/threads/${created.id}`, { token: user.token });
    expect(got.status).toBe(200);
    expect(got.body).toStrictEqual(created);
  });

  it('keeps a `__proto__` key of a state as data', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/ai/threads', {
      token: user.token,
      raw: '{"state": {"__proto__": {"polluted": true}, "a": 1}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text).state).toStrictEqual(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('keeps a `__proto__` key of metadata as data, and filters on it', async () => {
    const user = await app.signUp();
    const res = await app.api('POST', '/ai/threads', {
      token: user.token,
      raw: '{"metadata": {"__proto__": "x", "constructor": "y"}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text).metadata).toStrictEqual(JSON.parse('{"__proto__": "x", "constructor": "y"}'));
    const found = await app.api('GET', '/ai/threads?metadata_key=__proto__&metadata_value=x', { token: user.token });
    expect(found.body.data.map((t: { id: number }) => t.id)).toEqual([res.body.id]);
  });

  it('replays a create sent again with the same Idempotency-Key', async () => {
    const user = await app.signUp();
    const headers = { 'idempotency-key': 'create-thread-1' };
    const first = await app.api('POST', '/ai/threads', { token: user.token, body: { title: 'Once' }, headers });
    const before = await app.count('threads');
    const again = await app.api('POST', '/ai/threads', { token: user.token, body: { title: 'Once' }, headers });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toStrictEqual(first.body);
    expect(await app.count('threads')).toBe(before);
  });
});

describe('GET /api/v1/ai/threads/{thread-id}', () => {
  it('shows the latest state and the message count after a message', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user, { state: { step: 1 } });
    const pair = await sendMessage(app, user, thread.id, { content: 'set step to 2' });
    const got = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(got.status).toBe(200);
    expect(got.body.state).toStrictEqual({ step: 2 });
    expect(got.body.message_count).toBe(2);
    expect(got.body.last_message_at).toBe(pair.responseMessage.created_at);
  });
});

describe('PATCH /api/v1/ai/threads/{thread-id}', () => {
  it('changes title, instructions and metadata; null clears the title', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user, { title: 'Old', instructions: 'Old rules', metadata: { a: '1', b: '2' } });
    const changed = await app.api('PATCH', `/ai/threads/${thread.id}`, {
      token: user.token,
      body: { title: 'New', instructions: 'New rules', metadata: { c: '3' } },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: thread.id, title: 'New', instructions: 'New rules', metadata: { c: '3' } });
    expect(Date.parse(changed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(thread.updated_at));
    expect(changed.body.created_at).toBe(thread.created_at);

    const cleared = await app.api('PATCH', `/ai/threads/${thread.id}`, { token: user.token, body: { title: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ title: null, instructions: 'New rules', metadata: { c: '3' } });

    const noInstructions = await app.api('PATCH', `/ai/threads/${thread.id}`, {
      token: user.token,
      body: { instructions: null },
    });
    expect(noInstructions.body).toMatchObject({ title: null, instructions: null, metadata: { c: '3' } });

    const got = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(got.body).toStrictEqual(noInstructions.body);
  });

  it('changes nothing but updated_at for an empty body', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user, { title: 'Same', metadata: { k: 'v' } });
    const res = await app.api('PATCH', `/ai/threads/${thread.id}`, { token: user.token, body: {} });
    expect(res.status).toBe(200);
    expect({ ...res.body, updated_at: null }).toStrictEqual({ ...thread, updated_at: null });
  });
});

describe('DELETE /api/v1/ai/threads/{thread-id}', () => {
  it('deletes the thread and its messages (204, no body)', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const other = await newThread(app, user);
    await sendMessage(app, user, thread.id, { content: 'Hello' });
    await sendMessage(app, user, thread.id, { content: 'Again' });
    await sendMessage(app, user, other.id, { content: 'Elsewhere' });
    expect(await messageRows(app, thread.id)).toBe(4);
    const totalBefore = await app.count('messages');

    const res = await app.api('DELETE', `/ai/threads/${thread.id}`, { token: user.token });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');

    expect(await messageRows(app, thread.id)).toBe(0);
    expect(await app.count('messages')).toBe(totalBefore - 4);
    expect(await messageRows(app, other.id)).toBe(2);
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token })).status).toBe(404);
    expect((await app.api('GET', `/ai/threads/${thread.id}/messages`, { token: user.token })).status).toBe(404);
    expect((await app.api('DELETE', `/ai/threads/${thread.id}`, { token: user.token })).status).toBe(404);
  });
});

describe('GET /api/v1/ai/threads', () => {
  it('lists only your threads, newest first, with cursors both ways', async () => {
    const user = await app.signUp();
    const stranger = await app.signUp();
    await newThread(app, stranger, { title: 'not yours' });
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await newThread(app, user, { title: `t${i}` })).id);
    const newestFirst = [...ids].reverse();

    const all = await app.api('GET', '/ai/threads', { token: user.token });
    expect(all.status).toBe(200);
    expect(all.body.data.map((t: { id: number }) => t.id)).toEqual(newestFirst);
    expect(all.body).toMatchObject({ has_more: false, next_cursor: null });

    const first = await app.api('GET', '/ai/threads?limit=2', { token: user.token });
    expect(first.body.data.map((t: { id: number }) => t.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.body).toMatchObject({ has_more: true, next_cursor: newestFirst[1] });

    const second = await app.api('GET', `/ai/threads?limit=2&after=${first.body.next_cursor}`, { token: user.token });
    expect(second.body.data.map((t: { id: number }) => t.id)).toEqual(newestFirst.slice(2, 4));
    expect(second.body).toMatchObject({ has_more: true, next_cursor: newestFirst[3] });

    const last = await app.api('GET', `/ai/threads?limit=2&after=${second.body.next_cursor}`, { token: user.token });
    expect(last.body.data.map((t: { id: number }) => t.id)).toEqual(newestFirst.slice(4));
    expect(last.body).toMatchObject({ has_more: false, next_cursor: null });

    // Backwards from the oldest: the newer threads just before it in list order, still newest first.
    const back = await app.api('GET', `/ai/threads?limit=2&before=${ids[0]}`, { token: user.token });
    expect(back.status).toBe(200);
    expect(back.body.data.map((t: { id: number }) => t.id)).toEqual([ids[2], ids[1]]);
    expect(back.body).toMatchObject({ has_more: true, next_cursor: ids[2] });
    // next_cursor goes on backwards when passed as `before`.
    const further = await app.api('GET', `/ai/threads?limit=2&before=${back.body.next_cursor}`, { token: user.token });
    expect(further.body.data.map((t: { id: number }) => t.id)).toEqual([ids[4], ids[3]]);
    expect(further.body).toMatchObject({ has_more: false, next_cursor: null });

    const top = await app.api('GET', `/ai/threads?limit=10&before=${ids[2]}`, { token: user.token });
    expect(top.body.data.map((t: { id: number }) => t.id)).toEqual([ids[4], ids[3]]);
    expect(top.body.has_more).toBe(false);
  });

  it('is an empty page for a user without threads', async () => {
    const user = await app.signUp();
    const res = await app.api('GET', '/ai/threads', { token: user.token });
    expect(res.body).toStrictEqual({ data: [], has_more: false, next_cursor: null });
  });

  it('filters by metadata_key, and by metadata_key with metadata_value', async () => {
    const user = await app.signUp();
    const a = await newThread(app, user, { metadata: { project: 'a' } });
    const b = await newThread(app, user, { metadata: { project: 'b', team: 'x' } });
    await newThread(app, user, { metadata: { team: 'x' } });
    await newThread(app, user);

    const withKey = await app.api('GET', '/ai/threads?metadata_key=project', { token: user.token });
    expect(withKey.status).toBe(200);
    expect(withKey.body.data.map((t: { id: number }) => t.id)).toEqual([b.id, a.id]);

    const withPair = await app.api('GET', '/ai/threads?metadata_key=project&metadata_value=a', { token: user.token });
    expect(withPair.body.data.map((t: { id: number }) => t.id)).toEqual([a.id]);

    const none = await app.api('GET', '/ai/threads?metadata_key=project&metadata_value=c', { token: user.token });
    expect(none.body.data).toEqual([]);

    const paged = await app.api('GET', '/ai/threads?metadata_key=project&limit=1', { token: user.token });
    expect(paged.body).toMatchObject({ has_more: true, next_cursor: b.id });
    const next = await app.api('GET', `/ai/threads?metadata_key=project&limit=1&after=${b.id}`, { token: user.token });
    expect(next.body.data.map((t: { id: number }) => t.id)).toEqual([a.id]);
    expect(next.body.has_more).toBe(false);
  });
});

describe('the tRPC face', () => {
  it('creates, reads, updates, lists and deletes a thread through the typed client', async () => {
    const user = await app.signUp();
    const client = typedClient(app, user.token);
    const created = await client.threads.create.mutate({ title: 'Typed', metadata: { via: 'trpc' } });
    expect(created).toMatchObject({ title: 'Typed', metadata: { via: 'trpc' }, message_count: 0 });
    expect(await client.threads.get.query({ threadId: created.id })).toStrictEqual(created);
    const updated = await client.threads.update.mutate({ threadId: created.id, title: null });
    expect(updated.title).toBeNull();
    const page = await client.threads.list.query({ metadata_key: 'via', metadata_value: 'trpc' });
    expect(page.data.map((t) => t.id)).toEqual([created.id]);
    await client.threads.delete.mutate({ threadId: created.id });
    expect((await app.api('GET', `/ai/threads/${created.id}`, { token: user.token })).status).toBe(404);
  });
});
