// Cancelling an answer that no instance runs any more (its server died mid-answer): the cancel
// ends it at once (`cancelled`, no reply, the thread's lease freed) instead of waiting out the
// lease, and the documented recovery, a retry with the same Idempotency-Key, then answers that
// same message normally. An answer alive on another instance is still cancelled by that instance,
// with the text it produced. The crash is the state a killed server leaves in the database: the
// message pending, the thread leased to it, the key in flight, the heartbeat stopped.
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type TestApp } from '../support/harness.js';
import { query, trpc } from '../support/helpers.js';
import { gate, inFlight, leaseOf, listAll, newThread, postMessage, setLease } from '../support/threads.js';

let keySeq = 0;
const newKey = () => `orphan-${Date.now()}-${++keySeq}`;
const keyed = (key: string) => ({ 'idempotency-key': key });

const { app, fake, user, startApp } = await harness();

/**
 * A keyed message whose server was killed while the AI answered, as the database holds it: stored
 * pending, the thread leased to it for the rest of the lease, the key in flight, and the answer's
 * heartbeat stopped a while ago.
 */
async function crashedMidAnswer(threadId: number, key: string, body: Record<string, unknown>) {
  fake.script({ type: 'error', status: 500 });
  expect((await postMessage(app, user.token, threadId, body, keyed(key))).status).toBe(502);
  const [message] = await listAll(app, user, threadId);
  await app.database.db.execute(
    sql`update messages set status = 'pending', error = null, answer_heartbeat_at = now() - interval '1 minute' where id = ${message!.id}`,
  );
  await app.database.db.execute(
    sql`update idempotency_keys set status = 'in_flight', locked_until = now() + interval '2 minutes' where key = ${key}`,
  );
  await setLease(app, threadId, 120, message!.id);
  return message!.id as number;
}

async function cancelRequestedAt(messageId: number) {
  const [row] = await query<{ at: unknown }>(app, sql`select cancel_requested_at as at from messages where id = ${messageId}`);
  return row!.at;
}

describe('cancelling an answer whose server died', () => {
  it('ends it at once, frees the thread, and a retry with the same key answers it (REST)', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const body = { content: 'Survive the crash', state: { draft: 1 } };
    const messageId = await crashedMidAnswer(thread.id, key, body);

    const cancelled = await app.api('POST', `/ai/threads/${thread.id}/messages/${messageId}/cancel`, { token: user.token });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.createdMessage).toMatchObject({ id: messageId, status: 'cancelled' });
    expect(cancelled.body.responseMessage).toBeNull();
    expect(await leaseOf(app, thread.id)).toEqual({ busy_until: null, busy_message_id: null });

    fake.script({ type: 'text', content: 'Answered after all.' });
    const retried = await postMessage(app, user.token, thread.id, body, keyed(key));
    expect(retried.status, retried.text).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(retried.body.createdMessage).toMatchObject({ id: messageId, status: 'completed', error: null, state: { draft: 1 } });
    expect(retried.body.responseMessage).toMatchObject({ status: 'completed', content: 'Answered after all.' });
    expect(await cancelRequestedAt(messageId)).toBeNull();
    expect((await listAll(app, user, thread.id)).map((m) => [m.id, m.status])).toEqual([
      [messageId, 'completed'],
      [retried.body.responseMessage.id, 'completed'],
    ]);
  });

  it('ends it at once, frees the thread, and a retry with the same key answers it (tRPC)', async () => {
    const thread = await newThread(app, user);
    const key = newKey();
    const messageId = await crashedMidAnswer(thread.id, key, { content: 'Over tRPC' });

    const cancelled = await trpc(app, 'mutation', 'messages.cancel', { threadId: thread.id, messageId }, { token: user.token });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.result.data.createdMessage).toMatchObject({ id: messageId, status: 'cancelled' });
    expect(cancelled.body.result.data.responseMessage).toBeNull();

    fake.script({ type: 'text', content: 'Answered over tRPC.' });
    const retried = await trpc(app, 'mutation', 'messages.create', { threadId: thread.id, content: 'Over tRPC' }, {
      token: user.token,
      headers: keyed(key),
    });
    expect(retried.status, retried.text).toBe(201);
    expect(retried.body.result.data.createdMessage).toMatchObject({ id: messageId, status: 'completed' });
    expect(retried.body.result.data.responseMessage.content).toBe('Answered over tRPC.');
  });

  it('ends a pending message whose thread is not leased to it (the lease ran out and was retaken)', async () => {
    const thread = await newThread(app, user);
    const messageId = await crashedMidAnswer(thread.id, newKey(), { content: 'Lease gone' });
    await setLease(app, thread.id, -1, null);
    const cancelled = await app.api('POST', `/ai/threads/${thread.id}/messages/${messageId}/cancel`, { token: user.token });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.createdMessage).toMatchObject({ id: messageId, status: 'cancelled' });
  });
});

describe('cancelling an answer alive on another instance', () => {
  let other: TestApp;
  beforeAll(async () => {
    other = await startApp({ shareDatabaseOf: app });
  });

  it('lets that instance stop it and store what it produced', async () => {
    const thread = await newThread(app, user);
    const held = gate();
    fake.script({ type: 'paced_text', parts: ['Half ', held.until, 'never.'] });
    const { done } = await inFlight(fake, () => postMessage(app, user.token, thread.id, { content: 'Long one' }));
    const [pending] = await listAll(app, user, thread.id);

    const cancelled = await other.api('POST', `/ai/threads/${thread.id}/messages/${pending!.id}/cancel`, { token: user.token });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.createdMessage).toMatchObject({ id: pending!.id, status: 'cancelled' });
    expect(cancelled.body.responseMessage).toMatchObject({ role: 'assistant', status: 'cancelled' });
    const answered = await done;
    expect(answered.status).toBe(201);
    expect(answered.body).toStrictEqual(cancelled.body);
    held.open();
  });
});
