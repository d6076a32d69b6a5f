// What the branch operations refuse, on both faces, each refusal storing nothing and calling no
// model: parent_id that is not an assistant message of the thread (422), a regenerate of an
// answered user message (422), another user's thread (404), a thread still answering (409), a
// stale precondition (412), the message budget (429), a token without the permission (403); and
// Idempotency-Key on regenerate (a replay, and another body under the same key).
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { createApiToken, expectNothingStored, FORBIDDEN, TOO_MANY, VIEWER_PERMISSIONS } from '../support/helpers.js';
import { gate, inFlight, MISSING_ID, newThread } from '../support/threads.js';
import { BUSY, client, expectError, FACES, HEAD_ERROR, MISMATCH, ok, PARENT_ERROR, REGENERATE_ERROR } from './support.js';

const { app, fake, user, startApp } = await harness();

/** A thread with one answered turn, on this face. */
async function answered(c: ReturnType<typeof client>, body: Record<string, unknown> = {}) {
  const thread = await newThread(app, user, body);
  fake.script({ type: 'text', content: 'A1' });
  const { createdMessage, responseMessage } = ok(await c.send(thread.id, { content: 'Q1' }), c.face, 201);
  return { thread, u1: createdMessage, a1: responseMessage };
}

/** Runs a refused request: nothing stored, no model call. */
async function refused<T>(request: () => Promise<T>): Promise<T> {
  const calls = fake.requests.length;
  const res = await expectNothingStored(app, request);
  expect(fake.requests.length).toBe(calls);
  return res;
}

describe.each(FACES)('refusals (%s)', (face) => {
  const c = client(app, face, user.token);

  it('422 on parent_id for another thread\'s message, a user message, a missing id', async () => {
    const { thread, u1 } = await answered(c);
    const other = await answered(c);
    for (const parent of [other.a1.id, u1.id, MISSING_ID]) {
      const res = await refused(() => c.send(thread.id, { content: 'edit', parent_id: parent }));
      expectError(res, face, 422, PARENT_ERROR, { parent_id: [PARENT_ERROR] });
    }
    expect(ok(await c.list(thread.id), face).data).toHaveLength(2);
  });

  it('422 on message_id for a regenerate of a user message whose answer succeeded; 404 for a missing message', async () => {
    const { thread, u1, a1 } = await answered(c);
    const res = await refused(() => c.regenerate(thread.id, u1.id));
    expectError(res, face, 422, REGENERATE_ERROR, { message_id: [REGENERATE_ERROR] });
    const missing = await refused(() => c.regenerate(thread.id, MISSING_ID));
    expectError(missing, face, 404, 'Message not found.');
    // Another thread's message is not one of this thread's.
    const other = await answered(c);
    expectError(await refused(() => c.regenerate(thread.id, other.a1.id)), face, 404, 'Message not found.');
    expectError(await refused(() => c.siblings(thread.id, MISSING_ID)), face, 404, 'Message not found.');
    // The head moves only to a message of this thread.
    for (const id of [other.a1.id, MISSING_ID]) {
      expectError(await refused(() => c.setHead(thread.id, id)), face, 422, HEAD_ERROR, { message_id: [HEAD_ERROR] });
    }
    expect(ok(await c.thread(thread.id), face).head_message_id).toBe(a1.id);
  });

  it('404 for another user\'s thread on regenerate, siblings and head', async () => {
    const { thread, a1 } = await answered(c);
    const stranger = client(app, face, (await app.signUp()).token);
    expectError(await refused(() => stranger.regenerate(thread.id, a1.id)), face, 404, 'Thread not found.');
    expectError(await refused(() => stranger.siblings(thread.id, a1.id)), face, 404, 'Thread not found.');
    expectError(await refused(() => stranger.setHead(thread.id, a1.id)), face, 404, 'Thread not found.');
    expectError(await refused(() => stranger.send(thread.id, { content: 'x', parent_id: a1.id })), face, 404, 'Thread not found.');
    expect(ok(await c.thread(thread.id), face).head_message_id).toBe(a1.id);
  });

  it('409 while the thread answers, with Retry-After; the regenerate is taken once it is done', async () => {
    const { thread, a1 } = await answered(c);
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'A2' } });
    const { done } = await inFlight(fake, () => c.send(thread.id, { content: 'Q2' }));
    const res = await refused(() => c.regenerate(thread.id, a1.id));
    expectError(res, face, 409, BUSY);
    if (face === 'rest') expect(res.headers.get('retry-after')).toBe('1');
    held.open();
    const second = ok(await done, face, 201);
    expect(ok(await c.thread(thread.id), face).head_message_id).toBe(second.responseMessage.id);
    fake.script({ type: 'text', content: 'A1b' });
    expect(ok(await c.regenerate(thread.id, a1.id), face, 201).responseMessage).toMatchObject({ content: 'A1b', sibling_index: 1 });
  });

  it('412 for a stale expected_state_version, after the 404 and before the busy 409', async () => {
    const { thread, a1 } = await answered(c, { state: { n: 0 } });
    const res = await refused(() => c.regenerate(thread.id, a1.id, { expected_state_version: 0 }));
    const message = face === 'rest' ? res.body.message : res.raw.body.error.message;
    expect(message).toContain('version 1');
    if (face === 'rest') {
      expect(res.body).toStrictEqual({ message, current_version: 1 });
      expect(res.headers.get('etag')).toBe('"1"');
      const ifMatch = await refused(() => c.regenerate(thread.id, a1.id, {}, { 'if-match': '"5"' }));
      expect({ status: ifMatch.status, body: ifMatch.body }).toStrictEqual({ status: 412, body: { message, current_version: 1 } });
    } else {
      expectError(res, face, 412, message);
      expect(res.raw.body.error.data.current_version).toBe(1);
    }
    // Another user's thread is a 404 first.
    const stranger = client(app, face, (await app.signUp()).token);
    expectError(await refused(() => stranger.regenerate(thread.id, a1.id, { expected_state_version: 0 })), face, 404, 'Thread not found.');
    // Busy and stale: the 412 first.
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'A2' } });
    const { done } = await inFlight(fake, () => c.send(thread.id, { content: 'Q2' }));
    expect((await refused(() => c.regenerate(thread.id, a1.id, { expected_state_version: 0 }))).status).toBe(412);
    held.open();
    await done;
    // A current one answers.
    fake.script({ type: 'text', content: 'A1b' });
    ok(await c.regenerate(thread.id, a1.id, { expected_state_version: 1 }), face, 201);
  });

  it('replays the same Idempotency-Key with no model call; another body under it is a 422', async () => {
    const { thread, a1 } = await answered(c);
    const key = { 'idempotency-key': `regen-${face}-${thread.id}` };
    fake.script({ type: 'text', content: 'A1b' });
    const first = await c.regenerate(thread.id, a1.id, {}, key);
    ok(first, face, 201);
    const again = await refused(() => c.regenerate(thread.id, a1.id, {}, key));
    expect(ok(again, face, 201)).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(ok(await c.siblings(thread.id, a1.id), face).data).toHaveLength(2);

    const other = await refused(() => c.regenerate(thread.id, first.body.responseMessage.id, {}, key));
    expectError(other, face, 422, MISMATCH, { idempotency_key: [MISMATCH] });
    const withPrecondition = await refused(() => c.regenerate(thread.id, a1.id, { expected_state_version: 0 }, key));
    expectError(withPrecondition, face, 422, MISMATCH, { idempotency_key: [MISMATCH] });
  });

  // parent_id is part of the fingerprint of a message request (messageRequestHash).
  it('refuses the same key on the seed endpoint with another parent_id (422)', async () => {
    const { thread, a1 } = await answered(c);
    fake.script({ type: 'text', content: 'A2' }, { type: 'text', content: 'edit' });
    const two = ok(await c.send(thread.id, { content: 'Q2' }), face, 201);
    const key = { 'idempotency-key': `edit-${face}-${thread.id}` };
    ok(await c.send(thread.id, { content: 'Q3', parent_id: a1.id }, key), face, 201);
    const other = await refused(() => c.send(thread.id, { content: 'Q3', parent_id: two.responseMessage.id }, key));
    expectError(other, face, 422, MISMATCH, { idempotency_key: [MISMATCH] });
  });

  it('403 for a token without ai_thread_messages.create (regenerate) or ai_threads.update (head); it may list siblings', async () => {
    const { thread, u1, a1 } = await answered(c);
    const { token } = await createApiToken(app, user.token, { permissions: VIEWER_PERMISSIONS });
    const viewer = client(app, face, token);
    expectError(await refused(() => viewer.regenerate(thread.id, a1.id)), face, 403, FORBIDDEN.message);
    expectError(await refused(() => viewer.setHead(thread.id, u1.id)), face, 403, FORBIDDEN.message);
    expectError(await refused(() => viewer.send(thread.id, { content: 'x', parent_id: a1.id })), face, 403, FORBIDDEN.message);
    expect(ok(await viewer.siblings(thread.id, a1.id), face).data.map((m: any) => m.id)).toEqual([a1.id]);
  });
});

describe.each(FACES)('the message budget (%s)', (face) => {
  it('counts a regenerate as a message: 429 once it is spent', async () => {
    const limited = await startApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
    const owner = await limited.signUp();
    const c = client(limited, face, owner.token);
    const thread = await newThread(limited, owner);
    fake.script({ type: 'text', content: 'Only one.' });
    const { responseMessage } = ok(await c.send(thread.id, { content: 'One' }), face, 201);
    const calls = fake.requests.length;
    const res = await expectNothingStored(limited, () => c.regenerate(thread.id, responseMessage.id));
    expectError(res, face, 429, TOO_MANY.message);
    expect(fake.requests.length).toBe(calls);
    if (face === 'rest') {
      expect(res.headers.get('x-ratelimit-limit')).toBe('1');
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    // The requests budget is another: the siblings still list.
    expect(ok(await c.siblings(thread.id, responseMessage.id), face).data).toHaveLength(1);
  });
});
