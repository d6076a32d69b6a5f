// POST .../messages/stream refused or failing: every refusal is an ordinary JSON answer before any
// event (401, 403, 404, 409, 422, 429, 400) and stores nothing; an AI failure after the stream has
// begun is an `error` event, with the user's message kept as `failed` and no reply stored.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { createApiToken, FORBIDDEN, TOO_MANY, UNAUTHENTICATED } from '../support/helpers.js';
import { deltasOf, openStream, refusedStream, sequenceOf } from '../support/sse.js';
import { expectStoresNothing, gate, listAll, MISSING_ID, newThread, sendMessage } from '../support/threads.js';

const { app, fake, user, startApp } = await harness();

/** A refusal: this status and exactly this JSON body, nothing stored, no model call. */
async function expectRefused(
  threadId: number | string,
  request: Parameters<typeof refusedStream>[2],
  status: number,
  body: Record<string, unknown>,
) {
  const calls = fake.requests.length;
  const res = await expectStoresNothing(app, () => refusedStream(app, threadId, request));
  expect({ status: res.status, body: res.body }).toStrictEqual({ status, body });
  expect(fake.requests.length).toBe(calls);
  return res;
}

describe('refusals, as JSON before the stream', () => {
  it('401 without credentials, or with an unknown token', async () => {
    const thread = await newThread(app, user);
    await expectRefused(thread.id, { body: { content: 'hi' } }, 401, UNAUTHENTICATED);
    await expectRefused(thread.id, { token: 'ait_nosuchtoken.secret', body: { content: 'hi' } }, 401, UNAUTHENTICATED);
  });

  it('403 for an API token without ai_thread_messages.create', async () => {
    const thread = await newThread(app, user);
    const { token } = await createApiToken(app, user.token, {
      permissions: ['ai_threads.view', 'ai_thread_messages.view'],
    });
    await expectRefused(thread.id, { token, body: { content: 'hi' } }, 403, FORBIDDEN);
  });

  it('404 for a missing thread and for another user’s thread', async () => {
    const other = await app.signUp();
    const theirs = await newThread(app, other);
    await expectRefused(MISSING_ID, { token: user.token, body: { content: 'hi' } }, 404, { message: 'Thread not found.' });
    await expectRefused(theirs.id, { token: user.token, body: { content: 'hi' } }, 404, { message: 'Thread not found.' });
  });

  it.each([
    ['empty content', { content: '' }, { content: ['The content field is required.'] }],
    ['missing content', {}, { content: ['The content field is required.'] }],
    ['whitespace content', { content: ' \n\t ' }, { content: ['The content field must not be only whitespace.'] }],
    ['content not a string', { content: 42 }, { content: ['The content field must be a string.'] }],
    ['state an array', { content: 'hi', state: [] }, { state: ['The state field must be a JSON object.'] }],
  ])('422 for %s', async (_label, body, errors) => {
    const thread = await newThread(app, user);
    await expectRefused(thread.id, { token: user.token, body }, 422, { message: Object.values(errors)[0]![0], errors });
  });

  it('422 for a thread id that is not an integer', async () => {
    await expectRefused('abc', { token: user.token, body: { content: 'hi' } }, 422, {
      message: 'The thread id field must be an integer.',
      errors: { 'thread-id': ['The thread id field must be an integer.'] },
    });
  });

  it('400 for a body that is not JSON', async () => {
    const thread = await newThread(app, user);
    const res = await expectStoresNothing(app, () => refusedStream(app, thread.id, { token: user.token, body: '{"content": ' }));
    expect(res.status).toBe(400);
    expect(Object.keys(res.body)).toEqual(['message']);
  });

  it('409 with Retry-After while another answer is in flight on the thread, stored nothing', async () => {
    const thread = await newThread(app, user);
    const held = gate();
    const calls = fake.requests.length;
    fake.script({ type: 'gate', until: held.until, then: { type: 'text', content: 'First done.' } });
    const first = await openStream(app, thread.id, { token: user.token, body: { content: 'First' } });
    expect((await first.next())!.event).toBe('message.created');
    await fake.waitForRequests(calls + 1);

    const busy = await expectRefused(thread.id, { token: user.token, body: { content: 'Second' } }, 409, {
      message: 'The thread is still answering an earlier message; retry when it is done.',
    });
    expect(busy.headers.get('retry-after')).toMatch(/^\d+$/);

    held.open();
    const events = await first.all();
    expect(events.at(-1)!.event).toBe('response.completed');
    expect(deltasOf(events).join('')).toBe('First done.');
    const messages = await listAll(app, user, thread.id);
    expect(messages.map((m) => m.content)).toEqual(['First', 'First done.']);
  });

  it('429 with the rate-limit headers once the message budget is spent', async () => {
    const limited = await startApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
    try {
      const owner = await limited.signUp();
      const thread = await newThread(limited, owner);
      fake.script({ type: 'text', content: 'Only one.' });
      const events = await (await openStream(limited, thread.id, { token: owner.token, body: { content: 'One' } })).all();
      expect(events.at(-1)!.event).toBe('response.completed');

      const calls = fake.requests.length;
      const res = await expectStoresNothing(limited, () =>
        refusedStream(limited, thread.id, { token: owner.token, body: { content: 'Two' } }),
      );
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 429, body: TOO_MANY });
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('x-ratelimit-limit')).toBe('1');
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(fake.requests.length).toBe(calls);
    } finally {
      await limited.close();
    }
  });
});

describe('the AI failing after the stream began', () => {
  it('ends with an `error` event (502) when the model server drops the stream mid-answer', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'stream_error_after', deltas: ['Partial ', 'answer'] });
    const events = await (await openStream(app, thread.id, { token: user.token, body: { content: 'Break' } })).all();

    expect(events[0]!.event).toBe('message.created');
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(Object.keys(last.data).sort()).toEqual(['message', 'status', 'type']);
    expect(last.data).toEqual({ type: 'error', message: expect.any(String), status: 502 });
    expect(events.filter((event) => event.event === 'response.completed')).toEqual([]);
    expect(events.slice(1, -1).every((event) => event.event === 'response.delta')).toBe(true);
    expect('Partial answer'.startsWith(deltasOf(events).join(''))).toBe(true);
    const sequence = events.map((event) => sequenceOf(event.id));
    expect(sequence).toEqual(sequence.map((_, index) => index));

    const created = events[0]!.data;
    const messages = await listAll(app, user, thread.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ id: created.id, role: 'user', content: 'Break', status: 'failed' });
    expect(messages[0]!.error).toEqual(expect.any(String));

    // The thread is free again.
    fake.script({ type: 'text', content: 'Back.' });
    const next = await sendMessage(app, user, thread.id, { content: 'Again' });
    expect(next.responseMessage.content).toBe('Back.');
  });

  it('ends with an `error` event (502) when the model server answers with an error', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'error', status: 500 });
    const events = await (await openStream(app, thread.id, { token: user.token, body: { content: 'Fail' } })).all();
    expect(events.map((event) => event.event)).toEqual(['message.created', 'error']);
    expect(events[1]!.data).toEqual({ type: 'error', message: expect.any(String), status: 502 });
    const messages = await listAll(app, user, thread.id);
    expect(messages.map((m) => [m.role, m.status])).toEqual([['user', 'failed']]);
  });

  it('ends with an `error` event (502) when the model server streams garbage', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'malformed' });
    const events = await (await openStream(app, thread.id, { token: user.token, body: { content: 'Garble' } })).all();
    expect(events.map((event) => event.event)).toEqual(['message.created', 'error']);
    expect(events[1]!.data.status).toBe(502);
    const messages = await listAll(app, user, thread.id);
    expect(messages.map((m) => [m.role, m.status])).toEqual([['user', 'failed']]);
  });
});
