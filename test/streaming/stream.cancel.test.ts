// POST .../messages/{message-id}/cancel: stops an answer in progress, streamed or not. Both
// messages become `cancelled`, the text produced so far is kept, the stream ends with the
// cancelled pair, the thread's state is left as it was and the thread is free at once.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { createApiToken, FORBIDDEN } from '../support/helpers.js';
import { deltasOf, openStream } from '../support/sse.js';
import {
  expectStoresNothing,
  gate,
  inFlight,
  listAll,
  MISSING_ID,
  newThread,
  postMessage,
  sendMessage,
} from '../support/threads.js';

const { app, fake, user } = await harness();

const cancel = (threadId: number, messageId: number, token = user.token) =>
  app.api('POST', `/ai/threads/${threadId}/messages/${messageId}/cancel`, { token });

describe('cancelling a streamed answer', () => {
  it('keeps the text streamed so far, marks both messages cancelled and ends the stream', async () => {
    const thread = await newThread(app, user, { state: { step: 1 } });
    const held = gate();
    fake.script({ type: 'paced_text', parts: ['Partial ', 'text ', held.until, 'never sent.'] });
    const stream = await openStream(app, thread.id, { token: user.token, body: { content: 'Write a lot' } });
    const created = (await stream.next())!.data;
    let seen = 0;
    await stream.until((event) => event.event === 'response.delta' && ++seen === 2);

    const res = await cancel(thread.id, created.id);
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['createdMessage', 'responseMessage']);
    expect(res.body.createdMessage).toMatchObject({ id: created.id, role: 'user', content: 'Write a lot', status: 'cancelled' });
    expect(res.body.responseMessage).toMatchObject({
      thread_id: thread.id,
      role: 'assistant',
      status: 'cancelled',
      content: 'Partial text ',
      updated_state: { step: 1 },
    });

    const events = await stream.all();
    expect(events.at(-1)).toMatchObject({ event: 'response.completed', data: res.body });
    expect(events.filter((event) => event.event === 'error')).toEqual([]);
    const streamed = deltasOf(events).join('');
    expect(streamed).toBe('Partial text ');
    expect(res.body.responseMessage.content).toBe(streamed);

    const messages = await listAll(app, user, thread.id);
    expect(messages).toEqual([res.body.createdMessage, res.body.responseMessage]);

    fake.script({ type: 'text', content: 'Free again.' });
    const next = await sendMessage(app, user, thread.id, { content: 'Next' });
    expect(next.responseMessage.content).toBe('Free again.');
  });

  it('leaves the thread state as it was, even after a tool round changed it', async () => {
    const thread = await newThread(app, user, { state: { color: 'red' } });
    const held = gate();
    fake.script(
      { type: 'tool_calls', calls: [{ arguments: { patch: { color: 'blue' } } }] },
      { type: 'paced_text', parts: ['Changing ', held.until, 'it.'] },
    );
    const stream = await openStream(app, thread.id, { token: user.token, body: { content: 'Make it blue' } });
    const created = (await stream.next())!.data;
    await stream.until((event) => event.event === 'response.delta');

    const res = await cancel(thread.id, created.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body.responseMessage).toMatchObject({ status: 'cancelled', content: 'Changing ', updated_state: { color: 'red' } });
    await stream.all();
    const after = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(after.body.state).toEqual({ color: 'red' });
  });

  it('before any text: the reply is empty, the stream still ends with the cancelled pair', async () => {
    const thread = await newThread(app, user);
    const calls = fake.requests.length;
    fake.script({ type: 'hang' });
    const stream = await openStream(app, thread.id, { token: user.token, body: { content: 'Think hard' } });
    const created = (await stream.next())!.data;
    await fake.waitForRequests(calls + 1);

    const res = await cancel(thread.id, created.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body.createdMessage.status).toBe('cancelled');
    expect(res.body.responseMessage).toMatchObject({ status: 'cancelled', content: '' });
    const events = await stream.all();
    expect(events.map((event) => event.event)).toEqual(['message.created', 'response.completed']);
    expect(events[1]!.data).toEqual({ type: 'response.completed', ...res.body });
  });
});

describe('cancelling a non-streamed answer', () => {
  it('answers the waiting POST with 201 and the cancelled pair', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'hang' });
    const { done } = await inFlight(fake, () => postMessage(app, user.token, thread.id, { content: 'Wait for it' }));
    const [pending] = await listAll(app, user, thread.id);
    expect(pending).toMatchObject({ role: 'user', status: 'pending', content: 'Wait for it' });

    const res = await cancel(thread.id, pending!.id);
    expect(res.status, res.text).toBe(200);
    const waited = await done;
    expect(waited.status, waited.text).toBe(201);
    expect(waited.body).toEqual(res.body);
    expect(waited.body.createdMessage).toMatchObject({ id: pending!.id, status: 'cancelled' });
    expect(waited.body.responseMessage).toMatchObject({ role: 'assistant', status: 'cancelled', content: '' });
  });
});

describe('cancel refused', () => {
  it('409 for a message that is not being answered', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Done already.' });
    const { createdMessage, responseMessage } = await sendMessage(app, user, thread.id, { content: 'Quick' });
    const res = await expectStoresNothing(app, () => cancel(thread.id, createdMessage.id));
    expect({ status: res.status, body: res.body }).toStrictEqual({
      status: 409,
      body: { message: 'The message is not being answered (its status is completed).' },
    });
    const onReply = await cancel(thread.id, responseMessage.id);
    expect(onReply.status).toBe(409);
    const messages = await listAll(app, user, thread.id);
    expect(messages.map((m) => m.status)).toEqual(['completed', 'completed']);
  });

  it("404 for another user's message, and for a missing one", async () => {
    const thread = await newThread(app, user);
    const held = gate();
    fake.script({ type: 'paced_text', parts: ['Mine ', held.until, 'only.'] });
    const stream = await openStream(app, thread.id, { token: user.token, body: { content: 'Mine' } });
    const created = (await stream.next())!.data;

    const other = await app.signUp();
    const theirs = await newThread(app, other);
    const onMine = await cancel(thread.id, created.id, other.token);
    expect({ status: onMine.status, body: onMine.body }).toStrictEqual({ status: 404, body: { message: 'Thread not found.' } });
    const onTheirs = await cancel(theirs.id, created.id, other.token);
    expect({ status: onTheirs.status, body: onTheirs.body }).toStrictEqual({ status: 404, body: { message: 'Message not found.' } });
    const missing = await cancel(thread.id, MISSING_ID);
    expect({ status: missing.status, body: missing.body }).toStrictEqual({ status: 404, body: { message: 'Message not found.' } });

    held.open();
    const events = await stream.all();
    expect(events.at(-1)!.data.responseMessage).toMatchObject({ status: 'completed', content: 'Mine only.' });
  });

  it('403 for an API token without ai_thread_messages.create', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Fine.' });
    const { createdMessage } = await sendMessage(app, user, thread.id, { content: 'Hi' });
    const { token } = await createApiToken(app, user.token, { permissions: ['ai_threads.view', 'ai_thread_messages.view'] });
    const res = await cancel(thread.id, createdMessage.id, token);
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 403, body: FORBIDDEN });
  });
});
