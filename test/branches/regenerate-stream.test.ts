// The regenerate stream (POST .../messages/{id}/regenerate/stream, and the tRPC subscription
// messages.regenerateStream): `message.created` is the existing user message, then the deltas and
// `response.completed` with the new sibling; a reconnect with Last-Event-ID gets exactly what it
// missed; refusals are JSON before any event.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { expectNothingStored, subscriptionClient } from '../support/helpers.js';
import { deltasOf, readDeltas, sequenceOf } from '../support/sse.js';
import { FULL, newThread, scriptHeld, sendMessage } from '../support/threads.js';
import { openRegenerateStream, pairs, postRegenerateStream, REGENERATE_ERROR, turnsSent } from './support.js';

const { app, fake, user } = await harness();

/** A thread with one answered turn. */
async function answered() {
  const thread = await newThread(app, user);
  fake.script({ type: 'text', content: 'A0' }, { type: 'text', content: 'A1' });
  await sendMessage(app, user, thread.id, { content: 'Q0' });
  const { createdMessage, responseMessage } = await sendMessage(app, user, thread.id, { content: 'Q1' });
  return { thread, u1: createdMessage, a1: responseMessage };
}

describe('the regenerate stream (REST)', () => {
  it('sends message.created (the existing user message), the deltas, response.completed with the new sibling', async () => {
    const { thread, u1, a1 } = await answered();
    fake.script({ type: 'text', content: FULL });
    const calls = fake.requests.length;
    const events = await (await openRegenerateStream(app, thread.id, a1.id, { token: user.token })).all();

    const names = events.map((event) => event.event);
    expect(names[0]).toBe('message.created');
    expect(names.at(-1)).toBe('response.completed');
    expect(names.slice(1, -1).every((name) => name === 'response.delta')).toBe(true);
    expect(events[0]!.data).toMatchObject({ type: 'message.created', id: u1.id, content: 'Q1', role: 'user', status: 'pending' });
    // Its own events only: the first answer's are not replayed.
    expect(events.map((event) => sequenceOf(event.id))).toEqual(events.map((_, index) => index));
    expect(events.every((event) => event.id!.startsWith(`${u1.id}:`))).toBe(true);
    expect(deltasOf(events).join('')).toBe(FULL);
    const completed = events.at(-1)!.data;
    expect(completed.createdMessage).toMatchObject({ id: u1.id, status: 'completed' });
    expect(completed.responseMessage).toMatchObject({ content: FULL, parent_id: u1.id, sibling_index: 1, sibling_count: 2 });
    expect(turnsSent(fake, calls)).toEqual(['user: Q0', 'assistant: A0', 'user: Q1']);

    const head = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(head.body.head_message_id).toBe(completed.responseMessage.id);
  });

  it('resumes with Last-Event-ID without loss or duplication, and no second model call', async () => {
    const { thread, a1 } = await answered();
    const held = scriptHeld(fake, 2);
    const first = await openRegenerateStream(app, thread.id, a1.id, { token: user.token });
    const lastSeen = await readDeltas(first, 2);
    first.abort();
    const before = first.events;

    const calls = fake.requests.length;
    const second = await openRegenerateStream(app, thread.id, a1.id, { token: user.token, lastEventId: lastSeen.id! });
    held.open();
    const after = await second.all();
    expect(fake.requests.length).toBe(calls);
    expect(after.map((event) => event.event)).toEqual(['response.delta', 'response.delta', 'response.completed']);
    const ids = [...before, ...after].map((event) => event.id);
    expect(ids.map(sequenceOf)).toEqual(ids.map((_, index) => index));
    expect(deltasOf([...before, ...after]).join('')).toBe(FULL);

    // After the answer: a resume from the first delta gets the rest again, from the log.
    const late = await (await openRegenerateStream(app, thread.id, a1.id, { token: user.token, lastEventId: before[1]!.id! })).all();
    expect(late.at(-1)!.data.responseMessage).toMatchObject({ content: FULL, sibling_index: 1 });
    const listed = await app.api('GET', `/ai/threads/${thread.id}/messages`, { token: user.token });
    expect(pairs(listed.body.data)).toEqual([
      ['user', 'Q0'],
      ['assistant', 'A0'],
      ['user', 'Q1'],
      ['assistant', FULL],
    ]);
  });

  it('refuses as JSON before any event: a regenerate of an answered user message is a 422', async () => {
    const { thread, u1 } = await answered();
    const calls = fake.requests.length;
    const response = await expectNothingStored(app, () => postRegenerateStream(app, thread.id, u1.id, { token: user.token }));
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toStrictEqual({ message: REGENERATE_ERROR, errors: { message_id: [REGENERATE_ERROR] } });
    expect(fake.requests.length).toBe(calls);
  });
});

describe('the regenerate stream (tRPC subscription)', () => {
  const trpcClient = (token: string) => subscriptionClient(app, token);

  it('delivers message.created, the deltas and response.completed as tracked events', async () => {
    const { thread, u1, a1 } = await answered();
    fake.script({ type: 'text', content: FULL });
    const events: Array<{ id: string; data: { event: string; data: any } }> = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = trpcClient(user.token).messages.regenerateStream.subscribe(
        { threadId: thread.id, messageId: a1.id },
        {
          onData(tracked) {
            events.push(tracked as (typeof events)[number]);
            const name = (tracked as (typeof events)[number]).data.event;
            if (name === 'response.completed' || name === 'error') {
              subscription.unsubscribe();
              resolve();
            }
          },
          onError(error) {
            subscription.unsubscribe();
            reject(error);
          },
        },
      );
    });
    expect(events[0]!.data).toMatchObject({ event: 'message.created', data: { id: u1.id, status: 'pending' } });
    expect(events.at(-1)!.data.event).toBe('response.completed');
    expect(
      events
        .filter((e) => e.data.event === 'response.delta')
        .map((e) => e.data.data.delta)
        .join(''),
    ).toBe(FULL);
    expect(events.at(-1)!.data.data.responseMessage).toMatchObject({ parent_id: u1.id, sibling_index: 1, sibling_count: 2 });
  });
});
