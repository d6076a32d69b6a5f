// POST /api/v1/ai/threads/{thread-id}/messages/stream, answered: the events in order with their
// payloads, the stored reply equal to the deltas, usage and timings, tool rounds before text, and
// heartbeats. Real HTTP, the real openai SDK in stream mode, the fake OpenAI-compatible server.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USAGE } from '../fake-openai/server.js';
import { harness, type TestApp } from '../support/harness.js';
import { deltasOf, openStream, sequenceOf } from '../support/sse.js';
import { gate, listAll, MESSAGE_FIELDS, newThread } from '../support/threads.js';

const { app, fake, user, startApp } = await harness();

describe('POST /ai/threads/{id}/messages/stream', () => {
  it('sends message.created, the deltas and response.completed, in order, with increasing ids', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'The quick brown fox jumps.' });
    const stream = await openStream(app, thread.id, {
      token: user.token,
      body: { content: 'Tell me about foxes', state: { topic: 'foxes' } },
    });
    expect(stream.response.headers.get('cache-control')).toMatch(/no-cache/);
    const events = await stream.all();

    const names = events.map((event) => event.event);
    expect(names[0]).toBe('message.created');
    expect(names.at(-1)).toBe('response.completed');
    expect(names.slice(1, -1).every((name) => name === 'response.delta')).toBe(true);
    expect(names.length).toBeGreaterThan(3);

    // Every data line names its event, for clients that read only data lines.
    expect(events.map((event) => event.data.type)).toEqual(names);
    const created = events[0]!.data;
    expect(Object.keys(created).filter((key) => key !== 'type').sort()).toEqual(MESSAGE_FIELDS);
    expect(created).toMatchObject({
      thread_id: thread.id,
      parent_id: null,
      sibling_count: 1,
      sibling_index: 0,
      role: 'user',
      content: 'Tell me about foxes',
      state: { topic: 'foxes' },
      status: 'pending',
      state_version: null,
      state_patch: null,
      proposal: null,
    });

    const ids = events.map((event) => event.id!);
    expect(ids.every((id) => id.startsWith(`${created.id}:`))).toBe(true);
    const sequence = ids.map(sequenceOf);
    expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    expect(new Set(sequence).size).toBe(sequence.length);

    const text = deltasOf(events).join('');
    expect(text).toBe('The quick brown fox jumps.');

    const completed = events.at(-1)!.data;
    expect(Object.keys(completed).sort()).toEqual(['createdMessage', 'responseMessage', 'type']);
    expect(completed.createdMessage).toMatchObject({ id: created.id, status: 'completed', content: 'Tell me about foxes' });
    expect(completed.responseMessage).toMatchObject({
      thread_id: thread.id,
      parent_id: created.id,
      sibling_count: 1,
      sibling_index: 0,
      role: 'assistant',
      status: 'completed',
      content: text,
      updated_state: { topic: 'foxes' },
      model: 'fake-model',
      // The sent state is version 1 (a `message` revision); the AI changed nothing.
      state_version: 1,
      state_patch: [],
      proposal: null,
    });

    const stored = await app.api('GET', `/ai/threads/${thread.id}/messages/${completed.responseMessage.id}`, {
      token: user.token,
    });
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual(completed.responseMessage);
    expect(stored.body.content).toBe(text);
    const storedUser = await app.api('GET', `/ai/threads/${thread.id}/messages/${created.id}`, { token: user.token });
    expect(storedUser.body).toEqual(completed.createdMessage);
  });

  it('stores usage, latency and the time to the first token of a streamed answer', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Counted.', usage: { prompt_tokens: 42, completion_tokens: 7 } });
    const events = await (await openStream(app, thread.id, { token: user.token, body: { content: 'Count' } })).all();
    const reply = events.at(-1)!.data.responseMessage;
    expect(reply.usage).toEqual({ prompt_tokens: 42, completion_tokens: 7 });
    expect(reply.latency_ms).toEqual(expect.any(Number));
    expect(reply.latency_ms).toBeGreaterThanOrEqual(0);
    expect(reply.time_to_first_token_ms).toEqual(expect.any(Number));
    expect(reply.time_to_first_token_ms).toBeGreaterThanOrEqual(0);
    expect(reply.time_to_first_token_ms).toBeLessThanOrEqual(reply.latency_ms);

    const stored = await app.api('GET', `/ai/threads/${thread.id}/messages/${reply.id}`, { token: user.token });
    expect(stored.body).toMatchObject({
      usage: { prompt_tokens: 42, completion_tokens: 7 },
      latency_ms: reply.latency_ms,
      time_to_first_token_ms: reply.time_to_first_token_ms,
    });
  });

  it('asks the model in stream mode, with usage included', async () => {
    const thread = await newThread(app, user);
    const seen = fake.requests.length;
    fake.script({ type: 'text', content: 'Streamed.' });
    await (await openStream(app, thread.id, { token: user.token, body: { content: 'Stream it' } })).all();
    const request = fake.requests[seen]!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('runs the tool rounds before the text: each state change is a state.delta, then the text streams', async () => {
    const thread = await newThread(app, user, { state: { form: { color: 'red', size: 2 } } });
    fake.script(
      { type: 'tool_calls', calls: [{ arguments: { patch: { form: { color: 'blue' } } } }] },
      { type: 'tool_calls', calls: [{ arguments: { patch: { form: { size: null }, done: true } } }] },
      { type: 'text', content: 'Made it blue.' },
    );
    const events = await (await openStream(app, thread.id, { token: user.token, body: { content: 'Make it blue' } })).all();

    expect(events.map((event) => event.event)).toEqual([
      'message.created',
      'state.delta',
      'state.delta',
      'response.delta',
      'response.delta',
      'response.delta',
      'response.completed',
    ]);
    expect(events.filter((event) => event.event === 'state.delta').map((event) => event.data)).toEqual([
      { type: 'state.delta', patch: [{ op: 'replace', path: '/form/color', value: 'blue' }], proposed: false },
      {
        type: 'state.delta',
        patch: [
          { op: 'remove', path: '/form/size' },
          { op: 'add', path: '/done', value: true },
        ],
        proposed: false,
      },
    ]);
    expect(deltasOf(events)).toEqual(['Made ', 'it ', 'blue.']);
    const { responseMessage } = events.at(-1)!.data;
    expect(responseMessage.content).toBe('Made it blue.');
    expect(responseMessage.updated_state).toEqual({ form: { color: 'blue' }, done: true });
    expect(responseMessage.usage).toEqual({
      prompt_tokens: 3 * DEFAULT_USAGE.prompt_tokens,
      completion_tokens: 3 * DEFAULT_USAGE.completion_tokens,
    });
    const after = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(after.body.state).toEqual({ form: { color: 'blue' }, done: true });
  });

  it('keeps the thread as the non-streamed create does: both messages listed, the count updated', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'First answer.' }, { type: 'echo' });
    await (await openStream(app, thread.id, { token: user.token, body: { content: 'First' } })).all();
    const second = await (await openStream(app, thread.id, { token: user.token, body: { content: 'Second' } })).all();
    // The history reached the model: system prompt(s) aside, the first exchange and the new message.
    expect(deltasOf(second).join('')).toMatch(/last: Second$/);
    const messages = await listAll(app, user, thread.id);
    expect(messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'First', 'completed'],
      ['assistant', 'First answer.', 'completed'],
      ['user', 'Second', 'completed'],
      ['assistant', deltasOf(second).join(''), 'completed'],
    ]);
    const after = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(after.body.message_count).toBe(4);
  });
});

describe('heartbeats', () => {
  let beating: TestApp;
  beforeAll(async () => {
    beating = await startApp({ env: { SSE_HEARTBEAT_MS: '20' } });
  });

  it('sends `: keep-alive` comments while the answer is slow', async () => {
    const owner = await beating.signUp();
    const thread = await newThread(beating, owner);
    const held = gate();
    fake.script({ type: 'paced_text', parts: ['Slow ', held.until, 'answer.'] });
    const stream = await openStream(beating, thread.id, { token: owner.token, body: { content: 'Take your time' } });
    await stream.until((event) => event.event === 'response.delta');
    // The answer is held until a heartbeat has been read; then it may finish.
    await stream.untilComment('keep-alive');
    held.open();
    const events = await stream.all();
    expect(events.at(-1)!.event).toBe('response.completed');
    expect(deltasOf(events).join('')).toBe('Slow answer.');

    const items = stream.items;
    const firstBeat = items.findIndex((item) => item.kind === 'comment' && item.text === 'keep-alive');
    const completion = items.findIndex((item) => item.kind === 'event' && item.event.event === 'response.completed');
    expect(firstBeat).toBeGreaterThan(-1);
    expect(firstBeat).toBeLessThan(completion);
  });
});
