// One answer at a time per thread. The fake model holds an answer behind a gate that the test
// opens, so "while it answers" is a fact, never a race: a second message to the thread is a 409
// with Retry-After that stores nothing; other threads answer; the thread answers again once the
// first answer is done. The lease lives in the database (another instance's lease counts), and a
// stale one (a crashed answer) expires: the message it was taken for fails, when the thread's next
// message takes the lease or when the sweep finds it.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sweepInterrupted } from '../../server/src/messages/messages.repo.js';
import { harness, type ApiResponse } from '../support/harness.js';
import { query, trpc } from '../support/helpers.js';
import {
  expect422,
  expectErrorBody,
  expectStoresNothing,
  gate,
  inFlight,
  leaseOf,
  listAll,
  newThread,
  postMessage,
  sendMessage,
  setLease,
} from '../support/threads.js';

const { app, fake, user } = await harness();

const BUSY = 'The thread is still answering an earlier message; retry when it is done.';
const INTERRUPTED = 'The answer was interrupted (the server stopped); send the message again.';

/** A 409 busy answer that stored nothing and called no model. */
async function expectBusy(request: () => Promise<ApiResponse>) {
  const calls = fake.requests.length;
  const res = await expectStoresNothing(app, request);
  expectErrorBody(res, 409, BUSY);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(fake.requests.length).toBe(calls);
  return res;
}

describe('while a thread answers', () => {
  it('refuses a second message (409), answers other threads, and takes messages again once done', async () => {
    const thread = await newThread(app, user);
    const other = await newThread(app, user);
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'First answer.' } });
    const a = await inFlight(fake, () => postMessage(app, user.token, thread.id, { content: 'First' }));

    // The user message is stored, pending, and holds the lease.
    const pending = await listAll(app, user, thread.id);
    expect(pending.map((m) => [m.role, m.content, m.status])).toEqual([['user', 'First', 'pending']]);
    const lease = await leaseOf(app, thread.id);
    expect(lease.busy_until).not.toBeNull();
    expect(Number(lease.busy_message_id)).toBe(pending[0]!.id);

    await expectBusy(() => postMessage(app, user.token, thread.id, { content: 'Second' }));
    await expectBusy(() => postMessage(app, user.token, thread.id, { content: 'Second', state: { a: 1 } }));

    // Another thread of the same user answers meanwhile.
    fake.script({ type: 'text', content: 'Other answer.' });
    const meanwhile = await sendMessage(app, user, other.id, { content: 'Elsewhere' });
    expect(meanwhile.responseMessage.content).toBe('Other answer.');

    held.open();
    const first = await a.done;
    expect(first.status).toBe(201);
    expect(first.body.createdMessage.id).toBe(pending[0]!.id);
    expect(first.body.responseMessage.content).toBe('First answer.');
    expect(await leaseOf(app, thread.id)).toMatchObject({ busy_until: null, busy_message_id: null });

    fake.script({ type: 'text', content: 'Second answer.' });
    const second = await sendMessage(app, user, thread.id, { content: 'Second' });
    expect(second.responseMessage.content).toBe('Second answer.');
    expect((await listAll(app, user, thread.id)).map((m) => m.content)).toEqual([
      'First',
      'First answer.',
      'Second',
      'Second answer.',
    ]);
  });

  it('checks the body (422) and ownership (404) before the lease (409)', async () => {
    const thread = await newThread(app, user);
    const stranger = await app.signUp();
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'ok' } });
    const a = await inFlight(fake, () => postMessage(app, user.token, thread.id, { content: 'First' }));

    expect422(await postMessage(app, user.token, thread.id, { content: '' }), { content: ['The content field is required.'] });
    const theirs = await expectStoresNothing(app, () => postMessage(app, stranger.token, thread.id, { content: 'hi' }));
    expectErrorBody(theirs, 404, 'Thread not found.');

    held.open();
    expect((await a.done).status).toBe(201);
  });

  it('answers 409 with Retry-After on the tRPC face too', async () => {
    const thread = await newThread(app, user);
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'ok' } });
    const a = await inFlight(fake, () => postMessage(app, user.token, thread.id, { content: 'First' }));

    const res = await expectStoresNothing(app, () =>
      trpc(app, 'mutation', 'messages.create', { threadId: thread.id, content: 'Second' }, { token: user.token }),
    );
    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body.error.message).toBe(BUSY);
    expect(res.body.error.data).toMatchObject({ httpStatus: 409, retryAfter: 1 });

    held.open();
    expect((await a.done).status).toBe(201);
  });

  it('refuses to delete the thread (409), and deletes it once the answer is done', async () => {
    const thread = await newThread(app, user);
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'ok' } });
    const a = await inFlight(fake, () => postMessage(app, user.token, thread.id, { content: 'First' }));

    const refused = await expectStoresNothing(app, () => app.api('DELETE', `/ai/threads/${thread.id}`, { token: user.token }));
    expectErrorBody(refused, 409);
    expect(refused.headers.get('retry-after')).toBeTruthy();

    held.open();
    expect((await a.done).status).toBe(201);
    expect((await app.api('DELETE', `/ai/threads/${thread.id}`, { token: user.token })).status).toBe(204);
  });

  it('lets exactly one of two simultaneous messages answer', async () => {
    const thread = await newThread(app, user);
    const held = gate();
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'The one answer.' } });
    const calls = fake.requests.length;
    const one = postMessage(app, user.token, thread.id, { content: 'One' }).then((res) => ({ res, which: 'One' }));
    const two = postMessage(app, user.token, thread.id, { content: 'Two' }).then((res) => ({ res, which: 'Two' }));
    // The winner is held at the gate, so the first to finish is the loser.
    const loser = await Promise.race([one, two]);
    expectErrorBody(loser.res, 409, BUSY);
    held.open();
    const winner = await (loser.which === 'One' ? two : one);
    expect(winner.res.status).toBe(201);
    expect(fake.requests.length).toBe(calls + 1);
    expect((await listAll(app, user, thread.id)).map((m) => m.content)).toEqual([winner.which, 'The one answer.']);
  });
});

describe('the lease lives in the database', () => {
  it("honours a lease taken by another instance", async () => {
    const thread = await newThread(app, user);
    await setLease(app, thread.id, 600, null);
    await expectBusy(() => postMessage(app, user.token, thread.id, { content: 'Blocked' }));
  });

  it('lets a stale lease (a crashed answer) expire', async () => {
    const thread = await newThread(app, user);
    const earlier = await sendMessage(app, user, thread.id, { content: 'Before the crash' });
    await setLease(app, thread.id, -1, earlier.createdMessage.id);
    expect((await leaseOf(app, thread.id)).busy_until).not.toBeNull();

    fake.script({ type: 'text', content: 'After the crash.' });
    const after = await sendMessage(app, user, thread.id, { content: 'After' });
    expect(after.responseMessage.content).toBe('After the crash.');
    expect(await leaseOf(app, thread.id)).toMatchObject({ busy_until: null, busy_message_id: null });
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token })).body.message_count).toBe(4);
  });

  it('lets a thread with a stale lease be deleted', async () => {
    const thread = await newThread(app, user);
    await setLease(app, thread.id, -1, null);
    expect((await app.api('DELETE', `/ai/threads/${thread.id}`, { token: user.token })).status).toBe(204);
  });

  /** A user message stored pending by an answer that died: the thread's lease names it and has run out (or not). */
  async function leftPending(threadId: number, content: string, leaseSeconds: number): Promise<number> {
    const [row] = await query<{ id: number | string }>(
      app,
      sql`insert into messages (thread_id, role, content, status, token_count, answer_heartbeat_at)
          values (${threadId}, 'user', ${content}, 'pending', 3, now()) returning id`,
    );
    const id = Number(row!.id);
    await setLease(app, threadId, leaseSeconds, id);
    return id;
  }

  async function statusOf(id: number) {
    const [row] = await query<{ status: string; error: string | null }>(app, sql`select status, error from messages where id = ${id}`);
    return row!;
  }

  // A message without state takes the lease in one statement; one with state in a transaction.
  it.each([
    ['without state', {}],
    ['with state', { state: { step: 2 } }],
  ])('fails the message a dead answer left pending when the next message (%s) takes the lease', async (_, extra) => {
    const thread = await newThread(app, user);
    const orphan = await leftPending(thread.id, 'Left behind', -1);
    fake.script({ type: 'text', content: 'Answered.' });
    const next = await sendMessage(app, user, thread.id, { content: 'Next', ...extra });
    expect(next.responseMessage.content).toBe('Answered.');
    expect(await statusOf(orphan)).toEqual({ status: 'failed', error: INTERRUPTED });
    expect((await statusOf(next.createdMessage.id)).status).toBe('completed');
  });

  it('sweeps the messages whose lease ran out, and leaves the ones still answered', async () => {
    const dead = await newThread(app, user);
    const alive = await newThread(app, user);
    const orphan = await leftPending(dead.id, 'Nobody answers me', -1);
    const running = await leftPending(alive.id, 'Being answered', 600);
    expect(await sweepInterrupted(app.database.db)).toBe(1);
    expect(await statusOf(orphan)).toEqual({ status: 'failed', error: INTERRUPTED });
    expect(await statusOf(running)).toEqual({ status: 'pending', error: null });
    expect(await sweepInterrupted(app.database.db)).toBe(0);
    await setLease(app, alive.id, -1, null);
  });
});
