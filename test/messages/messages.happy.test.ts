// The seed endpoint answered, through the real openai SDK talking HTTP to the fake
// OpenAI-compatible server: the response shape, updated_state with and without update_state
// calls, what the model is sent (instructions, state, history, in order), the history budget,
// lengths in characters, listing and reading messages, the offline model, and the tRPC face.
import { beforeAll, describe, expect, it } from 'vitest';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from '../../server/src/ai/history.js';
import { countFixedPromptTokens } from '../../server/src/ai/prompt.js';
import { DEFAULT_TEXT } from '../fake-openai/server.js';
import { harness, type TestApp, type TestUser } from '../support/harness.js';
import { typedClient } from '../support/helpers.js';
import {
  ISO_UTC,
  listAll,
  MESSAGE_FIELDS,
  nested,
  newThread,
  postMessage,
  sendMessage,
  sentMessages,
  stateSeen,
} from '../support/threads.js';

const { app, fake, startApp } = await harness();

describe("the seed's example", () => {
  it('gives 201 {createdMessage, responseMessage} with every field of the message resource', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Hi! How can I help?', usage: { prompt_tokens: 42, completion_tokens: 7 } });
    const res = await postMessage(app, user.token, thread.id, { content: 'Hello!', state: { form: { field: 'value' } } });

    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['createdMessage', 'responseMessage']);
    const { createdMessage, responseMessage } = res.body;
    expect(Object.keys(createdMessage).sort()).toEqual(MESSAGE_FIELDS);
    expect(Object.keys(responseMessage).sort()).toEqual(MESSAGE_FIELDS);

    expect(createdMessage).toStrictEqual({
      id: expect.any(Number),
      thread_id: thread.id,
      // The thread's first message: a root, the only one.
      parent_id: null,
      sibling_count: 1,
      sibling_index: 0,
      role: 'user',
      content: 'Hello!',
      state: { form: { field: 'value' } },
      updated_state: null,
      status: 'completed',
      model: null,
      usage: null,
      latency_ms: null,
      time_to_first_token_ms: null,
      tool_calls: null,
      tool_call_id: null,
      context_truncated: false,
      error: null,
      state_version: null,
      state_patch: null,
      proposal: null,
      created_at: expect.stringMatching(ISO_UTC),
    });
    expect(responseMessage).toStrictEqual({
      id: expect.any(Number),
      thread_id: thread.id,
      parent_id: createdMessage.id,
      sibling_count: 1,
      sibling_index: 0,
      role: 'assistant',
      content: 'Hi! How can I help?',
      state: null,
      updated_state: { form: { field: 'value' } },
      status: 'completed',
      model: 'fake-model',
      usage: { prompt_tokens: 42, completion_tokens: 7 },
      latency_ms: expect.any(Number),
      time_to_first_token_ms: null,
      tool_calls: null,
      tool_call_id: null,
      context_truncated: false,
      error: null,
      // The sent state differs from the thread's (none): a `message` revision, version 1; the AI
      // changed nothing, so its reply stays at 1 with an empty patch.
      state_version: 1,
      state_patch: [],
      proposal: null,
      created_at: expect.stringMatching(ISO_UTC),
    });
    expect(Number.isInteger(responseMessage.latency_ms) && responseMessage.latency_ms >= 0).toBe(true);
    expect(responseMessage.id).toBeGreaterThan(createdMessage.id);
    expect(Date.parse(responseMessage.created_at)).toBeGreaterThanOrEqual(Date.parse(createdMessage.created_at));

    // Both are stored as answered, and read back the same.
    for (const message of [createdMessage, responseMessage]) {
      const got = await app.api('GET', `/ai/threads/${thread.id}/messages/${message.id}`, { token: user.token });
      expect(got.status).toBe(200);
      expect(got.body).toStrictEqual(message);
    }
    expect(await listAll(app, user, thread.id)).toStrictEqual([createdMessage, responseMessage]);
  });

  it('reports usage as null when the provider leaves it out', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'No usage here.', usage: null });
    const pair = await sendMessage(app, user, thread.id, { content: 'Hello!' });
    expect(pair.responseMessage.usage).toBeNull();
    expect(pair.createdMessage.state).toBeNull();
    expect(pair.responseMessage.updated_state).toBeNull();
  });
});

describe('updated_state', () => {
  it('equals the state sent when the AI changes nothing, and becomes the thread state', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user, { state: { old: true } });
    const state = { form: { field: 'value', list: [1, 'two', { three: 3 }] }, n: 1.5, yes: true, none: null, '': 'empty key' };
    fake.script({ type: 'text', content: 'Nothing to change.' });
    const pair = await sendMessage(app, user, thread.id, { content: 'Look at this', state });
    expect(pair.responseMessage.updated_state).toStrictEqual(state);
    expect(pair.createdMessage.state).toStrictEqual(state);
    expect(stateSeen(fake.requests.at(-1))).toStrictEqual(state);
    const got = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(got.body.state).toStrictEqual(state);
  });

  it('applies each update_state patch in order (nested merge, null deletes) and answers the tool with the result', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const seen = fake.requests.length;
    fake.script(
      {
        type: 'tool_calls',
        calls: [
          { arguments: { patch: { form: { color: 'blue' } } } },
          { arguments: { patch: { form: { field: null, size: { w: 2 } }, count: 1 } } },
        ],
      },
      { type: 'text', content: 'Made it blue.' },
    );
    const pair = await sendMessage(app, user, thread.id, {
      content: 'Make it blue',
      state: { form: { field: 'value', keep: 'me' }, other: [1] },
    });
    const expected = { form: { keep: 'me', color: 'blue', size: { w: 2 } }, other: [1], count: 1 };
    expect(pair.responseMessage.content).toBe('Made it blue.');
    expect(pair.responseMessage.updated_state).toStrictEqual(expected);
    expect(pair.createdMessage.state).toStrictEqual({ form: { field: 'value', keep: 'me' }, other: [1] });
    expect(pair.responseMessage.usage).toStrictEqual({ prompt_tokens: 20, completion_tokens: 10 });

    // Two model calls: the second carries the tool calls and the state after each patch.
    expect(fake.requests.length).toBe(seen + 2);
    const first = fake.requests[seen]!.body;
    expect(first.tools.map((tool: { function: { name: string } }) => tool.function.name)).toEqual(['update_state']);
    const toolReplies = fake.requests[seen + 1]!.body.messages.filter((m: { role: string }) => m.role === 'tool');
    expect(toolReplies.map((m: { content: string }) => JSON.parse(m.content))).toStrictEqual([
      { form: { field: 'value', keep: 'me', color: 'blue' }, other: [1] },
      expected,
    ]);

    const got = await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token });
    expect(got.body.state).toStrictEqual(expected);
  });

  it('applies patches over several rounds, at most three, then asks for text', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const seen = fake.requests.length;
    fake.script(
      { type: 'tool_calls', calls: [{ arguments: { patch: { a: 1 } } }] },
      { type: 'tool_calls', calls: [{ arguments: { patch: { b: 2 } } }] },
      { type: 'tool_calls', calls: [{ arguments: { patch: { a: null, c: 3 } } }] },
      { type: 'tool_calls', calls: [{ arguments: { patch: { d: 4 } } }] },
    );
    const pair = await sendMessage(app, user, thread.id, { content: 'Many changes' });
    expect(fake.requests.length).toBe(seen + 4);
    expect(fake.requests.slice(seen).map((r) => r.body.tool_choice)).toEqual(['auto', 'auto', 'auto', 'none']);
    expect(pair.responseMessage.updated_state).toStrictEqual({ b: 2, c: 3 });
    expect(pair.responseMessage.content).toBe('I answer without tools now.');
  });

  it('refuses to the model a patch the state limits forbid, or arguments that are not a patch, keeping the state', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const seen = fake.requests.length;
    fake.script(
      {
        type: 'tool_calls',
        calls: [
          { arguments: { patch: { deep: nested(40) } } },
          { arguments: '{"patch": ' },
          { arguments: { patch: 'not an object' } },
          { name: 'delete_everything', arguments: {} },
          { arguments: { patch: { ok: true } } },
        ],
      },
      { type: 'text', content: 'Some changes were refused.' },
    );
    const pair = await sendMessage(app, user, thread.id, { content: 'Break it', state: { keep: 1 } });
    expect(pair.responseMessage.updated_state).toStrictEqual({ keep: 1, ok: true });
    const replies = fake.requests[seen + 1]!.body.messages
      .filter((m: { role: string }) => m.role === 'tool')
      .map((m: { content: string }) => JSON.parse(m.content));
    expect(replies).toHaveLength(5);
    for (const refusal of replies.slice(0, 4)) expect(refusal).toStrictEqual({ error: expect.any(String) });
    expect(replies[4]).toStrictEqual({ keep: 1, ok: true });
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token })).body.state).toStrictEqual({ keep: 1, ok: true });
  });

  it('keeps `__proto__` keys of a state as data, through the model and back', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    fake.script(
      { type: 'tool_calls', calls: [{ arguments: '{"patch": {"__proto__": {"added": true}}}' }] },
      { type: 'text', content: 'ok' },
    );
    const res = await postMessage(app, user.token, thread.id, '{"content": "hi", "state": {"__proto__": {"sent": true}}}');
    expect(res.status).toBe(201);
    const body = JSON.parse(res.text);
    expect(body.responseMessage.updated_state).toStrictEqual(JSON.parse('{"__proto__": {"sent": true, "added": true}}'));
    expect(({} as Record<string, unknown>)['added']).toBeUndefined();
  });

  it('without state in the request, the model sees the thread latest state', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user, { state: { step: 1, form: { a: 'x' } } });

    fake.script({ type: 'text', content: 'ok' });
    const first = await sendMessage(app, user, thread.id, { content: 'What is the state?' });
    expect(stateSeen(fake.requests.at(-1))).toStrictEqual({ step: 1, form: { a: 'x' } });
    expect(first.createdMessage.state).toBeNull();
    expect(first.responseMessage.updated_state).toStrictEqual({ step: 1, form: { a: 'x' } });

    fake.script(
      { type: 'tool_calls', calls: [{ arguments: { patch: { step: 2, form: { b: 'y' } } } }] },
      { type: 'text', content: 'Next step.' },
    );
    await sendMessage(app, user, thread.id, { content: 'Go on' });

    fake.script({ type: 'text', content: 'ok' });
    const third = await sendMessage(app, user, thread.id, { content: 'And now?' });
    expect(stateSeen(fake.requests.at(-1))).toStrictEqual({ step: 2, form: { a: 'x', b: 'y' } });
    expect(third.responseMessage.updated_state).toStrictEqual({ step: 2, form: { a: 'x', b: 'y' } });

    // A state sent replaces the thread's for this answer.
    fake.script({ type: 'text', content: 'ok' });
    await sendMessage(app, user, thread.id, { content: 'Start over', state: { fresh: true } });
    expect(stateSeen(fake.requests.at(-1))).toStrictEqual({ fresh: true });
    expect((await app.api('GET', `/ai/threads/${thread.id}`, { token: user.token })).body.state).toStrictEqual({
      fresh: true,
    });
  });
});

describe('what the model is sent', () => {
  it('instructions, the state as data, the earlier turns in order, then the new message', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user, { instructions: 'You are a form assistant. Be brief.' });
    fake.script({ type: 'text', content: 'First answer.' }, { type: 'text', content: 'Second answer.' });
    await sendMessage(app, user, thread.id, { content: 'First question' });
    await sendMessage(app, user, thread.id, { content: 'Second question' });

    fake.script({ type: 'text', content: 'Third answer.' });
    const pair = await sendMessage(app, user, thread.id, { content: 'Third question', state: { form: { x: '</state>' } } });
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer test-key');
    expect(request.body.model).toBe('fake-model');
    const messages = sentMessages(request);
    expect(messages).toHaveLength(7);
    expect(messages[0]).toStrictEqual({ role: 'system', content: 'You are a form assistant. Be brief.' });
    expect(messages[1]!.role).toBe('system');
    expect(messages[1]!.content).toContain('<state>');
    // The state cannot close its own delimiter, and still parses to what was sent.
    const block = (messages[1]!.content as string).split('<state>\n')[1]!;
    expect(block.match(/<\/state>/g)).toHaveLength(1);
    expect(stateSeen(request)).toStrictEqual({ form: { x: '</state>' } });
    expect(messages.slice(2)).toStrictEqual([
      { role: 'user', content: 'First question' },
      { role: 'assistant', content: 'First answer.' },
      { role: 'user', content: 'Second question' },
      { role: 'assistant', content: 'Second answer.' },
      { role: 'user', content: 'Third question' },
    ]);
    expect(pair.responseMessage.context_truncated).toBe(false);
  });

  it('leaves the instruction message out for a thread without instructions', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    await sendMessage(app, user, thread.id, { content: 'Hi' });
    const messages = sentMessages(fake.requests.at(-1));
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[0]!.content).toContain('<state>\nnull\n</state>');
  });

  it('uses instructions changed after the thread was created', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user, { instructions: 'Old rules.' });
    await app.api('PATCH', `/ai/threads/${thread.id}`, { token: user.token, body: { instructions: 'New rules.' } });
    await sendMessage(app, user, thread.id, { content: 'Hi' });
    expect(sentMessages(fake.requests.at(-1))[0]).toStrictEqual({ role: 'system', content: 'New rules.' });
  });
});

describe('content length in characters', () => {
  it('accepts 5000 astral characters (10000 UTF-16 units) and stores them intact', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const content = '😀'.repeat(5000);
    expect(content.length).toBe(10_000);
    const pair = await sendMessage(app, user, thread.id, { content });
    expect(pair.createdMessage.content).toBe(content);
    expect(sentMessages(fake.requests.at(-1)).at(-1)).toStrictEqual({ role: 'user', content });
  });

  it('accepts 5000 combining sequences counted by code point, and exactly 5000 ASCII characters', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const ascii = 'a'.repeat(5000);
    expect((await sendMessage(app, user, thread.id, { content: ascii })).createdMessage.content).toBe(ascii);
    const mixed = 'é😀'.repeat(2500);
    expect((await sendMessage(app, user, thread.id, { content: mixed })).createdMessage.content).toBe(mixed);
  });

  it('keeps content as sent: surrounding whitespace and special tokens are text', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const content = '  <|endoftext|> hello \n';
    const pair = await sendMessage(app, user, thread.id, { content });
    expect(pair.createdMessage.content).toBe(content);
  });
});

describe('GET /api/v1/ai/threads/{thread-id}/messages', () => {
  it('lists oldest first with limit, after and before, has_more and next_cursor', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    for (const content of ['one', 'two', 'three']) await sendMessage(app, user, thread.id, { content });
    const all = await listAll(app, user, thread.id);
    const ids = all.map((m) => m.id);
    expect(all.map((m) => [m.role, m.content])).toEqual([
      ['user', 'one'],
      ['assistant', DEFAULT_TEXT],
      ['user', 'two'],
      ['assistant', DEFAULT_TEXT],
      ['user', 'three'],
      ['assistant', DEFAULT_TEXT],
    ]);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const page = (search: string) => app.api('GET', `/ai/threads/${thread.id}/messages?${search}`, { token: user.token });
    const idsOf = (res: { body: { data: Array<{ id: number }> } }) => res.body.data.map((m) => m.id);

    const defaults = await page('');
    expect(defaults.status).toBe(200);
    expect(idsOf(defaults)).toEqual(ids);
    expect(defaults.body).toMatchObject({ has_more: false, next_cursor: null });

    const first = await page('limit=4');
    expect(idsOf(first)).toEqual(ids.slice(0, 4));
    expect(first.body).toMatchObject({ has_more: true, next_cursor: ids[3] });

    const second = await page(`limit=4&after=${first.body.next_cursor}`);
    expect(idsOf(second)).toEqual(ids.slice(4));
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });

    const exact = await page('limit=6');
    expect(exact.body).toMatchObject({ has_more: false, next_cursor: null });

    const before = await page(`limit=2&before=${ids[4]}`);
    expect(idsOf(before)).toEqual([ids[2], ids[3]]);
    expect(before.body).toMatchObject({ has_more: true, next_cursor: ids[2] });

    const earliest = await page(`limit=5&before=${ids[2]}`);
    expect(idsOf(earliest)).toEqual([ids[0], ids[1]]);
    expect(earliest.body).toMatchObject({ has_more: false, next_cursor: null });

    const none = await page(`after=${ids[5]}`);
    expect(none.body).toStrictEqual({ data: [], has_more: false, next_cursor: null });
  });

  it('is empty for a new thread', async () => {
    const user = await app.signUp();
    const thread = await newThread(app, user);
    const res = await app.api('GET', `/ai/threads/${thread.id}/messages`, { token: user.token });
    expect(res.body).toStrictEqual({ data: [], has_more: false, next_cursor: null });
  });
});

describe('the tRPC face', () => {
  it('creates a thread and a message through the typed client', async () => {
    const user = await app.signUp();
    const client = typedClient(app, user.token);
    const thread = await client.threads.create.mutate({ title: 'Typed', instructions: 'Be typed.' });
    fake.script(
      { type: 'tool_calls', calls: [{ arguments: { patch: { form: { typed: true } } } }] },
      { type: 'text', content: 'Typed answer.' },
    );
    const pair = await client.messages.create.mutate({ threadId: thread.id, content: 'Hello!', state: { form: { field: 'value' } } });
    expect(pair.createdMessage).toMatchObject({ thread_id: thread.id, role: 'user', content: 'Hello!', status: 'completed' });
    expect(pair.responseMessage).toMatchObject({
      role: 'assistant',
      content: 'Typed answer.',
      updated_state: { form: { field: 'value', typed: true } },
    });
    expect(sentMessages(fake.requests.at(-1))[0]).toStrictEqual({ role: 'system', content: 'Be typed.' });

    const listed = await client.messages.list.query({ threadId: thread.id });
    expect(listed.data).toStrictEqual([pair.createdMessage, pair.responseMessage]);
    const one = await client.messages.get.query({ threadId: thread.id, messageId: pair.responseMessage.id });
    expect(one).toStrictEqual(pair.responseMessage);
    // The same message over REST.
    const rest = await app.api('GET', `/ai/threads/${thread.id}/messages/${pair.responseMessage.id}`, { token: user.token });
    expect(rest.body).toStrictEqual(pair.responseMessage);
  });
});

describe('the history budget', () => {
  const questions = [1, 2, 3].map((i) => `Long question ${i}: ${'lorem ipsum dolor sit amet '.repeat(8)}`);
  const answers = [1, 2, 3].map((i) => `Long answer ${i}: ${'consectetur adipiscing elit sed do '.repeat(8)}`);
  const last = 'Short question?';
  const cost = (text: string) => countTokens(text) + MESSAGE_OVERHEAD_TOKENS;
  // Room for the prompt, the new message, the newest exchange, and half of the one before.
  const budget =
    countFixedPromptTokens(null, null) + cost(last) + cost(questions[2]!) + cost(answers[2]!) + Math.floor(cost(answers[1]!) / 2);

  let small: TestApp;
  beforeAll(async () => {
    small = await startApp({ env: { AI_CONTEXT_TOKENS: String(budget) } });
  });

  async function threadWithHistory(target: TestApp, user: TestUser) {
    const thread = await newThread(target, user);
    for (let i = 0; i < 3; i++) {
      fake.script({ type: 'text', content: answers[i]! });
      await sendMessage(target, user, thread.id, { content: questions[i]! });
    }
    return thread;
  }

  it('sends only the newest turns that fit and flags context_truncated', async () => {
    expect(budget).toBeLessThan(1000);
    const user = await small.signUp();
    const thread = await threadWithHistory(small, user);
    fake.script({ type: 'text', content: 'ok' });
    const pair = await sendMessage(small, user, thread.id, { content: last });
    expect(pair.responseMessage.context_truncated).toBe(true);
    expect(sentMessages(fake.requests.at(-1))).toStrictEqual([
      expect.objectContaining({ role: 'system' }),
      { role: 'user', content: questions[2] },
      { role: 'assistant', content: answers[2] },
      { role: 'user', content: last },
    ]);
    // The stored history is whole; only the prompt was cut.
    expect(await listAll(small, user, thread.id)).toHaveLength(8);
  });

  it('sends the whole history under a big budget, with context_truncated false', async () => {
    const user = await app.signUp();
    const thread = await threadWithHistory(app, user);
    fake.script({ type: 'text', content: 'ok' });
    const pair = await sendMessage(app, user, thread.id, { content: last });
    expect(pair.responseMessage.context_truncated).toBe(false);
    expect(sentMessages(fake.requests.at(-1)).slice(1)).toStrictEqual([
      { role: 'user', content: questions[0] },
      { role: 'assistant', content: answers[0] },
      { role: 'user', content: questions[1] },
      { role: 'assistant', content: answers[1] },
      { role: 'user', content: questions[2] },
      { role: 'assistant', content: answers[2] },
      { role: 'user', content: last },
    ]);
  });

  it('always sends the new message, even alone over the budget', async () => {
    const user = await small.signUp();
    const thread = await threadWithHistory(small, user);
    const long = 'word '.repeat(1000);
    fake.script({ type: 'text', content: 'ok' });
    const pair = await sendMessage(small, user, thread.id, { content: long });
    expect(pair.responseMessage.context_truncated).toBe(true);
    expect(sentMessages(fake.requests.at(-1)).slice(1)).toStrictEqual([{ role: 'user', content: long }]);
  });
});

describe('the offline model (no OPENAI_API_KEY)', () => {
  let offline: TestApp;
  beforeAll(async () => {
    offline = await startApp({ model: 'offline', env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1000' } });
  });

  it('answers as `offline`, changes the state on command, and answers deterministically', async () => {
    const seen = fake.requests.length;
    const user = await offline.signUp();
    const thread = await newThread(offline, user);
    const set = await sendMessage(offline, user, thread.id, {
      content: 'set form.color to blue',
      state: { form: { field: 'value' } },
    });
    expect(set.responseMessage).toMatchObject({
      role: 'assistant',
      status: 'completed',
      model: 'offline',
      updated_state: { form: { field: 'value', color: 'blue' } },
      context_truncated: false,
    });
    expect(set.responseMessage.content).toContain('blue');
    expect(set.responseMessage.usage).toStrictEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
    });
    expect((await offline.api('GET', `/ai/threads/${thread.id}`, { token: user.token })).body.state).toStrictEqual({
      form: { field: 'value', color: 'blue' },
    });

    const unset = await sendMessage(offline, user, thread.id, { content: 'unset form.field' });
    expect(unset.responseMessage.updated_state).toStrictEqual({ form: { color: 'blue' } });

    const echo = await sendMessage(offline, user, thread.id, { content: 'Hello!' });
    expect(echo.responseMessage.updated_state).toStrictEqual({ form: { color: 'blue' } });
    expect(echo.responseMessage.content).toContain('Hello!');

    // The same message in another thread gets the same answer.
    const other = await newThread(offline, user);
    const again = await sendMessage(offline, user, other.id, { content: 'set form.color to blue', state: { form: { field: 'value' } } });
    expect(again.responseMessage.content).toBe(set.responseMessage.content);
    expect(again.responseMessage.updated_state).toStrictEqual(set.responseMessage.updated_state);
    expect((await sendMessage(offline, user, other.id, { content: 'Hello!' })).responseMessage.content).toBe(
      echo.responseMessage.content,
    );

    expect(fake.requests.length).toBe(seen);
  });
});
